import { type SQL, sql } from 'drizzle-orm';
import { intervalSql, keyPersonSql, type PolicyInterval, visitedSinceSql } from './interval.js';

/** What coverage is asked about: key persons whose region starts with `prefix`, as of `date`. */
export interface CoverageScope {
  prefix: string;
  date: string;
  /** The date is before today: last visits are looked up in the visits as of that day. */
  past: boolean;
  /** The policies in force on the date there (policiesInForce). */
  policies: PolicyInterval[];
}

/**
 * The last visit of each key person (`kp`) as of the scope's day. Today or later, the kept
 * `care_last_visits` row (one per person); for a past day, the latest visit before that day ended.
 */
function lastVisitJoin(s: CoverageScope): SQL {
  if (!s.past) return sql`left join care_last_visits lv on lv.person_id = kp.id`;
  return sql`left join lateral (
    select v.id as visit_id, v.visited_at from visits v
    where v.person_id = kp.id
      and v.visited_at < ((${s.date}::date + 1)::timestamp at time zone 'Asia/Shanghai')
    order by v.visited_at desc limit 1) lv on true`;
}

/**
 * `with x`: each key person of the scope (narrowed by `where`, ordered and limited by `order`)
 * with the visit interval in force for their region, the instant from which a visit counts as
 * within it, their active caregiver, their last visit and the day the next one is due (null when
 * never visited). Nothing is materialised: the planner streams the persons through hash joins and
 * computes only the columns a statement uses.
 */
export function keyPersonsSql(s: CoverageScope, where: SQL = sql``, order: SQL = sql``): SQL {
  return sql`with x as (
      select kp.id, kp.name, kp.region, ${intervalSql(sql`kp.region`, s.policies)} as days,
        ${visitedSinceSql(sql`kp.region`, s.policies, s.date)} as since, a.caregiver_id, lv.visit_id, lv.visited_at,
        (lv.visited_at at time zone 'Asia/Shanghai')::date + ${intervalSql(sql`kp.region`, s.policies)} as due
      from (select p.id, p.name, p.region from persons p
            where ${keyPersonSql('p')} and p.region like ${`${s.prefix}%`} ${where} ${order}) kp
      left join care_assignments a on a.person_id = kp.id and a.ended_at is null
      ${lastVisitJoin(s)}
    )`;
}

/** The region a person counts under: the next level below the region asked (2 → 4 → 6 → 9 → 12 digits). */
export const groupLength = (prefix: string) => ({ 2: 4, 4: 6, 6: 9, 9: 12 })[prefix.length] ?? prefix.length;

export interface CoverageRow {
  kind: 'region' | 'caregiver' | 'total';
  region: string | null;
  caregiver_id: string | null;
  caregiver_name: string | null;
  caregiver_region: string | null;
  caregiver_active: boolean | null;
  key_persons: number;
  with_caregiver: number;
  visited: number;
  never_visited: number;
}

/**
 * The figures in one pass over the key persons: grouping sets give the per-region, per-caregiver
 * and total counts of the same rows. Visited within the interval: the last visit lies no more than
 * the interval before the day (on or after the start of the day `interval` days before).
 */
export function coverageSql(s: CoverageScope): SQL {
  // A literal, not a parameter: GROUP BY must see the same expression as the select list.
  const group = sql.raw(`left(x.region, ${groupLength(s.prefix)})`);
  return sql`${keyPersonsSql(s)}, g as (
      select case when grouping(${group}) = 0 then 'region'
                  when grouping(x.caregiver_id) = 0 then 'caregiver' else 'total' end as kind,
        ${group} as region, x.caregiver_id,
        count(*)::int as key_persons, count(x.caregiver_id)::int as with_caregiver,
        (count(*) filter (where x.visited_at >= x.since))::int as visited,
        (count(*) filter (where x.visited_at is null))::int as never_visited
      from x
      group by grouping sets ((${group}), (x.caregiver_id), ())
    )
    select g.*, c.name as caregiver_name, c.region as caregiver_region, c.active as caregiver_active
    from g left join caregivers c on c.id = g.caregiver_id
    where g.kind <> 'caregiver' or g.caregiver_id is not null`;
}
