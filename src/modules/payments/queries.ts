import { and, asc, desc, eq, gt, type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { notFound } from '../../platform/errors.js';
import { effectiveRegionPrefix, inJurisdiction } from '../../platform/jurisdiction.js';
import type { BatchRow, Caller, PaymentDeps } from './common.js';
import type { Money } from './reconciliation.js';
import {
  type BatchStatus,
  type ItemStatus,
  paymentBatches,
  paymentBatchHistory,
  paymentExclusions,
  paymentItems,
} from './tables.js';
import type { BatchView, ItemRow } from './view.js';

export interface BatchFilter {
  status?: BatchStatus | undefined;
  program?: string | undefined;
  period?: string | undefined;
  kind?: BatchRow['kind'] | undefined;
  region?: string | undefined;
  expedited?: boolean | undefined;
  overdue?: boolean | undefined;
  after?: string | undefined;
  limit: number;
}

export interface PaymentFilter {
  program?: string | undefined;
  period?: string | undefined;
  status?: ItemStatus | undefined;
  region?: string | undefined;
  batchId?: string | undefined;
  personId?: string | undefined;
  enrollmentId?: string | undefined;
  temporaryAssistanceId?: string | undefined;
  after?: string | undefined;
  limit: number;
}

const b = paymentBatches;
const i = paymentItems;
const overdueSql = (now: Date) =>
  sql`${b.deadline} is not null and ${b.deadline} < ${now.toISOString()}::timestamptz and ${b.status} in ('draft','submitted','approved','dispatched')`;
/** The period is one payments have been made for (payment_item_periods(), migration payments_by_household). */
const inPaidPeriods = sql`payment_items.period = any(array(select payment_item_periods()))`;
/** The payment re-issuing this one, if any. */
const reissuedBy = sql<string | null>`(select r.id from payment_items r where r.reissue_of = payment_items.id limit 1)`;

/**
 * The status every payment of the batch has, when its own status says so: none has moved before
 * dispatch (a rejection or a cancellation cancels them all; dispatch sends them all) nor before the bank's first
 * result. The batch's declared count and total are then its payments' (a big batch is not counted
 * again at each step).
 */
function uniformStatus(batch: BatchRow): ItemStatus | null {
  if (batch.status === 'draft' || batch.status === 'submitted' || batch.status === 'approved') return 'pending';
  if (batch.status === 'rejected' || batch.status === 'cancelled') return 'cancelled';
  if (batch.status === 'dispatched' && batch.resultCount === 0) return 'sent';
  return null;
}

/** Reads of batches and payments, inside the caller's jurisdiction; reads naming payees are audited. */
export function createQueries({ db, audit, clock = () => new Date() }: PaymentDeps) {
  async function batchOf(executor: Executor, caller: Caller, id: string): Promise<BatchRow> {
    const [row] = await executor.select().from(b).where(eq(b.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('payment batch');
    return row;
  }

  /** A batch with its payments by status and its history. */
  async function viewOf(batch: BatchRow): Promise<BatchView> {
    const all = uniformStatus(batch);
    const [figures, history] = await Promise.all([
      all
        ? [{ status: all, n: batch.itemCount, amt: batch.totalFen }]
        : rows<{ status: ItemStatus; n: number; amt: number }>(
            db,
            sql`select status, count(*)::int as n, coalesce(sum(amount_fen), 0)::float8 as amt
                from payment_items where batch_id = ${batch.id}::uuid group by status`,
          ),
      db
        .select()
        .from(paymentBatchHistory)
        .where(eq(paymentBatchHistory.batchId, batch.id))
        .orderBy(asc(paymentBatchHistory.id)),
    ]);
    const payments = new Map<ItemStatus, Money>(
      figures.map((f) => [f.status, { count: f.n, amountFen: Number(f.amt) }]),
    );
    return { batch, payments, history };
  }

  const getBatch = async (caller: Caller, id: string) => viewOf(await batchOf(db, caller, id));

  /** Newest first. */
  async function listBatches(caller: Caller, filter: BatchFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [sql`${b.region} like ${`${prefix}%`}`];
    if (filter.status) conditions.push(eq(b.status, filter.status));
    if (filter.program) conditions.push(eq(b.programCode, filter.program));
    if (filter.period) conditions.push(eq(b.period, filter.period));
    if (filter.kind) conditions.push(eq(b.kind, filter.kind));
    if (filter.expedited !== undefined) conditions.push(eq(b.expedited, filter.expedited));
    if (filter.overdue === true) conditions.push(overdueSql(clock()));
    if (filter.overdue === false) conditions.push(sql`not (${overdueSql(clock())})`);
    if (filter.after) {
      conditions.push(
        sql`(${b.createdAt}, ${b.id}) < (select x.created_at, x.id from payment_batches x where x.id = ${filter.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(b)
      .where(and(...conditions))
      .orderBy(desc(b.createdAt), desc(b.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  /** What waits for finance: submitted batches, the most urgent first (by deadline, then as submitted). */
  async function awaitingApproval(
    caller: Caller,
    filter: { region?: string | undefined; after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const key = (t: string) => sql.raw(`coalesce(${t}.deadline, 'infinity'::timestamptz), ${t}.submitted_at, ${t}.id`);
    const found = await db
      .select()
      .from(b)
      .where(
        and(
          eq(b.status, 'submitted'),
          sql`${b.region} like ${`${prefix}%`}`,
          filter.after
            ? sql`(${key('payment_batches')}) > (select ${key('x')} from payment_batches x where x.id = ${filter.after}::uuid)`
            : undefined,
        ),
      )
      .orderBy(sql`coalesce(${b.deadline}, 'infinity'::timestamptz)`, asc(b.submittedAt), asc(b.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  async function recordRead(actor: AuditActor, operation: string, items: ItemRow[]) {
    if (items.length === 0) return;
    await audit.recordRead(actor, {
      operation,
      resourceType: 'payment',
      resourceIds: items.map((x) => x.id),
      personIds: [...new Set(items.map((x) => x.personId))],
    });
  }

  /** Payments by id (a batch's, or anyone's inside the jurisdiction by payee region). */
  async function listPayments(caller: Caller, actor: AuditActor, filter: PaymentFilter, batch?: BatchRow) {
    const conditions: SQL[] = [];
    if (batch) conditions.push(eq(i.batchId, batch.id));
    else {
      const prefix = effectiveRegionPrefix(caller, filter.region);
      if (prefix === null) return { items: [], more: false };
      conditions.push(sql`${i.region} like ${`${prefix}%`}`);
      if (filter.batchId) conditions.push(eq(i.batchId, filter.batchId));
    }
    if (filter.program) conditions.push(eq(i.programCode, filter.program));
    if (filter.period) conditions.push(eq(i.period, filter.period));
    if (filter.status) conditions.push(eq(i.status, filter.status));
    if (filter.personId) {
      conditions.push(eq(i.personId, filter.personId));
      // There is no index by person: their household's enrollments and their grants lead to them.
      conditions.push(sql`${i.id} in (select * from payment_items_of_person(${filter.personId}::uuid))`);
    }
    if (filter.enrollmentId) {
      conditions.push(eq(i.enrollmentId, filter.enrollmentId));
      // Live payments are found in payment_items_enrollment_once_idx (program first), the others in
      // payment_items_period_enrollment_not_live_idx (tables.ts).
      conditions.push(sql`((${i.live} and ${i.programCode} = (select e.program_code from enrollments e
        where e.id = ${filter.enrollmentId}::uuid)) or not ${i.live})`);
    }
    // The indexes by enrollment lead with the period (after the program): name the periods.
    if (filter.enrollmentId && !filter.period) conditions.push(inPaidPeriods);
    if (filter.temporaryAssistanceId) conditions.push(eq(i.temporaryAssistanceId, filter.temporaryAssistanceId));
    if (filter.after) conditions.push(gt(i.id, filter.after));
    const found = await db
      .select({ item: i, reissuedBy })
      .from(i)
      .where(and(...conditions))
      .orderBy(asc(i.id))
      .limit(filter.limit + 1);
    const items = found.slice(0, filter.limit).map((f) => ({ ...f.item, reissuedBy: f.reissuedBy }));
    await recordRead(actor, batch ? 'listBatchPayments' : 'listPayments', items);
    return { items, more: found.length > filter.limit };
  }

  async function listBatchPayments(caller: Caller, actor: AuditActor, id: string, filter: PaymentFilter) {
    return listPayments(caller, actor, filter, await batchOf(db, caller, id));
  }

  async function getPayment(caller: Caller, actor: AuditActor, id: string) {
    const [found] = await db.select({ item: i, reissuedBy }).from(i).where(eq(i.id, id));
    if (!found || !inJurisdiction(caller, found.item.region)) throw notFound('payment');
    const item = { ...found.item, reissuedBy: found.reissuedBy };
    await recordRead(actor, 'getPayment', [item]);
    return item;
  }

  async function listExclusions(caller: Caller, id: string, filter: { after?: number | undefined; limit: number }) {
    await batchOf(db, caller, id);
    const found = await db
      .select()
      .from(paymentExclusions)
      .where(and(eq(paymentExclusions.batchId, id), filter.after ? gt(paymentExclusions.id, filter.after) : undefined))
      .orderBy(asc(paymentExclusions.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  return {
    batchOf,
    viewOf,
    getBatch,
    listBatches,
    awaitingApproval,
    listPayments,
    listBatchPayments,
    getPayment,
    listExclusions,
  };
}
