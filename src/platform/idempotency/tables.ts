import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { clients } from '../clients/tables.js';

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    key: text('key').notNull(),
    /** SHA-256 of method, route and body: a different request under the same key is refused. */
    requestHash: text('request_hash').notNull(),
    state: text('state').notNull().default('in_flight'),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.key] }),
    check('idempotency_keys_state_check', sql`${t.state} in ('in_flight','completed')`),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);
