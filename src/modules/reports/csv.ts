import type { FastifyRequest } from 'fastify';
import { figureNames } from './schemas.js';

type Cell = string | number | boolean | null;

const cell = (value: Cell) => {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};
const line = (cells: Cell[]) => `${cells.map(cell).join(',')}\r\n`;

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** CSV when asked for by `?format=csv` or by an Accept header that names text/csv. */
export const wantsCsv = (request: FastifyRequest, format: string | undefined) =>
  format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(request.headers.accept ?? ''));

interface ComplianceDay {
  date: string;
  onTime: string[];
  late: string[];
  zero: string[];
  missing: string[];
  pending: string[];
}

/** One row a day and district: date, district, status, zero. */
export function complianceCsv(days: ComplianceDay[]): string {
  let out = line(['date', 'district', 'status', 'zero']);
  for (const day of days) {
    const zero = new Set(day.zero);
    const rows: [string, string][] = [];
    for (const status of ['onTime', 'late', 'missing', 'pending'] as const) {
      const name = status === 'onTime' ? 'on_time' : status;
      for (const district of day[status]) rows.push([district, name]);
    }
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    for (const [district, status] of rows) out += line([day.date, district, status, zero.has(district)]);
  }
  return out;
}

type TotalsRow = Record<(typeof figureNames)[number] | 'reports' | 'zeroReports' | 'notReported', number> & {
  date: string | null;
  district: string | null;
  name: string | null;
};

/** One row a day (by=day) or a district (by=district), then the figures. */
export function totalsCsv(by: 'day' | 'district', rows: TotalsRow[]): string {
  const keys = by === 'day' ? (['date'] as const) : (['district', 'name'] as const);
  const counts = ['reports', 'zeroReports', 'notReported', ...figureNames] as const;
  let out = line([...keys, ...counts]);
  for (const r of rows) out += line([...keys.map((k) => r[k]), ...counts.map((k) => r[k])]);
  return out;
}
