import { sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { BatchRow } from './common.js';
import { balancesOf, type LedgerBalances } from './ledger.js';
import type { ItemStatus } from './tables.js';

export interface Money {
  count: number;
  amountFen: number;
}

/**
 * Declared = paid + failed + returned + pending (+ cancelled: a rejected or cancelled batch's), to
 * the fen; the ledger agrees.
 */
export interface Reconciliation {
  declared: Money;
  paid: Money;
  failed: Money;
  returned: Money;
  /** Awaiting a result: pending (not yet collected by the bank) or sent. */
  pending: Money;
  cancelled: Money;
  /** Failed or returned payments re-issued in a follow-up batch, and those not (yet). */
  reissued: Money;
  outstandingFailures: Money;
  balanced: boolean;
  ledger: { allocatedFen: number; pendingFen: number; paidFen: number; failedFen: number; returnedFen: number };
  ledgerAgrees: boolean;
}

const zero = (): Money => ({ count: 0, amountFen: 0 });
const add = (a: Money, b: Money): Money => ({ count: a.count + b.count, amountFen: a.amountFen + b.amountFen });
const equal = (a: Money, b: Money) => a.count === b.count && a.amountFen === b.amountFen;

/**
 * Statuses whose batch has been approved: its funds are in the ledger. A batch cancelled after its
 * approval had its funds given back (a withdrawal): nothing is left in its ledger.
 */
const allocated = new Set(['approved', 'dispatched', 'completed', 'reconciled']);

/** Items by status and re-issues, per batch. */
async function itemFigures(executor: Executor, ids: string[]) {
  const byStatus = await rows<{ batch_id: string; status: ItemStatus; n: number; amt: number }>(
    executor,
    sql`select batch_id, status, count(*)::int as n, coalesce(sum(amount_fen), 0)::float8 as amt
        from payment_items where batch_id = any(${sql.param(ids)}::uuid[]) group by batch_id, status`,
  );
  const reissued = await rows<{ batch_id: string; n: number; amt: number }>(
    executor,
    sql`select f.batch_id, count(*)::int as n, coalesce(sum(f.amount_fen), 0)::float8 as amt
        from payment_items f
        where f.batch_id = any(${sql.param(ids)}::uuid[]) and f.status in ('failed','returned')
          and exists (select 1 from payment_items r where r.reissue_of = f.id)
        group by f.batch_id`,
  );
  return { byStatus, reissued };
}

function reportOf(
  batch: BatchRow,
  items: Map<ItemStatus, Money>,
  reissued: Money,
  ledger: LedgerBalances,
): Reconciliation {
  const of = (s: ItemStatus) => items.get(s) ?? zero();
  const pending = add(of('pending'), of('sent'));
  const declared = { count: batch.itemCount, amountFen: batch.totalFen };
  const sum = [of('paid'), of('failed'), of('returned'), pending, of('cancelled')].reduce(add, zero());
  const failures = add(of('failed'), of('returned'));
  const inLedger = allocated.has(batch.status);
  const expect = (m: Money) => (inLedger ? m.amountFen : 0);
  const book = {
    allocatedFen: -ledger.allocated,
    pendingFen: ledger.pending,
    paidFen: ledger.paid,
    failedFen: ledger.failed,
    returnedFen: ledger.returned,
  };
  return {
    declared,
    paid: of('paid'),
    failed: of('failed'),
    returned: of('returned'),
    pending,
    cancelled: of('cancelled'),
    reissued,
    outstandingFailures: { count: failures.count - reissued.count, amountFen: failures.amountFen - reissued.amountFen },
    balanced: equal(declared, sum),
    ledger: book,
    ledgerAgrees:
      book.allocatedFen === expect(declared) &&
      book.pendingFen === expect(pending) &&
      book.paidFen === expect(of('paid')) &&
      book.failedFen === expect(of('failed')) &&
      book.returnedFen === expect(of('returned')),
  };
}

/** Each batch's reconciliation, from its items and its ledger entries. */
export async function reconcileBatches(executor: Executor, batches: BatchRow[]): Promise<Map<string, Reconciliation>> {
  const ids = batches.map((b) => b.id);
  const out = new Map<string, Reconciliation>();
  if (ids.length === 0) return out;
  const [{ byStatus, reissued }, ledger] = await Promise.all([itemFigures(executor, ids), balancesOf(executor, ids)]);
  for (const batch of batches) {
    const items = new Map<ItemStatus, Money>();
    for (const r of byStatus.filter((x) => x.batch_id === batch.id)) {
      items.set(r.status, { count: r.n, amountFen: Number(r.amt) });
    }
    const re = reissued.find((r) => r.batch_id === batch.id);
    const again = re ? { count: re.n, amountFen: Number(re.amt) } : zero();
    out.set(batch.id, reportOf(batch, items, again, ledger.get(batch.id)!));
  }
  return out;
}

/** The sum of several batches' reconciliations (a program, period and region). */
export function total(reports: Reconciliation[]): Reconciliation {
  const money = [
    'declared',
    'paid',
    'failed',
    'returned',
    'pending',
    'cancelled',
    'reissued',
    'outstandingFailures',
  ] as const;
  const sum = Object.fromEntries(money.map((k) => [k, reports.map((r) => r[k]).reduce(add, zero())])) as Pick<
    Reconciliation,
    (typeof money)[number]
  >;
  const ledgerKeys = ['allocatedFen', 'pendingFen', 'paidFen', 'failedFen', 'returnedFen'] as const;
  const ledger = Object.fromEntries(
    ledgerKeys.map((k) => [k, reports.reduce((n, r) => n + r.ledger[k], 0)]),
  ) as Reconciliation['ledger'];
  return {
    ...sum,
    balanced: reports.every((r) => r.balanced),
    ledger,
    ledgerAgrees: reports.every((r) => r.ledgerAgrees),
  };
}
