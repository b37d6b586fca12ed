import type { Db } from '../../db/client.js';
import type { AuditService } from '../../platform/audit/service.js';
import type { EventService } from '../../platform/events/service.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { PeopleService } from '../registry/people.service.js';
import type { TemporaryAssistanceService } from '../registry/temporary-assistance.service.js';
import { createDistributionService } from './distributions.service.js';
import { createItemService } from './items.service.js';
import { createReceiptService } from './receipts.service.js';
import { createReportService } from './reports.service.js';

export interface InKindDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  people: PeopleService;
  assistance: TemporaryAssistanceService;
  clock?: () => Date;
}

/**
 * In-kind aid (measure 1): the item catalogue, stock per region kept by receipts, distributions
 * to persons (directly or under a temporary-assistance grant) and reports of what was handed out.
 */
export function createInKindService(deps: InKindDeps) {
  const { db, audit, clock = () => new Date() } = deps;
  return {
    ...createItemService({ db, audit }),
    ...createReceiptService({ ...deps, clock }),
    ...createDistributionService({ ...deps, clock }),
    ...createReportService({ db, audit }),
  };
}

export type InKindService = ReturnType<typeof createInKindService>;
