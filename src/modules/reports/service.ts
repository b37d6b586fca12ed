import type { Db } from '../../db/client.js';
import type { AuditService } from '../../platform/audit/service.js';
import type { EventService } from '../../platform/events/service.js';
import type { RegionService } from '../../platform/regions/service.js';
import { createCompliance } from './compliance.service.js';
import { createDailyReports } from './daily.service.js';
import { createDeadlineCheck } from './deadlines.js';
import { createUrgentReports } from './urgent.service.js';

/**
 * Reporting (measure 7): each district's daily report (drafted from what the service holds,
 * submitted, corrected with its history kept, or a zero report), the deadline check that announces
 * missing reports once, compliance and totals for the city, and urgent reports pushed at once.
 */
export function createReportService(deps: {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  clock?: (() => Date) | undefined;
}) {
  const full = { ...deps, clock: deps.clock ?? (() => new Date()) };
  const daily = createDailyReports(full);
  const compliance = createCompliance(full);
  const urgent = createUrgentReports(full);
  return {
    submitDaily: daily.submit,
    getDaily: daily.get,
    dailyVersions: daily.versions,
    draft: daily.draft,
    compliance: compliance.compliance,
    totals: compliance.totals,
    /** The deadline check: the running service calls it every DEADLINE_CHECK_MS. */
    checkDeadlines: createDeadlineCheck(full),
    fileUrgent: urgent.file,
    getUrgent: urgent.get,
    listUrgent: urgent.list,
  };
}

export type ReportService = ReturnType<typeof createReportService>;
