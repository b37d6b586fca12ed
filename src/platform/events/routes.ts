import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../auth.js';
import { validationError } from '../errors.js';
import { etagOf, ifMatchVersion, problems, timestamp } from '../http.js';
import { eventEnvelope, eventTypes } from './catalogue.js';
import type { EventService } from './service.js';
import type { SubscriptionRow, SubscriptionService } from './subscriptions.js';

const everyone = ['Events', 'Civil affairs', 'Finance', 'Bank', 'Data providers', 'Health', 'CDC', 'Portal', 'Admin'];

const EventSchema = eventEnvelope(z.record(z.string(), z.unknown())).meta({ id: 'Event' });

const SubscriptionSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()).describe('Empty: every type the client may see'),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().describe('Why the service disabled it, e.g. the receiver answered 410'),
    previousSecretExpiresAt: timestamp.nullable().describe('Until then the previous secret signs too'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'WebhookSubscription' });

const subscriptionOut = (s: SubscriptionRow) => ({
  id: s.id,
  url: s.url,
  description: s.description,
  eventTypes: s.eventTypes,
  enabled: s.enabled,
  disabledReason: s.disabledReason,
  previousSecretExpiresAt:
    s.previousSecretExpiresAt && s.previousSecretExpiresAt > new Date()
      ? s.previousSecretExpiresAt.toISOString()
      : null,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

const url = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe('Where to POST events; https (private addresses refused)');
const types = z.array(z.string().max(100)).max(100);
const idParams = z.object({ id: z.uuid() });

export const eventRoutes: FastifyPluginAsyncZod<{ events: EventService; subscriptions: SubscriptionService }> = async (
  app,
  { events, subscriptions },
) => {
  app.get(
    '/v1/events',
    {
      config: { scopes: ['events:read'] },
      schema: {
        operationId: 'listEvents',
        summary: 'Poll the event feed',
        description:
          'Events your scopes and jurisdiction allow, oldest first. Start with `after=0`, then pass `nextCursor` as `after`: you see every event you are entitled to exactly once, in order, across restarts on either side. Each subject’s events carry `subjectSeq` 1, 2, 3… without gaps.',
        tags: everyone,
        querystring: z.object({
          after: z
            .string()
            .regex(/^\d{1,15}$/, 'must be a cursor from this feed (a number)')
            .default('0')
            .describe('`nextCursor` of the previous answer; 0 for the beginning'),
          types: z
            .string()
            .max(2000)
            .optional()
            .describe(`Comma-separated event types. Known: ${eventTypes().join(', ')}`),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(EventSchema), nextCursor: z.string() }) },
      },
    },
    async (request) => {
      const { after, types: typeList, limit } = request.query;
      const wanted = typeList
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const unknown = wanted?.filter((t) => !eventTypes().includes(t)) ?? [];
      if (unknown.length > 0) {
        throw validationError([{ in: 'query', pointer: '/types', detail: `${unknown.join(', ')}: not an event type` }]);
      }
      const page = await events.feed(callerOf(request), { after: Number(after), types: wanted, limit });
      return { items: page.items, nextCursor: String(page.nextPosition) };
    },
  );

  app.post(
    '/v1/webhook-subscriptions',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'createWebhookSubscription',
        summary: 'Subscribe an endpoint to events',
        description:
          'Events are POSTed as JSON, signed as the Standard Webhooks specification says (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The signing secret is in this answer only.',
        tags: everyone,
        body: z
          .object({
            url,
            eventTypes: types.default([]),
            description: z.string().max(500).optional(),
            enabled: z.boolean().optional(),
          })
          .strict(),
        response: { 201: SubscriptionSchema.extend({ secret: z.string().describe('whsec_…, shown once') }) },
      },
    },
    async (request, reply) => {
      const { subscription, secret } = await subscriptions.create(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/webhook-subscriptions/${subscription.id}`).header('etag', etagOf(subscription));
      return reply.code(201).send({ ...subscriptionOut(subscription), secret });
    },
  );

  app.get(
    '/v1/webhook-subscriptions',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'listWebhookSubscriptions',
        summary: 'Your webhook subscriptions',
        tags: everyone,
        response: { 200: z.object({ items: z.array(SubscriptionSchema), nextCursor: z.null() }) },
      },
    },
    async (request) => ({
      items: (await subscriptions.list(callerOf(request))).map(subscriptionOut),
      nextCursor: null,
    }),
  );

  app.get(
    '/v1/webhook-subscriptions/:id',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'getWebhookSubscription',
        summary: 'One webhook subscription',
        tags: everyone,
        params: idParams,
        response: { 200: SubscriptionSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const subscription = await subscriptions.get(callerOf(request), request.params.id);
      return reply.header('etag', etagOf(subscription)).send(subscriptionOut(subscription));
    },
  );

  app.patch(
    '/v1/webhook-subscriptions/:id',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'updateWebhookSubscription',
        summary: 'Change a subscription’s URL, event types or enabled flag',
        description: 'Enabling a subscription the service disabled (after a 410) resumes its pending deliveries.',
        tags: everyone,
        params: idParams,
        headers: z.object({ 'if-match': z.string().max(100).optional() }),
        body: z
          .object({
            url: url.optional(),
            eventTypes: types.optional(),
            description: z.string().max(500).optional(),
            enabled: z.boolean().optional(),
          })
          .strict(),
        response: { 200: SubscriptionSchema, ...problems(404, 412) },
      },
    },
    async (request, reply) => {
      const updated = await subscriptions.update(
        callerOf(request),
        actorOf(request),
        request.params.id,
        request.body,
        ifMatchVersion(request.headers['if-match'], request.params.id, 'subscription'),
      );
      return reply.header('etag', etagOf(updated)).send(subscriptionOut(updated));
    },
  );

  app.post(
    '/v1/webhook-subscriptions/:id/rotate-secret',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the signing secret',
        description:
          'Returns the new secret (once). For `graceHours` (default 24) messages carry two signatures, one per secret, so the receiver can switch over without losing any.',
        tags: everyone,
        params: idParams,
        body: z
          .object({ graceHours: z.number().int().min(0).max(168).default(24) })
          .strict()
          .nullable()
          .transform((b) => b ?? { graceHours: 24 }),
        response: { 200: SubscriptionSchema.extend({ secret: z.string() }), ...problems(404) },
      },
    },
    async (request) => {
      const { subscription, secret } = await subscriptions.rotateSecret(
        callerOf(request),
        actorOf(request),
        request.params.id,
        request.body.graceHours,
      );
      return { ...subscriptionOut(subscription), secret };
    },
  );

  app.post(
    '/v1/webhook-subscriptions/:id/ping',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'pingWebhookSubscription',
        summary: 'Send a signed test message (`webhook.pinged`) to the endpoint',
        description: 'Answers 202 at once; the attempt shows in the subscription’s deliveries.',
        tags: everyone,
        params: idParams,
        response: { 202: z.object({ deliveryId: z.uuid() }), ...problems(404) },
      },
    },
    async (request, reply) => {
      const delivery = await subscriptions.ping(callerOf(request), request.params.id);
      return reply.code(202).send({ deliveryId: delivery.id });
    },
  );

  app.get(
    '/v1/webhook-subscriptions/:id/deliveries',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'listWebhookDeliveryAttempts',
        summary: 'Recent delivery attempts, newest first',
        tags: everyone,
        params: idParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                deliveryId: z.uuid().describe('Also the message’s webhook-id'),
                eventId: z.uuid().nullable().describe('Null for a test ping'),
                attemptedAt: timestamp,
                durationMs: z.number().int(),
                statusCode: z.number().int().nullable(),
                error: z.string().nullable(),
                deliveryStatus: z.enum(['pending', 'delivering', 'delivered', 'failed', 'cancelled']),
                attempts: z.number().int().describe('Attempts made for this delivery so far'),
              }),
            ),
            nextCursor: z.null(),
          }),
          ...problems(404),
        },
      },
    },
    async (request) => {
      const attempts = await subscriptions.deliveries(callerOf(request), request.params.id, request.query.limit);
      return {
        items: attempts.map((a) => ({
          deliveryId: a.deliveryId,
          eventId: a.eventId,
          attemptedAt: a.attemptedAt.toISOString(),
          durationMs: a.durationMs,
          statusCode: a.statusCode,
          error: a.error,
          deliveryStatus: a.deliveryStatus as 'pending' | 'delivering' | 'delivered' | 'failed' | 'cancelled',
          attempts: a.attempt,
        })),
        nextCursor: null,
      };
    },
  );

  app.post(
    '/v1/webhook-subscriptions/:id/redeliver',
    {
      config: { scopes: ['webhooks:manage'] },
      schema: {
        operationId: 'redeliverWebhooks',
        summary: 'Send one event, or everything since a time, again',
        description: 'Each message keeps its webhook-id, so a receiver that processed it already can tell.',
        tags: everyone,
        params: idParams,
        body: z.union([z.object({ eventId: z.uuid() }).strict(), z.object({ since: timestamp }).strict()]),
        response: { 202: z.object({ queued: z.number().int() }), ...problems(404) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const queued = await subscriptions.redeliver(
        callerOf(request),
        actorOf(request),
        request.params.id,
        'eventId' in body ? { eventId: body.eventId } : { since: new Date(body.since) },
      );
      return reply.code(202).send({ queued });
    },
  );
};
