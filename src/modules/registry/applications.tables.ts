import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
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
import { programs } from './programs.tables.js';

/** A phone survey (电话调查) or home visit: who, when, what they found. */
export interface SurveyRecord {
  by: string;
  at: string;
  findings: string;
}

/**
 * An application for a monthly program (dibao, tekun, price_subsidy), for a household (and, for
 * tekun, the person supported). Status: verifying → verified → approved | rejected; withdrawn
 * before a decision. Every change is a row of `application_history`.
 */
export const applications = pgTable(
  'applications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    programCode: text('program_code')
      .notNull()
      .references(() => programs.code),
    householdId: uuid('household_id')
      .notNull()
      .references(() => households.id),
    /** The applicant; for tekun, the person to be supported. */
    personId: uuid('person_id').references(() => persons.id),
    /** The household's residence region when the application was submitted. */
    region: text('region').notNull(),
    channel: text('channel').$type<'caseworker' | 'portal'>().notNull(),
    submittedByClientId: uuid('submitted_by_client_id')
      .notNull()
      .references(() => clients.id),
    submittedAt: timestamp('submitted_at', { withTimezone: true }).notNull().defaultNow(),
    status: text('status').notNull(),
    /** The emergency policy in force when it was submitted, and whether it fast-tracked it. */
    policyId: uuid('policy_id').references(() => policies.id),
    fastTrack: boolean('fast_track').notNull().default(false),
    homeVisitRequired: boolean('home_visit_required').notNull().default(true),
    decisionDueDate: date('decision_due_date', { mode: 'string' }).notNull(),
    declaredMonthlyIncomeFen: bigint('declared_monthly_income_fen', { mode: 'number' }),
    phoneSurvey: jsonb('phone_survey').$type<SurveyRecord>(),
    homeVisit: jsonb('home_visit').$type<SurveyRecord>(),
    /** Economic verification's answer (the matching module), with every rule and its outcome. */
    verification: jsonb('verification').$type<Record<string, unknown>>(),
    decision: text('decision'),
    decisionReasons: jsonb('decision_reasons').$type<string[]>(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decidedByClientId: uuid('decided_by_client_id').references(() => clients.id),
    notes: text('notes'),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('applications_program_check', sql`${t.programCode} in ('dibao','tekun','price_subsidy')`),
    check('applications_channel_check', sql`${t.channel} in ('caseworker','portal')`),
    check('applications_status_check', sql`${t.status} in ('verifying','verified','approved','rejected','withdrawn')`),
    check('applications_decision_check', sql`${t.decision} is null or ${t.decision} in ('approved','rejected')`),
    check(
      'applications_income_check',
      sql`${t.declaredMonthlyIncomeFen} is null or ${t.declaredMonthlyIncomeFen} >= 0`,
    ),
    index('applications_region_idx').on(t.region, t.submittedAt, t.id),
    index('applications_submitter_idx').on(t.submittedByClientId, t.submittedAt, t.id),
    index('applications_household_idx').on(t.householdId),
    index('applications_status_due_idx').on(t.status, t.decisionDueDate),
  ],
);

export const applicationHistory = pgTable(
  'application_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    applicationId: uuid('application_id')
      .notNull()
      .references(() => applications.id),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    status: text('status').notNull(),
    /** What happened: submitted, phone_survey_recorded, verified, approved, … */
    action: text('action').notNull(),
    note: text('note'),
    byClientId: uuid('by_client_id').references(() => clients.id),
  },
  (t) => [index('application_history_application_idx').on(t.applicationId, t.id)],
);

/**
 * A household's (or, for tekun, a person's) enrollment in a monthly program, created by an
 * approved application. Status: active ⇄ suspended → ended. Payments read active enrollments.
 */
export const enrollments = pgTable(
  'enrollments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    programCode: text('program_code')
      .notNull()
      .references(() => programs.code),
    householdId: uuid('household_id')
      .notNull()
      .references(() => households.id),
    personId: uuid('person_id').references(() => persons.id),
    applicationId: uuid('application_id').references(() => applications.id),
    region: text('region').notNull(),
    status: text('status').notNull(),
    monthlyBenefitFen: bigint('monthly_benefit_fen', { mode: 'number' }).notNull(),
    /** How the amount was reached: the standard, household size, per-capita income, allowances. */
    benefitBasis: jsonb('benefit_basis').$type<Record<string, unknown>>().notNull(),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    endDate: date('end_date', { mode: 'string' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('enrollments_status_check', sql`${t.status} in ('active','suspended','ended')`),
    check('enrollments_benefit_check', sql`${t.monthlyBenefitFen} >= 0`),
    check('enrollments_ended_check', sql`(${t.status} = 'ended') = (${t.endDate} is not null)`),
    // At most one live enrollment per program and household (per person for tekun).
    uniqueIndex('enrollments_live_household_idx')
      .on(t.programCode, t.householdId)
      .where(sql`${t.status} <> 'ended' and ${t.personId} is null`),
    uniqueIndex('enrollments_live_person_idx')
      .on(t.programCode, t.personId)
      .where(sql`${t.status} <> 'ended' and ${t.personId} is not null`),
    index('enrollments_region_idx').on(t.region, t.id),
    index('enrollments_household_idx').on(t.householdId),
  ],
);

export const enrollmentHistory = pgTable(
  'enrollment_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    enrollmentId: uuid('enrollment_id')
      .notNull()
      .references(() => enrollments.id),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    status: text('status').notNull(),
    monthlyBenefitFen: bigint('monthly_benefit_fen', { mode: 'number' }).notNull(),
    action: text('action').notNull(),
    reason: text('reason'),
    byClientId: uuid('by_client_id').references(() => clients.id),
  },
  (t) => [index('enrollment_history_enrollment_idx').on(t.enrollmentId, t.id)],
);

/**
 * A periodic review (定期复核) of an enrollment, due on `due_date`. The date a policy extends it
 * to is not stored: it is read through the policy in force for the region on the due date, so it
 * follows the policy as it is (see the reviews service).
 */
export const reviews = pgTable(
  'reviews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    enrollmentId: uuid('enrollment_id')
      .notNull()
      .references(() => enrollments.id),
    region: text('region').notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    status: text('status').notNull().default('due'),
    outcome: text('outcome'),
    notes: text('notes'),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    completedByClientId: uuid('completed_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('reviews_status_check', sql`${t.status} in ('due','completed')`),
    check(
      'reviews_outcome_check',
      sql`${t.outcome} is null or ${t.outcome} in ('continued','benefit_changed','ended')`,
    ),
    check('reviews_completed_check', sql`(${t.status} = 'completed') = (${t.completedAt} is not null)`),
    // One open review per enrollment.
    uniqueIndex('reviews_open_idx')
      .on(t.enrollmentId)
      .where(sql`${t.status} = 'due'`),
    index('reviews_region_due_idx').on(t.region, t.dueDate),
  ],
);
