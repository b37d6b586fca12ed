import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { notFound, ProblemError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import type { Caller } from './applications.common.js';
import { enrollmentChanged } from './applications.events.js';
import type { MonthlyProgram } from './applications.schemas.js';
import { applications, enrollmentHistory, enrollments, reviews } from './applications.tables.js';

/** Changes to an enrollment, shared by the enrollment actions and review completion. */

export type EnrollmentRow = typeof enrollments.$inferSelect;
export type EnrollmentStatus = 'active' | 'suspended' | 'ended';
export type EnrollmentChange = 'suspended' | 'resumed' | 'ended' | 'benefit_changed';

/** Inside the caller's jurisdiction; a portal sees only enrollments created from its own applications. */
export async function visible(executor: Executor, caller: Caller, row: EnrollmentRow) {
  if (!inJurisdiction(caller, row.region)) return false;
  if (caller.agency !== 'portal') return true;
  if (!row.applicationId) return false;
  const [own] = await executor
    .select({ id: applications.id })
    .from(applications)
    .where(and(eq(applications.id, row.applicationId), eq(applications.submittedByClientId, caller.id)));
  return Boolean(own);
}

/** The enrollment locked for a change: 404 when missing or not visible, 412 when If-Match is stale. */
export async function lockEnrollment(tx: Executor, caller: Caller | null, id: string, expectedVersion?: number) {
  const [row] = await tx.select().from(enrollments).where(eq(enrollments.id, id)).for('update');
  if (!row || (caller && !(await visible(tx, caller, row)))) throw notFound('enrollment');
  if (expectedVersion !== undefined && row.version !== expectedVersion) {
    throw new ProblemError(412, 'precondition-failed', 'The enrollment changed since you read it; read it again.', {
      currentETag: etagOf(row),
    });
  }
  return row;
}

/**
 * Applies a change to a locked enrollment: the row, a history row and `enrollment.changed`, in the
 * caller's transaction. Ending it closes its open review (nothing left to review).
 */
export async function applyEnrollmentChange(
  tx: Executor,
  events: EventService,
  row: EnrollmentRow,
  change: {
    change: EnrollmentChange;
    status: EnrollmentStatus;
    monthlyBenefitFen?: number;
    endDate?: string;
    reason: string;
    byClientId: string | null;
    at: Date;
  },
): Promise<EnrollmentRow> {
  const monthlyBenefitFen = change.monthlyBenefitFen ?? row.monthlyBenefitFen;
  const benefitBasis =
    change.change === 'benefit_changed'
      ? { ...row.benefitBasis, changedFromFen: row.monthlyBenefitFen, changeReason: change.reason }
      : row.benefitBasis;
  const [updated] = await tx
    .update(enrollments)
    .set({
      status: change.status,
      monthlyBenefitFen,
      benefitBasis,
      endDate: change.endDate ?? row.endDate,
      updatedAt: change.at,
      version: row.version + 1,
    })
    .where(eq(enrollments.id, row.id))
    .returning();
  await tx.insert(enrollmentHistory).values({
    enrollmentId: row.id,
    status: change.status,
    monthlyBenefitFen,
    action: change.change,
    reason: change.reason,
    byClientId: change.byClientId,
  });
  if (change.change === 'ended') {
    await tx
      .update(reviews)
      .set({
        status: 'completed',
        outcome: 'ended',
        notes: `Not carried out: the enrollment ended on ${change.endDate} (${change.reason}).`,
        completedAt: change.at,
        completedByClientId: change.byClientId,
        version: sql`${reviews.version} + 1`,
      })
      .where(and(eq(reviews.enrollmentId, row.id), eq(reviews.status, 'due')));
  }
  await events.publish(tx, enrollmentChanged, {
    subject: `enrollment/${row.id}`,
    region: row.region,
    data: {
      enrollmentId: row.id,
      program: row.programCode as MonthlyProgram,
      householdId: row.householdId,
      personId: row.personId,
      region: row.region,
      change: change.change,
      status: change.status,
      monthlyBenefitFen,
      previousMonthlyBenefitFen: row.monthlyBenefitFen,
      endDate: updated!.endDate,
      reason: change.reason,
    },
  });
  return updated!;
}
