import type { Db } from '../../db/client.js';
import type { AuditService } from '../../platform/audit/service.js';
import type { EventService } from '../../platform/events/service.js';
import type { RegionService } from '../../platform/regions/service.js';

export interface ReportDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  /** Deadlines, "today" and "not in the future" come from it. */
  clock: () => Date;
}
