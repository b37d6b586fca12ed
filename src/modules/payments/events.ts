import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { batchKinds, batchStatuses, itemStatuses } from './tables.js';

/**
 * Events of payment batches. They go to `payments:read` (civil affairs, finance, banks) in the
 * batch's region; no names or accounts, only ids and amounts. Results are one event per posting
 * with the counts; only failed and returned payments get an event each (few, and each needs a
 * caseworker's attention).
 */

const money = z.object({ count: z.number().int(), amountFen: z.number().int() });

const batchData = z.object({
  batchId: z.uuid(),
  kind: z.enum(batchKinds),
  program: z.string(),
  period: z.string().describe('YYYY-MM'),
  region: z.string(),
  status: z.enum(batchStatuses),
  itemCount: z.number().int().describe('Declared count of payments'),
  totalFen: z.number().int().describe('Declared total, in fen'),
  expedited: z.boolean(),
  deadline: z.iso.datetime({ offset: true }).nullable().describe('Green channel: to be paid by then'),
});

export type BatchEventData = z.infer<typeof batchData>;

export const paymentBatchGenerated = defineEvent({
  type: 'payment_batch.generated',
  scope: 'payments:read',
  summary: 'A payment batch was generated (a month’s payments, a follow-up, or an emergency payment)',
  data: batchData.extend({
    excludedCount: z.number().int().describe('Enrollments left out, with reasons (GET …/exclusions)'),
    followsBatchId: z.uuid().nullable(),
    temporaryAssistanceId: z.uuid().nullable(),
  }),
});

export const paymentBatchSubmitted = defineEvent({
  type: 'payment_batch.submitted',
  scope: 'payments:read',
  summary: 'A payment batch was submitted to finance for approval',
  data: batchData,
});

export const paymentBatchApproved = defineEvent({
  type: 'payment_batch.approved',
  scope: 'payments:read',
  summary: 'Finance approved a payment batch: its funds are allocated and the bank may collect it',
  data: batchData,
});

export const paymentBatchRejected = defineEvent({
  type: 'payment_batch.rejected',
  scope: 'payments:read',
  summary: 'Finance rejected a payment batch; it can be generated again',
  data: batchData.extend({ reason: z.string() }),
});

export const paymentBatchDispatched = defineEvent({
  type: 'payment_batch.dispatched',
  scope: 'payments:read',
  summary: 'The bank collected an approved batch: its payments are sent',
  data: batchData,
});

export const paymentBatchResultsRecorded = defineEvent({
  type: 'payment_batch.results_recorded',
  scope: 'payments:read',
  summary: 'The bank reported results for payments of a batch (one event per posting, with its counts)',
  data: batchData.extend({
    recorded: z.object({ paid: money, failed: money, returned: money }).describe('What this posting changed'),
    unchanged: z.number().int().describe('Results already recorded (a repeated posting)'),
    stillSent: z.number().int().describe('Payments still awaiting a result'),
  }),
});

export const paymentFailed = defineEvent({
  type: 'payment.failed',
  scope: 'payments:read',
  summary: 'The bank reported a payment failed or returned: it can be re-issued in a follow-up batch',
  data: z.object({
    paymentId: z.uuid(),
    batchId: z.uuid(),
    program: z.string(),
    period: z.string(),
    region: z.string(),
    enrollmentId: z.uuid().nullable(),
    temporaryAssistanceId: z.uuid().nullable(),
    personId: z.uuid(),
    amountFen: z.number().int(),
    status: z.enum(itemStatuses),
    reasonCode: z.string().nullable(),
  }),
});

export const paymentBatchCompleted = defineEvent({
  type: 'payment_batch.completed',
  scope: 'payments:read',
  summary: 'Every payment of a batch has its result',
  data: batchData.extend({ paid: money, failed: money, returned: money, metDeadline: z.boolean().nullable() }),
});

export const paymentBatchReconciled = defineEvent({
  type: 'payment_batch.reconciled',
  scope: 'payments:read',
  summary: 'A completed batch was reconciled: declared = paid + failed + returned, to the fen, and the ledger agrees',
  data: batchData.extend({ paid: money, failed: money, returned: money }),
});

export const paymentBatchCancelled = defineEvent({
  type: 'payment_batch.cancelled',
  scope: 'payments:read',
  summary:
    'A batch was cancelled before the bank collected it: the temporary-assistance grant it pays was cancelled, so its payments are withdrawn (and, once approved, its funds given back in the ledger)',
  data: batchData.extend({
    previousStatus: z.enum(batchStatuses).describe('draft, submitted or approved'),
    temporaryAssistanceId: z.uuid().describe('The grant cancelled'),
    reason: z.string().describe('Why the grant was cancelled'),
    withdrawn: money.describe('The payments withdrawn'),
  }),
});
