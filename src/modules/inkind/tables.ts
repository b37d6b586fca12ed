import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';
import { temporaryAssistance } from '../registry/assistance.tables.js';
import { households, persons } from '../registry/people.tables.js';

const regionCheck = (column: unknown) => sql`${column} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`;

/** The catalogue of in-kind aid (measure 1: masks, protective items, food parcels, …), city-wide. */
export const inKindItems = pgTable(
  'inkind_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    /** What one counts in (piece, box, parcel); quantities everywhere are whole units of it. */
    unit: text('unit').notNull(),
    description: text('description'),
    /** A retired item takes no more receipts; what is left in stock may still be handed out. */
    active: boolean('active').notNull().default(true),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    uniqueIndex('inkind_items_code_idx').on(t.code),
    check('inkind_items_code_check', sql`${t.code} ~ '^[a-z][a-z0-9_]{1,49}$'`),
  ],
);

/**
 * What a region holds of an item. Receipts add, distributions take away; the stock never goes
 * negative, and what is held is always what came in less what went out.
 */
export const inKindStock = pgTable(
  'inkind_stock',
  {
    region: text('region').notNull(),
    itemId: uuid('item_id')
      .notNull()
      .references(() => inKindItems.id),
    quantity: bigint('quantity', { mode: 'number' }).notNull().default(0),
    received: bigint('received', { mode: 'number' }).notNull().default(0),
    distributed: bigint('distributed', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.region, t.itemId] }),
    check('inkind_stock_region_check', regionCheck(t.region)),
    check('inkind_stock_not_negative_check', sql`${t.quantity} >= 0`),
    check('inkind_stock_balance_check', sql`${t.quantity} = ${t.received} - ${t.distributed}`),
  ],
);

/** A delivery into a region's stock: from where, under which reference (a delivery note, a waybill). */
export const inKindReceipts = pgTable(
  'inkind_receipts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    region: text('region').notNull(),
    source: text('source').notNull(),
    supplier: text('supplier'),
    /** The delivery's own reference; one receipt per reference and region, so a retry adds nothing. */
    reference: text('reference').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    note: text('note'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('inkind_receipts_region_check', regionCheck(t.region)),
    check('inkind_receipts_source_check', sql`${t.source} in ('procurement','donation','allocation','other')`),
    uniqueIndex('inkind_receipts_reference_idx').on(t.region, t.reference),
    index('inkind_receipts_received_idx').on(t.receivedAt, t.id),
  ],
);

export const inKindReceiptLines = pgTable(
  'inkind_receipt_lines',
  {
    receiptId: uuid('receipt_id')
      .notNull()
      .references(() => inKindReceipts.id),
    itemId: uuid('item_id')
      .notNull()
      .references(() => inKindItems.id),
    quantity: integer('quantity').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.receiptId, t.itemId] }),
    check('inkind_receipt_lines_quantity_check', sql`${t.quantity} > 0`),
  ],
);

/**
 * Items handed to a person from a region's stock, directly or under a temporary-assistance grant.
 * `businessDate` is the day (Asia/Shanghai) the reports count it on.
 */
export const inKindDistributions = pgTable(
  'inkind_distributions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    region: text('region').notNull(),
    personId: uuid('person_id')
      .notNull()
      .references(() => persons.id),
    householdId: uuid('household_id').references(() => households.id),
    temporaryAssistanceId: uuid('temporary_assistance_id').references(() => temporaryAssistance.id),
    distributedAt: timestamp('distributed_at', { withTimezone: true }).notNull(),
    businessDate: date('business_date', { mode: 'string' }).notNull(),
    /** Who handed it out (a caseworker, a volunteer); the API client is createdByClientId. */
    distributedBy: text('distributed_by').notNull(),
    note: text('note'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('inkind_distributions_region_check', regionCheck(t.region)),
    index('inkind_distributions_day_idx').on(t.businessDate, t.region),
    index('inkind_distributions_list_idx').on(t.distributedAt, t.id),
    index('inkind_distributions_person_idx').on(t.personId, t.businessDate),
    index('inkind_distributions_assistance_idx').on(t.temporaryAssistanceId),
  ],
);

export const inKindDistributionLines = pgTable(
  'inkind_distribution_lines',
  {
    distributionId: uuid('distribution_id')
      .notNull()
      .references(() => inKindDistributions.id),
    itemId: uuid('item_id')
      .notNull()
      .references(() => inKindItems.id),
    quantity: integer('quantity').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.distributionId, t.itemId] }),
    check('inkind_distribution_lines_quantity_check', sql`${t.quantity} > 0`),
  ],
);
