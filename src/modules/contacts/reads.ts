import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, type SQL, sql } from 'drizzle-orm';
import { rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { notFound } from '../../platform/errors.js';
import { effectiveRegionPrefix, inJurisdiction, jurisdictionPattern } from '../../platform/jurisdiction.js';
import { persons } from '../registry/people.tables.js';
import { relationRank } from './assemble.js';
import {
  type CommentRow,
  type Deps,
  type HandoffRow,
  isCivil,
  type StepRow,
  type Viewer,
  visibleTo,
} from './common.js';
import type { ContactCounts, ContactStatus, HandoffStatus, Relation } from './schemas.js';
import { contactHandoffs, handoffComments, handoffContacts, handoffSteps } from './tables.js';
import { type ContactFacts, emptyCounts, loadPersons, type OtherHandoff, type PersonFacts } from './view.js';

export interface HandoffFilter {
  status?: HandoffStatus | undefined;
  region?: string | undefined;
  casePersonId?: string | undefined;
  referralId?: string | undefined;
  /** Id of the last handoff of the previous page. */
  after?: string | undefined;
  limit: number;
}

export interface HandoffRead {
  row: HandoffRow;
  casePerson: PersonFacts;
  counts: ContactCounts;
  contacts: ContactFacts[];
  others: Map<string, OtherHandoff[]>;
  steps: StepRow[];
  comments: CommentRow[];
}

const h = contactHandoffs;

/** Reads of handoffs, inside the caller's jurisdiction (drafts for civil affairs only), each audited with the persons it showed. */
export function createReads({ db, audit }: Deps) {
  async function countsOf(ids: string[]): Promise<Map<string, ContactCounts>> {
    const result = new Map(ids.map((id) => [id, emptyCounts()]));
    if (ids.length === 0) return result;
    const found = await db
      .select({ handoffId: handoffContacts.handoffId, status: handoffContacts.status, n: sql<number>`count(*)::int` })
      .from(handoffContacts)
      .where(inArray(handoffContacts.handoffId, ids))
      .groupBy(handoffContacts.handoffId, handoffContacts.status);
    for (const r of found) result.get(r.handoffId)![r.status as ContactStatus] = Number(r.n);
    return result;
  }

  /**
   * The same persons in other handoffs the caller may see: by the blind index (ID document, else
   * phone) or the registry person. The CDC's links between cases. A revoked handoff's contacts are
   * nobody's contacts: left out.
   */
  async function othersOf(caller: Viewer, handoffId: string): Promise<Map<string, OtherHandoff[]>> {
    const seen = isCivil(caller) ? sql`true` : sql`oh.sent_at is not null`;
    const linked = (on: SQL, present: SQL) => sql`
      select x.id as for_contact, o.id as contact_id, o.handoff_id, oh.case_person_id, o.relation, o.status,
        o.last_contact_date::text as last_contact_date, oh.created_at
      from handoff_contacts x
      join handoff_contacts o on ${on} and o.handoff_id <> x.handoff_id and o.status <> 'removed'
      join contact_handoffs oh on oh.id = o.handoff_id
      where x.handoff_id = ${handoffId}::uuid and ${present} and oh.status <> 'revoked'
        and oh.region like ${jurisdictionPattern(caller)} and ${seen}`;
    const found = await rows<{
      for_contact: string;
      contact_id: string;
      handoff_id: string;
      case_person_id: string;
      relation: string;
      status: string;
      last_contact_date: string | null;
    }>(
      db,
      sql`${linked(sql`o.identity_key = x.identity_key`, sql`x.identity_key is not null`)}
        union
        ${linked(sql`o.person_id = x.person_id`, sql`x.person_id is not null`)}
        order by created_at, contact_id`,
    );
    const result = new Map<string, OtherHandoff[]>();
    for (const r of found) {
      const list = result.get(r.for_contact) ?? [];
      list.push({
        handoffId: r.handoff_id,
        contactId: r.contact_id,
        casePersonId: r.case_person_id,
        relation: r.relation as Relation,
        status: r.status as ContactStatus,
        lastContactDate: r.last_contact_date,
      });
      result.set(r.for_contact, list);
    }
    return result;
  }

  /** The handoff with its case person, contacts, links, steps and comments, unaudited: for answers whose audit row is written already. */
  async function load(caller: Viewer, id: string): Promise<HandoffRead> {
    const [row] = await db.select().from(h).where(eq(h.id, id));
    if (!row || !inJurisdiction(caller, row.region) || !visibleTo(caller, row)) throw notFound('contact handoff');
    const contacts = await db
      .select({ ...getTableColumns(handoffContacts), sex: persons.sex, birthDate: persons.birthDate })
      .from(handoffContacts)
      .leftJoin(persons, eq(persons.id, handoffContacts.personId))
      .where(eq(handoffContacts.handoffId, id))
      .orderBy(
        sql`array_position(${relationRank}, ${handoffContacts.relation})`,
        asc(handoffContacts.name),
        asc(handoffContacts.id),
      );
    const steps = await db
      .select()
      .from(handoffSteps)
      .where(eq(handoffSteps.handoffId, id))
      .orderBy(asc(handoffSteps.seq));
    const comments = await db
      .select()
      .from(handoffComments)
      .where(eq(handoffComments.handoffId, id))
      .orderBy(asc(handoffComments.at), asc(handoffComments.id));
    const casePerson = (await loadPersons(db, [row.casePersonId])).get(row.casePersonId)!;
    const counts = emptyCounts();
    for (const c of contacts) counts[c.status as ContactStatus] += 1;
    return { row, casePerson, counts, contacts, others: await othersOf(caller, id), steps, comments };
  }

  const personIdsOf = (read: HandoffRead) => [
    read.row.casePersonId,
    ...read.contacts.flatMap((c) => (c.personId ? [c.personId] : [])),
  ];

  async function get(caller: Viewer, actor: AuditActor, id: string, operation = 'getContactHandoff') {
    const read = await load(caller, id);
    await audit.recordRead(actor, {
      operation,
      resourceType: 'contact_handoff',
      resourceIds: [id],
      personIds: [...new Set(personIdsOf(read))],
    });
    return read;
  }

  /** Newest first; keyset on (created_at, id). */
  async function list(caller: Viewer, actor: AuditActor, filter: HandoffFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [sql`${h.region} like ${`${prefix}%`}`];
    if (!isCivil(caller)) conditions.push(isNotNull(h.sentAt));
    if (filter.status) conditions.push(eq(h.status, filter.status));
    if (filter.casePersonId) conditions.push(eq(h.casePersonId, filter.casePersonId));
    if (filter.referralId) conditions.push(eq(h.referralId, filter.referralId));
    if (filter.after) {
      conditions.push(
        sql`(${h.createdAt}, ${h.id}) < (select x.created_at, x.id from ${h} x where x.id = ${filter.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(h)
      .where(and(...conditions))
      .orderBy(desc(h.createdAt), desc(h.id))
      .limit(filter.limit + 1);
    const page = found.slice(0, filter.limit);
    const people = await loadPersons(
      db,
      page.map((x) => x.casePersonId),
    );
    const counts = await countsOf(page.map((x) => x.id));
    if (page.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listContactHandoffs',
        resourceType: 'contact_handoff',
        resourceIds: page.map((x) => x.id),
        personIds: [...new Set(page.map((x) => x.casePersonId))],
      });
    }
    return {
      items: page.map((row) => ({ row, casePerson: people.get(row.casePersonId)!, counts: counts.get(row.id)! })),
      more: found.length > filter.limit,
    };
  }

  return { load, get, list };
}
