import { type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { BatchRow } from './common.js';
import type { JournalKind, LedgerAccount } from './tables.js';

/**
 * The double-entry journal of payments. Accounts, in fen:
 * - `allocated`: credited when finance approves a batch (the funds it allocates);
 * - `pending`: debited by the approval (owed to payees), credited as the bank reports results;
 * - `paid`, `failed`, `returned`: debited by the bank's results.
 * So for any batch, allocated = pending + paid + failed + returned. A batch cancelled after its
 * approval (its grant cancelled before the bank had it) is given back by a `withdrawal`: allocated
 * debited, pending credited, so that both return to zero. Entries are kept per batch and
 * payee region (the items are the subledger); each journal transaction balances, which a deferred
 * constraint trigger checks at commit (migration payments_ledger), and nothing is ever changed.
 */

export type LedgerBalances = Record<LedgerAccount, number>;

interface Posting {
  batch: Pick<BatchRow, 'id' | 'programCode' | 'period'>;
  byClientId: string | null;
  requestId: string | null;
}

/** The journal row of a posting, as a CTE `j` (inserted only when `when` holds). */
const journalCte = (p: Posting, kind: JournalKind, when: SQL = sql`true`) => sql`
  j as (
    insert into payment_journal (batch_id, kind, by_client_id, request_id)
    select ${p.batch.id}::uuid, ${kind}, ${p.byClientId}::uuid, ${p.requestId} where ${when}
    returning id
  )`;

/** Entries of CTE `agg (region, account, amt)`: debit `account`, credit `credit`, per region. */
const entriesInsert = (p: Posting, credit: LedgerAccount) => sql`
  insert into payment_ledger_entries (journal_id, batch_id, program_code, period, region, account, side, amount_fen)
  select j.id, ${p.batch.id}::uuid, ${p.batch.programCode}, ${p.batch.period}, agg.region, x.account, x.side, agg.amt
  from j cross join agg
  cross join lateral (values (agg.account, 'debit'), (${credit}::text, 'credit')) as x(account, side)`;

/** Approval: what the batch pays is allocated (credit) and owed, pending (debit), per payee region. */
export async function postApproval(tx: Executor, p: Posting) {
  await tx.execute(sql`
    with ${journalCte(p, 'approval')},
    agg as (
      select region, 'pending'::text as account, sum(amount_fen)::bigint as amt
      from payment_items where batch_id = ${p.batch.id}::uuid and status = 'pending' group by region
    )
    ${entriesInsert(p, 'allocated')}`);
}

/**
 * Withdrawal: the reverse of the approval for the payments still pending (a cancelled batch's, about
 * to be cancelled): what was owed to payees (pending, credited) goes back to the funds (allocated,
 * debited), per payee region. Nothing is written when nothing is pending.
 */
export async function postWithdrawal(tx: Executor, p: Posting) {
  const pending = sql`select 1 from payment_items where batch_id = ${p.batch.id}::uuid and status = 'pending'`;
  await tx.execute(sql`
    with ${journalCte(p, 'withdrawal', sql`exists (${pending})`)},
    agg as (
      select region, 'allocated'::text as account, sum(amount_fen)::bigint as amt
      from payment_items where batch_id = ${p.batch.id}::uuid and status = 'pending' group by region
    )
    ${entriesInsert(p, 'pending')}`);
}

/**
 * The ledger part of a results statement: given CTE `upd (region, status, amount_fen)` of the
 * payments that just got their result, moves their amounts from pending to paid, failed or
 * returned in one journal transaction (none when nothing changed).
 */
export const resultsLedgerCtes = (p: Posting) => sql`
  ${journalCte(p, 'results', sql`exists (select 1 from upd)`)},
  agg as (select region, status as account, sum(amount_fen)::bigint as amt from upd group by region, status),
  led as (${entriesInsert(p, 'pending')} returning 1)`;

const signed = sql`sum(case side when 'debit' then amount_fen else -amount_fen end)::float8`;

/** Each account's balance (debit positive) per batch. */
export async function balancesOf(executor: Executor, batchIds: string[]): Promise<Map<string, LedgerBalances>> {
  const found = await rows<{ batch_id: string; account: LedgerAccount; balance: number }>(
    executor,
    sql`select batch_id, account, ${signed} as balance from payment_ledger_entries
        where batch_id = any(${sql.param(batchIds)}::uuid[]) group by batch_id, account`,
  );
  const out = new Map<string, LedgerBalances>();
  for (const id of batchIds) out.set(id, { allocated: 0, pending: 0, paid: 0, failed: 0, returned: 0 });
  for (const r of found) out.get(r.batch_id)![r.account] = Number(r.balance);
  return out;
}
