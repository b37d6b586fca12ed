import type { z } from 'zod';
import { type FieldError, notFound, validationError } from '../../platform/errors.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { statusOf } from './deadlines.js';
import { type DailyReportSchema, type DailyReportVersionSchema, figureNames, type Figures } from './schemas.js';
import type { dailyReports, dailyReportVersions } from './tables.js';

export type ReportRow = typeof dailyReports.$inferSelect;
export type VersionRow = typeof dailyReportVersions.$inferSelect;
export type DailyReport = z.infer<typeof DailyReportSchema>;
export type DailyReportVersion = z.infer<typeof DailyReportVersionSchema>;

export const figuresOf = (v: Figures): Figures =>
  Object.fromEntries(figureNames.map((n) => [n, Number(v[n])])) as Figures;

export const versionOut = (v: VersionRow): DailyReportVersion => ({
  version: v.version,
  zero: v.zero,
  figures: figuresOf(v),
  notes: v.notes,
  submittedAt: v.submittedAt.toISOString(),
  submittedBy: v.submittedByClientId,
});

export const reportOut = (r: ReportRow, current: VersionRow | null, now: Date): DailyReport => ({
  id: r.id,
  district: r.district,
  date: r.day,
  dueAt: r.dueAt.toISOString(),
  status: statusOf(r, now),
  version: r.version,
  firstSubmittedAt: r.firstSubmittedAt?.toISOString() ?? null,
  missingAt: r.missingAt?.toISOString() ?? null,
  current: current ? versionOut(current) : null,
});

/**
 * A district the caller may act for: a county-level region the service knows (400 naming the field
 * otherwise) inside the caller's jurisdiction (`outside`: 400 naming the field for a body, 404 for a
 * path or a query, as a region outside is there like an object that does not exist).
 */
export async function checkDistrict(
  regions: RegionService,
  caller: Jurisdictional,
  district: string,
  where: Omit<FieldError, 'detail'>,
): Promise<void> {
  const region = await regions.get(district);
  if (!region || region.level !== 'county') {
    throw validationError([
      { ...where, detail: `${district} is not a district (a county-level region) this service knows` },
    ]);
  }
  if (inJurisdiction(caller, district)) return;
  if (where.in === 'body') {
    throw validationError([{ ...where, detail: `must lie inside your jurisdiction ${caller.jurisdiction}` }]);
  }
  throw notFound('district');
}

/** A business day that is not after `today`. */
export function checkDay(date: string, today: string, where: Omit<FieldError, 'detail'>): FieldError[] {
  return date > today ? [{ ...where, detail: `must not be in the future (today is ${today})` }] : [];
}
