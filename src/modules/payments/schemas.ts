import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { programCodes } from '../registry/programs.rules.js';
import { regionCode } from '../registry/programs.schemas.js';
import { batchKinds, batchStatuses, exclusionReasons, itemStatuses } from './tables.js';

export const period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM')
  .describe('A payment period: a month, YYYY-MM (Asia/Shanghai)');
const program = z.enum(programCodes);
const note = z.string().trim().min(1).max(1000);
const bool = z.enum(['true', 'false']);

const Money = z
  .object({ count: z.number().int(), amountFen: z.number().int() })
  .meta({ id: 'PaymentMoney', description: 'How many payments, and their sum in fen' });

// ─── Requests ───────────────────────────────────────────────────────────────

export const NewBatchBody = z
  .object({
    program: z.enum(['dibao', 'tekun', 'price_subsidy']).describe('A monthly program'),
    period,
    region: regionCode.describe(
      'The region paid (a prefix: 220102 pays every enrollment in Nanguan), inside your jurisdiction',
    ),
    expedited: z
      .boolean()
      .optional()
      .describe(
        'Green channel: due within the greenChannelHours of the emergency policy in force for the region (400 when none is)',
      ),
  })
  .strict();

export const EmergencyPaymentBody = z
  .object({ temporaryAssistanceId: z.uuid().describe('A granted temporary assistance with cash (cashFen > 0)') })
  .strict();

export const FollowUpBody = z
  .object({
    itemIds: z
      .array(z.uuid())
      .min(1)
      .max(10_000)
      .optional()
      .describe(
        'Only these failed or returned payments; all not yet re-issued (and the enrollments left out) when omitted',
      ),
  })
  .strict();

export const NoteBody = z.object({ note: note.optional() }).strict();

export const ApproveBody = z
  .object({
    itemCount: z.number().int().min(0).describe('The batch’s declared count, as you saw it'),
    totalFen: z.number().int().min(0).describe('The batch’s declared total, as you saw it'),
    note: note.optional(),
  })
  .strict();

export const RejectBody = z.object({ reason: note }).strict();

export const PaymentResultBody = z
  .object({
    endToEndId: z.string().min(1).max(35).describe('The EndToEndId the payment was sent with'),
    status: z.enum(['paid', 'failed', 'returned']),
    reasonCode: z
      .string()
      .regex(/^[A-Z0-9]{2,4}$/, 'must be an ISO 20022 status reason code, e.g. AC04')
      .optional()
      .describe('Required for failed and returned (ISO 20022 ExternalStatusReason1Code: AC01, AC04, AM04, …)'),
    detail: z.string().trim().min(1).max(500).optional(),
    bankReference: z.string().trim().min(1).max(35).optional(),
    settledAt: timestamp.optional().describe('When it was settled or refused; now when omitted; not in the future'),
  })
  .strict();

export const ResultsAnswerSchema = z
  .object({
    batchId: z.uuid(),
    recorded: z.object({ paid: Money, failed: Money, returned: Money }).describe('What this posting changed'),
    unchanged: z.number().int().describe('Results already recorded exactly so (a repeated posting)'),
    stillSent: z.number().int().describe('Payments of the batch still awaiting a result'),
  })
  .meta({ id: 'PaymentResultsAnswer' });

export const ResultsBody = z.object({ results: z.array(PaymentResultBody).min(1).max(10_000) }).strict();

export const BatchListQuery = z.object({
  status: z.enum(batchStatuses).optional(),
  program: program.optional(),
  period: period.optional(),
  kind: z.enum(batchKinds).optional(),
  region: regionCode.optional().describe('Batches of regions inside this prefix (and inside your jurisdiction)'),
  expedited: bool.optional(),
  overdue: bool.optional().describe('true: expedited, past the deadline, and not completed'),
});

export const ItemListQuery = z.object({ status: z.enum(itemStatuses).optional() });

export const PaymentListQuery = z.object({
  program: program.optional(),
  period: period.optional(),
  status: z.enum(itemStatuses).optional(),
  region: regionCode.optional().describe('Payees’ regions inside this prefix (and inside your jurisdiction)'),
  batchId: z.uuid().optional(),
  personId: z.uuid().optional(),
  enrollmentId: z.uuid().optional(),
  temporaryAssistanceId: z.uuid().optional(),
});

export const ReconciliationQuery = z.object({
  program,
  period,
  region: regionCode
    .optional()
    .describe('Batches generated for regions inside this prefix; your jurisdiction when omitted'),
});

// ─── Responses ──────────────────────────────────────────────────────────────

const batchFields = {
  id: z.uuid(),
  kind: z
    .enum(batchKinds)
    .describe('regular: a month’s payments; follow_up: re-issues; emergency: one grant’s payment'),
  program,
  period,
  region: z.string(),
  status: z
    .enum(batchStatuses)
    .describe(
      'draft → submitted → approved | rejected → dispatched → completed → reconciled; cancelled: the temporary-assistance grant it pays was cancelled before the bank collected it (its payment withdrawn)',
    ),
  expedited: z.boolean().describe('Green channel'),
  deadline: timestamp.nullable().describe('To be completed by then (the policy’s greenChannelHours)'),
  overdue: z.boolean().describe('Past the deadline and not completed'),
  metDeadline: z.boolean().nullable().describe('Completed by the deadline; null until completed or without one'),
  policyId: z.uuid().nullable().describe('The emergency policy that set the deadline'),
  temporaryAssistanceId: z.uuid().nullable(),
  followsBatchId: z.uuid().nullable().describe('The batch whose failed payments a follow-up re-issues'),
  itemCount: z.number().int().describe('Declared count of payments'),
  totalFen: z.number().int().describe('Declared total, in fen'),
  excludedCount: z.number().int().describe('Enrollments left out (GET …/exclusions says why)'),
  createdBy: z.uuid().nullable(),
  createdAt: timestamp,
  submittedAt: timestamp.nullable(),
  decidedAt: timestamp.nullable(),
  decidedBy: z.uuid().nullable(),
  decisionReason: z.string().nullable().describe('The rejection’s reason, or the approval’s note'),
  dispatchedAt: timestamp.nullable(),
  completedAt: timestamp.nullable(),
  reconciledAt: timestamp.nullable(),
  updatedAt: timestamp,
};

export const BatchSummarySchema = z.object(batchFields).meta({ id: 'PaymentBatchSummary' });

export const BatchSchema = z
  .object({
    ...batchFields,
    payments: z
      .object(
        Object.fromEntries(itemStatuses.map((s) => [s, Money])) as Record<(typeof itemStatuses)[number], typeof Money>,
      )
      .describe('The batch’s payments by status'),
    history: z
      .array(
        z.object({
          at: timestamp,
          status: z.enum(batchStatuses),
          action: z
            .string()
            .describe(
              'generated, submitted, approved, rejected, dispatched, results_recorded, completed, reconciled, cancelled',
            ),
          note: z.string().nullable(),
          detail: z.record(z.string(), z.unknown()).nullable(),
          by: z.uuid().nullable(),
        }),
      )
      .describe('Every step, oldest first'),
  })
  .meta({ id: 'PaymentBatch' });

export const PaymentSchema = z
  .object({
    id: z.uuid(),
    batchId: z.uuid(),
    program,
    period,
    region: z.string().describe('The payee’s region'),
    enrollmentId: z.uuid().nullable(),
    temporaryAssistanceId: z.uuid().nullable(),
    householdId: z.uuid().nullable(),
    personId: z.uuid().describe('The payee'),
    amountFen: z.number().int(),
    status: z.enum(itemStatuses),
    endToEndId: z.string().describe('ISO 20022 EndToEndId; the bank reports the result by it'),
    payee: z.object({
      name: z.string(),
      bankName: z.string(),
      accountHolder: z.string(),
      accountNumber: z
        .string()
        .describe('Whole for finance and banks (payments:approve, payments:execute); the last four otherwise'),
      accountNumberMasked: z.boolean(),
    }),
    reissueOf: z.uuid().nullable().describe('The failed or returned payment this one re-issues'),
    reissuedBy: z.uuid().nullable().describe('The payment re-issuing this one'),
    sentAt: timestamp.nullable(),
    resultAt: timestamp.nullable(),
    resultCode: z.string().nullable(),
    resultDetail: z.string().nullable(),
    bankReference: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Payment' });

export const ExclusionSchema = z
  .object({
    enrollmentId: z.uuid().nullable(),
    failedPaymentId: z.uuid().nullable().describe('A failed payment that could not be re-issued'),
    householdId: z.uuid().nullable(),
    personId: z.uuid().nullable(),
    region: z.string(),
    reason: z.enum(exclusionReasons),
  })
  .meta({ id: 'PaymentExclusion' });

const reconciliationFields = {
  declared: Money,
  paid: Money,
  failed: Money,
  returned: Money,
  pending: Money.describe('Awaiting a result (pending or sent)'),
  cancelled: Money.describe(
    'Payments of a rejected batch, or withdrawn with their temporary-assistance grant (a cancelled batch)',
  ),
  reissued: Money.describe('Failed or returned payments re-issued in a follow-up batch'),
  outstandingFailures: Money.describe('Failed or returned payments not re-issued'),
  balanced: z.boolean().describe('declared = paid + failed + returned + pending + cancelled, in count and fen'),
  ledger: z.object({
    allocatedFen: z.number().int(),
    pendingFen: z.number().int(),
    paidFen: z.number().int(),
    failedFen: z.number().int(),
    returnedFen: z.number().int(),
  }),
  ledgerAgrees: z.boolean().describe('The journal’s balances equal the payments’ (nothing in it before approval)'),
};

export const BatchReconciliationSchema = z
  .object({ batchId: z.uuid(), status: z.enum(batchStatuses), ...reconciliationFields })
  .meta({ id: 'PaymentBatchReconciliation' });

export const PeriodReconciliationSchema = z
  .object({
    program,
    period,
    region: z.string(),
    ...reconciliationFields,
    batches: z.array(
      z.object({
        batchId: z.uuid(),
        kind: z.enum(batchKinds),
        status: z.enum(batchStatuses),
        region: z.string(),
        ...reconciliationFields,
      }),
    ),
  })
  .meta({ id: 'PaymentPeriodReconciliation' });
