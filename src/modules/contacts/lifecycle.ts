import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, invalidState, notFound, ProblemError } from '../../platform/errors.js';
import type { EventDefinition } from '../../platform/events/catalogue.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import { type Deps, type HandoffRow, type Viewer, visibleTo } from './common.js';
import {
  handoffAccepted,
  handoffClosed,
  handoffDiscarded,
  handoffRejected,
  handoffReopened,
  handoffRevoked,
  handoffSent,
} from './events.js';
import type { Journal } from './journal.js';
import { finalContactStatuses, type HandoffStatus } from './schemas.js';
import { contactHandoffs, handoffContacts } from './tables.js';

/** One action on one handoff, as a caller asked for it. */
export interface Act {
  caller: Viewer;
  actor: AuditActor;
  id: string;
  /** From If-Match: act only on this version (412 otherwise). */
  version: number | undefined;
}

/** The handoff, locked for the transaction; 404 outside the caller's jurisdiction or view, 412 when stale. */
export async function lockHandoff(tx: Executor, s: Act): Promise<HandoffRow> {
  const [row] = await tx.select().from(contactHandoffs).where(eq(contactHandoffs.id, s.id)).for('update');
  if (!row || !inJurisdiction(s.caller, row.region) || !visibleTo(s.caller, row)) throw notFound('contact handoff');
  if (s.version !== undefined && row.version !== s.version) {
    throw new ProblemError(412, 'precondition-failed', 'The handoff changed since you read it; read it again.', {
      currentETag: etagOf(row),
    });
  }
  return row;
}

/** The handoff is in one of `from`; 409 invalid-state otherwise. */
export function checkStatus(h: HandoffRow, from: HandoffStatus[], doing: string) {
  if (!from.includes(h.status as HandoffStatus)) {
    throw invalidState(`The handoff is ${h.status}; it can be ${doing} only when ${from.join(' or ')}.`, h.status);
  }
}

/**
 * The CDC client that accepted the handoff reports on it to the end: a second system reporting on
 * the same contacts would give civil affairs two answers. 409, as for any conflicting state.
 */
export function checkReceiver(h: HandoffRow, caller: Viewer) {
  if (h.receiverClientId !== null && h.receiverClientId !== caller.id) {
    throw conflict('Another disease-control client accepted this handoff and reports on it.', {
      currentState: h.status,
      receiverClientId: h.receiverClientId,
    });
  }
}

/** The handoff's new version and time, after a change to it or to one of its contacts. */
export async function touch(
  tx: Executor,
  h: HandoffRow,
  now: Date,
  set: PgUpdateSetSource<typeof contactHandoffs> = {},
) {
  const [updated] = await tx
    .update(contactHandoffs)
    .set({ ...set, updatedAt: now, version: h.version + 1 })
    .where(eq(contactHandoffs.id, h.id))
    .returning();
  return updated!;
}

interface Rule {
  from: HandoffStatus[];
  to: HandoffStatus;
  event: EventDefinition;
  operation: string;
  /** A CDC step: only the receiver that accepted may take it (once there is one). */
  receiverOnly: boolean;
}

interface Done {
  set: PgUpdateSetSource<typeof contactHandoffs>;
  note?: string | null | undefined;
  data?: Record<string, unknown>;
  event?: EventDefinition;
}

/** The handoff's lifecycle: each action from given statuses, with a step, an event and an audit row, in one transaction. */
export function createLifecycle({ db, clock }: Deps, record: Journal) {
  async function step(
    s: Act,
    rule: Rule,
    work: (h: HandoffRow, now: Date, tx: Executor) => Done | Promise<Done>,
  ): Promise<HandoffRow> {
    return db.transaction(async (tx) => {
      const current = await lockHandoff(tx, s);
      checkStatus(current, rule.from, rule.to);
      if (rule.receiverOnly) checkReceiver(current, s.caller);
      const now = clock();
      const done = await work(current, now, tx);
      const h = await touch(tx, current, now, { ...done.set, status: rule.to });
      await record(
        tx,
        s.actor,
        h,
        {
          action: rule.to,
          fromStatus: current.status,
          toStatus: rule.to,
          note: done.note,
          event: done.event ?? rule.event,
          data: done.data ?? {},
          operation: rule.operation,
          personIds: [h.casePersonId],
        },
        now,
      );
      return h;
    });
  }

  const civil = (from: HandoffStatus[], to: HandoffStatus, event: EventDefinition, operation: string): Rule => ({
    from,
    to,
    event,
    operation,
    receiverOnly: false,
  });
  const receiver = (from: HandoffStatus[], to: HandoffStatus, event: EventDefinition, operation: string): Rule => ({
    from,
    to,
    event,
    operation,
    receiverOnly: true,
  });

  const send = (s: Act, note?: string) =>
    step(s, civil(['draft'], 'sent', handoffSent, 'sendContactHandoff'), (h, now) => ({
      // `sentAt` is the first sending: the CDC has seen the handoff since then.
      set: { sentAt: h.sentAt ?? now },
      note,
      data: { sentAt: now.toISOString() },
    }));

  const accept = (s: Act, note?: string) =>
    step(s, receiver(['sent'], 'accepted', handoffAccepted, 'acceptContactHandoff'), (_h, now) => ({
      set: { acceptedAt: now, receiverClientId: s.caller.id },
      note,
      data: { acceptedAt: now.toISOString() },
    }));

  const reject = (s: Act, reason: string) =>
    step(s, receiver(['sent'], 'rejected', handoffRejected, 'rejectContactHandoff'), (_h, now) => ({
      set: { closedReason: reason, closedAt: now },
      note: reason,
      data: { reason },
    }));

  const reopen = (s: Act, note?: string) =>
    step(s, civil(['rejected'], 'draft', handoffReopened, 'reopenContactHandoff'), () => ({
      set: { closedReason: null, closedAt: null },
      note,
      data: { note: note ?? null },
    }));

  const revoke = (s: Act, reason: string) =>
    step(
      s,
      civil(['draft', 'sent', 'accepted', 'rejected'], 'revoked', handoffRevoked, 'revokeContactHandoff'),
      (h, now) => ({
        set: { closedReason: reason, closedAt: now },
        note: reason,
        data: { reason },
        // A draft never sent was never the CDC's: withdrawing it is civil affairs' own business.
        ...(h.sentAt === null && { event: handoffDiscarded }),
      }),
    );

  const close = (s: Act, note?: string) =>
    step(s, receiver(['accepted'], 'closed', handoffClosed, 'closeContactHandoff'), async (h, now, tx) => {
      const [open] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(handoffContacts)
        .where(and(eq(handoffContacts.handoffId, h.id), notInArray(handoffContacts.status, finalContactStatuses)));
      const n = Number(open?.n ?? 0);
      if (n > 0) {
        throw conflict(
          `${n} contact(s) are still pending, reached or in quarantine; report them released, unreachable or a case first.`,
          { currentState: h.status, openContacts: n },
        );
      }
      return { set: { closedAt: now }, note };
    });

  return { send, accept, reject, reopen, revoke, close };
}
