import { type SQL, sql } from 'drizzle-orm';
import { type Db, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { EventService } from '../../platform/events/service.js';
import { addDays, businessDateOf } from '../registry/dates.js';
import { policyInForceSql } from '../registry/policies.service.js';
import { dailyReportMissing } from './events.js';
import type { ReportStatus } from './schemas.js';

/**
 * The cutoff where no emergency policy in force for the district on the day sets
 * `dailyReportCutoff`: the end of the day itself (24:00, Asia/Shanghai). A policy's cutoff moves
 * the deadline earlier into the same day: the report for a day is due on that day.
 */
export const DEFAULT_CUTOFF = '24:00';

/** The rule in words, for the API documentation. */
export const deadline = `A day’s report is due on that day at the \`dailyReportCutoff\` (HH:MM, Asia/Shanghai) of the emergency policy in force for the district on the day (a district’s policy beats the city’s); where none sets one, at the end of the day (${DEFAULT_CUTOFF}).`;

/** How many days before today the deadline check still looks at (a service down over a cutoff catches up). */
export const LOOK_BACK_DAYS = 2;

/** How often the running service checks for missed deadlines. */
export const DEADLINE_CHECK_MS = 60_000;

/** The system acts on its own: no client, no request. */
const system: AuditActor = { clientId: null, agency: null, requestId: null };

/**
 * SQL: the deadline of `district`'s report for `day` (both SQL expressions, a text and a date):
 * the day at the cutoff of the policy in force there on the day (as `policies.inForce` chooses it:
 * the most specific region, a district's before the city's), else DEFAULT_CUTOFF, in Asia/Shanghai.
 */
export const dueAtSql = (district: SQL, day: SQL): SQL => sql`((${day})::date + coalesce(
    (select q.daily_report_cutoff from policies q where q.id = ${policyInForceSql(district, sql`(${day})::date`)}),
    ${DEFAULT_CUTOFF})::time) at time zone 'Asia/Shanghai'`;

/** SQL: the districts of the service's city (county-level regions) whose code starts with `prefix`. */
export const districtsSql = (prefix: string): SQL =>
  sql`select code, name from regions where level = 'county' and length(code) = 6 and code like ${`${prefix}%`}`;

export interface Timing {
  version: number;
  firstSubmittedAt: Date | null;
  dueAt: Date;
}

/** Where a district stands with a day's report at `now`. */
export function statusOf(r: Timing, now: Date): ReportStatus {
  if (r.version > 0) return r.firstSubmittedAt! <= r.dueAt ? 'on_time' : 'late';
  return r.dueAt <= now ? 'missing' : 'pending';
}

/**
 * The deadline check (measure 7): for each district and each of the last LOOK_BACK_DAYS days and
 * today whose deadline has passed without a report, one daily_reports row marked missing and one
 * `daily_report.missing` event, in one transaction. The unique (district, day) makes it once: a
 * second instance running the same check at the same moment waits on the first's rows and inserts
 * nothing; a district that has submitted already has its row. The running service calls it every
 * DEADLINE_CHECK_MS; tests call it with their clock.
 */
export function createDeadlineCheck({
  db,
  audit,
  events,
  clock,
}: {
  db: Db;
  audit: AuditService;
  events: EventService;
  clock: () => Date;
}) {
  return async function checkDeadlines(): Promise<{ reportId: string; district: string; date: string }[]> {
    const now = clock();
    const today = businessDateOf(now);
    const days = Array.from({ length: LOOK_BACK_DAYS + 1 }, (_, i) => sql`(${addDays(today, -i)}::date)`);
    return db.transaction(async (tx) => {
      const found = await rows<{ id: string; district: string; day: string; due_at: string | Date }>(
        tx,
        sql`with candidates as (
            select d.code as district, x.day, ${dueAtSql(sql`d.code`, sql`x.day`)} as due_at
            from (${districtsSql('')}) d cross join (values ${sql.join(days, sql`, `)}) as x(day)
          )
          insert into daily_reports (district, day, due_at, missing_at)
          select district, day, due_at, ${now.toISOString()}::timestamptz from candidates
          where due_at <= ${now.toISOString()}::timestamptz
          order by district, day
          on conflict (district, day) do nothing
          returning id, district, day::text as day, due_at`,
      );
      if (found.length === 0) return [];
      await events.publishMany(
        tx,
        dailyReportMissing,
        found.map((r) => ({
          subject: `daily_report/${r.district}/${r.day}`,
          region: r.district,
          data: {
            reportId: r.id,
            district: r.district,
            date: r.day,
            dueAt: new Date(r.due_at).toISOString(),
            detectedAt: now.toISOString(),
          },
        })),
      );
      await audit.record(tx, system, {
        operation: 'markDailyReportsMissing',
        resourceType: 'daily_report',
        resourceIds: found.map((r) => r.id),
        detail: { reports: found.map((r) => `${r.district}/${r.day}`) },
      });
      return found.map((r) => ({ reportId: r.id, district: r.district, date: r.day }));
    });
  };
}
