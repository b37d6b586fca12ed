import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
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
  boolean,
} from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';
import { caregivers } from '../care/tables.js';
import { referrals } from '../referrals/tables.js';
import { households, persons } from '../registry/people.tables.js';

const regionCheck = (column: unknown) => sql`${column} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`;

/**
 * A confirmed case's close-contact handoff to the CDC (measure 5). Routed by `region` (the case
 * person's residence region) to the disease-control clients covering it.
 * draft → sent → accepted → closed; sent → rejected → draft (reopened) ; draft, sent, accepted,
 * rejected → revoked (by civil affairs, with a reason). One open handoff per case person.
 */
export const contactHandoffs = pgTable(
  'contact_handoffs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    region: text('region').notNull(),
    casePersonId: uuid('case_person_id')
      .notNull()
      .references(() => persons.id),
    caseHouseholdId: uuid('case_household_id').references(() => households.id),
    /** `referral`: a referral's outcome confirmed; `direct`: learnt another way; `contact`: a contact became a case. */
    origin: text('origin').notNull(),
    referralId: uuid('referral_id').references(() => referrals.id),
    /** The contact (of another handoff) who became this case. */
    sourceContactId: uuid('source_contact_id').references((): AnyPgColumn => handoffContacts.id),
    onsetDate: date('onset_date', { mode: 'string' }).notNull(),
    confirmedOn: date('confirmed_on', { mode: 'string' }),
    /** The look-back used (the policy's contactLookBackDays, else 14) and the window it gave. */
    lookBackDays: integer('look_back_days').notNull(),
    windowFrom: date('window_from', { mode: 'string' }).notNull(),
    windowTo: date('window_to', { mode: 'string' }).notNull(),
    /** How the confirmation was learnt (direct handoffs), or anything the caseworker adds. */
    note: text('note'),
    status: text('status').notNull().default('draft'),
    /** First sent: from then on the disease-control clients of the region see it. */
    sentAt: timestamp('sent_at', { withTimezone: true }),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    /** The disease-control client that accepted it: it reports on the contacts from then on. */
    receiverClientId: uuid('receiver_client_id').references(() => clients.id),
    /** Why it was rejected (by the CDC) or revoked (by civil affairs). */
    closedReason: text('closed_reason'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('contact_handoffs_region_check', regionCheck(t.region)),
    check('contact_handoffs_origin_check', sql`${t.origin} in ('referral','direct','contact')`),
    check(
      'contact_handoffs_origin_link_check',
      sql`(${t.origin} = 'referral') = (${t.referralId} is not null) and (${t.origin} = 'contact') = (${t.sourceContactId} is not null)`,
    ),
    check(
      'contact_handoffs_status_check',
      sql`${t.status} in ('draft','sent','accepted','rejected','closed','revoked')`,
    ),
    check(
      'contact_handoffs_window_check',
      sql`${t.lookBackDays} between 1 and 60 and ${t.windowFrom} = ${t.onsetDate} - ${t.lookBackDays} and ${t.onsetDate} <= ${t.windowTo}`,
    ),
    check(
      'contact_handoffs_reason_check',
      sql`${t.status} not in ('rejected','revoked') or ${t.closedReason} is not null`,
    ),
    // One open handoff per case: a second confirmation of the same person is the same case.
    uniqueIndex('contact_handoffs_one_open_idx')
      .on(t.casePersonId)
      .where(sql`${t.status} in ('draft','sent','accepted','rejected')`),
    uniqueIndex('contact_handoffs_referral_idx')
      .on(t.referralId)
      .where(sql`${t.referralId} is not null`),
    index('contact_handoffs_region_idx').on(t.region, t.createdAt, t.id),
    index('contact_handoffs_case_idx').on(t.casePersonId, t.createdAt),
  ],
);

/**
 * One close contact of a handoff, as assembled from what the service knows or added by a
 * caseworker, and what the CDC reports of them. Personal data is kept as the registry keeps it:
 * phone and ID number sealed and masked; `identity_key` is the blind index (ID document, else
 * phone) that makes one person of the contacts of several handoffs.
 * pending → reached → quarantined → released; pending/reached → unreachable (→ reached);
 * pending/reached/quarantined → became_case; pending → removed (by civil affairs, with a reason).
 */
export const handoffContacts = pgTable(
  'handoff_contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    handoffId: uuid('handoff_id')
      .notNull()
      .references(() => contactHandoffs.id),
    /** The contact as a registry person, when known. */
    personId: uuid('person_id').references(() => persons.id),
    caregiverId: uuid('caregiver_id').references(() => caregivers.id),
    /** The contact's residence region, when known (a registry person's). */
    region: text('region'),
    relation: text('relation').notNull(),
    /** `assembled` from the registry and care records, or `added` by a caseworker. */
    origin: text('origin').notNull(),
    name: text('name').notNull(),
    idType: text('id_type'),
    idNumberSealed: text('id_number_sealed'),
    idNumberMasked: text('id_number_masked'),
    phoneSealed: text('phone_sealed'),
    phoneMasked: text('phone_masked'),
    sealedKeyId: text('sealed_key_id'),
    /** `doc:<idType>:<blind index>`, else `phone:<blind index>`; null when neither is known. */
    identityKey: text('identity_key'),
    address: text('address'),
    /** An assistance recipient (an active enrollment) when assembled or added. */
    recipient: boolean('recipient').notNull().default(false),
    firstContactDate: date('first_contact_date', { mode: 'string' }),
    lastContactDate: date('last_contact_date', { mode: 'string' }),
    /** In-person visits and contacts found in the window. */
    inPersonContacts: integer('in_person_contacts').notNull().default(0),
    status: text('status').notNull().default('pending'),
    reachedAt: timestamp('reached_at', { withTimezone: true }),
    quarantineKind: text('quarantine_kind'),
    quarantineFrom: date('quarantine_from', { mode: 'string' }),
    quarantineTo: date('quarantine_to', { mode: 'string' }),
    quarantinePlace: text('quarantine_place'),
    releasedOn: date('released_on', { mode: 'string' }),
    becameCaseOn: date('became_case_on', { mode: 'string' }),
    /** The handoff the contact's own confirmation opened (or found open). */
    nextHandoffId: uuid('next_handoff_id').references((): AnyPgColumn => contactHandoffs.id),
    /** Why it is unreachable, or why it was removed. */
    statusReason: text('status_reason'),
    addedByClientId: uuid('added_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('handoff_contacts_region_check', sql`${t.region} is null or ${regionCheck(t.region)}`),
    check('handoff_contacts_relation_check', sql`${t.relation} in ('household','family','care','visit')`),
    check('handoff_contacts_origin_check', sql`${t.origin} in ('assembled','added')`),
    check(
      'handoff_contacts_status_check',
      sql`${t.status} in ('pending','reached','quarantined','released','unreachable','became_case','removed')`,
    ),
    check(
      'handoff_contacts_quarantine_check',
      sql`(${t.quarantineKind} is null or ${t.quarantineKind} in ('home','centralised'))
        and (${t.quarantineKind} is null) = (${t.quarantineFrom} is null)
        and (${t.quarantineKind} is null) = (${t.quarantineTo} is null)
        and (${t.quarantineTo} is null or ${t.quarantineTo} >= ${t.quarantineFrom})
        and (${t.status} not in ('quarantined','released') or ${t.quarantineKind} is not null)`,
    ),
    check(
      'handoff_contacts_reason_check',
      sql`${t.status} not in ('unreachable','removed') or ${t.statusReason} is not null`,
    ),
    check(
      'handoff_contacts_sealed_check',
      sql`(${t.phoneSealed} is null) = (${t.phoneMasked} is null) and (${t.idNumberSealed} is null) = (${t.idNumberMasked} is null)
        and (${t.idNumberSealed} is null or ${t.idType} is not null)
        and ((${t.phoneSealed} is null and ${t.idNumberSealed} is null) or ${t.sealedKeyId} is not null)`,
    ),
    check('handoff_contacts_count_check', sql`${t.inPersonContacts} >= 0`),
    // One contact per person and handoff (removed ones aside).
    uniqueIndex('handoff_contacts_identity_idx')
      .on(t.handoffId, t.identityKey)
      .where(sql`${t.identityKey} is not null and ${t.status} <> 'removed'`),
    uniqueIndex('handoff_contacts_person_idx')
      .on(t.handoffId, t.personId)
      .where(sql`${t.personId} is not null and ${t.status} <> 'removed'`),
    index('handoff_contacts_handoff_idx').on(t.handoffId, t.createdAt, t.id),
    // De-duplication across handoffs (the CDC's links).
    index('handoff_contacts_identity_key_idx')
      .on(t.identityKey)
      .where(sql`${t.identityKey} is not null`),
    index('handoff_contacts_registry_person_idx')
      .on(t.personId)
      .where(sql`${t.personId} is not null`),
    // Follow-up and daily reports: who is in quarantine now.
    index('handoff_contacts_quarantined_idx')
      .on(t.region, t.quarantineTo)
      .where(sql`${t.status} = 'quarantined'`),
  ],
);

/** Every step of a handoff and of its contacts, in order: who did what, when, and why. */
export const handoffSteps = pgTable(
  'handoff_steps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    handoffId: uuid('handoff_id')
      .notNull()
      .references(() => contactHandoffs.id),
    seq: integer('seq').notNull(),
    /** The contact the step is about; null for the handoff's own steps. */
    contactId: uuid('contact_id').references(() => handoffContacts.id),
    action: text('action').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    clientId: uuid('client_id').references(() => clients.id),
    agency: text('agency'),
    note: text('note'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [uniqueIndex('handoff_steps_seq_idx').on(t.handoffId, t.seq)],
);

/** Questions and answers between civil affairs and the CDC about a handoff or one of its contacts. */
export const handoffComments = pgTable(
  'handoff_comments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    handoffId: uuid('handoff_id')
      .notNull()
      .references(() => contactHandoffs.id),
    contactId: uuid('contact_id').references(() => handoffContacts.id),
    clientId: uuid('client_id').references(() => clients.id),
    agency: text('agency'),
    text: text('text').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [index('handoff_comments_handoff_idx').on(t.handoffId, t.at, t.id)],
);
