import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { EventDefinition } from '../../platform/events/catalogue.js';
import type { EventService } from '../../platform/events/service.js';
import { type ContactRow, eventBase, type HandoffRow, listedContacts, subjectOf } from './common.js';
import { handoffSteps } from './tables.js';

/** One step of a handoff or of one of its contacts, as the journal keeps it. */
export interface Entry {
  action: string;
  contact?: ContactRow | null;
  fromStatus: string | null;
  toStatus: string;
  note?: string | null | undefined;
  detail?: Record<string, unknown>;
  event: EventDefinition;
  /** The event's fields beyond the handoff's base. */
  data: Record<string, unknown>;
  operation: string;
  /** Persons the change is about, for the audit trail. */
  personIds: string[];
  /** false: no step in the history (a comment is not a change of state). */
  step?: boolean;
  /** Contacts on the list, when the caller knows it already (counted otherwise). */
  contacts?: number;
}

/**
 * Every change is written three ways in its transaction: a step (history), an event (subject
 * `contact_handoff/<id>`, region the handoff's) and an audit row.
 */
export function createJournal({ audit, events }: { audit: AuditService; events: EventService }) {
  return async function record(tx: Executor, actor: AuditActor, h: HandoffRow, e: Entry, now: Date) {
    if (e.step !== false)
      await tx.insert(handoffSteps).values({
        handoffId: h.id,
        seq: sql`(select coalesce(max(${handoffSteps.seq}), 0) + 1 from ${handoffSteps} where ${handoffSteps.handoffId} = ${h.id})`,
        contactId: e.contact?.id ?? null,
        action: e.action,
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        at: now,
        clientId: actor.clientId,
        agency: actor.agency,
        note: e.note ?? null,
        detail: e.detail ?? null,
      });
    await events.publish(tx, e.event, {
      subject: subjectOf(h.id),
      region: h.region,
      data: { ...eventBase(h, e.contacts ?? (await listedContacts(tx, h.id)), now), ...e.data },
    });
    await audit.record(tx, actor, {
      operation: e.operation,
      resourceType: 'contact_handoff',
      resourceIds: e.contact ? [h.id, e.contact.id] : [h.id],
      personIds: [...new Set(e.personIds)],
      detail: { action: e.action, from: e.fromStatus, to: e.toStatus, ...(e.contact && { contactId: e.contact.id }) },
    });
  };
}

export type Journal = ReturnType<typeof createJournal>;
