import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Append-only audit trail. Writers insert rows inside their own transaction; the sealer then chains
 * them (chain_seq, prev_hash, hash) in the order it seals them, so writers never wait on one lock.
 * A trigger (see the migration) refuses deletes and any update but the one that seals a row.
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
    chainSeq: bigint('chain_seq', { mode: 'number' }).unique(),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    check('audit_events_outcome_check', sql`${t.outcome} in ('success','denied','failed')`),
    index('audit_events_occurred_idx').on(t.occurredAt),
    index('audit_events_client_idx').on(t.clientId, t.occurredAt),
    index('audit_events_person_idx').using('gin', t.personIds),
    index('audit_events_unsealed_idx')
      .on(t.seq)
      .where(sql`${t.chainSeq} is null`),
  ],
);

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
