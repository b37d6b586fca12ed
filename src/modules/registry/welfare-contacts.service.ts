import { randomUUID } from 'node:crypto';
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { type FieldError, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import { welfareContactRecorded, welfareContactSymptomsReported } from './assistance.events.js';
import { welfareContacts } from './assistance.tables.js';
import { households, persons } from './people.tables.js';
import { aidedPerson } from './temporary-assistance.rules.js';
import type { TemporaryAssistanceService } from './temporary-assistance.service.js';

export type WelfareContactRow = typeof welfareContacts.$inferSelect;
type Outcome = 'fine' | 'hardship' | 'symptoms' | 'unreachable';
type Channel = 'phone' | 'wechat' | 'video' | 'in_person';
type Need = 'food' | 'medicine' | 'protective_items' | 'cash' | 'care' | 'medical' | 'other';

export interface NewWelfareContact {
  householdId?: string | undefined;
  personId?: string | undefined;
  contactedAt: string;
  channel: Channel;
  outcome: Outcome;
  needs: Need[];
  notes?: string | undefined;
  caseworker: string;
}

export interface WelfareContactFilter {
  region?: string | undefined;
  outcome?: Outcome | undefined;
  householdId?: string | undefined;
  personId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Id of the last contact of the previous page. */
  after?: string | undefined;
  limit: number;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  assistance: TemporaryAssistanceService;
  clock?: () => Date;
}

/** A caseworker's clock may run a little ahead of ours. */
const CLOCK_SKEW_MS = 60_000;
const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

export const welfareContactOut = (row: WelfareContactRow) => ({
  id: row.id,
  householdId: row.householdId,
  personId: row.personId,
  region: row.region,
  contactedAt: row.contactedAt.toISOString(),
  channel: row.channel as Channel,
  outcome: row.outcome as Outcome,
  needs: row.needs as Need[],
  notes: row.notes,
  caseworker: row.caseworker,
  temporaryAssistanceId: row.temporaryAssistanceId,
  createdBy: row.createdByClientId,
  createdAt: row.createdAt.toISOString(),
});

/**
 * Welfare contacts (measure 1): a caseworker reaches a household or person by phone, WeChat, video
 * or in person. Hardship opens temporary assistance in the same transaction; symptoms are
 * announced for a referral to health.
 */
export function createWelfareContactService({ db, audit, events, assistance, clock = () => new Date() }: Deps) {
  /** The contact's subject inside the caller's jurisdiction (404 otherwise), and the person aided on hardship. */
  async function subjectOf(caller: Jurisdictional, input: NewWelfareContact) {
    const errors: FieldError[] = [];
    if (!input.householdId && !input.personId) errors.push(body('/householdId', 'give householdId, personId or both'));
    if (input.outcome === 'hardship' && input.needs.length === 0) {
      errors.push(body('/needs', 'is required when the outcome is hardship: what the aid should cover'));
    }
    if (Date.parse(input.contactedAt) > clock().getTime() + CLOCK_SKEW_MS) {
      errors.push(body('/contactedAt', 'must not be in the future'));
    }
    if (errors.length > 0) throw validationError(errors);

    const household = input.householdId
      ? (await db.select().from(households).where(eq(households.id, input.householdId)))[0]
      : undefined;
    if (input.householdId && (!household || !inJurisdiction(caller, household.region))) throw notFound('household');
    const person = input.personId ? await aidedPerson(db, input.personId) : undefined;
    if (person && !household && !inJurisdiction(caller, person.region)) throw notFound('person');
    if (person && household && person.householdId !== household.id) {
      throw validationError([body('/personId', 'must be a member of the household given as householdId')]);
    }
    const region = household?.region ?? person!.region;
    if (input.outcome !== 'hardship' || person) return { region, aided: person };
    const [head] = await db
      .select({ id: persons.id })
      .from(persons)
      .where(and(eq(persons.householdId, household!.id), eq(persons.relationship, 'head')))
      .limit(1);
    if (!head) {
      throw validationError([
        body('/personId', 'the household has no head registered: name the person in hardship, who the aid is for'),
      ]);
    }
    return { region, aided: await aidedPerson(db, head.id) };
  }

  async function record(caller: Jurisdictional, actor: AuditActor, input: NewWelfareContact) {
    const { region, aided } = await subjectOf(caller, input);
    return db.transaction(async (tx) => {
      const id = randomUUID();
      const opened =
        input.outcome === 'hardship'
          ? await assistance.open(tx, actor, { person: aided!, region, needs: input.needs, welfareContactId: id })
          : null;
      const [row] = await tx
        .insert(welfareContacts)
        .values({
          id,
          householdId: input.householdId ?? null,
          personId: input.personId ?? null,
          region,
          contactedAt: new Date(input.contactedAt),
          channel: input.channel,
          outcome: input.outcome,
          needs: input.needs,
          notes: input.notes ?? null,
          caseworker: input.caseworker,
          temporaryAssistanceId: opened?.id ?? null,
          createdByClientId: actor.clientId,
        })
        .returning();
      const contact = row!;
      const data = {
        welfareContactId: id,
        householdId: contact.householdId,
        personId: contact.personId,
        region,
        contactedAt: contact.contactedAt.toISOString(),
        channel: input.channel,
        outcome: input.outcome,
        needs: input.needs,
        temporaryAssistanceId: contact.temporaryAssistanceId,
      };
      await events.publish(tx, welfareContactRecorded, { subject: `welfare_contact/${id}`, region, data });
      if (input.outcome === 'symptoms') {
        await events.publish(tx, welfareContactSymptomsReported, { subject: `welfare_contact/${id}`, region, data });
      }
      await audit.record(tx, actor, {
        operation: 'recordWelfareContact',
        resourceType: 'welfare_contact',
        resourceIds: [id],
        personIds: [...new Set([contact.personId, opened?.personId].filter((p): p is string => !!p))],
        detail: { region, outcome: input.outcome, temporaryAssistanceId: opened?.id ?? null },
      });
      return contact;
    });
  }

  async function get(caller: Jurisdictional, actor: AuditActor, id: string) {
    const [row] = await db.select().from(welfareContacts).where(eq(welfareContacts.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('welfare contact');
    await audit.recordRead(actor, {
      operation: 'getWelfareContact',
      resourceType: 'welfare_contact',
      resourceIds: [id],
      personIds: row.personId ? [row.personId] : [],
    });
    return row;
  }

  /** Newest contact first. */
  async function list(caller: Jurisdictional, actor: AuditActor, filter: WelfareContactFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const c = welfareContacts;
    const conditions: SQL[] = [sql`${c.region} like ${`${prefix}%`}`];
    if (filter.outcome) conditions.push(eq(c.outcome, filter.outcome));
    if (filter.householdId) conditions.push(eq(c.householdId, filter.householdId));
    if (filter.personId) conditions.push(eq(c.personId, filter.personId));
    if (filter.from) conditions.push(sql`${c.contactedAt} >= ${filter.from}::timestamptz`);
    if (filter.to) conditions.push(sql`${c.contactedAt} < ${filter.to}::timestamptz`);
    if (filter.after) {
      conditions.push(
        sql`(${c.contactedAt}, ${c.id}) < (select w.contacted_at, w.id from ${c} w where w.id = ${filter.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(c)
      .where(and(...conditions))
      .orderBy(desc(c.contactedAt), desc(c.id))
      .limit(filter.limit + 1);
    const items = found.slice(0, filter.limit);
    const personIds = [...new Set(items.map((r) => r.personId).filter((p): p is string => p !== null))];
    if (items.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listWelfareContacts',
        resourceType: 'welfare_contact',
        resourceIds: items.map((r) => r.id),
        personIds,
      });
    }
    return { items, more: found.length > filter.limit };
  }

  return { record, get, list };
}

export type WelfareContactService = ReturnType<typeof createWelfareContactService>;
