import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const clients = pgTable(
  'clients',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    agency: text('agency').notNull(),
    scopes: text('scopes').array().notNull(),
    jurisdiction: text('jurisdiction').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'clients_agency_check',
      sql`${t.agency} in ('civil_affairs','finance','bank','data_provider','health','cdc','portal','admin')`,
    ),
    check('clients_jurisdiction_check', sql`${t.jurisdiction} ~ '^[0-9]{2,12}$'`),
    index('clients_jurisdiction_idx').on(t.jurisdiction),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    /** The first characters of the key, shown in listings so an operator can tell keys apart. */
    prefix: text('prefix').notNull(),
    /** HMAC-SHA256 of the whole key with the configured pepper; the key itself is never stored. */
    keyHash: text('key_hash').notNull().unique(),
    label: text('label'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_client_idx').on(t.clientId)],
);
