import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { invalidState, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { effectiveRegionPrefix } from '../../platform/jurisdiction.js';
import type { Caller } from './applications.common.js';
import { applications, enrollmentHistory, enrollments } from './applications.tables.js';
import { businessDateOf } from './dates.js';
import {
  applyEnrollmentChange,
  type EnrollmentRow,
  type EnrollmentStatus,
  lockEnrollment,
  visible,
} from './enrollments.change.js';
import { queryReviews, type ReviewView } from './reviews.sql.js';

export interface EnrollmentView extends EnrollmentRow {
  history: (typeof enrollmentHistory.$inferSelect)[];
  nextReview: ReviewView | null;
}

export interface EnrollmentFilter {
  status?: string | undefined;
  program?: string | undefined;
  region?: string | undefined;
  householdId?: string | undefined;
  after?: { region: string; id: string } | undefined;
  limit: number;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  clock?: () => Date;
}

/** What each action needs and makes: from which statuses, to which. */
const transitions = {
  suspend: { from: ['active'], to: 'suspended', change: 'suspended' },
  resume: { from: ['suspended'], to: 'active', change: 'resumed' },
  end: { from: ['active', 'suspended'], to: 'ended', change: 'ended' },
  changeBenefit: { from: ['active', 'suspended'], to: null, change: 'benefit_changed' },
} as const;
export type EnrollmentAction = keyof typeof transitions;

/** Enrollments (active ⇄ suspended → ended) with their history. */
export function createEnrollmentService({ db, audit, events, clock = () => new Date() }: Deps) {
  const today = () => businessDateOf(clock());

  async function viewOf(executor: Executor, row: EnrollmentRow): Promise<EnrollmentView> {
    const [history, [nextReview]] = await Promise.all([
      executor
        .select()
        .from(enrollmentHistory)
        .where(eq(enrollmentHistory.enrollmentId, row.id))
        .orderBy(asc(enrollmentHistory.id)),
      queryReviews(executor, sql`v.enrollment_id = ${row.id} and v.status = 'due'`, { limit: 1 }),
    ]);
    return { ...row, history, nextReview: nextReview ?? null };
  }

  async function get(caller: Caller, actor: AuditActor, id: string): Promise<EnrollmentView> {
    const [row] = await db.select().from(enrollments).where(eq(enrollments.id, id));
    if (!row || !(await visible(db, caller, row))) throw notFound('enrollment');
    const view = await viewOf(db, row);
    await audit.recordRead(actor, {
      operation: 'getEnrollment',
      resourceType: 'enrollment',
      resourceIds: [id],
      personIds: row.personId ? [row.personId] : [],
    });
    return view;
  }

  /** By region, then id (the index's order). */
  async function list(caller: Caller, filter: EnrollmentFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [sql`starts_with(${enrollments.region}, ${prefix})`];
    if (caller.agency === 'portal') {
      conditions.push(
        sql`exists (select 1 from ${applications} where ${applications.id} = ${enrollments.applicationId} and ${applications.submittedByClientId} = ${caller.id})`,
      );
    }
    if (filter.status) conditions.push(eq(enrollments.status, filter.status));
    if (filter.program) conditions.push(eq(enrollments.programCode, filter.program));
    if (filter.householdId) conditions.push(eq(enrollments.householdId, filter.householdId));
    if (filter.after) {
      conditions.push(
        sql`(${enrollments.region}, ${enrollments.id}) > (${filter.after.region}, ${filter.after.id}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(enrollments)
      .where(and(...conditions))
      .orderBy(asc(enrollments.region), asc(enrollments.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  async function act(
    caller: Caller,
    actor: AuditActor,
    id: string,
    action: EnrollmentAction,
    input: { reason: string; endDate?: string | undefined; monthlyBenefitFen?: number | undefined },
    expectedVersion?: number,
  ): Promise<EnrollmentView> {
    return db.transaction(async (tx) => {
      const row = await lockEnrollment(tx, caller, id, expectedVersion);
      const rule = transitions[action];
      if (!(rule.from as readonly string[]).includes(row.status)) {
        throw invalidState(
          `The enrollment is ${row.status}; ${action === 'changeBenefit' ? 'its benefit can be changed' : `it can be ${rule.change}`} only when ${rule.from.join(' or ')}.`,
          row.status,
        );
      }
      const day = today();
      let endDate: string | undefined;
      if (action === 'end') {
        endDate = input.endDate ?? day;
        if (endDate < row.startDate || endDate > day) {
          throw validationError([
            {
              in: 'body',
              pointer: '/endDate',
              detail: `must lie between the start date ${row.startDate} and today ${day}`,
            },
          ]);
        }
      }
      if (action === 'changeBenefit' && input.monthlyBenefitFen === row.monthlyBenefitFen) {
        throw validationError([
          { in: 'body', pointer: '/monthlyBenefitFen', detail: 'is already the monthly benefit' },
        ]);
      }
      const updated = await applyEnrollmentChange(tx, events, row, {
        change: rule.change,
        status: rule.to ?? (row.status as EnrollmentStatus),
        ...(input.monthlyBenefitFen !== undefined && { monthlyBenefitFen: input.monthlyBenefitFen }),
        ...(endDate !== undefined && { endDate }),
        reason: input.reason,
        byClientId: actor.clientId,
        at: clock(),
      });
      await audit.record(tx, actor, {
        operation: `${action}Enrollment`,
        resourceType: 'enrollment',
        resourceIds: [id],
        personIds: row.personId ? [row.personId] : [],
        detail: { status: updated.status, monthlyBenefitFen: updated.monthlyBenefitFen },
      });
      return viewOf(tx, updated);
    });
  }

  return { get, list, act, today };
}

export type EnrollmentService = ReturnType<typeof createEnrollmentService>;
