import { type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import { addDays } from '../registry/dates.js';

/**
 * How often a key person is visited, in days, where no emergency policy in force sets
 * `visitIntervalDays` (measure 4: "regularly"; a month in normal times).
 */
export const NORMAL_VISIT_INTERVAL_DAYS = 30;

/** The SQL condition that makes a person (aliased `alias`) a key person; the partial index persons_key_region_idx has it. */
export const keyPersonSql = (alias: string) =>
  sql.raw(`(${alias}.scattered_extremely_poor or ${alias}.lives_alone or ${alias}.disabled)`);

/** A policy in force: its region and its visit interval (null: normal rules). */
export interface PolicyInterval {
  region: string;
  days: number | null;
}

/**
 * The policies in force on `date` whose region contains or lies inside `prefix`, one per region
 * (among equals the latest to start, as `policies.inForce` chooses), the most specific first.
 * A handful of rows: the emergency responses of the city and some of its districts.
 */
export async function policiesInForce(executor: Executor, prefix: string, date: string): Promise<PolicyInterval[]> {
  return rows<PolicyInterval>(
    executor,
    sql`select region, days from (
        select distinct on (p.region) p.region, p.visit_interval_days as days
        from policies p
        where p.effective_from <= ${date}::date and (p.effective_to is null or p.effective_to > ${date}::date)
          and (starts_with(p.region, ${prefix}) or starts_with(${prefix}, p.region))
        order by p.region, p.effective_from desc, p.id) pf
      order by length(region) desc, region`,
  );
}

/** A CASE over the policies in force, the most specific region first; `value` of each policy's interval. */
function byPolicy(region: SQL, policies: PolicyInterval[], value: (days: number) => SQL): SQL {
  const otherwise = value(NORMAL_VISIT_INTERVAL_DAYS);
  if (policies.length === 0) return otherwise;
  const branches = policies.map(
    (p) => sql`when starts_with(${region}, ${p.region}::text) then ${value(p.days ?? NORMAL_VISIT_INTERVAL_DAYS)}`,
  );
  return sql`(case ${sql.join(branches, sql` `)} else ${otherwise} end)`;
}

/**
 * The visit interval of a row whose region is the SQL expression `region`, set-based: a CASE over
 * the policies in force, so that each person gets the policy `policies.inForce` would give their
 * region (a district's beats the city's); its `visitIntervalDays`, or the normal interval when it
 * sets none or none is in force. PostgreSQL evaluates it row by row at the cost of a few prefix
 * comparisons: joining the policies to every person measured slower (a hash join per level of the
 * region code, or a lookup per distinct region).
 */
export const intervalSql = (region: SQL, policies: PolicyInterval[]) =>
  byPolicy(region, policies, (days) => sql.raw(String(days)));

/**
 * The same choice as the instant from which a visit counts as "within the interval" on `date`: the
 * start (Asia/Shanghai) of the day `interval` days before. Comparing instants spares converting
 * every last visit to a local date.
 */
export const visitedSinceSql = (region: SQL, policies: PolicyInterval[], date: string) =>
  byPolicy(region, policies, (days) => sql`${`${addDays(date, -days)}T00:00:00+08:00`}::timestamptz`);
