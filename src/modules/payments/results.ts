import { eq, sql } from 'drizzle-orm';
import { rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, type FieldError, validationError } from '../../platform/errors.js';
import { addHistory, batchEventData, type Caller, lockBatch, type PaymentDeps, requireStatus } from './common.js';
import { paymentBatchResultsRecorded, paymentFailed } from './events.js';
import { resultsLedgerCtes } from './ledger.js';
import type { Money } from './reconciliation.js';
import { paymentBatches, paymentItems } from './tables.js';

export type Outcome = 'paid' | 'failed' | 'returned';

/** One payment's result as the bank reports it, keyed by the EndToEndId it was sent with. */
export interface PaymentResult {
  endToEndId: string;
  status: Outcome;
  reasonCode?: string | undefined;
  detail?: string | undefined;
  bankReference?: string | undefined;
  settledAt?: string | undefined;
}

export interface ResultsAnswer {
  recorded: Record<Outcome, Money>;
  /** Results already recorded exactly so: a repeated posting changes nothing. */
  unchanged: number;
  stillSent: number;
}

const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/**
 * The bank's results for a dispatched batch: sent → paid | failed | returned, idempotent by
 * payment (a result already recorded is `unchanged`; a different one for the same payment is a
 * 409). All or nothing: any bad result refuses the whole posting. The batch row is locked, so
 * postings of one batch (and its completion) take turns; the items change in one statement, which
 * also moves their amounts in the ledger.
 */
export function createResults({ db, audit, events, clock = () => new Date() }: PaymentDeps) {
  return async function postResults(
    caller: Caller,
    actor: AuditActor,
    id: string,
    results: PaymentResult[],
  ): Promise<ResultsAnswer> {
    const now = clock();
    const errors: FieldError[] = [];
    const seen = new Map<string, number>();
    results.forEach((r, i) => {
      if (seen.has(r.endToEndId))
        errors.push(body(`/results/${i}/endToEndId`, `repeats /results/${seen.get(r.endToEndId)}`));
      seen.set(r.endToEndId, i);
      if (r.status !== 'paid' && !r.reasonCode)
        errors.push(body(`/results/${i}/reasonCode`, `is required for a ${r.status} payment`));
      if (r.settledAt && new Date(r.settledAt) > now)
        errors.push(body(`/results/${i}/settledAt`, 'must not be in the future'));
    });
    if (errors.length > 0) throw validationError(errors);

    return db.transaction(async (tx) => {
      const batch = await lockBatch(tx, caller, id);
      requireStatus(batch, ['dispatched'], 'given results');
      const ids = results.map((r) => r.endToEndId);
      const found = await tx
        .select({ e2e: paymentItems.endToEndId, status: paymentItems.status, code: paymentItems.resultCode })
        .from(paymentItems)
        .where(
          sql`${paymentItems.batchId} = ${batch.id}::uuid and ${paymentItems.endToEndId} = any(${sql.param(ids)}::text[])`,
        );
      const current = new Map(found.map((f) => [f.e2e, f]));
      const contradicting: FieldError[] = [];
      let unchanged = 0;
      results.forEach((r, i) => {
        const item = current.get(r.endToEndId);
        if (!item) errors.push(body(`/results/${i}/endToEndId`, 'is not a payment of this batch'));
        else if (item.status === r.status && (r.status === 'paid' || item.code === r.reasonCode)) unchanged += 1;
        else if (item.status !== 'sent') {
          contradicting.push(
            body(`/results/${i}/status`, `the payment is ${item.status}${item.code ? ` (${item.code})` : ''} already`),
          );
        }
      });
      if (errors.length > 0) throw validationError(errors);
      if (contradicting.length > 0) {
        throw conflict('Some payments already have a different result; results are final.', { errors: contradicting });
      }

      const column = <K extends keyof PaymentResult>(k: K) => sql.param(results.map((r) => r[k] ?? null));
      const p = { batch, byClientId: actor.clientId, requestId: actor.requestId };
      const changed = await rows<{ status: Outcome; n: number; amt: number }>(
        tx,
        sql`
        with r (e2e, status, code, detail, ref, settled) as (
          select * from unnest(${column('endToEndId')}::text[], ${column('status')}::text[], ${column('reasonCode')}::text[],
                               ${column('detail')}::text[], ${column('bankReference')}::text[], ${column('settledAt')}::timestamptz[])
        ),
        upd as (
          update payment_items i set status = r.status, result_code = r.code, result_detail = r.detail,
            bank_reference = r.ref, result_at = coalesce(r.settled, ${now.toISOString()}::timestamptz)
          from r where i.batch_id = ${batch.id}::uuid and i.end_to_end_id = r.e2e and i.status = 'sent'
          returning i.id, i.region, i.status, i.amount_fen
        ),
        ${resultsLedgerCtes(p)}
        select status, count(*)::int as n, coalesce(sum(amount_fen), 0)::float8 as amt from upd group by status`,
      );
      const recorded = {
        paid: { count: 0, amountFen: 0 },
        failed: { count: 0, amountFen: 0 },
        returned: { count: 0, amountFen: 0 },
      };
      for (const c of changed) recorded[c.status] = { count: c.n, amountFen: Number(c.amt) };
      const [left] = await rows<{ n: number }>(
        tx,
        sql`select count(*)::int as n from payment_items where batch_id = ${batch.id}::uuid and status = 'sent'`,
      );
      const answer = { recorded, unchanged, stillSent: left!.n };
      if (changed.length === 0) return answer;

      const [updated] = await tx
        .update(paymentBatches)
        .set({ updatedAt: sql`now()`, version: batch.version + 1 })
        .where(eq(paymentBatches.id, batch.id))
        .returning();
      await addHistory(tx, batch.id, {
        status: batch.status,
        action: 'results_recorded',
        detail: answer,
        byClientId: actor.clientId,
      });
      await events.publish(tx, paymentBatchResultsRecorded, {
        subject: `payment_batch/${batch.id}`,
        region: batch.region,
        data: { ...batchEventData(updated!), ...answer },
      });
      const failures = results.filter((r) => r.status !== 'paid' && current.get(r.endToEndId)!.status === 'sent');
      if (failures.length > 0) {
        const items = await tx
          .select()
          .from(paymentItems)
          .where(
            sql`${paymentItems.batchId} = ${batch.id}::uuid and ${paymentItems.endToEndId} = any(${sql.param(failures.map((f) => f.endToEndId))}::text[])`,
          );
        await events.publishMany(
          tx,
          paymentFailed,
          items.map((i) => ({
            subject: `payment/${i.id}`,
            region: i.region,
            data: {
              paymentId: i.id,
              batchId: i.batchId,
              program: i.programCode,
              period: i.period,
              region: i.region,
              enrollmentId: i.enrollmentId,
              temporaryAssistanceId: i.temporaryAssistanceId,
              personId: i.personId,
              amountFen: i.amountFen,
              status: i.status,
              reasonCode: i.resultCode,
            },
          })),
        );
      }
      await audit.record(tx, actor, {
        operation: 'postPaymentResults',
        resourceType: 'payment_batch',
        resourceIds: [batch.id],
        detail: answer,
      });
      return answer;
    });
  };
}
