import { inArray, type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, type FieldError, unprocessable, validationError } from '../../platform/errors.js';
import { timeOrderedId } from '../matching/verify.service.js';
import { businessDateOf } from '../registry/dates.js';
import { type BatchRow, type Caller, lockBatch, type PaymentDeps, requireStatus } from './common.js';
import { body, createFilling, deadlineIn } from './generate.common.js';
import { followUpBatchSql } from './generate.sql.js';
import { paymentBatches, paymentItems } from './tables.js';

/** Follow-up batches: what a batch could not pay, paid again, each payment re-issued at most once. */
export function createFollowUps(deps: PaymentDeps) {
  const { db, policies, clock = () => new Date() } = deps;
  const { leftOut, fillAndRecord } = createFilling(deps);

  /** The given items must be failed or returned payments of the batch, not re-issued yet. */
  async function checkItems(tx: Executor, original: BatchRow, itemIds: string[]) {
    const found = await tx
      .select({ id: paymentItems.id, batchId: paymentItems.batchId, status: paymentItems.status })
      .from(paymentItems)
      .where(inArray(paymentItems.id, itemIds));
    const errors: FieldError[] = [];
    itemIds.forEach((id, i) => {
      const item = found.find((f) => f.id === id);
      if (!item || item.batchId !== original.id) errors.push(body(`/itemIds/${i}`, 'is not a payment of this batch'));
      else if (item.status !== 'failed' && item.status !== 'returned') {
        errors.push(body(`/itemIds/${i}`, `is ${item.status}; only failed or returned payments are re-issued`));
      }
    });
    if (new Set(itemIds).size !== itemIds.length) errors.push(body('/itemIds', 'must not repeat a payment'));
    if (errors.length > 0) throw validationError(errors);
    const withdrawn = await cancelledGrantsOf(tx, sql`f.id = any(${sql.param(itemIds)}::uuid[])`);
    if (withdrawn.length > 0) {
      throw conflict('Some of these payments are of temporary assistance cancelled since: they are not re-issued.', {
        errors: withdrawn.map((w) =>
          body(`/itemIds/${itemIds.indexOf(w.id)}`, `pays temporary assistance ${w.grant_id}, cancelled since`),
        ),
      });
    }
    const reissued = await tx
      .select({ of: paymentItems.reissueOf, batchId: paymentItems.batchId })
      .from(paymentItems)
      .where(inArray(paymentItems.reissueOf, itemIds));
    if (reissued.length > 0) {
      throw conflict('Some of these payments are re-issued already: a payment is re-issued at most once.', {
        errors: reissued.map((r) =>
          body(`/itemIds/${itemIds.indexOf(r.of!)}`, `is re-issued already in batch ${r.batchId}`),
        ),
        followUpBatchIds: [...new Set(reissued.map((r) => r.batchId))],
      });
    }
  }

  /** Failed or returned payments (`f`, where `which`) not re-issued, of a grant cancelled since. */
  const cancelledGrantsOf = (tx: Executor, which: SQL) =>
    rows<{ id: string; grant_id: string }>(
      tx,
      sql`select f.id, g.id as grant_id from payment_items f join temporary_assistance g on g.id = f.temporary_assistance_id
          where ${which} and f.status in ('failed','returned') and g.status = 'cancelled'
            and not exists (select 1 from payment_items r where r.reissue_of = f.id)
          order by f.id`,
    );

  /** Batches already re-issuing the batch's failed payments. */
  const reissuing = (tx: Executor, originalId: string) =>
    rows<{ batch_id: string }>(
      tx,
      sql`select distinct r.batch_id from payment_items r join payment_items f on f.id = r.reissue_of
          where f.batch_id = ${originalId}::uuid order by r.batch_id`,
    );

  /**
   * A follow-up batch: the failed and returned payments of a batch re-issued (each at most once:
   * a unique index), and the enrollments it left out that can be paid now.
   */
  async function followUp(
    caller: Caller,
    actor: AuditActor,
    originalId: string,
    itemIds: string[] | null,
  ): Promise<BatchRow> {
    return db.transaction(async (tx) => {
      const original = await lockBatch(tx, caller, originalId);
      requireStatus(original, ['dispatched', 'completed', 'reconciled'], 'followed up');
      if (itemIds) await checkItems(tx, original, itemIds);
      const policy = original.expedited ? await policies.inForce(original.region, businessDateOf(clock()), tx) : null;
      const [inserted] = await tx
        .insert(paymentBatches)
        .values({
          id: timeOrderedId(),
          kind: 'follow_up',
          programCode: original.programCode,
          period: original.period,
          region: original.region,
          status: 'draft',
          expedited: original.expedited,
          deadline: deadlineIn(policy?.greenChannelHours),
          policyId: policy?.greenChannelHours ? policy.id : null,
          followsBatchId: original.id,
          createdByClientId: actor.clientId,
        })
        .returning();
      const scope = { batchId: inserted!.id, program: original.programCode, period: original.period };
      return fillAndRecord(tx, actor, inserted!, followUpBatchSql(scope, original.id, itemIds), async () => {
        const { excludedByReason, excluded } = await leftOut(tx, inserted!.id);
        if (excluded.length > 0) {
          throw unprocessable('None of what is left can be paid yet; see excludedByReason.', {
            excludedByReason,
            excluded,
          });
        }
        const withdrawn = await cancelledGrantsOf(tx, sql`f.batch_id = ${original.id}::uuid`);
        if (withdrawn.length > 0) {
          throw conflict(
            'Nothing left to re-issue: the failed payments not re-issued are of temporary assistance cancelled since, which is not paid.',
            { cancelledTemporaryAssistanceIds: withdrawn.map((w) => w.grant_id) },
          );
        }
        const followUps = (await reissuing(tx, original.id)).map((r) => r.batch_id);
        throw conflict(
          `Nothing left to re-issue: every failed or returned payment of the batch is re-issued already${followUps.length ? ` (in ${followUps.join(', ')})` : ''}.`,
          { followUpBatchIds: followUps },
        );
      });
    });
  }

  return { followUp };
}
