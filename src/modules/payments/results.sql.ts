import { type SQL, sql } from 'drizzle-orm';
import type { BatchRow } from './common.js';
import { resultsLedgerCtes } from './ledger.js';

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

/** What a posting's statement answers. */
export interface Posted {
  recorded: { status: Outcome; n: number; amt: number }[];
  /** Positions of the results that changed no payment (repeated, unknown or contradicting ones). */
  skipped: number[] | null;
  /** The payments that failed or were returned now, for their events. */
  failures: {
    id: string;
    region: string;
    status: Outcome;
    amount_fen: number;
    enrollment_id: string | null;
    temporary_assistance_id: string | null;
    person_id: string;
    result_code: string | null;
  }[];
}

/** A result that changed no payment, as the payment stands: repeated (`same`), unknown (`current` null) or contradicting. */
export interface Skipped {
  i: number;
  current: string | null;
  code: string | null;
  same: boolean | null;
}

/**
 * The id of the payment an EndToEndId names, for `u.e2e`: a payment made with a random EndToEndId
 * (before migration payments_bulk) is found in the index of such EndToEndIds; any other's
 * EndToEndId is its id's 32 hex digits (tables.ts). The caller also compares the EndToEndId itself.
 */
const itemIdOf = sql`coalesce(
  (select l.id from payment_items l where l.end_to_end_id = u.e2e and l.end_to_end_id <> replace(l.id::text, '-', '')),
  case when u.e2e ~ '^[0-9a-f]{32}$' then u.e2e::uuid end)`;

/** The results as a relation r (e2e, status, code, detail, ref, settled, ord, item), ord counting from 1. */
function resultsRelation(results: PaymentResult[]): SQL {
  const column = <K extends keyof PaymentResult>(k: K) => sql.param(results.map((r) => r[k] ?? null));
  return sql`r (e2e, status, code, detail, ref, settled, ord, item) as (
      select u.*, ${itemIdOf}
      from unnest(${column('endToEndId')}::text[], ${column('status')}::text[], ${column('reasonCode')}::text[],
                  ${column('detail')}::text[], ${column('bankReference')}::text[], ${column('settledAt')}::timestamptz[])
           with ordinality u (e2e, status, code, detail, ref, settled, ord)
    )`;
}

/**
 * One statement: the batch's payments still sent get their result, by EndToEndId, in id order
 * (two postings at once lock the payments they share in the same order: one waits, none
 * deadlocks), and the ledger moves their amounts in one journal transaction. Answers what changed,
 * and which results changed nothing (a posting at once may have recorded them meanwhile: they are
 * read again by `skippedSql`, in a statement that sees it).
 */
export function postingSql(
  batch: Pick<BatchRow, 'id' | 'programCode' | 'period'>,
  results: PaymentResult[],
  now: Date,
  byClientId: string | null,
  requestId: string | null,
): SQL {
  return sql`
    with ${resultsRelation(results)},
    upd as (
      update payment_items i set status = r.status, result_code = r.code, result_detail = r.detail,
        bank_reference = r.ref, result_at = coalesce(r.settled, ${now.toISOString()}::timestamptz)
      from (select * from r order by item) r
      where i.id = r.item and i.end_to_end_id = r.e2e and i.batch_id = ${batch.id}::uuid and i.status = 'sent'
      returning r.ord, i.id, i.region, i.status, i.amount_fen, i.enrollment_id, i.temporary_assistance_id,
        i.person_id, i.result_code
    ),
    ${resultsLedgerCtes({ batch, byClientId, requestId })}
    select
      (select coalesce(json_agg(g), '[]') from (
         select status, count(*)::int as n, sum(amount_fen)::float8 as amt from upd group by status) g) as recorded,
      (select array_agg(ord::int - 1 order by ord) from r where ord not in (select ord from upd)) as skipped,
      (select coalesce(json_agg(u), '[]') from upd u where status <> 'paid') as failures`;
}

/** The results at `positions` (which changed nothing), against their payments as they stand now. */
export function skippedSql(batchId: string, results: PaymentResult[], positions: number[]): SQL {
  const chosen = positions.map((i) => results[i]!);
  return sql`
    with ${resultsRelation(chosen)}
    select (${sql.param(positions)}::int[])[r.ord] as i, cur.status as current, cur.result_code as code,
      cur.status = r.status and (r.status = 'paid' or cur.result_code = r.code) as same
    from r left join payment_items cur on cur.id = r.item and cur.end_to_end_id = r.e2e and cur.batch_id = ${batchId}::uuid
    order by r.ord`;
}
