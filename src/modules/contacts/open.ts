import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { notFound } from '../../platform/errors.js';
import { addDays, businessDateOf } from '../registry/dates.js';
import { persons } from '../registry/people.tables.js';
import { assembleContacts } from './assemble.js';
import type { Deps, HandoffRow } from './common.js';
import { handoffDrafted } from './events.js';
import type { Journal } from './journal.js';
import { type HandoffOrigin, NORMAL_LOOK_BACK_DAYS, openHandoffStatuses } from './schemas.js';
import { contactHandoffs } from './tables.js';

/** A confirmed case, and what its handoff starts from. */
export interface Opening {
  casePersonId: string;
  origin: HandoffOrigin;
  referralId?: string | null;
  sourceContactId?: string | null;
  onsetDate: string;
  confirmedOn: string | null;
  note?: string | null | undefined;
  /** When household members were last with the case (the transfer to hospital); the assembly day otherwise. */
  householdLastContact?: string | null;
}

/** What the handoff needs of a confirmed referral (the referrals module's row has these). */
export interface ConfirmedReferral {
  id: string;
  personId: string;
  onsetDate: string | null;
  createdAt: Date;
  transferredAt: Date | null;
}

const OPEN = sql.raw(`status in (${openHandoffStatuses.map((s) => `'${s}'`).join(',')})`);

/** Opening a handoff: the draft, its contact list assembled in the same transaction, its first step. */
export function createOpening({ policies }: Deps, record: Journal) {
  /**
   * Opens a draft handoff for a confirmed case in `tx`; null when the person has one open already
   * (the database's one-open index decides, so two confirmations at once open one).
   */
  async function open(tx: Executor, actor: AuditActor, o: Opening, now: Date): Promise<HandoffRow | null> {
    const [person] = await tx
      .select({ id: persons.id, region: persons.region, householdId: persons.householdId })
      .from(persons)
      .where(eq(persons.id, o.casePersonId));
    if (!person) throw notFound('person');
    const today = businessDateOf(now);
    const policy = await policies.inForce(person.region, today, tx);
    const lookBackDays = policy?.contactLookBackDays ?? NORMAL_LOOK_BACK_DAYS;
    const windowTo = today > o.onsetDate ? today : o.onsetDate;
    const windowFrom = addDays(o.onsetDate, -lookBackDays);
    const [h] = await tx
      .insert(contactHandoffs)
      .values({
        region: person.region,
        casePersonId: person.id,
        caseHouseholdId: person.householdId,
        origin: o.origin,
        referralId: o.referralId ?? null,
        sourceContactId: o.sourceContactId ?? null,
        onsetDate: o.onsetDate,
        confirmedOn: o.confirmedOn,
        lookBackDays,
        windowFrom,
        windowTo,
        note: o.note ?? null,
        createdByClientId: actor.clientId,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: contactHandoffs.casePersonId, where: OPEN })
      .returning();
    if (!h) return null;
    const lastTogether = o.householdLastContact ?? windowTo;
    const assembled = await assembleContacts(
      tx,
      h.id,
      {
        casePersonId: person.id,
        windowFrom,
        windowTo,
        householdLastContact: lastTogether < windowFrom ? windowFrom : lastTogether,
      },
      actor.clientId,
      now,
    );
    await record(
      tx,
      actor,
      h,
      {
        action: 'drafted',
        fromStatus: null,
        toStatus: 'draft',
        note: o.note,
        detail: { origin: o.origin, lookBackDays, windowFrom, windowTo },
        event: handoffDrafted,
        data: { sourceContactId: h.sourceContactId },
        operation: 'draftContactHandoff',
        personIds: [person.id, ...assembled.personIds],
        contacts: assembled.count,
      },
      now,
    );
    return h;
  }

  /** The person's open handoff, if any. */
  async function openOf(executor: Executor, personId: string) {
    const [row] = await executor
      .select()
      .from(contactHandoffs)
      .where(and(eq(contactHandoffs.casePersonId, personId), inArray(contactHandoffs.status, openHandoffStatuses)));
    return row ?? null;
  }

  /**
   * A referral's outcome is confirmed: its handoff opens in the confirmation's transaction. Onset:
   * the referral's, else the day it was reported; household members were with the case until the
   * transfer to hospital. Nothing when the person has a handoff open already.
   */
  async function fromReferral(tx: Executor, actor: AuditActor, r: ConfirmedReferral, now: Date) {
    await open(
      tx,
      actor,
      {
        casePersonId: r.personId,
        origin: 'referral',
        referralId: r.id,
        onsetDate: r.onsetDate ?? businessDateOf(r.createdAt),
        confirmedOn: businessDateOf(now),
        householdLastContact: r.transferredAt ? businessDateOf(r.transferredAt) : null,
      },
      now,
    );
  }

  return { open, openOf, fromReferral };
}

export type Openings = ReturnType<typeof createOpening>;
