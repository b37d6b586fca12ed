import { randomBytes } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { nextPeriod } from './common.js';

/**
 * The set-based statements that make up batches. Each fills a batch in one statement: candidates
 * are selected, the payable ones inserted as items and the others as exclusions (with the reason),
 * and the batch's declared count and total set from what was inserted. The unique indexes of
 * payment_items decide when another batch pays the same enrollment (or grant, or failed payment)
 * meanwhile: follow-ups and emergency payments leave it out (`on conflict do nothing`); a month's
 * batch, whose speculative inserts would cost a third more, fails and is made again
 * (retryingWhenPaidMeanwhile).
 */

export interface Scope {
  batchId: string;
  program: string;
  period: string;
}

/**
 * The payee: the person an enrollment supports (tekun), or the head of its household (the first
 * by id, should there be two: DISTINCT ON below). Joined rather than looked up per enrollment:
 * half a million index lookups took longer than a pass over persons.
 */
const payeeJoin = sql`left join persons head on e.person_id is null and head.household_id = e.household_id and head.relationship = 'head'
  left join lateral (select * from persons p where e.person_id is not null and p.id = e.person_id limit 1) sup on true`;
const payee = (column: string) => sql.raw(`case when e.person_id is null then head.${column} else sup.${column} end`);
const payeeColumns = sql`${payee('id')} as person_id, ${payee('name')} as name, ${payee('bank_name')} as bank_name,
  ${payee('bank_account_holder')} as bank_account_holder, ${payee('bank_account_sealed')} as bank_account_sealed,
  ${payee('bank_account_masked')} as bank_account_masked`;

/** Why a candidate cannot be paid, or null when it can. */
const reasonOf = (amount: SQL, pay: (column: string) => SQL) => sql`case
  when ${pay('id')} is null then 'no_payee'
  when ${amount} is null then 'no_standard'
  when ${amount} <= 0 then 'zero_amount'
  when ${pay('bank_account_sealed')} is null or ${pay('bank_name')} is null or ${pay('bank_account_holder')} is null then 'no_bank_account'
end`;
const joined = (column: string) => sql.raw(`pay.${column}`);

/**
 * Monthly amounts: dibao and tekun pay the enrollment's monthly benefit; the price subsidy its own
 * standard in force on the period's first day (longest region prefix) times the recipients the
 * enrollment was approved for.
 */
function amountOf(s: Scope): { join: SQL; amount: SQL } {
  if (s.program !== 'price_subsidy') return { join: sql``, amount: sql`e.monthly_benefit_fen` };
  const day = `${s.period}-01`;
  return {
    join: sql`left join lateral (
      select st.monthly_standard_fen from program_standards st
      where st.program_code = 'price_subsidy' and starts_with(e.region, st.region)
        and st.effective_from <= ${day}::date and (st.effective_to is null or st.effective_to > ${day}::date)
      order by length(st.region) desc limit 1) std on true`,
    amount: sql`(std.monthly_standard_fen * coalesce((e.benefit_basis->>'householdSize')::int,
      (select count(*) from persons m where m.household_id = e.household_id)))`,
  };
}

/** Active enrollments of the program, started by the end of the period, not paid for it yet; one row each. */
function enrollmentCandidates(s: Scope, where: SQL): SQL {
  const { join, amount } = amountOf(s);
  return sql`
    select distinct on (e.id) e.id as enrollment_id, null::uuid as failed_item_id, null::uuid as temporary_assistance_id,
           e.household_id, e.region, ${payeeColumns}, ${amount} as amount_fen, ${reasonOf(amount, payee)} as reason
    from enrollments e
    ${payeeJoin}
    ${join}
    where e.program_code = ${s.program} and e.status = 'active'
      and e.start_date < ${`${nextPeriod(s.period)}-01`}::date
      and ${where}
      and not exists (select 1 from payment_items i where i.program_code = ${s.program} and i.period = ${s.period}
                      and i.enrollment_id = e.id and i.live)
    order by e.id, head.id`;
}

/**
 * Time-ordered ids for a statement's items (UUID version 7: the time in milliseconds, then a
 * 28-bit counter in the items' order around the variant bits, then random bits), and the
 * EndToEndId their 32 hex digits: a batch's items go to the end of the id indexes, not all over.
 */
function idsOf(order: SQL): SQL {
  const prefix = `${Date.now().toString(16).padStart(12, '0')}7`;
  const suffix = randomBytes(6).toString('hex').slice(0, 11);
  const n = sql`row_number() over (order by ${order})`;
  return sql`${prefix} || lpad(to_hex(${n} >> 16), 3, '0') || '8' || lpad(to_hex(${n} & 65535), 4, '0') || ${suffix}`;
}

/** Fills the batch from CTE `cand`; answers nothing (read the batch afterwards). */
function fill(s: Scope, cand: SQL, onConflict: boolean): SQL {
  // One order for every generation, so that two overlapping ones wait on each other, never deadlock.
  const order = sql`c.enrollment_id, c.temporary_assistance_id, c.failed_item_id`;
  // Without `on conflict` every payable candidate is inserted (or the statement fails): they are
  // counted as they are, rather than returned one by one.
  const paid = onConflict ? sql`ins` : sql`cand where reason is null`;
  return sql`
    with cand as (${cand}),
    ins as (
      insert into payment_items (id, end_to_end_id, batch_id, program_code, period, region, enrollment_id,
        temporary_assistance_id, household_id, person_id, amount_fen, payee_name, bank_name, account_holder,
        account_sealed, account_masked, reissue_of)
      select c.e2e::uuid, c.e2e, ${s.batchId}::uuid, ${s.program}, ${s.period}, c.region, c.enrollment_id,
        c.temporary_assistance_id, c.household_id, c.person_id, c.amount_fen, c.name, c.bank_name,
        c.bank_account_holder, c.bank_account_sealed, c.bank_account_masked, c.failed_item_id
      from (select ${idsOf(order)} as e2e, c.* from cand c where c.reason is null) c
      order by ${order}
      ${onConflict ? sql`on conflict do nothing returning amount_fen` : sql``}
    ),
    excl as (
      insert into payment_exclusions (batch_id, enrollment_id, failed_item_id, household_id, person_id, region, reason)
      select ${s.batchId}::uuid, c.enrollment_id, c.failed_item_id, c.household_id, c.person_id, c.region, c.reason
      from cand c where c.reason is not null
      returning 1
    )
    update payment_batches b set
      item_count = t.n,
      total_fen = t.total,
      excluded_count = (select count(*) from excl),
      updated_at = now()
    from (select count(*) as n, coalesce(sum(amount_fen), 0) as total from ${paid}) t
    where b.id = ${s.batchId}::uuid`;
}

/** A month's batch: every active enrollment of the program in the region (a LIKE pattern). */
export const regularBatchSql = (s: Scope, regionPattern: string) =>
  fill(s, enrollmentCandidates(s, sql`e.region like ${regionPattern}`), false);

/** Failed payment `f` is not of a temporary-assistance grant cancelled since (grants.ts): those are not re-issued. */
const grantNotCancelled = sql`not exists (select 1 from temporary_assistance g
  where g.id = f.temporary_assistance_id and g.status not in ('granted','completed'))`;

/**
 * A follow-up batch of `originalId`: its failed and returned payments not re-issued yet (to the
 * same payee, at the same amount, to the account on file now; not those of a grant cancelled
 * since), and those it could not re-issue itself; optionally only `itemIds`; and the enrollments it
 * left out that can be paid now.
 */
export function followUpBatchSql(s: Scope, originalId: string, itemIds: string[] | null) {
  const only = itemIds ? sql`and f.id = any(${sql.param(itemIds)}::uuid[])` : sql``;
  const reissues = sql`
    select f.enrollment_id, f.id as failed_item_id, f.temporary_assistance_id, f.household_id, f.region,
           pay.id as person_id, pay.name, pay.bank_name, pay.bank_account_holder,
           pay.bank_account_sealed, pay.bank_account_masked, f.amount_fen,
           ${reasonOf(sql`f.amount_fen`, joined)} as reason
    from payment_items f
    left join persons pay on pay.id = f.person_id
    where (f.batch_id = ${originalId}::uuid or f.id in (
             select x.failed_item_id from payment_exclusions x where x.batch_id = ${originalId}::uuid))
      and f.status in ('failed','returned') ${only}
      and not exists (select 1 from payment_items r where r.reissue_of = f.id)
      and ${grantNotCancelled}`;
  if (itemIds) return fill(s, reissues, true);
  const leftOut = enrollmentCandidates(
    s,
    sql`e.id in (select x.enrollment_id from payment_exclusions x
                 where x.batch_id = ${originalId}::uuid and x.failed_item_id is null)`,
  );
  return fill(s, sql`${reissues} union all (${leftOut})`, true);
}

/** An emergency payment: the grant's cash to the person aided. */
export const emergencyBatchSql = (s: Scope, grantId: string) =>
  fill(
    s,
    sql`
    select null::uuid as enrollment_id, null::uuid as failed_item_id, g.id as temporary_assistance_id,
           g.household_id, g.region, pay.id as person_id, pay.name, pay.bank_name, pay.bank_account_holder,
           pay.bank_account_sealed, pay.bank_account_masked, g.cash_fen as amount_fen,
           ${reasonOf(sql`g.cash_fen`, joined)} as reason
    from temporary_assistance g
    left join persons pay on pay.id = g.person_id
    where g.id = ${grantId}::uuid`,
    true,
  );
