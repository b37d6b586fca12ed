import type { Db } from '../../db/client.js';
import type { AuditService } from '../../platform/audit/service.js';
import type { EventService } from '../../platform/events/service.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import { createAssignmentService } from './assignments.service.js';
import { createCaregiverService } from './caregivers.service.js';
import { createCoverageService } from './coverage.service.js';
import { createTaskService } from './tasks.service.js';
import { createVisitService } from './visits.service.js';

export interface CareDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  /** The registry's protection of personal information: caregivers' and visitors' phones are kept as persons' are. */
  pii: PiiProtector;
  /** Today (Asia/Shanghai) and "not in the future" come from it. */
  clock?: () => Date;
}

/**
 * Key-person care (measure 4): caregivers, who is responsible for whom, visits, visit tasks and
 * coverage. Emergency policies set the visit interval (`visitIntervalDays`), read set-based in SQL
 * from the policies table (see interval.ts), as `policies.inForce` chooses them.
 */
export function createCareService(deps: CareDeps) {
  const { db, audit, events, regions, pii, clock = () => new Date() } = deps;
  const caregivers = createCaregiverService({ db, audit, regions, pii });
  const assignments = createAssignmentService({ db, audit, events, caregivers });
  const visits = createVisitService({ db, audit, events, pii, caregivers, clock });
  const tasks = createTaskService({ db, audit, regions, clock });
  const coverage = createCoverageService({ db, audit, regions, clock });
  return {
    pii,
    createCaregiver: caregivers.create,
    getCaregiver: caregivers.get,
    listCaregivers: caregivers.list,
    updateCaregiver: caregivers.update,
    setCaregiverActive: caregivers.setActive,
    assign: assignments.assign,
    endAssignment: assignments.end,
    getAssignment: assignments.get,
    listAssignments: assignments.list,
    recordVisit: visits.record,
    getVisit: visits.get,
    listVisits: visits.list,
    generateTasks: tasks.generate,
    listTasks: tasks.list,
    coverage: coverage.coverage,
    unassigned: coverage.unassigned,
    overdue: coverage.overdue,
  };
}

export type CareService = ReturnType<typeof createCareService>;
