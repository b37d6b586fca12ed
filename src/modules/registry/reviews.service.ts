import { eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { invalidState, notFound, ProblemError, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { effectiveRegionPrefix } from '../../platform/jurisdiction.js';
import type { Caller } from './applications.common.js';
import type { MonthlyProgram } from './applications.schemas.js';
import { reviewCompleted } from './applications.events.js';
import { reviews } from './applications.tables.js';
import { addMonths, businessDateOf } from './dates.js';
import { applyEnrollmentChange, lockEnrollment } from './enrollments.change.js';
import type { ProgramService } from './programs.service.js';
import { queryReviews, reviewVisibility, type ReviewView } from './reviews.sql.js';

export interface ReviewFilter {
  status?: 'due' | 'completed' | undefined;
  /** Effective due date strictly before this day. */
  dueBefore?: string | undefined;
  region?: string | undefined;
  program?: string | undefined;
  enrollmentId?: string | undefined;
  householdId?: string | undefined;
  after?: { effectiveDueDate: string; id: string } | undefined;
  limit: number;
}

export interface ReviewCompletion {
  outcome: 'continued' | 'benefit_changed' | 'ended';
  notes: string;
  newMonthlyBenefitFen?: number | undefined;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  programs: ProgramService;
  clock?: () => Date;
}

/**
 * Periodic reviews (定期复核). A review's due date is stored as scheduled; the date an emergency
 * policy extends it to is read through the policy (reviews.sql.ts). A review falling due or
 * overdue never changes the enrollment: payments continue until a completed review says otherwise.
 */
export function createReviewService({ db, audit, events, programs, clock = () => new Date() }: Deps) {
  const today = () => businessDateOf(clock());

  async function list(caller: Caller, filter: ReviewFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [reviewVisibility(caller), sql`starts_with(v.region, ${prefix})`];
    if (filter.status) conditions.push(sql`v.status = ${filter.status}`);
    if (filter.dueBefore) conditions.push(sql`v.effective_due_date < ${filter.dueBefore}::date`);
    if (filter.program) conditions.push(sql`v.program_code = ${filter.program}`);
    if (filter.enrollmentId) conditions.push(sql`v.enrollment_id = ${filter.enrollmentId}::uuid`);
    if (filter.householdId) conditions.push(sql`v.household_id = ${filter.householdId}::uuid`);
    const found = await queryReviews(db, sql.join(conditions, sql` and `), {
      limit: filter.limit + 1,
      after: filter.after,
    });
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  async function get(caller: Caller, id: string): Promise<ReviewView> {
    const [found] = await queryReviews(db, sql`v.id = ${id}::uuid and ${reviewVisibility(caller)}`, { limit: 1 });
    if (!found) throw notFound('review');
    return found;
  }

  function checkCompletion(input: ReviewCompletion) {
    const changed = input.outcome === 'benefit_changed';
    if (changed !== (input.newMonthlyBenefitFen !== undefined)) {
      throw validationError([
        {
          in: 'body',
          pointer: '/newMonthlyBenefitFen',
          detail: changed
            ? 'is required when the outcome is benefit_changed'
            : 'is given only when the outcome is benefit_changed',
        },
      ]);
    }
  }

  /**
   * Completes a due review. `continued` keeps the enrollment as it is, `benefit_changed` sets the
   * new monthly benefit, `ended` ends the enrollment today. Unless it ended, the next review is due
   * the program's interval after today, the day of completion.
   */
  async function complete(
    caller: Caller,
    actor: AuditActor,
    id: string,
    input: ReviewCompletion,
    expectedVersion?: number,
  ): Promise<ReviewView> {
    checkCompletion(input);
    await db.transaction(async (tx) => {
      const [review] = await tx.select().from(reviews).where(eq(reviews.id, id)).for('update');
      if (!review) throw notFound('review');
      // The enrollment decides visibility (jurisdiction, portal ownership).
      const enrollment = await lockEnrollment(tx, caller, review.enrollmentId).catch((err: unknown) => {
        throw err instanceof ProblemError && err.status === 404 ? notFound('review') : err;
      });
      if (expectedVersion !== undefined && review.version !== expectedVersion) {
        throw new ProblemError(412, 'precondition-failed', 'The review changed since you read it; read it again.', {
          currentETag: `"${review.id}.${review.version}"`,
        });
      }
      if (review.status !== 'due') throw invalidState('The review is already completed.', review.status);
      if (input.outcome === 'benefit_changed' && input.newMonthlyBenefitFen === enrollment.monthlyBenefitFen) {
        throw validationError([
          { in: 'body', pointer: '/newMonthlyBenefitFen', detail: 'is the current benefit: the outcome is continued' },
        ]);
      }
      const now = clock();
      const day = businessDateOf(now);
      await tx
        .update(reviews)
        .set({
          status: 'completed',
          outcome: input.outcome,
          notes: input.notes,
          completedAt: now,
          completedByClientId: actor.clientId,
          version: review.version + 1,
        })
        .where(eq(reviews.id, id));
      const reason = `review ${id}: ${input.notes}`;
      if (input.outcome !== 'continued') {
        await applyEnrollmentChange(tx, events, enrollment, {
          change: input.outcome,
          status: input.outcome === 'ended' ? 'ended' : (enrollment.status as 'active' | 'suspended'),
          ...(input.outcome === 'ended' ? { endDate: day } : { monthlyBenefitFen: input.newMonthlyBenefitFen! }),
          reason,
          byClientId: actor.clientId,
          at: now,
        });
      }
      const program = await programs.getProgram(enrollment.programCode, tx);
      let next: { id: string; dueDate: string } | undefined;
      if (input.outcome !== 'ended' && program.reviewIntervalMonths !== null) {
        [next] = await tx
          .insert(reviews)
          .values({
            enrollmentId: enrollment.id,
            region: enrollment.region,
            dueDate: addMonths(day, program.reviewIntervalMonths),
          })
          .returning({ id: reviews.id, dueDate: reviews.dueDate });
      }
      await events.publish(tx, reviewCompleted, {
        subject: `review/${id}`,
        region: enrollment.region,
        data: {
          reviewId: id,
          enrollmentId: enrollment.id,
          program: enrollment.programCode as MonthlyProgram,
          householdId: enrollment.householdId,
          region: enrollment.region,
          outcome: input.outcome,
          dueDate: review.dueDate,
          completedOn: day,
          nextReviewId: next?.id ?? null,
          nextDueDate: next?.dueDate ?? null,
        },
      });
      await audit.record(tx, actor, {
        operation: 'completeReview',
        resourceType: 'review',
        resourceIds: [id, enrollment.id],
        personIds: enrollment.personId ? [enrollment.personId] : [],
        detail: { outcome: input.outcome, nextReviewId: next?.id ?? null },
      });
    });
    return get(caller, id);
  }

  return { list, get, complete, today };
}

export type ReviewService = ReturnType<typeof createReviewService>;
