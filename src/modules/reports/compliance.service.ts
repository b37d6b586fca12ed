import { type SQL, sql } from 'drizzle-orm';
import { rows } from '../../db/client.js';
import { notFound, validationError } from '../../platform/errors.js';
import { effectiveRegionPrefix, type Jurisdictional } from '../../platform/jurisdiction.js';
import { addDays } from '../registry/dates.js';
import type { ReportDeps } from './common.js';
import { districtsSql, dueAtSql } from './deadlines.js';
import { type FigureName, figureNames, stockFigures } from './schemas.js';

/** A compliance or totals report covers at most this many days. */
export const RANGE_DAYS_MAX = 366;

export interface Range {
  from: string;
  to: string;
  region?: string | undefined;
}

const column = (name: FigureName) => sql.raw(`v.${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`);
const alias = (name: FigureName) => sql.raw(`"${name}"`);
/** Summed: flows over days and districts, states over the districts of one day. */
const overDistricts = (name: FigureName) => sql`sum(${column(name)})::bigint as ${alias(name)}`;

interface ComplianceDay {
  date: string;
  onTime: string[];
  late: string[];
  zero: string[];
  missing: string[];
  pending: string[];
}

type Counted = Record<FigureName | 'reports' | 'zeroReports', number>;

function counted(row: Record<string, unknown>): Counted {
  const out = { reports: Number(row.reports), zeroReports: Number(row.zeroReports) } as Counted;
  for (const name of figureNames) out[name] = Number(row[name]);
  return out;
}

/**
 * Compliance and totals over a range of days (measure 7, item 2), set-based: every district of the
 * region crossed with every day, each joined to its report's current version (compliance), or the
 * current versions summed (totals). Districts are the county-level regions; the region defaults to
 * the caller's jurisdiction and is narrowed to it.
 */
export function createCompliance({ db, regions, clock }: ReportDeps) {
  async function scopeOf(caller: Jurisdictional, range: Range) {
    if (range.to < range.from) {
      throw validationError([{ in: 'query', pointer: '/to', detail: 'must not be before from' }]);
    }
    if (range.to > addDays(range.from, RANGE_DAYS_MAX - 1)) {
      throw validationError([{ in: 'query', pointer: '/to', detail: `a range covers at most ${RANGE_DAYS_MAX} days` }]);
    }
    if (range.region && !(await regions.isKnown(range.region))) {
      throw validationError([
        { in: 'query', pointer: '/region', detail: `${range.region} is not a region code this service knows` },
      ]);
    }
    const prefix = effectiveRegionPrefix(caller, range.region);
    if (prefix === null) throw notFound('region');
    return prefix;
  }

  const days = (range: Range): SQL =>
    sql`select generate_series(${range.from}::date, ${range.to}::date, interval '1 day')::date as day`;

  /** The region's districts, by code, with their names (reference data, held in memory). */
  const districtsOf = async (prefix: string) =>
    (await regions.list({ level: 'county', prefix })).filter((r) => r.code.length === 6);

  /** Per day the districts by status (one statement, grouped by day); per district the days by status. */
  async function compliance(caller: Jurisdictional, range: Range) {
    const prefix = await scopeOf(caller, range);
    const now = clock().toISOString();
    const list = (condition: SQL) => sql`coalesce(array_agg(d.code order by d.code) filter (where ${condition}), '{}')`;
    const submitted = sql`r.version > 0`;
    const due = sql`coalesce(r.due_at, ${dueAtSql(sql`d.code`, sql`x.day`)})`;
    const perDay = await rows<Omit<ComplianceDay, 'date'> & { date: string }>(
      db,
      sql`select x.day::text as date,
          ${list(sql`${submitted} and r.first_submitted_at <= r.due_at`)} as "onTime",
          ${list(sql`${submitted} and r.first_submitted_at > r.due_at`)} as "late",
          ${list(sql`v.zero`)} as "zero",
          ${list(sql`coalesce(r.version, 0) = 0 and ${due} <= ${now}::timestamptz`)} as "missing",
          ${list(sql`coalesce(r.version, 0) = 0 and ${due} > ${now}::timestamptz`)} as "pending"
        from (${days(range)}) x cross join (${districtsSql(prefix)}) d
        left join daily_reports r on r.district = d.code and r.day = x.day
        left join daily_report_versions v on v.report_id = r.id and v.version = r.version
        group by x.day order by x.day`,
    );
    const districts = new Map(
      (await districtsOf(prefix)).map((r) => [
        r.code,
        { district: r.code, name: r.name, onTime: 0, late: 0, zero: 0, missing: 0, pending: 0 },
      ]),
    );
    for (const day of perDay) {
      for (const status of ['onTime', 'late', 'zero', 'missing', 'pending'] as const) {
        for (const code of day[status]) {
          const counts = districts.get(code);
          if (counts) counts[status]++;
        }
      }
    }
    return { from: range.from, to: range.to, region: prefix, districts: [...districts.values()], days: perDay };
  }

  /** The current version of each report of the region's districts over the range (`r`, `v`). */
  const current = (prefix: string, range: Range) => sql`
    from daily_reports r join daily_report_versions v on v.report_id = r.id and v.version = r.version
    where r.day between ${range.from}::date and ${range.to}::date and r.district like ${`${prefix}%`}`;
  const fields = (each: (name: FigureName) => SQL) => sql.join(figureNames.map(each), sql`, `);
  const reportCounts = sql`count(*)::int as reports, (count(*) filter (where v.zero))::int as "zeroReports"`;
  const empty = () => {
    const c = { reports: 0, zeroReports: 0 } as Counted;
    for (const name of figureNames) c[name] = 0;
    return c;
  };

  /**
   * Per day (the districts summed) and, for by=district, per district (flows summed, states the
   * highest day's) in one statement of grouping sets over the current versions; days and districts
   * without a report are filled in with zeros.
   */
  async function totals(caller: Jurisdictional, range: Range & { by: 'day' | 'district' }) {
    const prefix = await scopeOf(caller, range);
    const districts = await districtsOf(prefix);
    const byDistrict = range.by === 'district';
    const stock = (name: FigureName) =>
      byDistrict
        ? sql`(case when grouping(r.district) = 0 then max(${column(name)}) else sum(${column(name)}) end)::bigint as ${alias(name)}`
        : overDistricts(name);
    const found = await rows<Record<string, unknown>>(
      db,
      sql`select ${byDistrict ? sql`grouping(r.district) = 0` : sql`false`} as by_district, r.day::text as date,
          ${byDistrict ? sql`r.district` : sql`null`} as district, ${reportCounts},
          ${fields((name) => (stockFigures.includes(name) ? stock(name) : overDistricts(name)))}
        ${current(prefix, range)}
        group by ${byDistrict ? sql`grouping sets ((r.day), (r.district))` : sql`r.day`}`,
    );
    const perDay = new Map(found.filter((r) => !r.by_district).map((r) => [String(r.date), counted(r)]));
    const dayRows: (Counted & { date: string })[] = [];
    for (let day = range.from; day <= range.to; day = addDays(day, 1)) {
      dayRows.push({ ...(perDay.get(day) ?? empty()), date: day });
    }
    const total = empty();
    for (const key of ['reports', 'zeroReports', ...figureNames] as const) {
      const values = dayRows.map((r) => r[key]);
      total[key] = stockFigures.includes(key as FigureName)
        ? Math.max(0, ...values)
        : values.reduce((a, b) => a + b, 0);
    }
    let out;
    if (!byDistrict) {
      out = dayRows.map((r) => ({ ...r, district: null, name: null, notReported: districts.length - r.reports }));
    } else {
      const perDistrict = new Map(found.filter((r) => r.by_district).map((r) => [String(r.district), counted(r)]));
      out = districts.map((d) => {
        const c = perDistrict.get(d.code) ?? empty();
        return { ...c, date: null, district: d.code, name: d.name, notReported: dayRows.length - c.reports };
      });
    }
    return {
      from: range.from,
      to: range.to,
      region: prefix,
      by: range.by,
      districts: districts.length,
      total,
      rows: out,
    };
  }

  return { compliance, totals };
}
