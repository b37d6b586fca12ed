import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { clients } from '../clients/tables.js';

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    /** HMAC-SHA256 of the client's Idempotency-Key: the key itself is not stored. */
    key: text('key').notNull(),
    /** SHA-256 of method, route and body: a different request under the same key is refused. */
    requestHash: text('request_hash').notNull(),
    state: text('state').notNull().default('in_flight'),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    /** The answer, encrypted with a key derived from the Idempotency-Key (only its holder can replay it). */
    responseBody: text('response_body'),
    /** A request in flight past this time is taken to have died with its process; a retry may run. */
    inFlightUntil: timestamp('in_flight_until', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.key] }),
    check('idempotency_keys_state_check', sql`${t.state} in ('in_flight','completed')`),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);
