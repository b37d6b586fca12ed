import { and, eq } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import { invalidState, notFound, validationError } from '../../platform/errors.js';
import type { EventDefinition } from '../../platform/events/catalogue.js';
import { businessDateOf } from '../registry/dates.js';
import { bodyError, CLOCK_SKEW_MS, type ContactRow, contactEventFields, type Deps, type HandoffRow } from './common.js';
import {
  contactBecameCase,
  contactQuarantined,
  contactReached,
  contactReleased,
  contactUnreachable,
} from './events.js';
import type { Journal } from './journal.js';
import { type Act, checkReceiver, checkStatus, lockHandoff, touch } from './lifecycle.js';
import type { Openings } from './open.js';
import type { ContactStatus } from './schemas.js';
import { handoffContacts } from './tables.js';

/** An action on one contact of a handoff. */
export interface ContactAct extends Act {
  contactId: string;
}

export interface ContactDone {
  set: PgUpdateSetSource<typeof handoffContacts>;
  note?: string | null | undefined;
  data?: Record<string, unknown>;
  detail?: Record<string, unknown>;
}

/** The contact of the locked handoff, locked too; 404 when it is not this handoff's. */
export async function lockContact(tx: Executor, h: HandoffRow, contactId: string): Promise<ContactRow> {
  const [row] = await tx
    .select()
    .from(handoffContacts)
    .where(and(eq(handoffContacts.id, contactId), eq(handoffContacts.handoffId, h.id)))
    .for('update');
  if (!row) throw notFound('contact');
  return row;
}

export function checkContactStatus(c: ContactRow, from: ContactStatus[], doing: string) {
  if (!from.includes(c.status as ContactStatus)) {
    throw invalidState(`The contact is ${c.status}; it can be ${doing} only when ${from.join(' or ')}.`, c.status);
  }
}

/** A change to one contact: the handoff and the contact locked, checked, changed, journalled. */
export function createContactStep({ db, clock }: Deps, record: Journal) {
  return async function contactStep(
    s: ContactAct,
    rule: {
      handoffFrom: ('draft' | 'sent' | 'accepted')[];
      from: ContactStatus[];
      to: ContactStatus;
      receiverOnly: boolean;
      /** Or chosen by the handoff (a draft never sent has events of its own). */
      event: EventDefinition | ((h: HandoffRow) => EventDefinition);
      operation: string;
      action: string;
    },
    work: (h: HandoffRow, c: ContactRow, now: Date, tx: Executor) => ContactDone | Promise<ContactDone>,
  ): Promise<HandoffRow> {
    return db.transaction(async (tx) => {
      const current = await lockHandoff(tx, s);
      checkStatus(current, rule.handoffFrom, `changed (${rule.action})`);
      if (rule.receiverOnly) checkReceiver(current, s.caller);
      const contact = await lockContact(tx, current, s.contactId);
      checkContactStatus(contact, rule.from, rule.to);
      const now = clock();
      const done = await work(current, contact, now, tx);
      const [updated] = await tx
        .update(handoffContacts)
        .set({ ...done.set, status: rule.to, updatedAt: now, version: contact.version + 1 })
        .where(eq(handoffContacts.id, contact.id))
        .returning();
      const c = updated!;
      const h = await touch(tx, current, now);
      await record(
        tx,
        s.actor,
        h,
        {
          action: rule.action,
          contact: c,
          fromStatus: contact.status,
          toStatus: rule.to,
          note: done.note,
          ...(done.detail && { detail: done.detail }),
          event: typeof rule.event === 'function' ? rule.event(h) : rule.event,
          data: { ...contactEventFields(c), ...done.data },
          operation: rule.operation,
          personIds: [h.casePersonId, ...(c.personId ? [c.personId] : [])],
        },
        now,
      );
      return h;
    });
  };
}

export type ContactStep = ReturnType<typeof createContactStep>;

/** What the CDC reports of each contact (issue 8, item 2); only the receiver that accepted the handoff. */
export function createTracing(contactStep: ContactStep, openings: Openings) {
  const cdc = (from: ContactStatus[], to: ContactStatus, event: EventDefinition, operation: string) => ({
    handoffFrom: ['accepted' as const],
    from,
    to,
    receiverOnly: true,
    event,
    operation,
    action: to,
  });

  const reach = (s: ContactAct, input: { reachedAt?: string | undefined; note?: string | undefined }) =>
    contactStep(s, cdc(['pending', 'unreachable'], 'reached', contactReached, 'reachContact'), (h, _c, now) => {
      const at = input.reachedAt ? new Date(input.reachedAt) : now;
      if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        throw validationError([bodyError('/reachedAt', 'must not be in the future')]);
      }
      if (h.sentAt && at.getTime() < h.sentAt.getTime()) {
        throw validationError([
          bodyError('/reachedAt', `must not be before the handoff was sent (${h.sentAt.toISOString()})`),
        ]);
      }
      return { set: { reachedAt: at, statusReason: null }, note: input.note, data: { reachedAt: at.toISOString() } };
    });

  const quarantine = (
    s: ContactAct,
    input: {
      kind: 'home' | 'centralised';
      from: string;
      to: string;
      place?: string | undefined;
      note?: string | undefined;
    },
  ) =>
    contactStep(
      s,
      cdc(['pending', 'reached', 'quarantined'], 'quarantined', contactQuarantined, 'quarantineContact'),
      (_h, c, now) => {
        const today = businessDateOf(now);
        const errors = [];
        if (input.from > today) errors.push(bodyError('/from', `must not be in the future (today is ${today})`));
        if (input.to < input.from) errors.push(bodyError('/to', `must be on or after from (${input.from})`));
        if (errors.length > 0) throw validationError(errors);
        return {
          // Quarantined without a reported reach: reached now, by the quarantine itself.
          set: {
            quarantineKind: input.kind,
            quarantineFrom: input.from,
            quarantineTo: input.to,
            quarantinePlace: input.place ?? null,
            reachedAt: c.reachedAt ?? now,
          },
          note: input.note,
          detail: { kind: input.kind, from: input.from, to: input.to },
        };
      },
    );

  const release = (s: ContactAct, input: { releasedOn?: string | undefined; note?: string | undefined }) =>
    contactStep(s, cdc(['quarantined'], 'released', contactReleased, 'releaseContact'), (_h, c, now) => {
      const today = businessDateOf(now);
      const on = input.releasedOn ?? today;
      if (on > today)
        throw validationError([bodyError('/releasedOn', `must not be in the future (today is ${today})`)]);
      if (on < c.quarantineFrom!) {
        throw validationError([
          bodyError('/releasedOn', `must not be before the quarantine began (${c.quarantineFrom})`),
        ]);
      }
      return { set: { releasedOn: on }, note: input.note, data: { releasedOn: on } };
    });

  const unreachable = (s: ContactAct, reason: string) =>
    contactStep(s, cdc(['pending', 'reached'], 'unreachable', contactUnreachable, 'contactUnreachable'), () => ({
      set: { statusReason: reason },
      note: reason,
      data: { reason },
    }));

  /**
   * The contact became a confirmed case. A registry person gets a handoff of their own (a draft for
   * civil affairs of their region, assembled now), or the one they have open already; a contact the
   * registry does not know gets none (the CDC holds their case; civil affairs may register them and
   * open one with POST /v1/contact-handoffs).
   */
  const becameCase = (s: ContactAct, input: { onsetDate?: string | undefined; note?: string | undefined }) =>
    contactStep(
      s,
      cdc(['pending', 'reached', 'quarantined', 'unreachable'], 'became_case', contactBecameCase, 'contactBecameCase'),
      async (_h, c, now, tx) => {
        const today = businessDateOf(now);
        const onset = input.onsetDate ?? today;
        if (onset > today)
          throw validationError([bodyError('/onsetDate', `must not be in the future (today is ${today})`)]);
        let next: string | null = null;
        if (c.personId) {
          const opened = await openings.open(
            tx,
            s.actor,
            {
              casePersonId: c.personId,
              origin: 'contact',
              sourceContactId: c.id,
              onsetDate: onset,
              confirmedOn: today,
            },
            now,
          );
          next = opened?.id ?? (await openings.openOf(tx, c.personId))?.id ?? null;
        }
        return {
          set: { becameCaseOn: onset, nextHandoffId: next },
          note: input.note,
          data: { becameCaseOn: onset, nextHandoffId: next },
        };
      },
    );

  return { reach, quarantine, release, unreachable, becameCase };
}
