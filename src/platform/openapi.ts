import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { eventDefinitions, eventEnvelope, webhookPinged } from './events/catalogue.js';
import { problemKinds } from './errors.js';
import { problems } from './http.js';

export const tags = [
  { name: 'Civil affairs', description: 'District offices and caseworkers' },
  { name: 'Finance', description: 'The finance bureau’s systems' },
  { name: 'Bank', description: 'The paying financial institution' },
  { name: 'Data providers', description: 'Agencies whose records economic verification matches against' },
  { name: 'Health', description: 'Health commission and designated hospitals' },
  { name: 'CDC', description: 'Disease control' },
  { name: 'Portal', description: 'Third-party portals acting for residents' },
  { name: 'Admin', description: 'Operators: clients, keys, audit, policies' },
  { name: 'Events', description: 'The event feed and webhooks' },
  { name: 'Operations', description: 'Health checks for load balancers and orchestrators' },
];

const description = `Doudi (兜底) lets a city's agencies coordinate social assistance during an epidemic.

**Authentication.** Every \`/v1\` operation needs \`Authorization: Bearer <api key>\`. A key belongs to a
client of one agency with scopes and a jurisdiction (a region-code prefix). The scopes an operation
needs are listed in its security requirement (where there are several, any one of them suffices). Objects outside the caller's jurisdiction answer 404.

**Errors** are \`application/problem+json\` (RFC 9457). Problem types:
${Object.entries(problemKinds)
  .map(([kind, text]) => `- \`/problems/${kind}\`: ${text}`)
  .join('\n')}

**Writes.** POSTs accept \`Idempotency-Key\`: the same key and body replay the stored answer
(with \`Idempotent-Replayed: true\`), a different body answers 422, a key still in flight 409.
Mutable resources carry an \`ETag\`; send it back in \`If-Match\` to make a change conditional (412 when stale).

**Outages.** While the database cannot be reached (a restart, a failover) calls answer 503
\`/problems/service-unavailable\` with \`Retry-After\`; the service reconnects by itself.

**Lists** take \`limit\` (1–500, default 50) and \`cursor\`, and answer \`{ items, nextCursor }\`.

**Money** is integer fen (\`…Fen\`), times RFC 3339, business dates \`YYYY-MM-DD\` in Asia/Shanghai.`;

/**
 * The zod provider registers an input and an output variant of each named schema; only the ones an
 * operation points at belong in the document.
 */
function dropUnreferencedSchemas<T>(document: T): T {
  const doc = document as { components?: { schemas?: Record<string, unknown> } };
  const schemas = doc.components?.schemas;
  if (!schemas) return document;
  const referenced = new Set<string>();
  const visit = (text: string) => {
    for (const m of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (!referenced.has(m[1]!)) {
        referenced.add(m[1]!);
        visit(JSON.stringify(schemas[m[1]!] ?? {}));
      }
    }
  };
  visit(JSON.stringify({ ...doc, components: { ...doc.components, schemas: {} } }));
  doc.components!.schemas = Object.fromEntries(Object.entries(schemas).filter(([name]) => referenced.has(name)));
  return document;
}

/**
 * Every event type's message under `webhooks` (OpenAPI 3.1): what a subscribed endpoint receives,
 * the same envelope the feed returns.
 */
function withWebhooks<T>(document: T): T {
  const message = (type: string, summary: string, data: z.ZodType, scope?: string) => ({
    post: {
      operationId: `on_${type.replace('.', '_')}`,
      summary,
      description: [
        scope
          ? `Sent to subscriptions of clients holding \`${scope}\` whose jurisdiction contains the event's region.`
          : '',
        'Signed as the Standard Webhooks specification says: verify `webhook-signature` over `webhook-id`, `webhook-timestamp` and the raw body. `webhook-id` is the same on every retry.',
      ]
        .filter(Boolean)
        .join(' '),
      tags: ['Events'],
      parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({
        name,
        in: 'header',
        required: true,
        schema: { type: 'string' },
      })),
      requestBody: {
        required: true,
        content: { 'application/json': { schema: z.toJSONSchema(eventEnvelope(data, type), { io: 'output' }) } },
      },
      responses: {
        '2XX': { description: 'Received. Any other answer is retried, except 410 Gone, which ends the subscription.' },
      },
    },
  });
  const webhooks = Object.fromEntries([
    ...eventDefinitions().map((d) => [d.type, message(d.type, d.summary, d.data, d.scope)]),
    [webhookPinged.type, message(webhookPinged.type, webhookPinged.summary, webhookPinged.data)],
  ]);
  return { ...(document as object), webhooks } as T;
}

type RouteSchema = Record<string, unknown> & { response?: Record<string, unknown>; config?: unknown };

/**
 * OpenAPI 3.1 from the route schemas. Every /v1 operation gets its security requirement (the scopes
 * from the route's config) and the error answers every such operation can give.
 */
export const openapiPlugin = fp(
  async (app: FastifyInstance, { version }: { version: string }) => {
    const zodTransform = createJsonSchemaTransform({ skipList: [] });
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Doudi API', version, description },
        tags,
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'An API key issued to your client' },
          },
        },
      },
      transform: (document) => {
        const { url, route } = document;
        const schema = document.schema as RouteSchema | undefined;
        if (!schema || !url.startsWith('/v1')) return zodTransform(document);
        const config = route.config as { scopes?: string[]; anyOfScopes?: string[] } | undefined;
        const scopes = config?.scopes ?? [];
        const anyOf = config?.anyOfScopes;
        const listed = (list: string[]) => list.map((s) => `\`${s}\``).join(', ');
        const standard = problems(
          ...(schema.body || schema.querystring || schema.params || schema.headers ? [400] : []),
          401,
          403,
          ...(route.method === 'POST' ? [409, 413, 415, 422] : []),
          429,
          500,
          503,
        );
        const withErrors = {
          ...schema,
          response: { ...standard, ...(schema.response ?? {}) },
          // Alternatives are separate security requirements: any one of them suffices.
          security: anyOf ? anyOf.map((one) => ({ apiKey: [...scopes, one] })) : [{ apiKey: scopes }],
          ...((scopes.length > 0 || anyOf) && {
            description: `${(schema.description as string | undefined) ?? ''}\n\nScopes: ${[
              ...(scopes.length > 0 ? [listed(scopes)] : []),
              ...(anyOf ? [`one of ${listed(anyOf)}`] : []),
            ].join(', and ')}.`.trim(),
          }),
        };
        return zodTransform({ ...document, schema: withErrors } as typeof document);
      },
      transformObject: (document) => withWebhooks(dropUnreferencedSchemas(jsonSchemaTransformObject(document))),
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
