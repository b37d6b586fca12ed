/**
 * Daily-report compliance and city totals over a year (issue 9): a report a day for each of the
 * city's 11 districts over the 365 days up to yesterday, seeded set-based in SQL (on time, late,
 * zero, corrected, missing by turns). Then, over HTTP to the service in a process of its own, the
 * year's compliance and its totals per day and per district, and a week's compliance, against the
 * same figures by hand-written SQL run directly through pg, in alternating rounds.
 */
import pg from 'pg';
import { addDays, businessDateOf } from '../../src/modules/registry/dates.js';
import { mid, type ScenarioResult, start, stop } from '../lib.js';
import { benchClient, matchingEnv, seedingApp } from '../matching-city.js';

const ROUNDS = Number(process.env.BENCH_REPORTS_ROUNDS ?? 30);
const PORT = 3909;
const DAYS = 365;

/** A deterministic id (RFC 9562 version 4 layout): md5 of a label and a value. */
const uid = (label: string, n: string) =>
  `overlay(overlay(md5('${label}' || ${n}) placing '4' from 13) placing '8' from 17)::uuid`;

/**
 * Each (district, day) falls in a bucket 0-99 by a hash: 0-2 marked missing by the deadline check,
 * 3-4 no row at all (never checked), 5-12 late, 13-22 zero reports, 23-32 corrected once, the rest
 * on time. The city's policy sets the cutoff at 10:00.
 */
async function seed(db: pg.Client, from: string, to: string) {
  const started = performance.now();
  const step = async (what: string, text: string) => {
    const t0 = performance.now();
    await db.query(text);
    console.error(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  await step(
    'policy',
    `insert into policies (name, region, effective_from, daily_report_cutoff) values ('bench city', '2201', '${from}', '10:00')`,
  );
  await step(
    'grid',
    `create temporary table grid as
     select d.code as district, x.day::date as day, abs(hashtext(d.code || x.day::text)) % 100 as bucket,
       (x.day::date + time '10:00') at time zone 'Asia/Shanghai' as due_at
     from regions d cross join generate_series('${from}'::date, '${to}'::date, interval '1 day') x(day)
     where d.level = 'county' and length(d.code) = 6`,
  );
  await step(
    'reports',
    `insert into daily_reports (id, district, day, due_at, version, first_submitted_at, last_submitted_at, missing_at)
     select ${uid('r', 'district || day::text')}, district, day, due_at,
       case when bucket < 3 then 0 when bucket between 23 and 32 then 2 else 1 end,
       case when bucket < 3 then null when bucket between 5 and 12 then due_at + interval '2 hours'
            else due_at - interval '90 minutes' end,
       case when bucket < 3 then null when bucket between 5 and 12 then due_at + interval '2 hours'
            when bucket between 23 and 32 then due_at + interval '330 minutes' else due_at - interval '90 minutes' end,
       case when bucket < 3 or bucket between 5 and 12 then due_at end
     from grid where bucket >= 5 or bucket < 3`,
  );
  const figures = (v: string) => `${v} = 2 or bucket not between 13 and 22`;
  await step(
    'versions',
    `insert into daily_report_versions (report_id, version, zero, suspected, confirmed, hospitalized, in_quarantine, recovered,
       died, emergency_grants, emergency_grants_fen, in_kind_handouts, in_kind_items, visits, key_persons_without_caregiver, submitted_at)
     select ${uid('r', 'district || day::text')}, v, not (${figures('v')}),
       case when ${figures('v')} then bucket % 4 + v - 1 else 0 end, case when ${figures('v')} then bucket % 3 else 0 end,
       case when ${figures('v')} then bucket % 2 else 0 end, case when ${figures('v')} then bucket % 7 else 0 end,
       case when ${figures('v')} then bucket % 2 else 0 end, 0,
       case when ${figures('v')} then bucket % 5 else 0 end, case when ${figures('v')} then (bucket % 5) * 50000 else 0 end,
       case when ${figures('v')} then bucket % 6 else 0 end, case when ${figures('v')} then (bucket % 6) * 20 else 0 end,
       case when ${figures('v')} then 20 + bucket else 0 end, case when ${figures('v')} then bucket % 3 else 0 end,
       case when bucket between 5 and 12 then due_at + interval '2 hours'
            else due_at - interval '90 minutes' + (v - 1) * interval '7 hours' end
     from grid cross join generate_series(1, 2) v
     where bucket >= 5 and (v = 1 or bucket between 23 and 32)`,
  );
  await step('vacuum', 'vacuum analyze');
  return (performance.now() - started) / 1000;
}

/** Compliance by hand: the statuses per day, the cutoff (10:00, the only policy) as the seed wrote it. */
const baselineCompliance = (from: string, to: string) => `
  select x.day::text as day,
    array_agg(d.code order by d.code) filter (where r.version > 0 and r.first_submitted_at <= r.due_at) as on_time,
    array_agg(d.code order by d.code) filter (where r.version > 0 and r.first_submitted_at > r.due_at) as late,
    array_agg(d.code order by d.code) filter (where v.zero) as zero,
    array_agg(d.code order by d.code) filter (where coalesce(r.version, 0) = 0
      and coalesce(r.due_at, (x.day::date + time '10:00') at time zone 'Asia/Shanghai') <= now()) as missing
  from regions d cross join generate_series('${from}'::date, '${to}'::date, interval '1 day') x(day)
  left join daily_reports r on r.district = d.code and r.day = x.day::date
  left join daily_report_versions v on v.report_id = r.id and v.version = r.version
  where d.level = 'county' and length(d.code) = 6 and d.code like '2201%'
  group by x.day order by x.day`;

/** Totals per day by hand. */
const baselineTotals = (from: string, to: string) => `
  select r.day::text as day, count(*)::int as reports, sum(v.suspected)::int as suspected, sum(v.visits)::int as visits,
    sum(v.in_quarantine)::int as in_quarantine, sum(v.emergency_grants_fen)::bigint as fen
  from daily_reports r join daily_report_versions v on v.report_id = r.id and v.version = r.version
  where r.day between '${from}' and '${to}' and r.district like '2201%'
  group by r.day order by r.day`;

const ms = (t0: number) => performance.now() - t0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;
const fixed = (x: number) => Number(x.toFixed(1));

interface Day {
  date: string;
  onTime: string[];
  late: string[];
  zero: string[];
  missing: string[];
}

export async function scenarioReportsCompliance(url: string): Promise<ScenarioResult> {
  const app = await seedingApp(url);
  const cityClerk = await benchClient(app, 'civil_affairs', 'bench city reports');
  await app.close();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const today = businessDateOf(new Date());
  const to = addDays(today, -1);
  const from = addDays(to, -(DAYS - 1));
  const weekFrom = addDays(to, -6);
  const seedSeconds = await seed(db, from, to);
  const counted = await db.query<{ reports: number; versions: number }>(
    'select (select count(*)::int from daily_reports) as reports, (select count(*)::int from daily_report_versions) as versions',
  );
  const server = await start('./servers/doudi.ts', { ...matchingEnv(url), PORT: String(PORT), HOST: '127.0.0.1' });
  try {
    const ask = async <T>(path: string) => {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${PORT}${path}`, {
        headers: { authorization: `Bearer ${cityClerk.key}` },
      });
      const body = (await res.json()) as T;
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms: ms(t0), body };
    };
    const direct = async <T extends pg.QueryResultRow>(text: string) => {
      const t0 = performance.now();
      const { rows } = await db.query<T>(text);
      return { ms: ms(t0), rows };
    };
    const queries = {
      compliance: {
        api: () => ask<{ days: Day[] }>(`/v1/daily-reports/compliance?from=${from}&to=${to}`),
        base: () =>
          direct<{ day: string; on_time: string[] | null; missing: string[] | null }>(baselineCompliance(from, to)),
      },
      byDay: {
        api: () =>
          ask<{ rows: { date: string; suspected: number; visits: number }[] }>(
            `/v1/daily-reports/totals?from=${from}&to=${to}&by=day`,
          ),
        base: () => direct<{ day: string; suspected: number; visits: number }>(baselineTotals(from, to)),
      },
      byDistrict: {
        api: () => ask<{ rows: unknown[] }>(`/v1/daily-reports/totals?from=${from}&to=${to}&by=district`),
        base: () =>
          direct(
            `select r.district, count(*)::int, sum(v.suspected)::int, max(v.in_quarantine)::int from daily_reports r
             join daily_report_versions v on v.report_id = r.id and v.version = r.version
             where r.day between '${from}' and '${to}' and r.district like '2201%' group by r.district order by r.district`,
          ),
      },
      week: {
        api: () => ask<{ days: Day[] }>(`/v1/daily-reports/compliance?from=${weekFrom}&to=${to}`),
        base: () => direct(baselineCompliance(weekFrom, to)),
      },
    };
    // Warm up, and check that the service and the hand-written statements agree.
    for (let i = 0; i < 3; i++) {
      for (const q of Object.values(queries)) {
        await q.api();
        await q.base();
      }
    }
    const c = (await queries.compliance.api()).body;
    const cb = (await queries.compliance.base()).rows;
    const onTime = c.days.reduce((n, d) => n + d.onTime.length, 0);
    const missing = c.days.reduce((n, d) => n + d.missing.length, 0);
    const onTimeB = cb.reduce((n, d) => n + (d.on_time?.length ?? 0), 0);
    const missingB = cb.reduce((n, d) => n + (d.missing?.length ?? 0), 0);
    const t = (await queries.byDay.api()).body.rows;
    const tb = (await queries.byDay.base()).rows;
    const sum = (xs: { suspected: number; visits: number }[]) =>
      xs.reduce((n, r) => n + r.suspected * 1000 + r.visits, 0);
    if (c.days.length !== DAYS || onTime !== onTimeB || missing !== missingB || sum(t) !== sum(tb)) {
      throw new Error(
        `the API and the hand-written SQL disagree: on time ${onTime}/${onTimeB}, missing ${missing}/${missingB}, totals ${sum(t)}/${sum(tb)}`,
      );
    }
    const measured: Record<string, number[]> = { compliance: [], byDay: [], byDistrict: [], week: [] };
    const baseline: Record<string, number[]> = { compliance: [], byDay: [], byDistrict: [], week: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, q] of Object.entries(queries)) {
        baseline[name]!.push((await q.base()).ms);
        measured[name]!.push((await q.api()).ms);
      }
    }
    const names = ['compliance', 'byDay', 'byDistrict', 'week'] as const;
    const labels = {
      compliance: 'compliance, year',
      byDay: 'totals by day, year',
      byDistrict: 'totals by district, year',
      week: 'compliance, week',
    };
    const worst = Math.max(...names.map((n) => p95(measured[n]!)));
    return {
      name: 'reports-compliance',
      title: `Daily reports: compliance and city totals over a year of reports from ${11} districts (GET /v1/daily-reports/compliance, /totals)`,
      baselineTitle: 'The same figures by hand-written SQL statements run directly through pg',
      notes: [
        `Data: ${counted.rows[0]!.reports.toLocaleString('en')} daily reports (${counted.rows[0]!.versions.toLocaleString('en')} versions) of the 11 districts of 2201 over the ${DAYS} days ${from} to ${to}: by a hash of district and day 3% marked missing by the deadline check, 2% with no row at all (never checked), 8% late, 10% zero reports, 10% corrected once, the rest on time; the city's policy sets the cutoff at 10:00. Seeded set-based in SQL (generate_series) in ${seedSeconds.toFixed(1)} s, then vacuumed and analyzed.`,
        `Doudi: over HTTP to the service in a process of its own, as a city civil-affairs client (authenticated, scope- and jurisdiction-checked, answered as JSON checked against the response schema): the year's compliance (every district crossed with every day, each joined to its report's current version, the deadline of a day without a row computed from the policy in force; grouping sets per day and per district, the districts of each status as arrays), the year's totals per day and per district, and a week's compliance.`,
        `Baseline: the same figures by hand-written statements through pg (the cutoff as a literal), no HTTP. ${ROUNDS} alternating rounds of each, one request at a time after a warm-up; milliseconds.`,
      ],
      reports: counted.rows[0]!.reports,
      roundsMeasured: Object.fromEntries(names.map((n) => [n, measured[n]!.map(fixed)])),
      roundsBaseline: Object.fromEntries(names.map((n) => [n, baseline[n]!.map(fixed)])),
      table: {
        columns: names.flatMap((n) => [`${labels[n]}: median ms`, 'p95 ms']),
        measured: names.flatMap((n) => [fixed(mid(measured[n]!)), fixed(p95(measured[n]!))]),
        baseline: names.flatMap((n) => [fixed(mid(baseline[n]!)), fixed(p95(baseline[n]!))]),
      },
      throughputRatio: Number((mid(baseline.compliance!) / mid(measured.compliance!)).toFixed(3)),
      target: 'compliance and city totals for any range (up to a year) answered in under 50 ms (p95 over the rounds)',
      met: worst < 50,
    };
  } finally {
    await stop(server);
    await db.end();
  }
}
