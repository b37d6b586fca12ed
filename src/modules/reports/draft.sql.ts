import { sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import { addDays } from '../registry/dates.js';
import { inQuarantineSql } from './quarantine.sql.js';
import type { FigureName } from './schemas.js';

/** Figures the service does not hold: the district fills them in. */
export const notHeld: FigureName[] = ['recovered', 'died'];

/**
 * What the service itself holds for a district and a business day (Asia/Shanghai), read in one
 * statement from the modules that hold it (read only; each subquery follows an index of its
 * table by region or day). "Recipients" are the persons of the registry. A person counts under
 * the district of their residence region as each module recorded it (the referral's region, the
 * visit's); aid counts where it was given (the grant's place of emergency, the stock's region).
 *
 * - suspected: distinct persons with a referral to health reported that day, withdrawn
 *   (`cancelled`) ones aside; a referral sent back as not health's (`rejected`) still counts.
 * - confirmed: distinct persons whose referral's outcome `confirmed` is dated that day.
 * - hospitalized: distinct persons whose referral was transferred to a designated hospital that
 *   day, withdrawn ones aside.
 * - inQuarantine: see quarantine.sql.ts.
 * - emergencyGrants / emergencyGrantsFen: temporary assistance granted that day (status granted or
 *   completed since; refused and cancelled ones gave nothing) and the sum of its cash.
 * - inKindHandouts / inKindItems: in-kind distributions on that business day from the district's
 *   stock, and the sum of their lines' quantities.
 * - visits: visits to key persons made that day (visitedAt).
 * - keyPersonsWithoutCaregiver: persons the registry marks key persons (scattered extremely poor,
 *   living alone or disabled; their current marks and region), registered by the end of the day,
 *   with no care assignment running at the end of the day.
 */
export async function draftFigures(executor: Executor, district: string, day: string) {
  const prefix = `${district}%`;
  const from = `${day}T00:00:00+08:00`;
  const to = `${addDays(day, 1)}T00:00:00+08:00`;
  const within = (column: string) => {
    const c = sql.raw(column);
    return sql`${c} >= ${from}::timestamptz and ${c} < ${to}::timestamptz`;
  };
  const [row] = await rows<Record<Exclude<FigureName, 'recovered' | 'died'>, number | string>>(
    executor,
    sql`select
      (select count(distinct r.person_id)::int from referrals r
        where r.region like ${prefix} and ${within('r.created_at')} and r.status <> 'cancelled') as "suspected",
      (select count(distinct r.person_id)::int from referrals r
        where r.region like ${prefix} and r.outcome = 'confirmed' and ${within('r.outcome_at')}) as "confirmed",
      (select count(distinct r.person_id)::int from referrals r
        where r.region like ${prefix} and ${within('r.transferred_at')} and r.status <> 'cancelled') as "hospitalized",
      ${inQuarantineSql(district, day)} as "inQuarantine",
      g.n as "emergencyGrants", g.fen as "emergencyGrantsFen",
      k.n as "inKindHandouts", k.items as "inKindItems",
      (select count(*)::int from visits v where v.region like ${prefix} and ${within('v.visited_at')}) as "visits",
      (select count(*)::int from persons p
        where (p.scattered_extremely_poor or p.lives_alone or p.disabled) and p.region like ${prefix}
          and p.created_at < ${to}::timestamptz
          and not exists (select 1 from care_assignments a where a.person_id = p.id
            and a.started_at < ${to}::timestamptz and (a.ended_at is null or a.ended_at >= ${to}::timestamptz))
      ) as "keyPersonsWithoutCaregiver"
    from (select count(*)::int as n, coalesce(sum(ta.cash_fen), 0)::bigint as fen from temporary_assistance ta
          where ta.region like ${prefix} and ta.status in ('granted','completed') and ${within('ta.granted_at')}) g,
         (select count(*)::int as n, coalesce(sum(l.quantity), 0)::bigint as items
          from inkind_distributions d
          left join lateral (select sum(dl.quantity) as quantity from inkind_distribution_lines dl
                             where dl.distribution_id = d.id) l on true
          where d.business_date = ${day}::date and d.region like ${prefix}) k`,
  );
  const figures = {} as Record<FigureName, number | null>;
  for (const [name, value] of Object.entries(row!)) figures[name as FigureName] = Number(value);
  for (const name of notHeld) figures[name] = null;
  return figures;
}
