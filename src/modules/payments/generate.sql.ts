import { type SQL, sql } from 'drizzle-orm';
import { nextPeriod } from './common.js';

/**
 * The set-based statements that make up batches. Each fills a batch in one statement: candidates
 * are selected, the payable ones inserted as items and the others as exclusions (with the reason),
 * and the batch's declared count and total set from what was inserted. `on conflict do nothing`
 * leaves out an enrollment (or grant, or failed payment) that another batch pays meanwhile: the
 * unique indexes of payment_items decide, so concurrent generations never pay anyone twice.
 */

export interface Scope {
  batchId: string;
  program: string;
  period: string;
}

/** Why a candidate cannot be paid, or null when it can. */
const reasonOf = (amount: SQL) => sql`case
  when pay.id is null then 'no_payee'
  when ${amount} is null then 'no_standard'
  when ${amount} <= 0 then 'zero_amount'
  when pay.bank_account_sealed is null or pay.bank_name is null or pay.bank_account_holder is null then 'no_bank_account'
end`;

/** The payee: the person an enrollment supports (tekun), or the head of its household. */
const payeeJoin = sql`left join persons pay on pay.id = coalesce(e.person_id,
  (select h.id from persons h where h.household_id = e.household_id and h.relationship = 'head' order by h.id limit 1))`;

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

/** Active enrollments of the program, started by the end of the period, not paid for it yet. */
function enrollmentCandidates(s: Scope, where: SQL): SQL {
  const { join, amount } = amountOf(s);
  return sql`
    select e.id as enrollment_id, null::uuid as failed_item_id, null::uuid as temporary_assistance_id,
           e.household_id, e.region, pay.id as person_id, pay.name, pay.bank_name, pay.bank_account_holder,
           pay.bank_account_sealed, pay.bank_account_masked, ${amount} as amount_fen, ${reasonOf(amount)} as reason
    from enrollments e
    ${payeeJoin}
    ${join}
    where e.program_code = ${s.program} and e.status = 'active'
      and e.start_date < ${`${nextPeriod(s.period)}-01`}::date
      and ${where}
      and not exists (select 1 from payment_items i where i.enrollment_id = e.id and i.program_code = ${s.program}
                      and i.period = ${s.period} and i.status in ('pending','sent','paid'))`;
}

/** Fills the batch from CTE `cand`; answers nothing (read the batch afterwards). */
function fill(s: Scope, cand: SQL): SQL {
  return sql`
    with cand as (${cand}),
    ins as (
      insert into payment_items (batch_id, program_code, period, region, enrollment_id, temporary_assistance_id,
        household_id, person_id, amount_fen, payee_name, bank_name, account_holder, account_sealed, account_masked, reissue_of)
      select ${s.batchId}::uuid, ${s.program}, ${s.period}, c.region, c.enrollment_id, c.temporary_assistance_id,
        c.household_id, c.person_id, c.amount_fen, c.name, c.bank_name, c.bank_account_holder,
        c.bank_account_sealed, c.bank_account_masked, c.failed_item_id
      from cand c where c.reason is null
      -- One order for every generation, so that two overlapping ones wait on each other, never deadlock.
      order by c.enrollment_id, c.temporary_assistance_id, c.failed_item_id
      on conflict do nothing
      returning amount_fen
    ),
    excl as (
      insert into payment_exclusions (batch_id, enrollment_id, failed_item_id, household_id, person_id, region, reason)
      select ${s.batchId}::uuid, c.enrollment_id, c.failed_item_id, c.household_id, c.person_id, c.region, c.reason
      from cand c where c.reason is not null
      returning 1
    )
    update payment_batches set
      item_count = (select count(*) from ins),
      total_fen = (select coalesce(sum(amount_fen), 0) from ins),
      excluded_count = (select count(*) from excl),
      updated_at = now()
    where id = ${s.batchId}::uuid`;
}

/** A month's batch: every active enrollment of the program in the region (a LIKE pattern). */
export const regularBatchSql = (s: Scope, regionPattern: string) =>
  fill(s, enrollmentCandidates(s, sql`e.region like ${regionPattern}`));

/**
 * A follow-up batch of `originalId`: its failed and returned payments not re-issued yet (to the
 * same payee, at the same amount, to the account on file now), and those it could not re-issue
 * itself; optionally only `itemIds`; and the enrollments it left out that can be paid now.
 */
export function followUpBatchSql(s: Scope, originalId: string, itemIds: string[] | null) {
  const only = itemIds ? sql`and f.id = any(${sql.param(itemIds)}::uuid[])` : sql``;
  const reissues = sql`
    select f.enrollment_id, f.id as failed_item_id, f.temporary_assistance_id, f.household_id, f.region,
           pay.id as person_id, pay.name, pay.bank_name, pay.bank_account_holder,
           pay.bank_account_sealed, pay.bank_account_masked, f.amount_fen,
           ${reasonOf(sql`f.amount_fen`)} as reason
    from payment_items f
    left join persons pay on pay.id = f.person_id
    where (f.batch_id = ${originalId}::uuid or f.id in (
             select x.failed_item_id from payment_exclusions x where x.batch_id = ${originalId}::uuid))
      and f.status in ('failed','returned') ${only}
      and not exists (select 1 from payment_items r where r.reissue_of = f.id)`;
  if (itemIds) return fill(s, reissues);
  const leftOut = enrollmentCandidates(
    s,
    sql`e.id in (select x.enrollment_id from payment_exclusions x
                 where x.batch_id = ${originalId}::uuid and x.failed_item_id is null)`,
  );
  return fill(s, sql`${reissues} union all ${leftOut}`);
}

/** An emergency payment: the grant's cash to the person aided. */
export const emergencyBatchSql = (s: Scope, grantId: string) =>
  fill(
    s,
    sql`
    select null::uuid as enrollment_id, null::uuid as failed_item_id, g.id as temporary_assistance_id,
           g.household_id, g.region, pay.id as person_id, pay.name, pay.bank_name, pay.bank_account_holder,
           pay.bank_account_sealed, pay.bank_account_masked, g.cash_fen as amount_fen,
           ${reasonOf(sql`g.cash_fen`)} as reason
    from temporary_assistance g
    left join persons pay on pay.id = g.person_id
    where g.id = ${grantId}::uuid`,
  );
