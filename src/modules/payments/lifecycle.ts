import { and, eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { type Executor, rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict } from '../../platform/errors.js';
import { noPayerAccount, payerAccountFor } from './bank.accounts.js';
import type { EventDefinition } from '../../platform/events/catalogue.js';
import {
  addHistory,
  batchEventData,
  type BatchRow,
  type Caller,
  lockBatch,
  type PaymentDeps,
  requireStatus,
} from './common.js';
import {
  paymentBatchApproved,
  paymentBatchCompleted,
  paymentBatchDispatched,
  paymentBatchReconciled,
  paymentBatchRejected,
  paymentBatchSubmitted,
} from './events.js';
import { postApproval } from './ledger.js';
import { reconcileBatches } from './reconciliation.js';
import { type BatchStatus, paymentBatches, paymentItems } from './tables.js';

type Changes = PgUpdateSetSource<typeof paymentBatches>;

/** The batch's actions: each from given statuses, with history, an event and an audit row, in one transaction. */
export function createLifecycle({ db, audit, events, clock = () => new Date(), onApproved }: PaymentDeps) {
  interface Step {
    caller: Caller;
    actor: AuditActor;
    id: string;
    version: number | undefined;
    /** The caller's note, kept in the history. */
    note?: string | undefined;
  }

  /** Locks, checks the status, runs `work`, moves the batch to `to` and records the step. */
  async function step<T extends EventDefinition>(
    s: Step,
    rule: { from: BatchStatus[]; to: BatchStatus; action: string; verb: string; event: T; operation: string },
    work: (
      tx: Executor,
      batch: BatchRow,
    ) => Promise<{
      set?: Changes;
      note?: string | null;
      detail?: Record<string, unknown>;
      data?: Record<string, unknown>;
    }>,
  ): Promise<BatchRow> {
    return db.transaction(async (tx) => {
      const current = await lockBatch(tx, s.caller, s.id, s.version);
      requireStatus(current, rule.from, rule.verb);
      const done = await work(tx, current);
      const [updated] = await tx
        .update(paymentBatches)
        .set({ ...done.set, status: rule.to, updatedAt: sql`now()`, version: current.version + 1 })
        .where(eq(paymentBatches.id, current.id))
        .returning();
      const batch = updated!;
      await addHistory(tx, batch.id, {
        status: rule.to,
        action: rule.action,
        note: done.note ?? s.note ?? null,
        detail: done.detail ?? null,
        byClientId: s.actor.clientId,
      });
      await events.publish(tx, rule.event, {
        subject: `payment_batch/${batch.id}`,
        region: batch.region,
        data: { ...batchEventData(batch), ...done.data },
      });
      await audit.record(tx, s.actor, {
        operation: rule.operation,
        resourceType: 'payment_batch',
        resourceIds: [batch.id],
        detail: { from: current.status, to: rule.to, ...done.detail },
      });
      return batch;
    });
  }

  const submit = (s: Step) =>
    step(
      s,
      {
        from: ['draft'],
        to: 'submitted',
        action: 'submitted',
        verb: 'submitted',
        event: paymentBatchSubmitted,
        operation: 'submitPaymentBatch',
      },
      async () => ({ set: { submittedAt: sql`now()` } }),
    );

  /** Finance approves what it saw: the count and total it echoes must be the batch's (409 naming the field otherwise). */
  const approve = (s: Step, echo: { itemCount: number; totalFen: number; note?: string | undefined }) =>
    step(
      s,
      {
        from: ['submitted'],
        to: 'approved',
        action: 'approved',
        verb: 'approved',
        event: paymentBatchApproved,
        operation: 'approvePaymentBatch',
      },
      async (tx, batch) => {
        const errors = [];
        if (echo.itemCount !== batch.itemCount) {
          errors.push({
            in: 'body',
            pointer: '/itemCount',
            detail: `is ${echo.itemCount}; the batch declares ${batch.itemCount} payments`,
          });
        }
        if (echo.totalFen !== batch.totalFen) {
          errors.push({
            in: 'body',
            pointer: '/totalFen',
            detail: `is ${echo.totalFen}; the batch declares ${batch.totalFen} fen`,
          });
        }
        if (errors.length > 0) {
          throw conflict('The count and total you approve must be the batch’s own: read the batch again.', {
            errors,
            declared: { itemCount: batch.itemCount, totalFen: batch.totalFen },
          });
        }
        await postApproval(tx, { batch, byClientId: s.actor.clientId, requestId: s.actor.requestId });
        await onApproved?.(tx, batch);
        const set: Changes = {
          decidedAt: sql`now()`,
          decidedByClientId: s.actor.clientId,
          decisionReason: echo.note ?? null,
        };
        return { set, note: echo.note ?? null, detail: { itemCount: batch.itemCount, totalFen: batch.totalFen } };
      },
    );

  /** Finance rejects, with a reason: the payments are cancelled, and the batch may be generated again. */
  const reject = (s: Step, reason: string) =>
    step(
      s,
      {
        from: ['submitted'],
        to: 'rejected',
        action: 'rejected',
        verb: 'rejected',
        event: paymentBatchRejected,
        operation: 'rejectPaymentBatch',
      },
      async (tx, batch) => {
        await tx.update(paymentItems).set({ status: 'cancelled' }).where(eq(paymentItems.batchId, batch.id));
        const set: Changes = {
          decidedAt: sql`now()`,
          decidedByClientId: s.actor.clientId,
          decisionReason: reason,
        };
        return { set, note: reason, data: { reason } };
      },
    );

  /**
   * The bank collects an approved batch: its payments are sent. Only with a payer account set for
   * the batch's program and region, which its pain.001 debits (422 otherwise; the batch stays approved).
   */
  const dispatch = (s: Step) =>
    step(
      s,
      {
        from: ['approved'],
        to: 'dispatched',
        action: 'dispatched',
        verb: 'dispatched',
        event: paymentBatchDispatched,
        operation: 'dispatchPaymentBatch',
      },
      async (tx, batch) => {
        if (!(await payerAccountFor(tx, batch.programCode, batch.region))) {
          throw noPayerAccount(batch.programCode, batch.region, 'The batch cannot be dispatched; it stays approved');
        }
        await tx
          .update(paymentItems)
          .set({ status: 'sent', sentAt: sql`now()` })
          .where(and(eq(paymentItems.batchId, batch.id), eq(paymentItems.status, 'pending')));
        return { set: { dispatchedAt: sql`now()` } };
      },
    );

  /** The bank says it is done: every payment has its result (409 with how many have not). */
  const complete = (s: Step) =>
    step(
      s,
      {
        from: ['dispatched'],
        to: 'completed',
        action: 'completed',
        verb: 'completed',
        event: paymentBatchCompleted,
        operation: 'completePaymentBatch',
      },
      async (tx, batch) => {
        const [waiting] = await rows<{ n: number }>(
          tx,
          sql`select count(*)::int as n from payment_items where batch_id = ${batch.id}::uuid and status = 'sent'`,
        );
        if (waiting!.n > 0) {
          throw conflict(`${waiting!.n} payments of the batch still await their result; post them first.`, {
            stillSent: waiting!.n,
          });
        }
        const report = (await reconcileBatches(tx, [batch])).get(batch.id)!;
        const now = clock();
        const metDeadline = batch.deadline ? now <= batch.deadline : null;
        return {
          set: { completedAt: now },
          detail: { paid: report.paid, failed: report.failed, returned: report.returned, metDeadline },
          data: { paid: report.paid, failed: report.failed, returned: report.returned, metDeadline },
        };
      },
    );

  /** Finance reconciles a completed batch: declared = paid + failed + returned to the fen, and the ledger agrees (409 with the report otherwise). */
  const reconcile = (s: Step) =>
    step(
      s,
      {
        from: ['completed'],
        to: 'reconciled',
        action: 'reconciled',
        verb: 'reconciled',
        event: paymentBatchReconciled,
        operation: 'reconcilePaymentBatch',
      },
      async (tx, batch) => {
        const report = (await reconcileBatches(tx, [batch])).get(batch.id)!;
        if (!report.balanced || !report.ledgerAgrees) {
          throw conflict('The batch does not reconcile; see reconciliation.', { reconciliation: report });
        }
        const snapshot = report as unknown as Record<string, unknown>;
        return {
          set: { reconciledAt: sql`now()`, reconciliation: snapshot },
          data: { paid: report.paid, failed: report.failed, returned: report.returned },
        };
      },
    );

  return { submit, approve, reject, dispatch, complete, reconcile };
}
