import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditActor, AuditService } from './audit/service.js';
import type { AuthenticatedClient, ClientService } from './clients/service.js';
import { ProblemError } from './errors.js';
import type { Scope } from './scopes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API client making the request; set on every /v1 request that got past authentication. */
    client: AuthenticatedClient | null;
  }
  interface FastifyContextConfig {
    /** Scopes the caller must hold (all of them). Also shown in the OpenAPI document. */
    scopes?: Scope[];
    /**
     * Besides `scopes`, the caller must hold one of these (403 otherwise). The OpenAPI document
     * shows one security requirement for each.
     */
    anyOfScopes?: Scope[];
  }
}

/** The authenticated caller; routes under /v1 always have one. */
export function callerOf(request: FastifyRequest): AuthenticatedClient {
  if (!request.client) throw new ProblemError(401, 'unauthorized', 'Authentication is required.');
  return request.client;
}

/** Who is acting, for the audit trail. */
export function actorOf(request: FastifyRequest): AuditActor {
  return { clientId: request.client?.id ?? null, agency: request.client?.agency ?? null, requestId: request.id };
}

const unauthorized = (detail: string) =>
  new ProblemError(401, 'unauthorized', detail, {}, { 'www-authenticate': 'Bearer realm="doudi"' });

/**
 * Every /v1 request needs `Authorization: Bearer <key>` (401 otherwise) and the scopes its route
 * declares (403, audited as a denial). Runs before the body is even parsed.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, { clients, audit }: { clients: ClientService; audit: AuditService }) => {
    app.decorateRequest('client', null);
    app.addHook('onRequest', async (request) => {
      if (!request.url.startsWith('/v1/') && request.url !== '/v1') return;
      const header = request.headers.authorization;
      if (!header) throw unauthorized('Send an API key as `Authorization: Bearer <key>`.');
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw unauthorized('The Authorization header must be `Bearer <key>`.');
      const client = await clients.authenticate(match[1]!);
      if (!client) throw unauthorized('The API key is unknown, revoked, expired, or its client is disabled.');
      request.client = client;

      const { scopes: required = [], anyOfScopes } = request.routeOptions.config;
      const missing = required.filter((s) => !client.scopes.includes(s));
      const missingOne = anyOfScopes !== undefined && !anyOfScopes.some((s) => client.scopes.includes(s));
      if (missing.length > 0 || missingOne) {
        await audit.record(app.database.db, actorOf(request), {
          operation: request.routeOptions.schema?.operationId ?? `${request.method} ${request.routeOptions.url}`,
          resourceType: 'request',
          outcome: 'denied',
          detail: missing.length > 0 ? { missingScopes: missing } : { missingOneOf: anyOfScopes },
        });
        if (missing.length > 0) {
          throw new ProblemError(403, 'forbidden', `This operation needs the scope ${missing.join(', ')}.`, {
            requiredScopes: required,
          });
        }
        throw new ProblemError(403, 'forbidden', `This operation needs one of the scopes ${anyOfScopes!.join(', ')}.`, {
          requiredScopes: anyOfScopes,
        });
      }
    });
  },
  { name: 'auth', dependencies: ['database'] },
);
