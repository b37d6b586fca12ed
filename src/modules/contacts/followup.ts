import { sql } from 'drizzle-orm';
import { rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { effectiveRegionPrefix } from '../../platform/jurisdiction.js';
import { businessDateOf } from '../registry/dates.js';
import type { Deps, Viewer } from './common.js';
import type { FollowUpOut } from './schemas.js';

/** Working age for "the household loses its earner": 16 to 59 on the day. */
export const WORKING_AGE = { from: 16, to: 59 } as const;

interface FollowUpRow {
  contact_id: string;
  handoff_id: string;
  person_id: string;
  household_id: string | null;
  name: string;
  region: string;
  quarantine_kind: 'home' | 'centralised';
  quarantine_from: string;
  quarantine_to: string;
  programs: string[];
  earner_quarantined: boolean;
  temporary_assistance_id: string | null;
}

/**
 * Civil affairs' follow-up (issue 8, item 4): registry persons in quarantine now who are
 * assistance recipients (an active enrollment of theirs or of their household), or whose household
 * loses its earner: they are of working age and so is every other working-age member of the
 * household, each in quarantine or a case (nobody of working age is left to earn). One row per
 * person (their latest quarantine), with any temporary assistance opened since it began and how
 * to open it.
 */
export function createFollowUp({ db, audit, clock }: Deps) {
  return async function followUp(
    caller: Viewer,
    actor: AuditActor,
    filter: { region?: string | undefined; after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [] as FollowUpOut[], more: false };
    const today = businessDateOf(clock());
    const workingAge = (p: string) =>
      sql.raw(
        `(${p}.birth_date > '${today}'::date - interval '${WORKING_AGE.to + 1} years' and ${p}.birth_date <= '${today}'::date - interval '${WORKING_AGE.from} years')`,
      );
    const found = await rows<FollowUpRow>(
      db,
      sql`with q as (
          select hc.id as contact_id, hc.handoff_id, hc.person_id, hc.quarantine_kind,
            hc.quarantine_from::text as quarantine_from, hc.quarantine_to::text as quarantine_to,
            p.household_id, p.name, p.region, ${workingAge('p')} as working_age
          from handoff_contacts hc join persons p on p.id = hc.person_id
          where hc.status = 'quarantined' and p.region like ${`${prefix}%`}
            and not exists (select 1 from handoff_contacts later where later.person_id = hc.person_id
              and later.status = 'quarantined' and (later.quarantine_from, later.id) > (hc.quarantine_from, hc.id))
            ${filter.after ? sql`and hc.id > ${filter.after}::uuid` : sql``}
        ), f as (
          select q.*,
            coalesce((select array_agg(distinct e.program_code order by e.program_code) from enrollments e
              where e.household_id = q.household_id and e.status = 'active'
                and (e.person_id is null or e.person_id = q.person_id)), '{}') as programs,
            (q.working_age and q.household_id is not null and not exists (
              select 1 from persons m where m.household_id = q.household_id and m.id <> q.person_id and ${workingAge('m')}
                and not exists (select 1 from handoff_contacts mq where mq.person_id = m.id and mq.status in ('quarantined','became_case'))
                and not exists (select 1 from contact_handoffs mh where mh.case_person_id = m.id
                  and mh.status in ('draft','sent','accepted','rejected')))) as earner_quarantined,
            (select ta.id from temporary_assistance ta where ta.person_id = q.person_id
              and ta.status in ('opened','granted','completed')
              and ta.opened_at >= (q.quarantine_from::date::timestamp at time zone 'Asia/Shanghai')
              order by ta.opened_at desc limit 1) as temporary_assistance_id
          from q
        )
        select * from f where cardinality(programs) > 0 or earner_quarantined
        order by contact_id limit ${filter.limit + 1}`,
    );
    const page = found.slice(0, filter.limit);
    if (page.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listContactFollowUp',
        resourceType: 'contact_handoff',
        resourceIds: [...new Set(page.map((r) => r.handoff_id))],
        personIds: page.map((r) => r.person_id),
      });
    }
    const items: FollowUpOut[] = page.map((r) => ({
      contactId: r.contact_id,
      handoffId: r.handoff_id,
      personId: r.person_id,
      householdId: r.household_id,
      name: r.name,
      region: r.region,
      reasons: [
        ...(r.programs.length > 0 ? (['recipient'] as const) : []),
        ...(r.earner_quarantined ? (['earner_quarantined'] as const) : []),
      ],
      programs: r.programs,
      quarantineKind: r.quarantine_kind,
      quarantineFrom: r.quarantine_from,
      quarantineTo: r.quarantine_to,
      temporaryAssistanceId: r.temporary_assistance_id,
      openTemporaryAssistance: {
        method: 'POST',
        href: '/v1/temporary-assistance',
        body: {
          personId: r.person_id,
          reason: `In ${r.quarantine_kind} quarantine ${r.quarantine_from} to ${r.quarantine_to} as a close contact`,
        },
      },
    }));
    return { items, more: found.length > filter.limit };
  };
}
