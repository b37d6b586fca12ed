import { z } from 'zod';
import { ProblemError, validationError } from './errors.js';

/** RFC 9457 problem details, as every error of this API is answered. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('A stable URI naming the kind of problem, documented at that path'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().describe('Quote it when reporting a problem; the service log holds the details'),
    errors: z
      .array(
        z.object({
          in: z.enum(['body', 'query', 'path', 'header']),
          pointer: z.string().describe('JSON pointer (RFC 6901) to the field, e.g. /members/0/idNumber'),
          detail: z.string(),
        }),
      )
      .optional()
      .describe('Every invalid field, for validation problems'),
    currentState: z.string().optional().describe('For invalid-state problems: the state the resource is in'),
    requiredScopes: z.array(z.string()).optional().describe('For forbidden problems: what the operation needs'),
  })
  .loose()
  .meta({ id: 'Problem', description: 'An error, as application/problem+json (RFC 9457)' });

const problemDescriptions: Record<number, string> = {
  400: 'Invalid input: each bad field is named by a JSON pointer',
  401: 'No valid API key',
  403: 'The client lacks a required scope',
  404: 'Not found, or outside the client’s jurisdiction',
  405: 'Method not allowed',
  409: 'Conflict with the current state',
  412: 'If-Match did not match the current ETag',
  413: 'Body too large',
  415: 'Unsupported content type',
  422: 'Idempotency-Key reused with a different request, or a request that cannot be carried out',
  429: 'Rate limit exceeded; see Retry-After',
  500: 'The request failed inside the service',
  503: 'The service cannot answer right now',
};

/** Error responses for a route's schema, each application/problem+json. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: problemDescriptions[s] ?? 'Error',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  ) as Record<
    number,
    { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }
  >;
}

export const uuidParam = z.uuid();

/** `?limit=&cursor=` as API.md defines them. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Page size, 1 to 500 (default 50)'),
  cursor: z.string().max(200).optional().describe('`nextCursor` of the previous page'),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  });

/** Cursors are opaque to callers: the last key of the page, base64url-encoded. */
export const encodeCursor = (key: string | number) => Buffer.from(JSON.stringify([key])).toString('base64url');

export function decodeCursor<T extends string | number>(
  cursor: string | undefined,
  check: (v: unknown) => v is T,
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [value] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (check(value)) return value;
  } catch {
    // fall through to the validation problem
  }
  throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * RFC 3339 timestamps with an offset, as every time in this API is written. At most nanoseconds
 * (35 characters): the pattern alone takes any number of fraction digits, which PostgreSQL refuses.
 */
export const timestamp = z.iso.datetime({ offset: true }).max(35);
export const toIso = (d: Date | null) => (d ? d.toISOString() : null);

/** The ETag of a versioned resource: `"<id>.<version>"`. */
export const etagOf = (resource: { id: string; version: number }) => `"${resource.id}.${resource.version}"`;

/**
 * If-Match → the version it names, for a conditional change (API.md); undefined without the
 * header. An ETag of another resource, or anything malformed, can never match: 412.
 */
export function ifMatchVersion(ifMatch: string | undefined, id: string, what: string): number | undefined {
  if (ifMatch === undefined) return undefined;
  const match = /^(?:W\/)?"([0-9a-f-]{36})\.(\d+)"$/.exec(ifMatch.trim());
  if (!match || match[1] !== id) {
    throw new ProblemError(412, 'precondition-failed', `If-Match does not match the ${what}’s current ETag.`);
  }
  return Number(match[2]);
}
