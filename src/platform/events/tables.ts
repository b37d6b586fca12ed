import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients } from '../clients/tables.js';

/**
 * The outbox. A row is written in the transaction of the change it tells of; the sequencer then
 * gives it its place in the feed (`position`) after commit, so that a reader following positions
 * never passes an event that commits late. `subject_seq` numbers the events of one subject 1, 2, 3…
 * without gaps, in commit order.
 */
export const events = pgTable(
  'events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid('id').notNull().unique().defaultRandom(),
    type: text('type').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    subject: text('subject').notNull(),
    subjectSeq: integer('subject_seq').notNull(),
    region: text('region').notNull(),
    /** The scope a receiver must hold to see the event. */
    scope: text('scope').notNull(),
    /** When set, only this client may see the event (e.g. its own job finished). */
    audienceClientId: uuid('audience_client_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    position: bigint('position', { mode: 'number' }).unique(),
  },
  (t) => [
    unique('events_subject_seq_unique').on(t.subject, t.subjectSeq),
    index('events_unsequenced_idx')
      .on(t.seq)
      .where(sql`${t.position} is null`),
    index('events_occurred_idx').on(t.occurredAt),
  ],
);

/** The last number given to each subject's events: the row lock keeps the numbering gap-free. */
export const eventSubjects = pgTable('event_subjects', {
  subject: text('subject').primaryKey(),
  lastSeq: integer('last_seq').notNull(),
});

/** One row: the last feed position given. The sequencer locks it, so one sequencer works at a time. */
export const eventFeedHead = pgTable(
  'event_feed_head',
  {
    id: integer('id').primaryKey(),
    lastPosition: bigint('last_position', { mode: 'number' }).notNull(),
  },
  (t) => [check('event_feed_head_single_row', sql`${t.id} = 1`)],
);

export const webhookSubscriptions = pgTable(
  'webhook_subscriptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    url: text('url').notNull(),
    description: text('description'),
    /** Empty: every type the client may see. */
    eventTypes: text('event_types').array().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    /** Signing secrets, encrypted with the service's secrets key (AES-256-GCM). */
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_subscriptions_client_idx').on(t.clientId)],
);

/**
 * One event for one subscription: its `id` is the message's `webhook-id`, the same on every retry.
 * Deliveries of one subject to one subscription go out in order: the next waits for the one before.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => webhookSubscriptions.id),
    /** Null for a test ping, which belongs to no event. */
    eventId: uuid('event_id'),
    eventPosition: bigint('event_position', { mode: 'number' }).notNull(),
    subject: text('subject').notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    check(
      'webhook_deliveries_status_check',
      sql`${t.status} in ('pending','delivering','delivered','failed','cancelled')`,
    ),
    unique('webhook_deliveries_event_unique').on(t.subscriptionId, t.eventId),
    index('webhook_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending','delivering')`),
    index('webhook_deliveries_order_idx').on(t.subscriptionId, t.subject, t.eventPosition),
  ],
);

/** Every attempt, with what the receiver answered and how long it took. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id),
    subscriptionId: uuid('subscription_id').notNull(),
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull().defaultNow(),
    durationMs: integer('duration_ms').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
  },
  (t) => [index('webhook_attempts_subscription_idx').on(t.subscriptionId, t.id)],
);
