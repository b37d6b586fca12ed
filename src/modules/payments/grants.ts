import { eq, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict } from '../../platform/errors.js';
import { addHistory, batchEventData, type BatchRow, type PaymentDeps } from './common.js';
import { paymentBatchCancelled } from './events.js';
import { postWithdrawal } from './ledger.js';
import { type BatchStatus, paymentBatches, paymentItems } from './tables.js';

/** A grant's payment can be withdrawn while its batch waits for the bank. */
const withdrawable: BatchStatus[] = ['draft', 'submitted', 'approved'];

interface GrantItem {
  id: string;
  status: string;
  amount: number;
  sent_at: string | Date | null;
}

/**
 * What becomes of a temporary-assistance grant's payment when the grant is cancelled (measure 1:
 * what was not yet paid must not be). The registry calls it in the cancellation's transaction,
 * with the grant locked, so that it and the payment change together or not at all.
 *
 * A grant's payment is always a batch of its own: its emergency batch, or a follow-up re-issuing
 * it after the bank failed it (a follow-up re-issues the failures of one batch). So the payment is
 * withdrawn by cancelling that batch, which keeps each batch's payments in one status before
 * dispatch (what the batch's figures and the bank file rely on):
 * - batch draft, submitted or approved → `cancelled`, its payment `cancelled`; an approved batch's
 *   funds go back in the ledger (a `withdrawal` journal transaction: allocated debited, pending
 *   credited). Reconciliation then counts the payment `cancelled`: declared = cancelled, ledger nil.
 *   The bank never sees it: a cancelled batch cannot be dispatched nor its pain.001 collected.
 * - the payment sent to the bank (batch dispatched) or paid: 409, and nothing changes. The bank
 *   has it; should it fail or be returned, the grant can be cancelled then, and it is not re-issued.
 * - no live payment (none made, or it failed or was returned): nothing to do.
 */
export function createGrantPayments({ audit, events }: Pick<PaymentDeps, 'audit' | 'events'>) {
  async function withdrawGrantPayments(
    tx: Executor,
    actor: AuditActor,
    grant: { id: string },
    reason: string,
  ): Promise<BatchRow[]> {
    // The batches holding the grant's live payment (pending, sent or paid), in id order.
    const holding = await rows<{ batch_id: string }>(
      tx,
      sql`select distinct batch_id from payment_items
          where temporary_assistance_id = ${grant.id}::uuid and live order by batch_id`,
    );
    const cancelled: BatchRow[] = [];
    for (const { batch_id: batchId } of holding) {
      // Locked as every change of status locks it: a dispatch under way is waited for, then seen.
      const [batch] = await tx.select().from(paymentBatches).where(eq(paymentBatches.id, batchId)).for('update');
      const withdrawn = await withdrawBatch(tx, actor, batch!, grant.id, reason);
      if (withdrawn) cancelled.push(withdrawn);
    }
    return cancelled;
  }

  async function withdrawBatch(
    tx: Executor,
    actor: AuditActor,
    batch: BatchRow,
    grantId: string,
    reason: string,
  ): Promise<BatchRow | null> {
    const [payment] = await rows<GrantItem>(
      tx,
      sql`select id, status, amount_fen::float8 as amount, sent_at from payment_items
          where batch_id = ${batch.id}::uuid and temporary_assistance_id = ${grantId}::uuid and live`,
    );
    const [{ others } = { others: false }] = await rows<{ others: boolean }>(
      tx,
      sql`select exists (select 1 from payment_items where batch_id = ${batch.id}::uuid and status <> 'cancelled'
            and temporary_assistance_id is distinct from ${grantId}::uuid) as others`,
    );
    // Rejected, or given its result, while the batch was waited for: nothing left to withdraw here.
    if (!payment) return null;
    const facts = {
      batchId: batch.id,
      batchStatus: batch.status,
      paymentId: payment.id,
      paymentStatus: payment.status,
    };
    if (payment.status === 'paid') {
      throw conflict(
        `The grant’s payment was paid already (batch ${batch.id}): a paid grant cannot be cancelled.`,
        facts,
      );
    }
    if (payment.status !== 'pending' || !withdrawable.includes(batch.status)) {
      const when = payment.sent_at ? ` on ${new Date(payment.sent_at).toISOString()}` : '';
      throw conflict(
        `The grant’s payment was sent to the bank with batch ${batch.id}${when} and can no longer be withdrawn, so the grant cannot be cancelled now. Should the bank report it failed or returned, cancel the grant then: it is not re-issued.`,
        facts,
      );
    }
    if (others) {
      // Never made so (see above); refused rather than guessed at.
      throw conflict(`Batch ${batch.id} pays others besides this grant: it cannot be withdrawn with the grant.`, facts);
    }
    const withdrawn = { count: 1, amountFen: Number(payment.amount) };
    if (batch.status === 'approved') {
      await postWithdrawal(tx, { batch, byClientId: actor.clientId, requestId: actor.requestId });
    }
    await tx.update(paymentItems).set({ status: 'cancelled' }).where(eq(paymentItems.batchId, batch.id));
    const [updated] = await tx
      .update(paymentBatches)
      .set({ status: 'cancelled', updatedAt: sql`now()`, version: batch.version + 1 })
      .where(eq(paymentBatches.id, batch.id))
      .returning();
    const row = updated!;
    const detail = { temporaryAssistanceId: grantId, withdrawn, allocationReversed: batch.status === 'approved' };
    await addHistory(tx, row.id, {
      status: 'cancelled',
      action: 'cancelled',
      note: reason,
      detail,
      byClientId: actor.clientId,
    });
    await events.publish(tx, paymentBatchCancelled, {
      subject: `payment_batch/${row.id}`,
      region: row.region,
      data: {
        ...batchEventData(row),
        previousStatus: batch.status,
        temporaryAssistanceId: grantId,
        reason,
        withdrawn,
      },
    });
    await audit.record(tx, actor, {
      operation: 'cancelPaymentBatch',
      resourceType: 'payment_batch',
      resourceIds: [row.id],
      detail: { from: batch.status, to: 'cancelled', reason, ...detail },
    });
    return row;
  }

  return { withdrawGrantPayments };
}
