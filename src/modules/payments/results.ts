import { eq, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, type FieldError, validationError } from '../../platform/errors.js';
import { type BatchRow, type Caller, lockBatch, type PaymentDeps, requireStatus } from './common.js';
import { paymentFailed } from './events.js';
import { createPostingRecord, type ResultsAnswer } from './results.record.js';
import { type PaymentResult, type Posted, postingSql, type Skipped, skippedSql } from './results.sql.js';
import { paymentBatches } from './tables.js';

export type { ResultsAnswer } from './results.record.js';
export type { Outcome, PaymentResult } from './results.sql.js';

const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/** Duplicates, missing reason codes and settlement times in the future: 400, before anything is read. */
function check(results: PaymentResult[], now: Date) {
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
}

/** Of the results that changed nothing: 400 when one names no payment of the batch, 409 when one contradicts a recorded result; else how many repeat one. */
function unchangedOf(skipped: Skipped[]): number {
  const unknown = skipped.filter((s) => s.current === null);
  if (unknown.length > 0)
    throw validationError(unknown.map((s) => body(`/results/${s.i}/endToEndId`, 'is not a payment of this batch')));
  const contradicting = skipped.filter((s) => !s.same);
  if (contradicting.length > 0) {
    throw conflict('Some payments already have a different result; results are final.', {
      errors: contradicting.map((s) =>
        body(`/results/${s.i}/status`, `the payment is ${s.current}${s.code ? ` (${s.code})` : ''} already`),
      ),
    });
  }
  return skipped.length;
}

/**
 * The bank's results for a dispatched batch: sent → paid | failed | returned, idempotent by
 * payment (a result already recorded is `unchanged`; a different one for the same payment is a
 * 409). All or nothing: any bad result refuses the whole posting (the transaction rolls back).
 * Postings of a batch run at once (a key-share lock on the batch keeps its status from changing
 * under them; completing it waits for them): each records its payments in one statement, then
 * takes its turn on the batch row to count them, with its history, events and audit row.
 */
export function createResults({ db, audit, events, clock = () => new Date() }: PaymentDeps) {
  const recordPosting = createPostingRecord({ db, events, audit });

  return async function postResults(
    caller: Caller,
    actor: AuditActor,
    id: string,
    results: PaymentResult[],
  ): Promise<ResultsAnswer> {
    const now = clock();
    check(results, now);
    return db.transaction(async (tx) => {
      const batch = await lockBatch(tx, caller, id, undefined, 'key share');
      requireStatus(batch, ['dispatched'], 'given results');
      const [posted] = await rows<Posted>(tx, postingSql(batch, results, now, actor.clientId, actor.requestId));
      const skipped = posted!.skipped ?? [];
      const unchanged =
        skipped.length === 0 ? 0 : unchangedOf(await rows<Skipped>(tx, skippedSql(batch.id, results, skipped)));
      const recorded = {
        paid: { count: 0, amountFen: 0 },
        failed: { count: 0, amountFen: 0 },
        returned: { count: 0, amountFen: 0 },
      };
      for (const c of posted!.recorded) recorded[c.status] = { count: c.n, amountFen: Number(c.amt) };
      const changed = results.length - skipped.length;
      if (changed === 0) {
        const [counted] = await rows<{ n: number }>(
          tx,
          sql`select result_count as n from payment_batches where id = ${id}::uuid`,
        );
        return { recorded, unchanged, stillSent: batch.itemCount - counted!.n };
      }
      // A failed payment's event has a subject of its own: written before the posting's turn.
      await publishFailures(tx, batch, posted!.failures);
      // The turn on the batch row: counted, then recorded, then committed.
      const [updated] = await tx
        .update(paymentBatches)
        .set({
          resultCount: sql`${paymentBatches.resultCount} + ${changed}`,
          version: sql`${paymentBatches.version} + 1`,
          updatedAt: sql`now()`,
        })
        .where(eq(paymentBatches.id, batch.id))
        .returning();
      const answer = { recorded, unchanged, stillSent: updated!.itemCount - updated!.resultCount };
      await recordPosting(tx, actor, updated!, answer);
      return answer;
    });
  };

  /** An event for each payment that failed or was returned now. */
  async function publishFailures(tx: Executor, batch: BatchRow, failures: Posted['failures']) {
    if (failures.length === 0) return;
    await events.publishMany(
      tx,
      paymentFailed,
      failures.map((i) => ({
        subject: `payment/${i.id}`,
        region: i.region,
        data: {
          paymentId: i.id,
          batchId: batch.id,
          program: batch.programCode,
          period: batch.period,
          region: i.region,
          enrollmentId: i.enrollment_id,
          temporaryAssistanceId: i.temporary_assistance_id,
          personId: i.person_id,
          amountFen: Number(i.amount_fen),
          status: i.status,
          reasonCode: i.result_code,
        },
      })),
    );
  }
}
