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
import { persons } from '../registry/people.tables.js';

const regionCheck = (column: unknown) => sql`${column} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`;

/**
 * A caregiver (照料服务人): who looks after key persons by phone, WeChat or in person (measure 4).
 * The phone is personal information, kept like a person's (sealed, blind index, masked).
 */
export const caregivers = pgTable(
  'caregivers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Where the caregiver works; jurisdiction is checked against it. */
    region: text('region').notNull(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    organisation: text('organisation'),
    /** The caregiver as a person of the registry, when they are one (a relative, a neighbour). */
    personId: uuid('person_id').references(() => persons.id),
    phoneSealed: text('phone_sealed'),
    phoneIndex: text('phone_index'),
    phoneMasked: text('phone_masked'),
    sealedKeyId: text('sealed_key_id'),
    /** An inactive caregiver takes no new assignments. */
    active: boolean('active').notNull().default(true),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('caregivers_region_check', regionCheck(t.region)),
    check(
      'caregivers_kind_check',
      sql`${t.kind} in ('caseworker','social_worker','cadre','volunteer','relative','neighbour','other')`,
    ),
    check(
      'caregivers_phone_check',
      sql`(${t.phoneSealed} is null) = (${t.phoneMasked} is null) and (${t.phoneSealed} is null) = (${t.sealedKeyId} is null)`,
    ),
    index('caregivers_region_idx').on(t.region, t.id),
    index('caregivers_person_idx').on(t.personId),
    index('caregivers_phone_index_idx').on(t.phoneIndex),
  ],
);

/**
 * Who is responsible for a key person. One active assignment per person, enforced by the
 * database; reassignment ends the active one and starts another, so history is kept.
 */
export const careAssignments = pgTable(
  'care_assignments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => persons.id),
    caregiverId: uuid('caregiver_id')
      .notNull()
      .references(() => caregivers.id),
    /** The person's residence region when assigned. */
    region: text('region').notNull(),
    note: text('note'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    assignedByClientId: uuid('assigned_by_client_id').references(() => clients.id),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    endReason: text('end_reason'),
    endedByClientId: uuid('ended_by_client_id').references(() => clients.id),
  },
  (t) => [
    check('care_assignments_region_check', regionCheck(t.region)),
    check('care_assignments_end_check', sql`(${t.endedAt} is null) = (${t.endReason} is null)`),
    uniqueIndex('care_assignments_one_active_idx')
      .on(t.personId)
      .where(sql`${t.endedAt} is null`),
    index('care_assignments_caregiver_idx')
      .on(t.caregiverId)
      .where(sql`${t.endedAt} is null`),
    index('care_assignments_person_idx').on(t.personId, t.startedAt),
    index('care_assignments_region_idx').on(t.region, t.id),
  ],
);

/**
 * A visit task: a key person is to be visited within one interval (window_start up to due_date).
 * Generated idempotently: one per person and window. Assigned to the responsible caregiver; with
 * none, to the civil-affairs office of the person's subdistrict (`fallback_region`).
 */
export const visitTasks = pgTable(
  'visit_tasks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => persons.id),
    region: text('region').notNull(),
    caregiverId: uuid('caregiver_id').references(() => caregivers.id),
    fallbackRegion: text('fallback_region'),
    windowStart: date('window_start', { mode: 'string' }).notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    intervalDays: integer('interval_days').notNull(),
    status: text('status').notNull().default('open'),
    visitId: uuid('visit_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    check('visit_tasks_region_check', regionCheck(t.region)),
    check('visit_tasks_status_check', sql`${t.status} in ('open','done','cancelled')`),
    check('visit_tasks_assignee_check', sql`${t.caregiverId} is not null or ${t.fallbackRegion} is not null`),
    check('visit_tasks_window_check', sql`${t.dueDate} > ${t.windowStart} and ${t.intervalDays} > 0`),
    uniqueIndex('visit_tasks_person_window_idx').on(t.personId, t.windowStart),
    index('visit_tasks_open_region_idx')
      .on(t.region, t.dueDate)
      .where(sql`${t.status} = 'open'`),
    index('visit_tasks_open_caregiver_idx')
      .on(t.caregiverId, t.dueDate)
      .where(sql`${t.status} = 'open'`),
  ],
);

/**
 * A visit to a key person (measure 4): how, when, how they are, what they need. Made by their
 * caregiver or by someone else (a caseworker), named in `visitor_name`.
 */
export const visits = pgTable(
  'visits',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => persons.id),
    /** The person's residence region at the visit; jurisdiction is checked against it. */
    region: text('region').notNull(),
    caregiverId: uuid('caregiver_id').references(() => caregivers.id),
    visitorName: text('visitor_name'),
    visitorPhoneSealed: text('visitor_phone_sealed'),
    visitorPhoneIndex: text('visitor_phone_index'),
    visitorPhoneMasked: text('visitor_phone_masked'),
    sealedKeyId: text('sealed_key_id'),
    taskId: uuid('task_id').references(() => visitTasks.id),
    channel: text('channel').notNull(),
    visitedAt: timestamp('visited_at', { withTimezone: true }).notNull(),
    healthStatus: text('health_status').notNull(),
    symptoms: jsonb('symptoms')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    symptomsText: text('symptoms_text'),
    needs: jsonb('needs')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    needsText: text('needs_text'),
    followUp: text('follow_up'),
    followUpDate: date('follow_up_date', { mode: 'string' }),
    recordedByClientId: uuid('recorded_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('visits_region_check', regionCheck(t.region)),
    check('visits_channel_check', sql`${t.channel} in ('phone','wechat_video','in_person')`),
    check(
      'visits_health_status_check',
      sql`${t.healthStatus} in ('well','unwell','symptomatic','hospitalized','deceased')`,
    ),
    check('visits_visitor_check', sql`${t.caregiverId} is not null or ${t.visitorName} is not null`),
    check(
      'visits_visitor_phone_check',
      sql`(${t.visitorPhoneSealed} is null) = (${t.visitorPhoneMasked} is null) and (${t.visitorPhoneSealed} is null or ${t.sealedKeyId} is not null)`,
    ),
    index('visits_person_idx').on(t.personId, t.visitedAt),
    index('visits_region_idx').on(t.region, t.visitedAt, t.id),
    index('visits_caregiver_idx').on(t.caregiverId, t.visitedAt),
  ],
);

/**
 * Each key person's latest visit, kept in the visit's transaction, so that coverage reads one row
 * per person instead of searching millions of visits.
 */
export const careLastVisits = pgTable('care_last_visits', {
  personId: uuid('person_id')
    .primaryKey()
    .references(() => persons.id),
  visitId: uuid('visit_id')
    .notNull()
    .references(() => visits.id),
  visitedAt: timestamp('visited_at', { withTimezone: true }).notNull(),
});
