import { and, eq, sql, type WithSubquery } from 'drizzle-orm';
import { type Db, type Executor, rows } from '../../db/client.js';
import type { auditRowOf } from '../../platform/audit/service.js';
import type { ProgramCode } from '../registry/programs.rules.js';
import { type ProgramStandard, standardFromJson, standardInForceJson } from '../registry/programs.service.js';
import { households, persons } from '../registry/people.tables.js';
import type { MatchedRecord, Member } from './verify.rules.js';
import { matchingRecords, matchingSources, matchingVerifications } from './tables.js';
import type { SourceKind } from './tables.js';

export interface SourceInForce {
  sourceId: string;
  kind: SourceKind;
  snapshotId: string;
}

export interface HouseholdRecords {
  region: string;
  members: Member[];
  sources: SourceInForce[];
  records: MatchedRecord[];
  /** The program's standard in force for the household's region on the date; null when none is. */
  standard: ProgramStandard | null;
}

/** What the read statement takes: `pattern` is the caller's jurisdiction (`2201%`). */
export interface HouseholdQuery {
  householdId: string;
  pattern: string;
  program: ProgramCode;
  date: string;
}

/**
 * Everything verification reads, in one statement and one round trip: the household (inside the
 * jurisdiction), its members, every source's current snapshot, the records of those snapshots
 * keyed by a member's ID-number blind index, and the program's standard in force for the
 * household's region (registry's own definition of "in force", programs.service.ts). One statement
 * sees one database snapshot, so a source's `current_snapshot_id` and the records read under it
 * belong together: a snapshot swapped in meanwhile is seen whole or not at all. Each (member,
 * source) pair is one probe of `matching_records_person_idx (snapshot_id, id_index)`: the lateral
 * subquery's `offset 0` keeps the planner from flattening it into a join it may choose to hash over
 * the whole of matching_records, as it does when statistics are missing or stale (after a bulk
 * registration or a big load, before autovacuum has analyzed: seconds instead of a millisecond).
 *
 * Its values are placeholders (`HouseholdQuery`): prepared once (`householdReader`), PostgreSQL
 * parses and plans it once a connection instead of once a verification.
 */
export function householdRead(db: Db) {
  const householdId = sql.placeholder('householdId');
  const members = sql`select p.id, p.name, p.id_number_index, p.created_at from ${persons} p
    where p.household_id = ${households.id}`;
  const sources = sql`select id, kind, current_snapshot_id from ${matchingSources} where current_snapshot_id is not null`;
  return db
    .select({
      region: households.region,
      members: sql<Member[]>`(select coalesce(json_agg(json_build_object('id', m.id, 'name', m.name)
          order by m.created_at, m.id), '[]') from (${members}) m)`,
      sources: sql<SourceInForce[]>`(select coalesce(json_agg(json_build_object(
          'sourceId', s.id, 'kind', s.kind, 'snapshotId', s.current_snapshot_id) order by s.id), '[]') from (${sources}) s)`,
      records: sql<MatchedRecord[]>`(select coalesce(json_agg(json_build_object(
          'personId', m.id, 'sourceId', s.id, 'kind', s.kind, 'snapshotId', r.snapshot_id, 'line', r.line,
          'ref', r.ref, 'name', r.name, 'amountFen', r.amount_fen, 'eventDate', r.event_date, 'attrs', r.attrs)
          order by s.kind, s.id, r.line), '[]')
        from (${members}) m cross join (${sources}) s
        cross join lateral (
          select * from ${matchingRecords} r
          where r.snapshot_id = s.current_snapshot_id and r.id_index = m.id_number_index
          offset 0
        ) r)`,
      standard: standardInForceJson(sql.placeholder('program'), households.region, sql.placeholder('date')).mapWith(
        (json: Record<string, unknown> | null) => standardFromJson(json),
      ),
    })
    .from(households)
    .where(and(eq(households.id, householdId), sql`${households.region} like ${sql.placeholder('pattern')}`));
}

/** The read statement, prepared: null when the household does not exist or lies outside the jurisdiction. */
export function householdReader(db: Db) {
  const prepared = householdRead(db).prepare('matching_verify_read_household');
  return async (query: HouseholdQuery): Promise<HouseholdRecords | null> => {
    const [found] = await prepared.execute({ ...query });
    return found ?? null;
  };
}

/** A verification as stored, but for what the database gives it (`created_at`). */
export type NewVerificationRow = Omit<typeof matchingVerifications.$inferInsert, 'createdAt'> & { id: string };

const verificationColumns = [
  'id',
  'householdId',
  'applicationId',
  'runId',
  'program',
  'region',
  'asOf',
  'passed',
  'members',
  'monthlyIncomeFen',
  'financialAssetsFen',
  'rules',
  'flags',
  'snapshots',
  'createdByClientId',
] as const satisfies readonly (keyof NewVerificationRow)[];

/**
 * The statement that stores a verification together with what must commit with it (its event and
 * audit row: common table expressions from `events.publishWith` and `audit.recordWith`): one round
 * trip, and on its own one transaction. Its values are placeholders: the verification's fields
 * (`verificationValues`) and those of `alongside`. Answers the stored `createdAt`.
 */
export function verificationStore(executor: Executor, alongside: WithSubquery[]) {
  const values = Object.fromEntries(verificationColumns.map((c) => [c, sql.placeholder(c)]));
  const stored = executor
    .$with('verification', { createdAt: sql`created_at`.mapWith(matchingVerifications.createdAt).as('created_at') })
    .as(
      executor
        .insert(matchingVerifications)
        .values(values as unknown as NewVerificationRow)
        .returning({ createdAt: matchingVerifications.createdAt })
        .getSQL(),
    );
  return executor
    .with(stored, ...alongside)
    .select({ createdAt: stored.createdAt })
    .from(stored);
}

/** The verification's placeholders of `verificationStore`. */
export const verificationValues = (row: NewVerificationRow): Record<string, unknown> =>
  Object.fromEntries(verificationColumns.map((c) => [c, row[c] ?? null]));

/** One verification of a group, with its event and audit row (`verificationsStore`). */
export interface StoredTogether {
  verification: NewVerificationRow;
  event: {
    type: string;
    scope: string;
    subject: string;
    region: string;
    audienceClientId: string | null;
    data: Record<string, unknown>;
  };
  audit: ReturnType<typeof auditRowOf>;
}

/**
 * `verificationStore` for a group of verifications (group commit, db/group-commit.ts): one
 * statement stores them all, each with its event (and its subject's counter) and its audit row,
 * in one transaction and one round trip. The rows travel as one JSON document. Answers each
 * verification's `createdAt`, in the order given.
 */
export function verificationsStore(db: Db) {
  return async (group: StoredTogether[]): Promise<Date[]> => {
    const input = group.map(({ verification: v, event: e, audit: a }) => ({
      id: v.id,
      household_id: v.householdId,
      application_id: v.applicationId ?? null,
      run_id: v.runId ?? null,
      program: v.program,
      region: v.region,
      as_of: v.asOf,
      passed: v.passed,
      members: v.members,
      monthly_income_fen: v.monthlyIncomeFen,
      financial_assets_fen: v.financialAssetsFen,
      rules: v.rules,
      flags: v.flags,
      snapshots: v.snapshots,
      created_by_client_id: v.createdByClientId ?? null,
      ev_type: e.type,
      ev_scope: e.scope,
      ev_subject: e.subject,
      ev_region: e.region,
      ev_audience: e.audienceClientId,
      ev_data: e.data,
      au_client_id: a.clientId,
      au_agency: a.agency,
      au_request_id: a.requestId,
      au_operation: a.operation,
      au_resource_type: a.resourceType,
      au_resource_ids: a.resourceIds,
      au_person_ids: a.personIds,
      au_outcome: a.outcome,
      au_detail: a.detail,
    }));
    const stored = await rows<{ id: string; created_at: string | Date }>(
      db,
      sql`with input as (
          select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as r(
            id uuid, household_id uuid, application_id uuid, run_id uuid, program text, region text, as_of date,
            passed boolean, members integer, monthly_income_fen bigint, financial_assets_fen bigint, rules jsonb,
            flags jsonb, snapshots jsonb, created_by_client_id uuid, ev_type text, ev_scope text, ev_subject text,
            ev_region text, ev_audience uuid, ev_data jsonb, au_client_id uuid, au_agency text, au_request_id text, au_operation text,
            au_resource_type text, au_resource_ids text[], au_person_ids uuid[], au_outcome text, au_detail jsonb)
        ),
        stored as (
          insert into matching_verifications (id, household_id, application_id, run_id, program, region, as_of, passed,
            members, monthly_income_fen, financial_assets_fen, rules, flags, snapshots, created_by_client_id)
          select id, household_id, application_id, run_id, program, region, as_of, passed, members, monthly_income_fen,
            financial_assets_fen, rules, flags, snapshots, created_by_client_id
          from input
          returning id, created_at
        ),
        counter as (
          insert into event_subjects (subject, last_seq)
          select ev_subject, 1 from input order by ev_subject
          on conflict (subject) do update set last_seq = event_subjects.last_seq + 1
          returning subject, last_seq
        ),
        published as (
          insert into events (type, subject, subject_seq, region, scope, audience_client_id, data)
          select i.ev_type, i.ev_subject, c.last_seq, i.ev_region, i.ev_scope, i.ev_audience, i.ev_data
          from input i join counter c on c.subject = i.ev_subject
        ),
        audited as (
          insert into audit_events (client_id, agency, request_id, operation, resource_type, resource_ids, person_ids,
            outcome, detail)
          select au_client_id, au_agency, au_request_id, au_operation, au_resource_type, au_resource_ids, au_person_ids,
            au_outcome, au_detail
          from input
        )
        select id, created_at from stored`,
    );
    const at = new Map(stored.map((s) => [s.id, new Date(s.created_at)]));
    return group.map((g) => at.get(g.verification.id)!);
  };
}
