import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { effectiveRegionPrefix } from '../../platform/jurisdiction.js';
import type { ProgramCode } from '../registry/programs.rules.js';
import { type Caller, type PaymentDeps, seesAccounts } from './common.js';
import { createFollowUps } from './follow-up.js';
import { createGeneration } from './generate.js';
import { createGrantPayments } from './grants.js';
import { createLifecycle } from './lifecycle.js';
import { createQueries } from './queries.js';
import { reconcileBatches, total } from './reconciliation.js';
import { createResults } from './results.js';
import { paymentBatches } from './tables.js';
import { type PaymentRow, paymentOut } from './view.js';

/**
 * Payment disbursement (measure 3, and measure 1's emergency payments): batches generated from the
 * registry's enrollments and grants, finance's approval, the bank's results, the ledger and
 * reconciliation. `clock` judges deadlines (tests may set it).
 */
export function createPaymentService(deps: PaymentDeps) {
  const { db, clock = () => new Date() } = deps;
  const queries = createQueries(deps);
  const generation = createGeneration(deps);

  /** One batch's reconciliation, as it stands. */
  async function batchReconciliation(caller: Caller, id: string) {
    const batch = await queries.batchOf(db, caller, id);
    const report = (await reconcileBatches(db, [batch])).get(id)!;
    return { batchId: id, status: batch.status, ...report };
  }

  /**
   * A program's period in a region: every batch (not rejected) generated for a region inside the
   * prefix, each reconciled and summed.
   */
  async function periodReconciliation(
    caller: Caller,
    q: { program: ProgramCode; period: string; region?: string | undefined },
  ) {
    const prefix = effectiveRegionPrefix(caller, q.region);
    const batches =
      prefix === null
        ? []
        : await db
            .select()
            .from(paymentBatches)
            .where(
              and(
                eq(paymentBatches.programCode, q.program),
                eq(paymentBatches.period, q.period),
                ne(paymentBatches.status, 'rejected'),
                sql`${paymentBatches.region} like ${`${prefix}%`}`,
              ),
            )
            .orderBy(asc(paymentBatches.createdAt), asc(paymentBatches.id));
    const reports = await reconcileBatches(db, batches);
    return {
      program: q.program,
      period: q.period,
      region: prefix ?? q.region ?? caller.jurisdiction,
      ...total([...reports.values()]),
      batches: batches.map((b) => ({
        batchId: b.id,
        kind: b.kind,
        status: b.status,
        region: b.region,
        ...reports.get(b.id)!,
      })),
    };
  }

  return {
    ...queries,
    ...generation,
    ...createFollowUps(deps),
    ...createLifecycle(deps),
    ...createGrantPayments(deps),
    postResults: createResults(deps),
    batchReconciliation,
    periodReconciliation,
    /** A payment as this caller may see it (accounts whole for finance and banks). */
    paymentOut: (item: PaymentRow, caller: Caller) => paymentOut(deps.pii, item, seesAccounts(caller)),
    now: clock,
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
