import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../auth.js';
import type { AuditService } from '../audit/service.js';
import {
  decodeCursor,
  encodeCursor,
  etagOf,
  ifMatchVersion,
  isString,
  pageOf,
  pageQuery,
  problems,
  timestamp,
  toIso,
} from '../http.js';
import { agencies, scopeNames } from '../scopes.js';
import type { ApiKeyRow, ClientRow, ClientService } from './service.js';

const jurisdiction = z
  .string()
  .regex(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, 'must be a region code of 2, 4, 6, 9 or 12 digits')
  .describe('Region-code prefix the client may see and act in, e.g. 2201 (the city) or 220102 (Nanguan)');

const ClientSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    agency: z.enum(agencies),
    scopes: z.array(z.enum(scopeNames)),
    jurisdiction: z.string(),
    enabled: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Client' });

const ApiKeySchema = z
  .object({
    id: z.uuid(),
    prefix: z.string().describe('The first characters of the key, to tell keys apart'),
    label: z.string().nullable(),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

const IssuedKeySchema = ApiKeySchema.extend({
  key: z.string().describe('The API key itself. Shown only in this answer: store it now.'),
}).meta({ id: 'IssuedApiKey' });

const clientOut = (c: ClientRow) => ({
  id: c.id,
  name: c.name,
  agency: c.agency as (typeof agencies)[number],
  scopes: c.scopes as (typeof scopeNames)[number][],
  jurisdiction: c.jurisdiction,
  enabled: c.enabled,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

const keyOut = (k: ApiKeyRow) => ({
  id: k.id,
  prefix: k.prefix,
  label: k.label,
  createdAt: k.createdAt.toISOString(),
  expiresAt: toIso(k.expiresAt),
  revokedAt: toIso(k.revokedAt),
});

const idParams = z.object({ id: z.uuid() });

export const clientRoutes: FastifyPluginAsyncZod<{ clients: ClientService; audit: AuditService }> = async (
  app,
  { clients, audit },
) => {
  app.post(
    '/v1/clients',
    {
      config: { scopes: ['clients:write'] },
      schema: {
        operationId: 'createClient',
        summary: 'Create an API client and its first key',
        description:
          'The key is in the answer and nowhere else: it is stored only as a hash. Scopes default to the agency’s defaults (see the README).',
        tags: ['Admin'],
        body: z.object({
          name: z.string().trim().min(1).max(200),
          agency: z.enum(agencies),
          jurisdiction,
          scopes: z.array(z.enum(scopeNames)).max(100).optional(),
          keyLabel: z.string().max(200).optional(),
        }),
        response: { 201: z.object({ client: ClientSchema, apiKey: IssuedKeySchema }) },
      },
    },
    async (request, reply) => {
      const { client, apiKey, key } = await clients.create(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/clients/${client.id}`).header('etag', etagOf(client));
      return reply.code(201).send({ client: clientOut(client), apiKey: { ...keyOut(apiKey), key } });
    },
  );

  app.get(
    '/v1/clients',
    {
      config: { scopes: ['clients:read'] },
      schema: {
        operationId: 'listClients',
        summary: 'List API clients in your jurisdiction',
        tags: ['Admin'],
        querystring: z.object({
          ...pageQuery,
          agency: z.enum(agencies).optional(),
          enabled: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: pageOf(ClientSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, agency, enabled } = request.query;
      const page = await clients.list(callerOf(request), {
        limit,
        agency,
        enabled: enabled === undefined ? undefined : enabled === 'true',
        afterId: decodeCursor(cursor, isString),
      });
      const last = page.items.at(-1);
      return { items: page.items.map(clientOut), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/v1/clients/me',
    {
      schema: {
        operationId: 'getCurrentClient',
        summary: 'The client your key belongs to',
        description: 'Any valid key may call it: a quick way to check a key, its scopes and jurisdiction.',
        tags: ['Civil affairs', 'Finance', 'Bank', 'Data providers', 'Health', 'CDC', 'Portal', 'Admin'],
        response: { 200: ClientSchema },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return clientOut(await clients.get(caller, caller.id));
    },
  );

  app.get(
    '/v1/clients/:id',
    {
      config: { scopes: ['clients:read'] },
      schema: {
        operationId: 'getClient',
        summary: 'Read an API client',
        description: 'Audited: who looked at which client is kept in the audit trail.',
        tags: ['Admin'],
        params: idParams,
        response: { 200: ClientSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const client = await clients.get(callerOf(request), request.params.id);
      await audit.recordRead(actorOf(request), {
        operation: 'getClient',
        resourceType: 'client',
        resourceIds: [client.id],
      });
      return reply.header('etag', etagOf(client)).send(clientOut(client));
    },
  );

  app.patch(
    '/v1/clients/:id',
    {
      config: { scopes: ['clients:write'] },
      schema: {
        operationId: 'updateClient',
        summary: 'Change a client’s name, scopes, jurisdiction or enabled flag',
        description: 'Send `If-Match` with the ETag you read to make sure nobody changed it meanwhile.',
        tags: ['Admin'],
        params: idParams,
        headers: z.object({ 'if-match': z.string().max(100).optional() }),
        body: z
          .object({
            name: z.string().trim().min(1).max(200).optional(),
            scopes: z.array(z.enum(scopeNames)).max(100).optional(),
            jurisdiction: jurisdiction.optional(),
            enabled: z.boolean().optional(),
          })
          .strict(),
        response: { 200: ClientSchema, ...problems(404, 412) },
      },
    },
    async (request, reply) => {
      const updated = await clients.update(
        callerOf(request),
        actorOf(request),
        request.params.id,
        request.body,
        ifMatchVersion(request.headers['if-match'], request.params.id, 'client'),
      );
      return reply.header('etag', etagOf(updated)).send(clientOut(updated));
    },
  );

  app.get(
    '/v1/clients/:id/keys',
    {
      config: { scopes: ['clients:read'] },
      schema: {
        operationId: 'listClientKeys',
        summary: 'List a client’s API keys (never the keys themselves)',
        tags: ['Admin'],
        params: idParams,
        response: { 200: z.object({ items: z.array(ApiKeySchema), nextCursor: z.null() }), ...problems(404) },
      },
    },
    async (request) => ({
      items: (await clients.listKeys(callerOf(request), request.params.id)).map(keyOut),
      nextCursor: null,
    }),
  );

  app.post(
    '/v1/clients/:id/keys',
    {
      config: { scopes: ['clients:write'] },
      schema: {
        operationId: 'issueClientKey',
        summary: 'Issue another key for a client (rotation)',
        description: 'Issue the new key, switch the client’s system to it, then revoke the old one.',
        tags: ['Admin'],
        params: idParams,
        // The body is optional; Fastify hands a missing body to the schema as null, not undefined.
        body: z
          .object({ label: z.string().max(200).optional(), expiresAt: timestamp.optional() })
          .strict()
          .nullable()
          .transform((body) => body ?? {}),
        response: { 201: IssuedKeySchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const { label, expiresAt } = request.body;
      const { apiKey, key } = await clients.issueKey(
        callerOf(request),
        actorOf(request),
        request.params.id,
        label,
        expiresAt ? new Date(expiresAt) : undefined,
      );
      return reply.code(201).send({ ...keyOut(apiKey), key });
    },
  );

  app.post(
    '/v1/clients/:id/keys/:keyId/revoke',
    {
      config: { scopes: ['clients:write'] },
      schema: {
        operationId: 'revokeClientKey',
        summary: 'Revoke an API key; it stops working at once',
        tags: ['Admin'],
        params: z.object({ id: z.uuid(), keyId: z.uuid() }),
        response: { 200: ApiKeySchema, ...problems(404) },
      },
    },
    async (request) =>
      keyOut(await clients.revokeKey(callerOf(request), actorOf(request), request.params.id, request.params.keyId)),
  );
};
