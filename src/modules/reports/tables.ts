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
import { persons } from '../registry/people.tables.js';

const districtCheck = (column: unknown) => sql`${column} ~ '^[0-9]{6}$'`;

/**
 * One district's daily report for one business day (measure 7): the row exists once the district
 * has submitted, or once the deadline check has found it missing, whichever comes first; the unique
 * (district, day) makes both "at most once". `version` is the current version (0: none submitted,
 * the report is missing); the versions themselves, with their figures, are kept in
 * daily_report_versions, never changed.
 */
export const dailyReports = pgTable(
  'daily_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** A county-level region code (district, county or county-level city). */
    district: text('district').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    /** The deadline the district was held to: the day at the policy's cutoff (Asia/Shanghai), fixed when the row was made. */
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    version: integer('version').notNull().default(0),
    firstSubmittedAt: timestamp('first_submitted_at', { withTimezone: true }),
    lastSubmittedAt: timestamp('last_submitted_at', { withTimezone: true }),
    /** When the deadline check found no report and published daily_report.missing (once). */
    missingAt: timestamp('missing_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('daily_reports_district_check', districtCheck(t.district)),
    check('daily_reports_version_check', sql`${t.version} >= 0`),
    check(
      'daily_reports_submitted_check',
      sql`(${t.version} = 0) = (${t.firstSubmittedAt} is null) and (${t.firstSubmittedAt} is null) = (${t.lastSubmittedAt} is null)`,
    ),
    uniqueIndex('daily_reports_district_day_idx').on(t.district, t.day),
    index('daily_reports_day_idx').on(t.day, t.district),
  ],
);

/** Every version of a daily report, as submitted: a correction is a new version, the old ones stay. */
export const dailyReportVersions = pgTable(
  'daily_report_versions',
  {
    reportId: uuid('report_id')
      .notNull()
      .references(() => dailyReports.id),
    version: integer('version').notNull(),
    /** A zero report: nothing to report, every figure 0, said explicitly. */
    zero: boolean('zero').notNull(),
    suspected: integer('suspected').notNull(),
    confirmed: integer('confirmed').notNull(),
    hospitalized: integer('hospitalized').notNull(),
    inQuarantine: integer('in_quarantine').notNull(),
    recovered: integer('recovered').notNull(),
    died: integer('died').notNull(),
    emergencyGrants: integer('emergency_grants').notNull(),
    emergencyGrantsFen: bigint('emergency_grants_fen', { mode: 'number' }).notNull(),
    inKindHandouts: integer('in_kind_handouts').notNull(),
    inKindItems: bigint('in_kind_items', { mode: 'number' }).notNull(),
    visits: integer('visits').notNull(),
    keyPersonsWithoutCaregiver: integer('key_persons_without_caregiver').notNull(),
    notes: text('notes'),
    submittedAt: timestamp('submitted_at', { withTimezone: true }).notNull(),
    submittedByClientId: uuid('submitted_by_client_id').references(() => clients.id),
  },
  (t) => [
    primaryKey({ columns: [t.reportId, t.version] }),
    check('daily_report_versions_version_check', sql`${t.version} >= 1`),
    check(
      'daily_report_versions_figures_check',
      sql`least(${t.suspected}, ${t.confirmed}, ${t.hospitalized}, ${t.inQuarantine}, ${t.recovered}, ${t.died},
        ${t.emergencyGrants}, ${t.emergencyGrantsFen}, ${t.inKindHandouts}, ${t.inKindItems}, ${t.visits},
        ${t.keyPersonsWithoutCaregiver}) >= 0`,
    ),
    check(
      'daily_report_versions_zero_check',
      sql`not ${t.zero} or greatest(${t.suspected}, ${t.confirmed}, ${t.hospitalized}, ${t.inQuarantine}, ${t.recovered},
        ${t.died}, ${t.emergencyGrants}, ${t.emergencyGrantsFen}, ${t.inKindHandouts}, ${t.inKindItems}, ${t.visits},
        ${t.keyPersonsWithoutCaregiver}) = 0`,
    ),
  ],
);

/**
 * An urgent report (measure 7: "urgent matters are reported at once"), filed at any time and pushed
 * as events to the city and to the agencies its type concerns (`audience`). Never changed.
 */
export const urgentReports = pgTable(
  'urgent_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    district: text('district').notNull(),
    type: text('type').notNull(),
    severity: text('severity').notNull(),
    description: text('description').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    /** The agencies it was pushed to besides civil affairs: health, cdc. */
    audience: text('audience').array().notNull(),
    filedAt: timestamp('filed_at', { withTimezone: true }).notNull(),
    filedByClientId: uuid('filed_by_client_id').references(() => clients.id),
  },
  (t) => [
    check('urgent_reports_district_check', districtCheck(t.district)),
    check(
      'urgent_reports_type_check',
      sql`${t.type} in ('infection','death','quarantine_hardship','care_gap','supply_shortage','safety','other')`,
    ),
    check('urgent_reports_severity_check', sql`${t.severity} in ('general','serious','major','critical')`),
    index('urgent_reports_district_idx').on(t.district, t.filedAt, t.id),
    index('urgent_reports_filed_idx').on(t.filedAt, t.id),
  ],
);

/** The registry persons an urgent report involves. */
export const urgentReportPersons = pgTable(
  'urgent_report_persons',
  {
    reportId: uuid('report_id')
      .notNull()
      .references(() => urgentReports.id),
    personId: uuid('person_id')
      .notNull()
      .references(() => persons.id),
  },
  (t) => [primaryKey({ columns: [t.reportId, t.personId] }), index('urgent_report_persons_person_idx').on(t.personId)],
);
