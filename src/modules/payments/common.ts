import { eq } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditService } from '../../platform/audit/service.js';
import type { AuthenticatedClient } from '../../platform/clients/service.js';
import { invalidState, notFound, ProblemError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { PolicyService } from '../registry/policies.service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { BatchEventData } from './events.js';
import { type BatchStatus, paymentBatches, paymentBatchHistory } from './tables.js';

export type BatchRow = typeof paymentBatches.$inferSelect;
export type Caller = Pick<AuthenticatedClient, 'id' | 'jurisdiction' | 'scopes'>;

export interface PaymentDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  policies: PolicyService;
  /** Opens the sealed payee accounts for finance and banks. */
  pii: PiiProtector;
  /** The time now: deadlines and overdue are judged against it. */
  clock?: () => Date;
  /** Runs in the approval's transaction (the bank file is written out from there, as a job). */
  onApproved?: (tx: Executor, batch: BatchRow) => Promise<unknown>;
}

/** Finance and banks see payees' accounts whole; everyone else the last four digits. */
export const seesAccounts = (caller: Pick<Caller, 'scopes'>) =>
  caller.scopes.includes('payments:approve') || caller.scopes.includes('payments:execute');

/** The month after a YYYY-MM period, as YYYY-MM. */
export function nextPeriod(period: string): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/**
 * The batch locked for a change: 404 when missing or outside the jurisdiction, 412 when If-Match is
 * stale. `key share` lets others holding it work at once (the bank's postings), while a change of
 * status (`update`) waits for them all, and they for it.
 */
export async function lockBatch(
  tx: Executor,
  caller: Jurisdictional,
  id: string,
  expectedVersion?: number,
  mode: 'update' | 'key share' = 'update',
) {
  const [row] = await tx.select().from(paymentBatches).where(eq(paymentBatches.id, id)).for(mode);
  if (!row || !inJurisdiction(caller, row.region)) throw notFound('payment batch');
  if (expectedVersion !== undefined && row.version !== expectedVersion) {
    throw new ProblemError(412, 'precondition-failed', 'The batch changed since you read it; read it again.', {
      currentETag: etagOf(row),
    });
  }
  return row;
}

/** 409 invalid-state unless the batch is in one of `allowed`. */
export function requireStatus(row: BatchRow, allowed: BatchStatus[], action: string) {
  if (!allowed.includes(row.status)) {
    throw invalidState(
      `The batch is ${row.status}; it can be ${action} only when ${allowed.join(' or ')}.`,
      row.status,
    );
  }
}

export async function addHistory(
  tx: Executor,
  batchId: string,
  entry: {
    status: BatchStatus;
    action: string;
    note?: string | null;
    detail?: Record<string, unknown> | null;
    byClientId: string | null;
  },
) {
  await tx.insert(paymentBatchHistory).values({
    batchId,
    status: entry.status,
    action: entry.action,
    note: entry.note ?? null,
    detail: entry.detail ?? null,
    byClientId: entry.byClientId,
  });
}

export const batchEventData = (b: BatchRow): BatchEventData => ({
  batchId: b.id,
  kind: b.kind,
  program: b.programCode,
  period: b.period,
  region: b.region,
  status: b.status,
  itemCount: b.itemCount,
  totalFen: b.totalFen,
  expedited: b.expedited,
  deadline: b.deadline?.toISOString() ?? null,
});

/** A unique violation of `index`, through drizzle's wrapper or not. */
export function isUniqueViolation(err: unknown, index: string): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint, message } = e as { code?: string; constraint?: string; message?: string };
    if (code === '23505' && (constraint === index || message?.includes(index))) return true;
  }
  return false;
}
