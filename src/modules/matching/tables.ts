import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';
import { jobs } from '../../platform/jobs/tables.js';
import { households } from '../registry/people.tables.js';

/** What a source holds (DOMAIN.md, economic verification); each kind has its record schema. */
export const sourceKinds = [
  'income',
  'pension',
  'housing_fund',
  'real_estate',
  'vehicle',
  'deposits',
  'business',
  'death',
] as const;
export type SourceKind = (typeof sourceKinds)[number];

/**
 * A data provider's source: one kind of record, loaded by one provider client as whole
 * snapshots. `current_snapshot_id` is the snapshot in force; a new one replaces it atomically.
 */
export const matchingSources = pgTable(
  'matching_sources',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').$type<SourceKind>().notNull(),
    name: text('name').notNull(),
    description: text('description'),
    /** The data_provider client that loads it. */
    providerClientId: uuid('provider_client_id')
      .notNull()
      .references(() => clients.id),
    /** The region its records cover (a region-code prefix). */
    region: text('region').notNull(),
    currentSnapshotId: uuid('current_snapshot_id').references((): AnyPgColumn => matchingSnapshots.id),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check(
      'matching_sources_kind_check',
      sql`${t.kind} in ('income','pension','housing_fund','real_estate','vehicle','deposits','business','death')`,
    ),
    check('matching_sources_region_check', sql`${t.region} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`),
    uniqueIndex('matching_sources_provider_kind_idx').on(t.providerClientId, t.kind, t.region),
  ],
);

/**
 * One load of a source. `loading` while its records stream in (they are invisible: only the
 * source's current snapshot is read); `complete` and made current in one transaction when every
 * line was good; `rejected` when any line was bad (the report lists them, nothing of it is used);
 * `failed` when the load broke off; `superseded` once a newer snapshot became current.
 */
export const matchingSnapshots = pgTable(
  'matching_snapshots',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => matchingSources.id),
    status: text('status').notNull(),
    format: text('format').$type<'ndjson' | 'csv'>().notNull(),
    /** The provider's upload key: the same key answers with the same snapshot (idempotent loads). */
    uploadKey: text('upload_key').notNull(),
    contentSha256: text('content_sha256'),
    lines: integer('lines').notNull().default(0),
    records: integer('records').notNull().default(0),
    badLines: integer('bad_lines').notNull().default(0),
    /** The first 1,000 bad lines: `{ line, field, reason }`. */
    report: jsonb('report').$type<{ line: number; field: string; reason: string }[]>(),
    jobId: uuid('job_id').references(() => jobs.id),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
  },
  (t) => [
    check(
      'matching_snapshots_status_check',
      sql`${t.status} in ('loading','complete','rejected','failed','superseded')`,
    ),
    check('matching_snapshots_format_check', sql`${t.format} in ('ndjson','csv')`),
    uniqueIndex('matching_snapshots_upload_key_idx').on(t.sourceId, t.uploadKey),
    index('matching_snapshots_source_idx').on(t.sourceId, t.startedAt),
  ],
);

/**
 * How far a running load has read: its lines so far, written through the pool about every 10,000
 * lines so that readers see them (`lines` of a loading snapshot). Not a column of
 * matching_snapshots: the load's records reference their snapshot's row, their foreign key is
 * checked for each record at the end of the load's COPY, and every update of that row while the
 * load's transaction is open leaves a row version that each of those millions of checks steps
 * over. The row goes when the load ends (complete or rejected); a failed load's stays, to show
 * how far it got.
 */
export const matchingLoadProgress = pgTable('matching_load_progress', {
  snapshotId: uuid('snapshot_id')
    .primaryKey()
    .references(() => matchingSnapshots.id, { onDelete: 'cascade' }),
  lines: integer('lines').notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A source record, keyed by the blind index of the person's ID number (the same keyed hash as
 * `persons.id_number_index`, so matching never needs the number itself). What `amount_fen` means
 * depends on the kind: monthly income, monthly pension, monthly housing-fund contribution,
 * property value, vehicle value, deposit and securities balance, registered capital; death records
 * carry `event_date`.
 */
export const matchingRecords = pgTable(
  'matching_records',
  {
    snapshotId: uuid('snapshot_id')
      .notNull()
      .references(() => matchingSnapshots.id, { onDelete: 'cascade' }),
    line: integer('line').notNull(),
    idIndex: text('id_index').notNull(),
    name: text('name').notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }),
    eventDate: date('event_date', { mode: 'string' }),
    /** The provider's own id of the record, quoted in explanations. */
    ref: text('ref'),
    /** Further fields of the kind's record schema (e.g. property use, vehicle plate). */
    attrs: jsonb('attrs').$type<Record<string, unknown>>(),
  },
  (t) => [
    primaryKey({ columns: [t.snapshotId, t.line] }),
    index('matching_records_person_idx').on(t.snapshotId, t.idIndex),
  ],
);

/** A bulk re-verification (every enrolled household of a region, or of one program). */
export const matchingRuns = pgTable(
  'matching_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    region: text('region').notNull(),
    program: text('program'),
    asOf: date('as_of', { mode: 'string' }).notNull(),
    status: text('status').notNull(),
    jobId: uuid('job_id').references(() => jobs.id),
    households: integer('households').notNull().default(0),
    failing: integer('failing').notNull().default(0),
    deceasedPaid: integer('deceased_paid').notNull().default(0),
    dataErrors: integer('data_errors').notNull().default(0),
    /** Household-program pairs not verified: no standard in force for the region, or no members. */
    skipped: integer('skipped').notNull().default(0),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    check('matching_runs_status_check', sql`${t.status} in ('queued','running','complete','failed')`),
    index('matching_runs_region_idx').on(t.region, t.createdAt),
  ],
);

/**
 * An explainable verification of one household for a program on a date: each rule with its
 * outcome, figures and the source records behind it (source, snapshot, line); name mismatches
 * flagged for a phone check. Made by `POST /v1/matching/verifications` or by a run.
 */
export const matchingVerifications = pgTable(
  'matching_verifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    householdId: uuid('household_id')
      .notNull()
      .references(() => households.id),
    applicationId: uuid('application_id'),
    runId: uuid('run_id').references(() => matchingRuns.id),
    program: text('program').notNull(),
    region: text('region').notNull(),
    asOf: date('as_of', { mode: 'string' }).notNull(),
    passed: boolean('passed').notNull(),
    members: integer('members').notNull(),
    monthlyIncomeFen: bigint('monthly_income_fen', { mode: 'number' }).notNull(),
    financialAssetsFen: bigint('financial_assets_fen', { mode: 'number' }).notNull(),
    rules: jsonb('rules').$type<Record<string, unknown>[]>().notNull(),
    flags: jsonb('flags').$type<Record<string, unknown>[]>().notNull(),
    /** The snapshot of each source that was read: `{ sourceId: snapshotId }`. */
    snapshots: jsonb('snapshots').$type<Record<string, string>>().notNull(),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('matching_verifications_household_idx').on(t.householdId, t.createdAt),
    // A run's results are paged and counted by household.
    index('matching_verifications_run_idx').on(t.runId, t.householdId),
    index('matching_verifications_region_idx').on(t.region, t.createdAt),
  ],
);
