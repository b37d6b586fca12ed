import { eq, type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { FieldError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { addHistory, batchEventData, type BatchRow, isUniqueViolation } from './common.js';
import { paymentBatchGenerated } from './events.js';
import { paymentBatches, paymentExclusions } from './tables.js';

/**
 * A month's batch is inserted without `on conflict`: when a concurrent generation paid some of the
 * same enrollments first, the unique index refuses the statement (after waiting for the other to
 * commit), and the batch is made again, leaving them out.
 */
export async function retryingWhenPaidMeanwhile<T>(make: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await make();
    } catch (err) {
      if (attempt >= 5 || !isUniqueViolation(err, 'payment_items_enrollment_once_idx')) throw err;
    }
  }
}

/** What every way of making a batch shares: filling it, refusing an empty one, recording it. */

export const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/** A green-channel deadline `hours` from now, in SQL; none without hours. */
export const deadlineIn = (hours: number | null | undefined) =>
  hours ? sql`now() + make_interval(hours => ${hours})` : null;

export function createFilling({ audit, events }: { audit: AuditService; events: EventService }) {
  /** What a generation left out, for the problem that says there is nothing to pay. */
  async function leftOut(tx: Executor, batchId: string) {
    const byReason = await rows<{ reason: string; n: number }>(
      tx,
      sql`select reason, count(*)::int as n from payment_exclusions where batch_id = ${batchId}::uuid group by reason order by reason`,
    );
    const some = await tx
      .select({
        enrollmentId: paymentExclusions.enrollmentId,
        personId: paymentExclusions.personId,
        reason: paymentExclusions.reason,
      })
      .from(paymentExclusions)
      .where(eq(paymentExclusions.batchId, batchId))
      .orderBy(paymentExclusions.id)
      .limit(100);
    return { excludedByReason: Object.fromEntries(byReason.map((r) => [r.reason, r.n])), excluded: some };
  }

  /** Fills a just-inserted batch, refuses it when it pays nobody, and records it (history, event, audit). */
  async function fillAndRecord(
    tx: Executor,
    actor: AuditActor,
    inserted: BatchRow,
    fill: SQL,
    nothing: () => Promise<never>,
  ) {
    await tx.execute(fill);
    const [batch] = await tx.select().from(paymentBatches).where(eq(paymentBatches.id, inserted.id));
    if (batch!.itemCount === 0) await nothing();
    await addHistory(tx, batch!.id, {
      status: 'draft',
      action: 'generated',
      detail: { itemCount: batch!.itemCount, totalFen: batch!.totalFen, excludedCount: batch!.excludedCount },
      byClientId: actor.clientId,
    });
    await events.publish(tx, paymentBatchGenerated, {
      subject: `payment_batch/${batch!.id}`,
      region: batch!.region,
      data: {
        ...batchEventData(batch!),
        excludedCount: batch!.excludedCount,
        followsBatchId: batch!.followsBatchId,
        temporaryAssistanceId: batch!.temporaryAssistanceId,
      },
    });
    await audit.record(tx, actor, {
      operation: 'generatePaymentBatch',
      resourceType: 'payment_batch',
      resourceIds: [batch!.id],
      detail: { kind: batch!.kind, program: batch!.programCode, period: batch!.period, region: batch!.region },
    });
    return batch!;
  }

  return { leftOut, fillAndRecord };
}
