import { type AnyColumn, and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { AuditActor } from '../../platform/audit/service.js';
import { notFound } from '../../platform/errors.js';
import { etagOf } from '../../platform/http.js';
import { effectiveRegionPrefix, inJurisdiction, jurisdictionCondition } from '../../platform/jurisdiction.js';
import type { IdType } from './people.schemas.js';
import type { PeopleDeps } from './people.service.js';
import { households, persons } from './people.tables.js';
import { householdView, type PersonRow, personView, type Reader, revealsTo } from './people.view.js';

export interface RegionPage {
  /** Region-code prefix, narrowed to the caller's jurisdiction. */
  region?: string | undefined;
  /** Key of the last item of the previous page. */
  after?: { region: string; id: string } | undefined;
  limit: number;
}

export type PersonSearch = { idType: IdType; idNumber: string } | { phone: string };

const SEARCH_MAX = 100;

/**
 * Reads of households and persons, each audited with the persons it showed. A read that opened
 * sealed fields (the caller holds registry:read_sensitive) is recorded as `<operation>Unmasked`.
 */
export function createPeopleReads({ db, audit, pii }: Pick<PeopleDeps, 'db' | 'audit' | 'pii'>) {
  const recordRead = (
    caller: Reader,
    actor: AuditActor,
    operation: string,
    resourceType: string,
    resourceIds: string[],
    personIds: string[],
  ) =>
    audit.recordRead(actor, {
      operation: revealsTo(caller) ? `${operation}Unmasked` : operation,
      resourceType,
      resourceIds,
      personIds,
    });

  /** Members of these households that lie in the caller's jurisdiction (a member may live elsewhere). */
  async function membersOf(caller: Reader, householdIds: string[]): Promise<Map<string, PersonRow[]>> {
    const byHousehold = new Map<string, PersonRow[]>(householdIds.map((id) => [id, []]));
    if (householdIds.length === 0) return byHousehold;
    const found = await db
      .select()
      .from(persons)
      .where(and(inArray(persons.householdId, householdIds), jurisdictionCondition(caller, persons.region)));
    for (const p of found) byHousehold.get(p.householdId!)?.push(p);
    return byHousehold;
  }

  async function getPerson(caller: Reader, actor: AuditActor, id: string) {
    const [row] = await db.select().from(persons).where(eq(persons.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('person');
    await recordRead(caller, actor, 'getPerson', 'person', [id], [id]);
    return { body: personView(pii, row, revealsTo(caller)), etag: etagOf(row) };
  }

  async function getHousehold(caller: Reader, actor: AuditActor, id: string) {
    const [row] = await db.select().from(households).where(eq(households.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('household');
    const members = (await membersOf(caller, [id])).get(id)!;
    await recordRead(
      caller,
      actor,
      'getHousehold',
      'household',
      [id],
      members.map((m) => m.id),
    );
    return { body: householdView(pii, row, members, revealsTo(caller)), etag: etagOf(row) };
  }

  /** The keyset conditions of a region-ordered page; null when the filter lies outside the jurisdiction. */
  function pageConditions(caller: Reader, page: RegionPage, region: AnyColumn, id: AnyColumn) {
    const prefix = effectiveRegionPrefix(caller, page.region);
    if (prefix === null) return null;
    const conditions: SQL[] = [sql`${region} like ${`${prefix}%`}`];
    if (page.after) conditions.push(sql`(${region}, ${id}) > (${page.after.region}, ${page.after.id}::uuid)`);
    return and(...conditions)!;
  }

  /** Ordered by region, then id (the index's order): a district's households come together. */
  async function listHouseholds(caller: Reader, actor: AuditActor, page: RegionPage) {
    const where = pageConditions(caller, page, households.region, households.id);
    if (!where) return { items: [], more: false };
    const found = await db
      .select()
      .from(households)
      .where(where)
      .orderBy(asc(households.region), asc(households.id))
      .limit(page.limit + 1);
    const shown = found.slice(0, page.limit);
    const members = await membersOf(
      caller,
      shown.map((h) => h.id),
    );
    const reveal = revealsTo(caller);
    const items = shown.map((h) => householdView(pii, h, members.get(h.id)!, reveal));
    if (items.length > 0) {
      await recordRead(
        caller,
        actor,
        'listHouseholds',
        'household',
        items.map((h) => h.id),
        items.flatMap((h) => h.members.map((m) => m.id)),
      );
    }
    return { items, more: found.length > page.limit, last: shown.at(-1) };
  }

  async function listPersons(caller: Reader, actor: AuditActor, page: RegionPage) {
    const where = pageConditions(caller, page, persons.region, persons.id);
    if (!where) return { items: [], more: false };
    const found = await db
      .select()
      .from(persons)
      .where(where)
      .orderBy(asc(persons.region), asc(persons.id))
      .limit(page.limit + 1);
    const shown = found.slice(0, page.limit);
    const ids = shown.map((p) => p.id);
    if (ids.length > 0) await recordRead(caller, actor, 'listPersons', 'person', ids, ids);
    const reveal = revealsTo(caller);
    return { items: shown.map((p) => personView(pii, p, reveal)), more: found.length > page.limit, last: shown.at(-1) };
  }

  /**
   * Finds persons in the caller's jurisdiction by document or phone through the blind index, without
   * decrypting anything. The search itself is audited even when it finds nobody.
   */
  async function searchPersons(caller: Reader, actor: AuditActor, search: PersonSearch) {
    const match =
      'phone' in search
        ? eq(persons.phoneIndex, pii.index('phone', search.phone))
        : and(eq(persons.idType, search.idType), eq(persons.idNumberIndex, pii.index('document', search.idNumber)));
    const found = await db
      .select()
      .from(persons)
      .where(and(match, jurisdictionCondition(caller, persons.region)))
      .orderBy(asc(persons.region), asc(persons.id))
      .limit(SEARCH_MAX);
    const ids = found.map((p) => p.id);
    await recordRead(caller, actor, 'searchPersons', 'person', ids, ids);
    const reveal = revealsTo(caller);
    return { items: found.map((p) => personView(pii, p, reveal)) };
  }

  return { getPerson, getHousehold, listHouseholds, listPersons, searchPersons };
}
