import type { ProgramCode } from '../registry/programs.rules.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { BatchRow } from './common.js';
import type { Money } from './reconciliation.js';
import { type ItemStatus, itemStatuses, type paymentBatchHistory, type paymentItems } from './tables.js';

export type ItemRow = typeof paymentItems.$inferSelect;
/** A payment with the one re-issuing it, if any. */
export type PaymentRow = ItemRow & { reissuedBy: string | null };
type HistoryRow = typeof paymentBatchHistory.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const open = new Set(['draft', 'submitted', 'approved', 'dispatched']);

/** Past its deadline and not completed, at `now`. */
export const isOverdue = (b: BatchRow, now: Date) => b.deadline !== null && b.deadline < now && open.has(b.status);

export const batchSummaryOut = (b: BatchRow, now: Date) => ({
  id: b.id,
  kind: b.kind,
  program: b.programCode as ProgramCode,
  period: b.period,
  region: b.region,
  status: b.status,
  expedited: b.expedited,
  deadline: iso(b.deadline),
  overdue: isOverdue(b, now),
  metDeadline: b.deadline && b.completedAt ? b.completedAt <= b.deadline : null,
  policyId: b.policyId,
  temporaryAssistanceId: b.temporaryAssistanceId,
  followsBatchId: b.followsBatchId,
  itemCount: b.itemCount,
  totalFen: b.totalFen,
  excludedCount: b.excludedCount,
  createdBy: b.createdByClientId,
  createdAt: b.createdAt.toISOString(),
  submittedAt: iso(b.submittedAt),
  decidedAt: iso(b.decidedAt),
  decidedBy: b.decidedByClientId,
  decisionReason: b.decisionReason,
  dispatchedAt: iso(b.dispatchedAt),
  completedAt: iso(b.completedAt),
  reconciledAt: iso(b.reconciledAt),
  updatedAt: b.updatedAt.toISOString(),
});

export interface BatchView {
  batch: BatchRow;
  payments: Map<ItemStatus, Money>;
  history: HistoryRow[];
}

export const batchOut = (v: BatchView, now: Date) => ({
  ...batchSummaryOut(v.batch, now),
  payments: Object.fromEntries(itemStatuses.map((s) => [s, v.payments.get(s) ?? { count: 0, amountFen: 0 }])) as Record<
    ItemStatus,
    Money
  >,
  history: v.history.map((h) => ({
    at: h.at.toISOString(),
    status: h.status as BatchRow['status'],
    action: h.action,
    note: h.note,
    detail: h.detail,
    by: h.byClientId,
  })),
});

/** A payment as the caller may see it: the payee's account whole only for finance and banks. */
export const paymentOut = (pii: PiiProtector, i: PaymentRow, reveal: boolean) => ({
  id: i.id,
  batchId: i.batchId,
  program: i.programCode as ProgramCode,
  period: i.period,
  region: i.region,
  enrollmentId: i.enrollmentId,
  temporaryAssistanceId: i.temporaryAssistanceId,
  householdId: i.householdId,
  personId: i.personId,
  amountFen: i.amountFen,
  status: i.status,
  endToEndId: i.endToEndId,
  payee: {
    name: i.payeeName,
    bankName: i.bankName,
    accountHolder: i.accountHolder,
    accountNumber: reveal ? pii.open(i.accountSealed) : i.accountMasked,
    accountNumberMasked: !reveal,
  },
  reissueOf: i.reissueOf,
  reissuedBy: i.reissuedBy,
  sentAt: iso(i.sentAt),
  resultAt: iso(i.resultAt),
  resultCode: i.resultCode,
  resultDetail: i.resultDetail,
  bankReference: i.bankReference,
  createdAt: i.createdAt.toISOString(),
});
