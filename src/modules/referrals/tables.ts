import { sql } from 'drizzle-orm';
import {
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
import { welfareContacts } from '../registry/assistance.tables.js';
import { households, persons } from '../registry/people.tables.js';
import { visits } from '../care/tables.js';

const regionCheck = (column: unknown) => sql`${column} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`;

/**
 * A suspected-case referral to health (measure 5). Routed by `region` (the person's residence
 * region) to the health and disease-control clients whose jurisdiction covers it.
 * reported → acknowledged → transferred → confirmed | excluded; reported/acknowledged → rejected
 * (by the receiver: not theirs); reported/acknowledged/transferred → cancelled (by civil affairs).
 */
export const referrals = pgTable(
  'referrals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => persons.id),
    householdId: uuid('household_id').references(() => households.id),
    region: text('region').notNull(),
    origin: text('origin').notNull(),
    visitId: uuid('visit_id').references(() => visits.id),
    welfareContactId: uuid('welfare_contact_id').references(() => welfareContacts.id),
    symptoms: jsonb('symptoms')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    symptomsText: text('symptoms_text'),
    onsetDate: date('onset_date', { mode: 'string' }),
    /** Where the person is now. */
    locationKind: text('location_kind').notNull(),
    locationText: text('location_text'),
    transportNeeded: boolean('transport_needed').notNull().default(false),
    reporterName: text('reporter_name').notNull(),
    reporterPhoneSealed: text('reporter_phone_sealed'),
    reporterPhoneMasked: text('reporter_phone_masked'),
    sealedKeyId: text('sealed_key_id'),
    status: text('status').notNull().default('reported'),
    /** Health acknowledges by then (policy's referralAckHours, else the normal rule). */
    ackDueAt: timestamp('ack_due_at', { withTimezone: true }).notNull(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    /** The receiver that acknowledged: it answers the referral from then on. */
    receiverClientId: uuid('receiver_client_id').references(() => clients.id),
    hospital: text('hospital'),
    transferredAt: timestamp('transferred_at', { withTimezone: true }),
    outcome: text('outcome'),
    outcomeAt: timestamp('outcome_at', { withTimezone: true }),
    /** Why it was rejected (by the receiver) or cancelled (by civil affairs). */
    closedReason: text('closed_reason'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('referrals_region_check', regionCheck(t.region)),
    check('referrals_origin_check', sql`${t.origin} in ('visit','welfare_contact','direct')`),
    check(
      'referrals_origin_link_check',
      sql`(${t.origin} = 'visit') = (${t.visitId} is not null) and (${t.origin} = 'welfare_contact') = (${t.welfareContactId} is not null)`,
    ),
    check(
      'referrals_location_check',
      sql`${t.locationKind} in ('home','care_institution','hospital','quarantine_site','other')`,
    ),
    check(
      'referrals_status_check',
      sql`${t.status} in ('reported','acknowledged','transferred','confirmed','excluded','rejected','cancelled')`,
    ),
    check(
      'referrals_outcome_check',
      sql`(${t.outcome} is null and ${t.status} not in ('confirmed','excluded')) or ${t.outcome} = ${t.status}`,
    ),
    check(
      'referrals_reporter_phone_check',
      sql`(${t.reporterPhoneSealed} is null) = (${t.reporterPhoneMasked} is null) and (${t.reporterPhoneSealed} is null or ${t.sealedKeyId} is not null)`,
    ),
    // One open referral per person: a second report while one is under way is the same case.
    uniqueIndex('referrals_one_open_idx')
      .on(t.personId)
      .where(sql`${t.status} in ('reported','acknowledged','transferred')`),
    index('referrals_region_idx').on(t.region, t.createdAt, t.id),
    index('referrals_ack_due_idx')
      .on(t.ackDueAt)
      .where(sql`${t.status} = 'reported'`),
    index('referrals_person_idx').on(t.personId, t.createdAt),
  ],
);

/** Every step of a referral, in order: who did what, when, and why. */
export const referralSteps = pgTable(
  'referral_steps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    referralId: uuid('referral_id')
      .notNull()
      .references(() => referrals.id),
    seq: integer('seq').notNull(),
    action: text('action').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    clientId: uuid('client_id').references(() => clients.id),
    agency: text('agency'),
    note: text('note'),
  },
  (t) => [uniqueIndex('referral_steps_seq_idx').on(t.referralId, t.seq)],
);
