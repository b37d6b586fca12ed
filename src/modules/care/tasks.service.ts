import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { FieldError } from '../../platform/errors.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { businessDateOf } from '../registry/dates.js';
import { body, check } from './common.js';
import { visitTasks } from './tables.js';
import type { TaskOut } from './tasks.schemas.js';
import { generateTasks } from './tasks.sql.js';

export type TaskRow = typeof visitTasks.$inferSelect;

export interface TaskFilter {
  region?: string | undefined;
  personId?: string | undefined;
  caregiverId?: string | undefined;
  fallbackRegion?: string | undefined;
  status?: 'open' | 'done' | 'cancelled' | undefined;
  overdue?: boolean | undefined;
}

const dayMs = 86_400_000;
const daysBetween = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / dayMs);

export const taskOut = (t: TaskRow, today: string): TaskOut => {
  const overdue = t.status === 'open' && t.dueDate < today;
  return {
    id: t.id,
    personId: t.personId,
    region: t.region,
    caregiverId: t.caregiverId,
    fallbackRegion: t.fallbackRegion,
    windowStart: t.windowStart,
    dueDate: t.dueDate,
    intervalDays: t.intervalDays,
    status: t.status as TaskOut['status'],
    overdue,
    daysOverdue: overdue ? daysBetween(t.dueDate, today) : null,
    visitId: t.visitId,
    createdAt: t.createdAt.toISOString(),
    completedAt: t.completedAt?.toISOString() ?? null,
  };
};

interface Deps {
  db: Db;
  audit: AuditService;
  regions: RegionService;
  clock: () => Date;
}

/** Visit tasks: who is to visit whom by when, generated per person and window. */
export function createTaskService({ db, audit, regions, clock }: Deps) {
  const today = () => businessDateOf(clock());

  async function generate(
    caller: Jurisdictional,
    actor: AuditActor,
    input: { region: string; date?: string | undefined },
  ) {
    const errors: FieldError[] = [];
    if (!(await regions.isKnown(input.region))) {
      errors.push(body('/region', `${input.region} is not a region code this service knows (see /v1/regions)`));
    } else if (!inJurisdiction(caller, input.region)) {
      errors.push(body('/region', `${input.region} is outside your jurisdiction ${caller.jurisdiction}`));
    }
    check(errors);
    const date = input.date ?? today();
    return db.transaction(async (tx) => {
      const counts = await generateTasks(tx, input.region, date);
      await audit.record(tx, actor, {
        operation: 'generateVisitTasks',
        resourceType: 'visit_task',
        detail: { region: input.region, date, ...counts },
      });
      return { region: input.region, date, ...counts, alreadyPresent: counts.keyPersons - counts.created };
    });
  }

  /** Earliest due first; `after` is the id of the previous page's last task. */
  async function list(
    caller: Jurisdictional,
    actor: AuditActor,
    filter: TaskFilter,
    page: { after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false, today: today() };
    const t = visitTasks;
    const conditions: SQL[] = [sql`${t.region} like ${`${prefix}%`}`];
    if (filter.personId) conditions.push(eq(t.personId, filter.personId));
    if (filter.caregiverId) conditions.push(eq(t.caregiverId, filter.caregiverId));
    if (filter.fallbackRegion) conditions.push(sql`${t.fallbackRegion} like ${`${filter.fallbackRegion}%`}`);
    if (filter.status) conditions.push(eq(t.status, filter.status));
    if (filter.overdue !== undefined) {
      const overdue = sql`(${t.status} = 'open' and ${t.dueDate} < ${today()}::date)`;
      conditions.push(filter.overdue ? overdue : sql`not ${overdue}`);
    }
    if (page.after) {
      conditions.push(
        sql`(${t.dueDate}, ${t.id}) > (select x.due_date, x.id from ${t} x where x.id = ${page.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(t)
      .where(and(...conditions))
      .orderBy(asc(t.dueDate), asc(t.id))
      .limit(page.limit + 1);
    const items = found.slice(0, page.limit);
    if (items.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listVisitTasks',
        resourceType: 'visit_task',
        resourceIds: items.map((r) => r.id),
        personIds: [...new Set(items.map((r) => r.personId))],
      });
    }
    return { items, more: found.length > page.limit, today: today() };
  }

  return { generate, list, today };
}

export type TaskService = ReturnType<typeof createTaskService>;
