import { type SQL, sql } from 'drizzle-orm';
import type { SourceInForce } from './verify.sql.js';

/**
 * The set-based pass of a bulk re-verification: one chunk of households (keyset over household id)
 * verified by one `INSERT INTO matching_verifications … SELECT`, with the same joins, figures,
 * outcomes and sentences as the single verification (verify.sql.ts, verify.rules.ts,
 * verify.limits.ts), so that a run's result for a household is the single verification's.
 *
 * Names: the single verification compares a record's name with its member's after normalisation
 * (names.ts, with OpenCC, which SQL cannot do). The run does the same in two steps per chunk:
 * `namePairsSql` lists the distinct (record name, member name) pairs of the chunk that differ as
 * written (few: equal names are the rule), Node normalises each distinct name once, and the chunk's
 * INSERT receives the pairs that are the same name after normalisation as two arrays. A record
 * counts when its name equals its member's as written or is one of those pairs: exactly the single
 * verification's test.
 *
 * Differences by design: rules carry the source records only when they do not pass (the single
 * verification lists them for every rule), and `flags` adds `recipient_deceased` (see below).
 */

export interface ChunkParams {
  runId: string;
  clientId: string | null;
  /** LIKE pattern of the run's region. */
  pattern: string;
  programs: string[];
  asOf: string;
  sources: SourceInForce[];
  /** Last household id of the previous chunk. */
  after: string | null;
  limit: number;
  /** Where the verifications go; a scratch table of the same columns for the benchmark's baseline. */
  target?: 'matching_verifications' | 'bench_verifications';
}

const LIVE = sql`('active','suspended')`;

/** The chunk's households, members, and their records in the run's snapshots. */
function matchedCtes(p: ChunkParams, same: SQL): SQL {
  const array = (pick: (s: SourceInForce) => string) => sql.param(p.sources.map(pick));
  return sql`
    chunk as (
      select h.id, h.region from households h
      where h.region like ${p.pattern}
        and (${p.after}::uuid is null or h.id > ${p.after}::uuid)
        and exists (select 1 from enrollments e where e.household_id = h.id and e.status in ${LIVE}
                    and e.program_code = any(${sql.param(p.programs)}::text[]))
      order by h.id limit ${p.limit}
    ),
    s (source_id, kind, snapshot_id) as (
      select * from unnest(${array((s) => s.sourceId)}::uuid[], ${array((s) => s.kind)}::text[],
                           ${array((s) => s.snapshotId)}::uuid[])
    ),
    m as (
      select p.id, p.household_id, p.name, p.relationship, p.id_number_index
      from chunk c join persons p on p.household_id = c.id
    ),
    r as (
      select m.household_id, m.id as person_id, m.name as member_name, s.source_id, s.kind, s.snapshot_id,
             x.line, x.ref, x.name, x.amount_fen, x.event_date, x.attrs, ${same} as same,
             jsonb_build_object('sourceId', s.source_id, 'kind', s.kind, 'snapshotId', s.snapshot_id,
               'line', x.line, 'ref', x.ref, 'personId', m.id) as src
      from m cross join s
      join matching_records x on x.snapshot_id = s.snapshot_id and x.id_index = m.id_number_index
    )`;
}

/** The distinct (record name, member name) pairs of a chunk that differ as written. */
export function namePairsSql(p: ChunkParams): SQL {
  return sql`with ${matchedCtes(p, sql`true`)}
    select distinct r.name as "recordName", r.member_name as "memberName" from r where r.name <> r.member_name`;
}

const yuan = (fen: SQL) => sql`(to_char((${fen})::numeric / 100, 'FM999,999,999,999,999,990.00') || ' yuan')`;
const rule = (name: string, outcome: SQL, figures: SQL, detail: SQL, sources: SQL) =>
  sql`jsonb_build_object('rule', ${sql.raw(`'${name}'`)}, 'outcome', ${outcome}, 'figures', ${figures},
        'detail', ${detail}, 'sources', case when ${outcome} = 'pass' then '[]'::jsonb else ${sources} end)`;
const agg = (what: SQL, where: SQL) =>
  sql`coalesce(jsonb_agg(${what} order by r.kind, r.source_id, r.line) filter (where ${where}), '[]'::jsonb)`;
const total = (where: SQL) => sql`coalesce(sum(r.amount_fen) filter (where ${where}), 0)::bigint`;

/**
 * One chunk: verifies the next `limit` households with a live enrollment (in `programs`) after
 * `after`, once per program they are enrolled in, and answers how many households it took, how
 * many household-program pairs it could not verify (no standard in force, no members), and the last
 * household's id. `sameNames` are the pairs of differing names that are the same name.
 *
 * `sums`, `by_member` and `deceased_paid` are MATERIALIZED: each is used once, so PostgreSQL would
 * otherwise inline it, and without statistics (PGlite is never analysed; PostgreSQL before autovacuum
 * has run) it estimates one row everywhere and re-evaluates the aggregate once per household and
 * program of the outer join: cubic in the chunk's size (87 households took 10 s on PGlite, 0.6 s
 * materialized). Computed once, they cost what they did on an analysed database.
 */
export function chunkSql(p: ChunkParams, sameNames: { recordName: string; memberName: string }[]): SQL {
  const same = sql`(x.name = m.name or (x.name, m.name) in (select * from unnest(
    ${sql.param(sameNames.map((n) => n.recordName))}::text[], ${sql.param(sameNames.map((n) => n.memberName))}::text[])))`;
  const snapshots = sql`(select coalesce(jsonb_object_agg(s.source_id, s.snapshot_id), '{}'::jsonb) from s)`;
  const living = sql`r.same and r.person_id not in (select d.person_id from dead d)`;
  const residential = sql`r.kind = 'real_estate' and coalesce(r.attrs->>'use', 'residential') = 'residential'`;
  const activeBusiness = sql`r.kind = 'business' and coalesce(r.attrs->>'status', 'active') = 'active'`;
  return sql`
    with ${matchedCtes(p, same)},
    dead as (
      select distinct on (r.person_id) r.household_id, r.person_id, r.event_date, r.line, r.ref, r.src, m.relationship
      from r join m on m.id = r.person_id
      where r.same and r.kind = 'death' and (r.event_date is null or r.event_date <= ${p.asOf}::date)
      order by r.person_id, r.source_id, r.line
    ),
    hh as (
      select c.id, c.region, count(m.id)::int as registered, coalesce(max(dn.n), 0)::int as deceased_n
      from chunk c left join m on m.household_id = c.id
      left join (select d.household_id, count(*) as n from dead d group by d.household_id) dn on dn.household_id = c.id
      group by c.id, c.region
    ),
    sums as materialized (
      select r.household_id,
        ${total(sql`${living} and r.kind in ('income','pension')`)} as income,
        ${total(sql`${living} and r.kind = 'housing_fund'`)} as housing_fund,
        ${total(sql`r.same and r.kind = 'deposits'`)} as deposits,
        count(*) filter (where r.same and ${residential})::int as res_n,
        ${total(sql`r.same and ${residential}`)} as res_fen,
        count(*) filter (where r.same and r.kind = 'real_estate')::int as re_n,
        ${total(sql`r.same and r.kind = 'real_estate'`)} as re_fen,
        count(*) filter (where r.same and r.kind = 'vehicle')::int as veh_n,
        coalesce(max(coalesce(r.amount_fen, 0)) filter (where r.same and r.kind = 'vehicle'), 0)::bigint as veh_max,
        count(*) filter (where r.same and ${activeBusiness})::int as biz_n,
        ${total(sql`r.same and ${activeBusiness}`)} as biz_fen,
        count(*) filter (where r.same and r.kind = 'business')::int as biz_all,
        ${agg(sql`r.src`, sql`${living} and r.kind in ('income','pension')`)} as income_src,
        ${agg(sql`r.src`, sql`r.same and r.kind = 'deposits'`)} as deposit_src,
        ${agg(sql`r.src`, sql`r.same and r.kind = 'real_estate'`)} as re_src,
        ${agg(sql`r.src`, sql`r.same and ${residential}`)} as res_src,
        ${agg(sql`r.src || jsonb_build_object('amountFen', coalesce(r.amount_fen, 0))`, sql`r.same and r.kind = 'vehicle'`)} as veh_src,
        ${agg(sql`r.src`, sql`r.same and ${activeBusiness}`)} as biz_src,
        ${agg(sql`r.src`, sql`r.same and r.kind = 'death' and (r.event_date is null or r.event_date <= ${p.asOf}::date)`)} as death_src,
        ${agg(
          sql`jsonb_build_object('personId', r.person_id, 'deathDate', r.event_date)`,
          sql`r.same and r.kind = 'death' and (r.event_date is null or r.event_date <= ${p.asOf}::date)`,
        )} as deceased,
        ${agg(
          sql`jsonb_build_object('rule', 'name_mismatch', 'outcome', 'flag',
            'figures', jsonb_build_object('personId', r.person_id, 'recordName', r.name, 'memberName', r.member_name),
            'detail', 'Line ' || r.line || case when coalesce(r.ref, '') = '' then '' else ' (' || r.ref || ')' end
              || ' of the ' || r.kind || ' source carries the name “' || r.name || '” for the ID number of member “'
              || r.member_name || '”: a data error to check by phone. The record is not counted.',
            'sources', jsonb_build_array(r.src))`,
          sql`not r.same`,
        )} as mismatches
      from r group by r.household_id
    ),
    by_member as materialized (
      select household_id, jsonb_agg(jsonb_build_object('personId', person_id, 'incomeFen', i, 'pensionFen', pe,
               'housingFundFen', hf) order by first_kind, first_source, first_line) as list
      from (
        select r.household_id, r.person_id,
          ${total(sql`r.kind = 'income'`)} as i, ${total(sql`r.kind = 'pension'`)} as pe,
          ${total(sql`r.kind = 'housing_fund'`)} as hf,
          (array_agg(r.kind order by r.kind, r.source_id, r.line))[1] as first_kind,
          (array_agg(r.source_id order by r.kind, r.source_id, r.line))[1] as first_source,
          (array_agg(r.line order by r.kind, r.source_id, r.line))[1] as first_line
        from r where ${living} and r.kind in ('income','pension','housing_fund')
        group by r.household_id, r.person_id
      ) b group by household_id
    ),
    pairs as (
      select distinct c.id, c.region, e.program_code as program from chunk c
      join enrollments e on e.household_id = c.id and e.status in ${LIVE} and e.program_code = any(${sql.param(p.programs)}::text[])
    ),
    base as (
      select pr.id, pr.region, pr.program, hh.registered, hh.deceased_n,
        hh.registered - hh.deceased_n as counted, greatest(hh.registered - hh.deceased_n, 1) as size,
        coalesce(su.income, 0) as income, coalesce(su.housing_fund, 0) as housing_fund,
        coalesce(su.deposits, 0) as deposits, coalesce(su.res_n, 0) as res_n, coalesce(su.res_fen, 0) as res_fen,
        coalesce(su.re_n, 0) as re_n, coalesce(su.re_fen, 0) as re_fen, coalesce(su.veh_n, 0) as veh_n,
        coalesce(su.veh_max, 0) as veh_max, coalesce(su.biz_n, 0) as biz_n, coalesce(su.biz_fen, 0) as biz_fen,
        coalesce(su.biz_all, 0) as biz_all,
        coalesce(su.income_src, '[]') as income_src, coalesce(su.deposit_src, '[]') as deposit_src,
        coalesce(su.re_src, '[]') as re_src, coalesce(su.res_src, '[]') as res_src,
        coalesce(su.veh_src, '[]') as veh_src, coalesce(su.biz_src, '[]') as biz_src,
        coalesce(su.death_src, '[]') as death_src, coalesce(su.deceased, '[]') as deceased,
        coalesce(su.mismatches, '[]') as mismatches, coalesce(bm.list, '[]') as by_member,
        st.id as standard_id, st.monthly_standard_fen as standard, st.asset_multiple as multiple,
        st.property_limit, st.vehicle_value_limit_fen as vehicle_limit, st.business_capital_limit_fen as business_limit
      from pairs pr
      join hh on hh.id = pr.id
      left join sums su on su.household_id = pr.id
      left join by_member bm on bm.household_id = pr.id
      join lateral (
        select * from program_standards ps
        where ps.program_code = case when pr.program = 'price_subsidy' then 'dibao' else pr.program end
          and starts_with(pr.region, ps.region) and ps.effective_from <= ${p.asOf}::date
          and (ps.effective_to is null or ps.effective_to > ${p.asOf}::date)
        order by length(ps.region) desc limit 1
      ) st on true
      where hh.registered > 0
    ),
    outcomes as (
      select b.*, b.income / b.size as per_capita,
        case when b.multiple is null then null else b.standard * b.multiple * b.size end as asset_limit,
        case when b.deceased_n = 0 then 'pass' when b.counted = 0 then 'fail' else 'flag' end as o_alive,
        case when b.income / b.size < b.standard then 'pass' else 'fail' end as o_income,
        case when b.multiple is null or b.deposits <= b.standard * b.multiple * b.size then 'pass' else 'fail' end as o_assets,
        case when b.property_limit is null or b.res_n <= b.property_limit then 'pass' else 'fail' end as o_property,
        case when b.vehicle_limit is null or b.veh_max <= b.vehicle_limit then 'pass' else 'fail' end as o_vehicle,
        case when b.business_limit is not null and b.biz_n > 0 and (b.business_limit = 0 or b.biz_fen > b.business_limit)
          then 'fail' else 'pass' end as o_business
      from base b
    ),
    deceased_paid as materialized (
      select pr.id, pr.program, jsonb_agg(jsonb_build_object('rule', 'recipient_deceased', 'outcome', 'flag',
          'figures', jsonb_build_object('personId', d.person_id, 'deathDate', d.event_date, 'enrollmentId', e.id,
            'enrollmentStatus', e.status, 'monthlyBenefitFen', e.monthly_benefit_fen),
          'detail', 'Recorded dead' || coalesce(' on ' || d.event_date, '') || ' (line ' || d.line || ' of the death source) while the '
            || e.program_code || ' enrollment paying it is ' || e.status || ' (' || ${yuan(sql`e.monthly_benefit_fen`)}
            || ' a month): stop the payments and update the registry.',
          'sources', jsonb_build_array(d.src)) order by e.id, d.person_id) as flags
      from pairs pr
      join enrollments e on e.household_id = pr.id and e.program_code = pr.program and e.status in ${LIVE}
      join hh on hh.id = pr.id
      join dead d on d.household_id = pr.id
        and (e.person_id = d.person_id or (e.person_id is null and (d.relationship = 'head' or hh.registered = 1)))
      group by pr.id, pr.program
    ),
    ins as (
      insert into ${sql.raw(p.target ?? 'matching_verifications')} (household_id, run_id, program, region, as_of, passed, members,
        monthly_income_fen, financial_assets_fen, rules, flags, snapshots, created_by_client_id)
      select o.id, ${p.runId}::uuid, o.program, o.region, ${p.asOf}::date,
        'fail' not in (o.o_alive, o.o_income, o.o_assets, o.o_property, o.o_vehicle, o.o_business),
        o.counted, o.income, o.deposits,
        jsonb_build_array(
          ${rule(
            'members_alive',
            sql`o.o_alive`,
            sql`jsonb_build_object('membersRegistered', o.registered, 'membersDeceased', o.deceased_n,
              'membersCounted', o.counted, 'deceased', o.deceased)`,
            sql`case when o.deceased_n = 0 then 'No member is recorded dead; the household counts ' || o.counted || '.'
              when o.counted = 0 then 'Every member is recorded dead: there is no household to assist. Check the registry.'
              else o.deceased_n || ' of ' || o.registered || ' members recorded dead: the household counts ' || o.counted
                || '; their income is not counted, their assets are. Update the registry.' end`,
            sql`o.death_src`,
          )},
          ${rule(
            'per_capita_income_below_standard',
            sql`o.o_income`,
            sql`jsonb_build_object('monthlyIncomeFen', o.income, 'householdSize', o.size, 'perCapitaIncomeFen', o.per_capita,
              'monthlyStandardFen', o.standard, 'standardId', o.standard_id, 'housingFundFen', o.housing_fund,
              'byMember', o.by_member)`,
            sql`'Per-capita monthly income ' || ${yuan(sql`o.per_capita`)} || ' (' || ${yuan(sql`o.income`)} || ' for '
              || o.size || ') is ' || case when o.o_income = 'pass' then 'below' else 'not below' end
              || ' the standard of ' || ${yuan(sql`o.standard`)} || '.'`,
            sql`o.income_src`,
          )},
          ${rule(
            'financial_assets_within_limit',
            sql`o.o_assets`,
            sql`jsonb_build_object('financialAssetsFen', o.deposits, 'limitFen', o.asset_limit, 'assetMultiple', o.multiple,
              'householdSize', o.size)`,
            sql`case when o.multiple is null then 'The standard sets no limit on financial assets.'
              else 'Deposits and securities of ' || ${yuan(sql`o.deposits`)} || ' are '
                || case when o.o_assets = 'pass' then 'within' else 'over' end || ' the limit of '
                || ${yuan(sql`o.asset_limit`)} || ' (' || o.multiple || ' × ' || ${yuan(sql`o.standard`)} || ' × ' || o.size || ').' end`,
            sql`o.deposit_src`,
          )},
          ${rule(
            'property_within_limit',
            sql`o.o_property`,
            sql`jsonb_build_object('residentialProperties', o.res_n, 'residentialValueFen', o.res_fen,
              'otherProperties', o.re_n - o.res_n, 'otherValueFen', o.re_fen - o.res_fen, 'limit', o.property_limit)`,
            sql`case when o.property_limit is null then 'The standard sets no limit on residential property.'
              else o.res_n || ' residential ' || case when o.res_n = 1 then 'property' else 'properties' end
                || ' recorded; ' || o.property_limit || ' allowed.' end`,
            sql`o.res_src`,
          )},
          ${rule(
            'vehicle_within_limit',
            sql`o.o_vehicle`,
            sql`jsonb_build_object('vehicles', o.veh_n, 'maxValueFen', o.veh_max, 'limitFen', o.vehicle_limit)`,
            sql`case when o.vehicle_limit is null then 'The standard sets no limit on vehicles.'
              when o.veh_n = 0 then 'No vehicle recorded.'
              else o.veh_n || ' vehicle(s) recorded, the dearest worth ' || ${yuan(sql`o.veh_max`)}
                || '; each may be worth at most ' || ${yuan(sql`o.vehicle_limit`)} || '.' end`,
            sql`(select coalesce(jsonb_agg(v - 'amountFen' order by ord), '[]'::jsonb)
              from jsonb_array_elements(o.veh_src) with ordinality as q(v, ord)
              where (v->>'amountFen')::bigint > o.vehicle_limit)`,
          )},
          ${rule(
            'no_registered_business',
            sql`o.o_business`,
            sql`jsonb_build_object('businesses', o.biz_n, 'registeredCapitalFen', o.biz_fen,
              'inactiveBusinesses', o.biz_all - o.biz_n, 'limitFen', o.business_limit)`,
            sql`case when o.business_limit is null then 'The standard sets no limit on registered businesses.'
              when o.biz_n = 0 then 'No active registered business recorded.'
              when o.business_limit = 0 then o.biz_n || ' active registered business(es) recorded; the standard allows none.'
              else o.biz_n || ' active registered business(es) with ' || ${yuan(sql`o.biz_fen`)} || ' of capital; at most '
                || ${yuan(sql`o.business_limit`)} || ' allowed.' end`,
            sql`o.biz_src`,
          )}
        ),
        o.mismatches || coalesce(dp.flags, '[]'::jsonb),
        ${snapshots}, ${p.clientId}::uuid
      from outcomes o left join deceased_paid dp on dp.id = o.id and dp.program = o.program
      returning 1
    )
    select (select count(*) from chunk)::int as households, (select count(*) from ins)::int as verifications,
      ((select count(*) from pairs) - (select count(*) from base))::int as skipped,
      (select c.id from chunk c order by c.id desc limit 1) as "lastId"`;
}
