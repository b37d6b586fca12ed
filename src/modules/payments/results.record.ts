import { sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { EventService } from '../../platform/events/service.js';
import { batchEventData, type BatchRow } from './common.js';
import { paymentBatchResultsRecorded } from './events.js';
import type { Money } from './reconciliation.js';
import type { Outcome } from './results.sql.js';
import { paymentBatchHistory } from './tables.js';

export interface ResultsAnswer {
  recorded: Record<Outcome, Money>;
  /** Results already recorded exactly so: a repeated posting changes nothing. */
  unchanged: number;
  stillSent: number;
}

const at = (field: string) => sql.placeholder(`history.${field}`);

/**
 * What a posting that changed payments writes once it has counted them on the batch row (while
 * other postings of the batch wait for that row): its history row, its event and its audit row,
 * in one statement (common table expressions from `events.publishWith` and `audit.recordWith`),
 * so that the turn on the batch row lasts two round trips and the commit.
 */
export function createPostingRecord({ events, audit }: { db: Db; events: EventService; audit: AuditService }) {
  const event = events.publishWith(paymentBatchResultsRecorded);
  const audited = audit.recordWith();

  function statement(executor: Executor) {
    const history = executor.$with('history', { id: sql<number>`id`.as('id') }).as(
      executor
        .insert(paymentBatchHistory)
        .values({
          batchId: at('batchId'),
          status: at('status'),
          action: 'results_recorded',
          detail: sql`${at('detail')}::jsonb`,
          byClientId: at('byClientId'),
        } as unknown as typeof paymentBatchHistory.$inferInsert)
        .returning({ id: paymentBatchHistory.id })
        .getSQL(),
    );
    return executor
      .with(history, ...event.ctes, audited.cte)
      .select({ id: history.id })
      .from(history);
  }

  return async function record(tx: Executor, actor: AuditActor, batch: BatchRow, answer: ResultsAnswer) {
    await statement(tx).execute({
      'history.batchId': batch.id,
      'history.status': batch.status,
      'history.detail': JSON.stringify(answer),
      'history.byClientId': actor.clientId,
      ...event.values({
        subject: `payment_batch/${batch.id}`,
        region: batch.region,
        data: { ...batchEventData(batch), ...answer },
      }),
      ...audited.values(actor, {
        operation: 'postPaymentResults',
        resourceType: 'payment_batch',
        resourceIds: [batch.id],
        detail: { ...answer },
      }),
    });
  };
}
