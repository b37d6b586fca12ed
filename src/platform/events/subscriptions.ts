import { and, desc, eq, sql } from 'drizzle-orm';
import { type Db, type Executor, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../audit/service.js';
import type { AuthenticatedClient } from '../clients/service.js';
import { notFound, ProblemError, validationError } from '../errors.js';
import type { SecretBox } from '../secrets.js';
import { eventDefinition } from './catalogue.js';
import { newWebhookSecret } from './signing.js';
import { type UrlPolicy, urlProblem } from './ssrf.js';
import { webhookAttempts, webhookDeliveries, webhookSubscriptions } from './tables.js';

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;

export interface SubscriptionInput {
  url: string;
  eventTypes: string[];
  description?: string | undefined;
  enabled?: boolean | undefined;
}

interface Deps {
  db: Db;
  audit: AuditService;
  secrets: SecretBox;
  policy: UrlPolicy;
}

/** A client's webhook subscriptions: only its own, whatever its agency. */
export function createSubscriptionService({ db, audit, secrets, policy }: Deps) {
  async function checkUrl(url: string) {
    const problem = await urlProblem(url, policy);
    if (problem) throw validationError([{ in: 'body', pointer: '/url', detail: problem }]);
  }

  function checkTypes(caller: AuthenticatedClient, types: string[]) {
    const errors = types.flatMap((type, i) => {
      const definition = eventDefinition(type);
      if (!definition)
        return [{ in: 'body' as const, pointer: `/eventTypes/${i}`, detail: `${type} is not an event type` }];
      if (!caller.scopes.includes(definition.scope)) {
        return [
          { in: 'body' as const, pointer: `/eventTypes/${i}`, detail: `${type} needs the scope ${definition.scope}` },
        ];
      }
      return [];
    });
    if (errors.length > 0) throw validationError(errors);
  }

  /** The caller's own subscription, locked for a change in this transaction (404 otherwise). */
  async function lockOwn(tx: Executor, caller: AuthenticatedClient, id: string): Promise<SubscriptionRow> {
    const [current] = await tx
      .select()
      .from(webhookSubscriptions)
      .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.clientId, caller.id)))
      .for('update');
    if (!current) throw notFound('webhook subscription');
    return current;
  }

  async function create(caller: AuthenticatedClient, actor: AuditActor, input: SubscriptionInput) {
    checkTypes(caller, input.eventTypes);
    await checkUrl(input.url);
    const secret = newWebhookSecret();
    const row = await db.transaction(async (tx) => {
      const [created] = await tx
        .insert(webhookSubscriptions)
        .values({
          clientId: caller.id,
          url: input.url,
          description: input.description ?? null,
          eventTypes: [...new Set(input.eventTypes)],
          enabled: input.enabled ?? true,
          secret: secrets.seal(secret),
        })
        .returning();
      await audit.record(tx, actor, {
        operation: 'createWebhookSubscription',
        resourceType: 'webhook_subscription',
        resourceIds: [created!.id],
      });
      return created!;
    });
    return { subscription: row, secret };
  }

  async function get(caller: AuthenticatedClient, id: string): Promise<SubscriptionRow> {
    const [found] = await db
      .select()
      .from(webhookSubscriptions)
      .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.clientId, caller.id)));
    if (!found) throw notFound('webhook subscription');
    return found;
  }

  async function list(caller: AuthenticatedClient) {
    return db
      .select()
      .from(webhookSubscriptions)
      .where(eq(webhookSubscriptions.clientId, caller.id))
      .orderBy(webhookSubscriptions.createdAt);
  }

  async function update(
    caller: AuthenticatedClient,
    actor: AuditActor,
    id: string,
    changes: Partial<SubscriptionInput>,
    expectedVersion?: number,
  ) {
    if (changes.eventTypes) checkTypes(caller, changes.eventTypes);
    if (changes.url !== undefined) await checkUrl(changes.url);
    return db.transaction(async (tx) => {
      const current = await lockOwn(tx, caller, id);
      if (expectedVersion !== undefined && expectedVersion !== current.version) {
        throw new ProblemError(
          412,
          'precondition-failed',
          'The subscription changed since you read it; read it again.',
        );
      }
      const [updated] = await tx
        .update(webhookSubscriptions)
        .set({
          ...(changes.url !== undefined && { url: changes.url }),
          ...(changes.description !== undefined && { description: changes.description }),
          ...(changes.eventTypes !== undefined && { eventTypes: [...new Set(changes.eventTypes)] }),
          ...(changes.enabled !== undefined && { enabled: changes.enabled, disabledReason: null }),
          version: current.version + 1,
          updatedAt: sql`now()`,
        })
        .where(eq(webhookSubscriptions.id, id))
        .returning();
      await audit.record(tx, actor, {
        operation: 'updateWebhookSubscription',
        resourceType: 'webhook_subscription',
        resourceIds: [id],
      });
      return updated!;
    });
  }

  /** A new secret; the old one keeps signing too until the grace period ends. */
  async function rotateSecret(caller: AuthenticatedClient, actor: AuditActor, id: string, graceHours: number) {
    const secret = newWebhookSecret();
    const updated = await db.transaction(async (tx) => {
      const current = await lockOwn(tx, caller, id);
      const [row] = await tx
        .update(webhookSubscriptions)
        .set({
          secret: secrets.seal(secret),
          previousSecret: graceHours > 0 ? current.secret : null,
          previousSecretExpiresAt: graceHours > 0 ? sql`now() + make_interval(hours => ${graceHours})` : null,
          version: current.version + 1,
          updatedAt: sql`now()`,
        })
        .where(eq(webhookSubscriptions.id, id))
        .returning();
      await audit.record(tx, actor, {
        operation: 'rotateWebhookSecret',
        resourceType: 'webhook_subscription',
        resourceIds: [id],
      });
      return row!;
    });
    return { subscription: updated, secret };
  }

  /** Queues a test message to this subscription alone. */
  async function ping(caller: AuthenticatedClient, id: string) {
    const subscription = await get(caller, id);
    const [delivery] = await db
      .insert(webhookDeliveries)
      .values({ subscriptionId: subscription.id, eventId: null, eventPosition: 0, subject: `ping/${subscription.id}` })
      .returning();
    return delivery!;
  }

  async function deliveries(caller: AuthenticatedClient, id: string, limit: number) {
    await get(caller, id);
    return db
      .select({
        id: webhookAttempts.id,
        deliveryId: webhookAttempts.deliveryId,
        eventId: webhookDeliveries.eventId,
        attemptedAt: webhookAttempts.attemptedAt,
        durationMs: webhookAttempts.durationMs,
        statusCode: webhookAttempts.statusCode,
        error: webhookAttempts.error,
        deliveryStatus: webhookDeliveries.status,
        attempt: webhookDeliveries.attempts,
      })
      .from(webhookAttempts)
      .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
      .where(eq(webhookAttempts.subscriptionId, id))
      .orderBy(desc(webhookAttempts.id))
      .limit(limit);
  }

  /**
   * Sends one event, or every event since a time, again: each keeps its webhook-id, so a receiver
   * that has it already can tell. Only events the subscription's client may see.
   */
  async function redeliver(
    caller: AuthenticatedClient,
    actor: AuditActor,
    id: string,
    what: { eventId?: string | undefined; since?: Date | undefined },
  ): Promise<number> {
    const subscription = await get(caller, id);
    const which = what.eventId
      ? sql`e.id = ${what.eventId}::uuid`
      : sql`e.occurred_at >= ${what.since!.toISOString()}::timestamptz`;
    return db.transaction(async (tx) => {
      const queued = await rows<{ n: number }>(
        tx,
        sql`with queued as (
              insert into webhook_deliveries (subscription_id, event_id, event_position, subject)
              select ${subscription.id}::uuid, e.id, e.position, e.subject
              from events e
              where ${which} and e.position is not null
                and event_visible(e.scope, e.region, e.audience_client_id, ${caller.id}::uuid, ${sql.param(caller.scopes)}::text[], ${caller.jurisdiction})
                and (cardinality(${sql.param(subscription.eventTypes)}::text[]) = 0 or e.type = any(${sql.param(subscription.eventTypes)}::text[]))
              on conflict (subscription_id, event_id) do update
                set status = 'pending', next_attempt_at = now(), attempts = 0, lease_until = null
              returning 1)
            select count(*)::int as n from queued`,
      );
      const n = queued[0]?.n ?? 0;
      if (what.eventId && n === 0) throw notFound('event');
      await audit.record(tx, actor, {
        operation: 'redeliverWebhooks',
        resourceType: 'webhook_subscription',
        resourceIds: [id],
        detail: { eventId: what.eventId ?? null, since: what.since?.toISOString() ?? null, queued: n },
      });
      return n;
    });
  }

  return { create, get, list, update, rotateSecret, ping, deliveries, redeliver };
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;
