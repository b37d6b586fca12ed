import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';
import { households, persons } from './people.tables.js';
import { policies } from './policies.tables.js';

/** In-kind aid: an item, how many, in what unit (masks, boxes of food, …). */
export interface InKindItem {
  item: string;
  quantity: number;
  unit: string;
}

/**
 * Temporary assistance (临时救助), aid first and paperwork after: opened by a welfare contact that
 * found hardship, or granted on the spot. Status: opened → granted → completed; opened → refused;
 * granted → cancelled. `region` is where it is granted: the place of emergency.
 */
export const temporaryAssistance = pgTable(
  'temporary_assistance',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => persons.id),
    householdId: uuid('household_id').references(() => households.id),
    region: text('region').notNull(),
    /** The person's hukou region, as it was when the aid was opened. */
    hukouRegion: text('hukou_region'),
    /** Granted at the place of emergency to someone registered elsewhere (measure 6). */
    nonLocal: boolean('non_local').notNull().default(false),
    /** The emergency response this aid belongs to; one grant per person and emergency. */
    policyId: uuid('policy_id').references(() => policies.id),
    strandedReason: text('stranded_reason'),
    infectionStatus: text('infection_status'),
    status: text('status').notNull(),
    needs: jsonb('needs')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    cashFen: bigint('cash_fen', { mode: 'number' }).notNull().default(0),
    inKind: jsonb('in_kind')
      .$type<InKindItem[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    reason: text('reason'),
    welfareContactId: uuid('welfare_contact_id'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    grantedAt: timestamp('granted_at', { withTimezone: true }),
    grantedByClientId: uuid('granted_by_client_id').references(() => clients.id),
    /** Aid first, paperwork after: the paperwork is completed by this date. */
    paperworkDueDate: date('paperwork_due_date', { mode: 'string' }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    closedReason: text('closed_reason'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check(
      'temporary_assistance_status_check',
      sql`${t.status} in ('opened','granted','completed','refused','cancelled')`,
    ),
    check(
      'temporary_assistance_stranded_reason_check',
      sql`${t.strandedReason} is null or ${t.strandedReason} in ('family_visit','travel','work','other')`,
    ),
    check(
      'temporary_assistance_infection_check',
      sql`${t.infectionStatus} is null or ${t.infectionStatus} in ('confirmed','suspected','close_contact','not_infected')`,
    ),
    check('temporary_assistance_cash_check', sql`${t.cashFen} >= 0`),
    check(
      'temporary_assistance_granted_check',
      sql`${t.status} not in ('granted','completed') or (${t.grantedAt} is not null and ${t.paperworkDueDate} is not null)`,
    ),
    // Nobody is granted aid twice for one emergency, wherever they ask.
    uniqueIndex('temporary_assistance_once_per_emergency_idx')
      .on(t.personId, t.policyId)
      .where(sql`${t.status} in ('granted','completed') and ${t.policyId} is not null`),
    index('temporary_assistance_region_idx').on(t.region, t.openedAt, t.id),
    index('temporary_assistance_person_idx').on(t.personId),
  ],
);

/**
 * A caseworker's contact with a household or person (measure 1: by phone or WeChat, without
 * contact): when, how, what was found and what they need.
 */
export const welfareContacts = pgTable(
  'welfare_contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    householdId: uuid('household_id').references(() => households.id),
    personId: uuid('person_id').references(() => persons.id),
    region: text('region').notNull(),
    contactedAt: timestamp('contacted_at', { withTimezone: true }).notNull(),
    channel: text('channel').notNull(),
    outcome: text('outcome').notNull(),
    needs: jsonb('needs')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    notes: text('notes'),
    caseworker: text('caseworker').notNull(),
    /** The temporary assistance a hardship finding opened. */
    temporaryAssistanceId: uuid('temporary_assistance_id').references(() => temporaryAssistance.id),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('welfare_contacts_subject_check', sql`${t.householdId} is not null or ${t.personId} is not null`),
    check('welfare_contacts_channel_check', sql`${t.channel} in ('phone','wechat','video','in_person')`),
    check('welfare_contacts_outcome_check', sql`${t.outcome} in ('fine','hardship','symptoms','unreachable')`),
    index('welfare_contacts_region_idx').on(t.region, t.contactedAt, t.id),
    index('welfare_contacts_household_idx').on(t.householdId),
    index('welfare_contacts_person_idx').on(t.personId),
  ],
);
