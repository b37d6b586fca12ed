import { type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import { addDays } from '../registry/dates.js';

/** What a contact list is assembled from: whose, over which days. */
export interface AssemblyScope {
  casePersonId: string;
  /** First and last business day of the window (Asia/Shanghai), both included. */
  windowFrom: string;
  windowTo: string;
  /** The day household members were last with the case (the transfer to hospital, else windowTo). */
  householdLastContact: string;
}

/** Relations by closeness: when one person is found several ways, the closest relation wins. */
export const relationRank = sql.raw(`array['household','family','care','visit']`);

/**
 * Everyone the service knows was close to the case in the window, one row per person, as one
 * set-based read (the columns `handoff_contacts` takes):
 * - household members (relation `household`), last with the case on `householdLastContact`;
 * - the active responsible caregiver (`care`), whether or not they visited;
 * - everyone who made an in-person visit to the case (care's visits: the caregiver, or the named
 *   visitor) or an in-person welfare contact with the case or the household (the caseworker), in
 *   the window (`visit`). Phone and video contacts are not exposures.
 * The registry has no family ties beyond the household, so no row is `family` (caseworkers add
 * such contacts by hand). One person found several ways is one row: rows are merged by identity
 * (the blind index of the ID document, else of the phone), else by caregiver or visitor name; the
 * closest relation, the earliest first and latest last contact, and the count of in-person
 * contacts are kept. Phones and ID numbers are copied sealed (never opened here), with their masks.
 * Recipients: an active enrollment of the person, or of their household as a whole.
 */
export function assemblySql(s: AssemblyScope): SQL {
  const from = sql`(${s.windowFrom}::date::timestamp at time zone 'Asia/Shanghai')`;
  const to = sql`(${addDays(s.windowTo, 1)}::date::timestamp at time zone 'Asia/Shanghai')`;
  const localDay = (column: SQL) => sql`(${column} at time zone 'Asia/Shanghai')::date`;
  const docKey = (p: string) => sql.raw(`'doc:' || ${p}.id_type || ':' || ${p}.id_number_index`);
  return sql`with c as (
      select p.id, p.household_id, ${docKey('p')} as key from persons p where p.id = ${s.casePersonId}::uuid
    ),
    cand as (
      select m.id as person_id, null::uuid as caregiver_id, 1 as rank, m.name,
        null::text as phone_sealed, null::text as phone_masked, null::text as key_id,
        ${docKey('m')} as identity_key, m.id::text as local_key,
        ${s.windowFrom}::date as first_date, ${s.householdLastContact}::date as last_date, 0 as n
      from c join persons m on m.household_id = c.household_id
      union all
      select g.person_id, g.id, 3, g.name, g.phone_sealed, g.phone_masked, g.sealed_key_id,
        coalesce(${docKey('gp')}, 'phone:' || g.phone_index), 'cg:' || g.id, null, null, 0
      from c join care_assignments a on a.person_id = c.id and a.ended_at is null
      join caregivers g on g.id = a.caregiver_id
      left join persons gp on gp.id = g.person_id
      union all
      select g.person_id, v.caregiver_id, 4, coalesce(g.name, v.visitor_name),
        case when g.id is null then v.visitor_phone_sealed else g.phone_sealed end,
        case when g.id is null then v.visitor_phone_masked else g.phone_masked end,
        case when g.id is null then v.sealed_key_id else g.sealed_key_id end,
        case when g.id is null then 'phone:' || v.visitor_phone_index
             else coalesce(${docKey('gp')}, 'phone:' || g.phone_index) end,
        case when g.id is null then 'name:' || lower(v.visitor_name) else 'cg:' || g.id end,
        ${localDay(sql`v.visited_at`)}, ${localDay(sql`v.visited_at`)}, 1
      from c join visits v on v.person_id = c.id
      left join caregivers g on g.id = v.caregiver_id
      left join persons gp on gp.id = g.person_id
      where v.channel = 'in_person' and v.visited_at >= ${from} and v.visited_at < ${to}
      union all
      select null, null, 4, w.caseworker, null, null, null, null, 'name:' || lower(w.caseworker),
        ${localDay(sql`w.contacted_at`)}, ${localDay(sql`w.contacted_at`)}, 1
      from c join welfare_contacts w on w.person_id = c.id or w.household_id = c.household_id
      where w.channel = 'in_person' and w.contacted_at >= ${from} and w.contacted_at < ${to}
    ),
    found as (
      select cand.* from cand, c
      where cand.person_id is distinct from c.id and cand.identity_key is distinct from c.key
    ),
    merged as (
      select min(rank) as rank,
        (array_agg(person_id order by rank) filter (where person_id is not null))[1] as person_id,
        (array_agg(caregiver_id order by rank) filter (where caregiver_id is not null))[1] as caregiver_id,
        (array_agg(name order by rank))[1] as name,
        (array_agg(phone_sealed order by rank, last_date desc) filter (where phone_sealed is not null))[1] as phone_sealed,
        (array_agg(phone_masked order by rank, last_date desc) filter (where phone_sealed is not null))[1] as phone_masked,
        (array_agg(key_id order by rank, last_date desc) filter (where phone_sealed is not null))[1] as key_id,
        (array_agg(identity_key order by rank) filter (where identity_key is not null))[1] as identity_key,
        min(first_date) as first_date, max(last_date) as last_date, sum(n)::int as n
      from found
      group by coalesce(identity_key, local_key)
    )
    select x.person_id, x.caregiver_id, p.region, (${relationRank})[x.rank] as relation, x.name,
      p.id_type, p.id_number_sealed, p.id_number_masked,
      coalesce(x.phone_sealed, p.phone_sealed) as phone_sealed,
      coalesce(x.phone_masked, p.phone_masked) as phone_masked,
      coalesce(p.sealed_key_id, x.key_id) as sealed_key_id,
      x.identity_key, coalesce(p.address, h.address) as address,
      coalesce(exists (
        select 1 from enrollments e
        where e.household_id = p.household_id and e.status = 'active' and (e.person_id is null or e.person_id = p.id)
      ), false) as recipient,
      x.first_date, x.last_date, x.n
    from merged x
    left join persons p on p.id = x.person_id
    left join households h on h.id = p.household_id`;
}

/** The assembled contacts written to a handoff; answers how many, and the registry persons among them. */
export async function assembleContacts(
  tx: Executor,
  handoffId: string,
  scope: AssemblyScope,
  clientId: string | null,
  now: Date,
): Promise<{ count: number; personIds: string[] }> {
  const written = await rows<{ person_id: string | null }>(
    tx,
    sql`insert into handoff_contacts (handoff_id, person_id, caregiver_id, region, relation, origin, name,
        id_type, id_number_sealed, id_number_masked, phone_sealed, phone_masked, sealed_key_id, identity_key,
        address, recipient, first_contact_date, last_contact_date, in_person_contacts, added_by_client_id,
        created_at, updated_at)
      select ${handoffId}::uuid, a.person_id, a.caregiver_id, a.region, a.relation, 'assembled', a.name,
        a.id_type, a.id_number_sealed, a.id_number_masked, a.phone_sealed, a.phone_masked,
        case when a.phone_sealed is null and a.id_number_sealed is null then null else a.sealed_key_id end,
        a.identity_key, a.address, a.recipient, a.first_date, a.last_date, a.n, ${clientId}::uuid,
        ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
      from (${assemblySql(scope)}) a
      returning person_id`,
  );
  return { count: written.length, personIds: written.flatMap((r) => (r.person_id ? [r.person_id] : [])) };
}
