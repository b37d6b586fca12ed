import { sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import { households, persons } from '../registry/people.tables.js';
import type { MatchedRecord, Member } from './verify.rules.js';
import { matchingRecords, matchingSources } from './tables.js';
import type { SourceKind } from './tables.js';

export interface SourceInForce {
  sourceId: string;
  kind: SourceKind;
  snapshotId: string;
}

export interface HouseholdRecords {
  /** Null when the household does not exist or lies outside the jurisdiction. */
  region: string | null;
  members: Member[];
  sources: SourceInForce[];
  records: MatchedRecord[];
}

/**
 * Everything verification reads, in one statement and one round trip: the household (inside the
 * jurisdiction), its members, every source's current snapshot, and the records of those snapshots
 * keyed by a member's ID-number blind index. One statement sees one database snapshot, so a source's
 * `current_snapshot_id` and the records read under it belong together: a snapshot swapped in
 * meanwhile is seen whole or not at all. Each (member, source) pair is one probe of
 * `matching_records_person_idx (snapshot_id, id_index)`: the lateral subquery's `offset 0` keeps
 * the planner from flattening it into a join it may choose to hash over the whole of
 * matching_records, as it does when statistics are missing or stale (after a bulk registration
 * or a big load, before autovacuum has analyzed: seconds instead of a millisecond).
 */
export async function readHousehold(
  executor: Executor,
  householdId: string,
  jurisdictionPattern: string,
): Promise<HouseholdRecords> {
  const [found] = await rows<HouseholdRecords>(
    executor,
    sql`
      with h as (
        select ${households.id} as id, ${households.region} as region from ${households}
        where ${households.id} = ${householdId}::uuid and ${households.region} like ${jurisdictionPattern}
      ),
      m as (
        select p.id, p.name, p.id_number_index, p.created_at from ${persons} p
        where p.household_id = (select id from h)
      ),
      s as (
        select id, kind, current_snapshot_id from ${matchingSources} where current_snapshot_id is not null
      )
      select
        (select region from h) as "region",
        (select coalesce(json_agg(json_build_object('id', m.id, 'name', m.name) order by m.created_at, m.id), '[]')
           from m) as "members",
        (select coalesce(json_agg(json_build_object('sourceId', s.id, 'kind', s.kind, 'snapshotId', s.current_snapshot_id)
           order by s.id), '[]') from s) as "sources",
        (select coalesce(json_agg(json_build_object(
            'personId', m.id, 'sourceId', s.id, 'kind', s.kind, 'snapshotId', r.snapshot_id, 'line', r.line,
            'ref', r.ref, 'name', r.name, 'amountFen', r.amount_fen, 'eventDate', r.event_date, 'attrs', r.attrs)
           order by s.kind, s.id, r.line), '[]')
           from m cross join s
           cross join lateral (
             select * from ${matchingRecords} r
             where r.snapshot_id = s.current_snapshot_id and r.id_index = m.id_number_index
             offset 0
           ) r
        ) as "records"
    `,
  );
  return found!;
}
