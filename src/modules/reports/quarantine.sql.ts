import { type SQL, sql } from 'drizzle-orm';

/**
 * Recipients in quarantine on `day` in the districts of `prefix` (issue 8's close-contact handoffs):
 * contacts marked assistance recipients (`recipient`, an active enrollment when assembled or added)
 * whose residence region lies in the district and whose quarantine covers the day:
 * - `quarantined` now: from quarantine_from on (until released: the planned quarantine_to may pass);
 * - `released`: from quarantine_from to the day released (released_on, else quarantine_to), both
 *   included: they spent part of the day of release in quarantine;
 * - `became_case` after a quarantine: from quarantine_from to the day before they became a case.
 * One person counts once, however many handoffs list them (by registry person, else identity key).
 * Removed contacts and those of revoked handoffs are not contacts.
 *
 * A scalar SQL expression, for the draft's one statement.
 */
export const inQuarantineSql = (prefix: string, day: string): SQL => sql`(
  select count(distinct coalesce(hc.person_id::text, hc.identity_key, hc.id::text))::int
  from handoff_contacts hc
  join contact_handoffs h on h.id = hc.handoff_id and h.status <> 'revoked'
  where hc.recipient and hc.region like ${`${prefix}%`}
    and hc.quarantine_from <= ${day}::date
    and (
      hc.status = 'quarantined'
      or (hc.status = 'released' and ${day}::date <= coalesce(hc.released_on, hc.quarantine_to))
      or (hc.status = 'became_case' and ${day}::date < hc.became_case_on)
    ))`;
