import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The audit trail. Rows are written in the transaction of what they record and never change again:
 * triggers (see migration 0001) refuse every update, delete and truncate. A statement trigger
 * queues each new row in audit_unsealed for the sealer.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid('id').notNull().unique().defaultRandom(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    clientId: uuid('client_id'),
    agency: text('agency'),
    operation: text('operation').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceIds: text('resource_ids')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    personIds: uuid('person_ids')
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    outcome: text('outcome').notNull(),
    requestId: text('request_id'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    check('audit_events_outcome_check', sql`${t.outcome} in ('success','denied','failed')`),
    index('audit_events_occurred_idx').on(t.occurredAt),
    index('audit_events_client_idx').on(t.clientId, t.occurredAt),
    index('audit_events_person_idx').using('gin', t.personIds),
  ],
);

/** Rows written but not yet chained: the sealer's queue, filled by a trigger, emptied as it seals. */
export const auditUnsealed = pgTable('audit_unsealed', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
});

/**
 * The hash chain, in the order the sealer chained the rows (which may differ from seq: a row can
 * commit after a later one). hash = SHA-256 over prev_hash and the row (audit_event_hash()).
 * Insert-only, like the trail itself.
 */
export const auditChain = pgTable('audit_chain', {
  chainSeq: bigint('chain_seq', { mode: 'number' }).primaryKey(),
  auditSeq: bigint('audit_seq', { mode: 'number' }).notNull().unique(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/** One row: where the chain ends. The sealer locks it, so only one sealer works at a time. */
export const auditChainHead = pgTable(
  'audit_chain_head',
  {
    id: integer('id').primaryKey(),
    lastChainSeq: bigint('last_chain_seq', { mode: 'number' }).notNull(),
    lastHash: text('last_hash').notNull(),
  },
  (t) => [check('audit_chain_head_single_row', sql`${t.id} = 1`)],
);
