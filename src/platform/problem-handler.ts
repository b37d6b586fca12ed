import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import FindMyWay from 'find-my-way';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { databaseUnavailable, isDatabaseUnavailable } from './database-unavailable.js';
import { type FieldError, ProblemError, type ProblemKind, problemType, titleOf, validationError } from './errors.js';

const frameworkErrors: Record<string, { status: number; kind: ProblemKind; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, kind: 'malformed-request', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    kind: 'malformed-request',
    detail: 'The body is empty but Content-Type is application/json.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, kind: 'payload-too-large', detail: 'The body exceeds the size limit.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    kind: 'unsupported-media-type',
    detail: 'Send the body as application/json.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    kind: 'malformed-request',
    detail: 'Content-Length does not match the body.',
  },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, kind: 'malformed-request', detail: 'The Content-Type header is invalid.' },
};

const locationOf: Record<string, FieldError['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

function fieldErrors(err: FastifyError): FieldError[] {
  const where = locationOf[err.validationContext ?? 'body'] ?? 'body';
  return (err.validation ?? []).flatMap((v) => {
    const pointer = v.instancePath === '/' ? '' : v.instancePath;
    // A strict object reports its unknown fields on the object itself: point at each field instead.
    const unknown = (v.params as { keys?: unknown } | undefined)?.keys;
    if (v.keyword === 'unrecognized_keys' && Array.isArray(unknown) && unknown.length > 0) {
      return unknown.map((key) => ({
        in: where,
        pointer: `${pointer}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`,
        detail: 'is not a field of this request',
      }));
    }
    return [{ in: where, pointer, detail: v.message ?? 'is invalid' }];
  });
}

export function sendProblem(reply: FastifyReply, problem: ProblemError, request: FastifyRequest) {
  reply.headers(problem.headers);
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify({ ...problem.toProblem(request.url), requestId: request.id }));
}

/** Longest path parameter the router takes (fastify's maxParamLength); ids and codes are far shorter. */
export const MAX_PARAM_LENGTH = 200;

/**
 * What the router refuses before any route or hook runs — a path that is not valid percent-encoded
 * UTF-8, a path segment longer than MAX_PARAM_LENGTH — answered as problem+json like everything
 * else (fastify's `frameworkErrors`; its default is plain JSON).
 */
export function frameworkErrorAnswer(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem =
    err.code === 'FST_ERR_BAD_URL'
      ? validationError([{ in: 'path', pointer: '', detail: 'is not valid percent-encoded UTF-8' }])
      : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? validationError([
            { in: 'path', pointer: '', detail: `has a segment longer than ${MAX_PARAM_LENGTH} characters` },
          ])
        : new ProblemError(
            500,
            'internal-error',
            `The request failed. Quote request id ${request.id} when reporting it.`,
          );
  if (problem.status >= 500) request.log.error({ err }, 'request failed');
  reply.header('x-request-id', request.id);
  return sendProblem(reply, problem, request);
}

function toProblemError(err: FastifyError): ProblemError | null {
  if (err instanceof ProblemError) return err;
  // A database restart or failover: the request was fine, a retry will do (503 with Retry-After).
  if (isDatabaseUnavailable(err)) return databaseUnavailable();
  if (hasZodFastifySchemaValidationErrors(err) || (err.validation && err.validation.length > 0)) {
    return validationError(fieldErrors(err));
  }
  const known = err.code ? frameworkErrors[err.code] : undefined;
  if (known) return new ProblemError(known.status, known.kind, known.detail);
  if (err instanceof SyntaxError && err.statusCode === 400) {
    return new ProblemError(400, 'malformed-request', 'The body is not valid JSON.');
  }
  const status = err.statusCode ?? 500;
  if (status === 429) {
    return new ProblemError(429, 'rate-limited', err.message || 'Too many requests.');
  }
  if (status === 408) return new ProblemError(408, 'request-timeout', 'The request took too long to arrive.');
  if (status >= 400 && status < 500) {
    return new ProblemError(status, 'malformed-request', err.message);
  }
  return null;
}

/**
 * Every error becomes application/problem+json (RFC 9457). 5xx answers say only that the request
 * failed and carry the request id; the log holds the rest.
 */
export const problemHandler = fp(
  async (app: FastifyInstance) => {
    // JSON in (API.md): Fastify also parses text/plain by default, which would turn a text body
    // into a confusing 400 instead of the 415 unsupported-media-type this API promises.
    app.removeContentTypeParser('text/plain');

    // A second router holding every route lets a miss tell "no such path" (404) from "wrong method" (405).
    const known = FindMyWay();
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD') continue;
        try {
          known.on(method as 'GET', route.url, () => {});
        } catch {
          // already known: nothing to add
        }
      }
    });

    app.setErrorHandler((err: FastifyError, request, reply) => {
      const problem = toProblemError(err);
      if (problem) {
        if (problem.status >= 500) request.log.error({ err }, 'request failed');
        return sendProblem(reply, problem, request);
      }
      request.log.error(
        { err, ...(isResponseSerializationError(err) ? { issues: (err.cause as { issues?: unknown }).issues } : {}) },
        'request failed',
      );
      return sendProblem(
        reply,
        new ProblemError(
          500,
          'internal-error',
          `The request failed. Quote request id ${request.id} when reporting it.`,
        ),
        request,
      );
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      const allowed = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => known.find(m as 'GET', path) !== null);
      if (allowed.length > 0) {
        return sendProblem(
          reply,
          new ProblemError(
            405,
            'method-not-allowed',
            `${request.method} is not allowed here; use ${allowed.join(', ')}.`,
            {},
            {
              allow: allowed.join(', '),
            },
          ),
          request,
        );
      }
      return sendProblem(reply, new ProblemError(404, 'not-found', `No route ${request.method} ${path}.`), request);
    });
  },
  { name: 'problem-handler' },
);

export { problemType, titleOf };
