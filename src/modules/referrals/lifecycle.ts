import { eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, invalidState, notFound, ProblemError, validationError } from '../../platform/errors.js';
import type { EventDefinition } from '../../platform/events/catalogue.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import { bodyError, CLOCK_SKEW_MS, type Deps, eventBase } from './common.js';
import {
  referralAcknowledged,
  referralCancelled,
  referralConfirmed,
  referralExcluded,
  referralRejected,
  referralTransferred,
} from './events.js';
import type { ReferralStatus } from './schemas.js';
import { referrals, referralSteps } from './tables.js';
import type { ReferralRow, Viewer } from './view.js';

/** One action on one referral, as a caller asked for it. */
export interface Act {
  caller: Viewer;
  actor: AuditActor;
  id: string;
  /** From If-Match: act only on this version (412 otherwise). */
  version: number | undefined;
}

interface Rule {
  from: ReferralStatus[];
  to: ReferralStatus;
  event: EventDefinition;
  operation: string;
  /** Only the receiver that acknowledged may take this step (once there is one). */
  receiverOnly: boolean;
}

interface Done {
  set: PgUpdateSetSource<typeof referrals>;
  note?: string | null | undefined;
  data?: Record<string, unknown>;
}

async function lockReferral(tx: Executor, s: Act) {
  const [row] = await tx.select().from(referrals).where(eq(referrals.id, s.id)).for('update');
  if (!row || !inJurisdiction(s.caller, row.region)) throw notFound('referral');
  if (s.version !== undefined && row.version !== s.version) {
    throw new ProblemError(412, 'precondition-failed', 'The referral changed since you read it; read it again.', {
      currentETag: etagOf(row),
    });
  }
  return row;
}

function check(row: ReferralRow, s: Act, rule: Rule) {
  if (!rule.from.includes(row.status as ReferralStatus)) {
    throw invalidState(
      `The referral is ${row.status}; it can be ${rule.to} only when ${rule.from.join(' or ')}.`,
      row.status,
    );
  }
  // The receiver that acknowledged answers the referral to the end: a second system acting on the
  // same case would give civil affairs two answers. 409, as for any other conflicting state.
  if (rule.receiverOnly && row.receiverClientId !== null && row.receiverClientId !== s.caller.id) {
    throw conflict('Another receiving client acknowledged this referral and answers it.', {
      currentState: row.status,
      receiverClientId: row.receiverClientId,
    });
  }
}

/** The referral's lifecycle: each action from given statuses, with a step, an event and an audit row, in one transaction. */
export function createLifecycle({ db, audit, events, clock, onConfirmed }: Deps) {
  async function step(s: Act, rule: Rule, work: (row: ReferralRow, now: Date) => Done): Promise<ReferralRow> {
    return db.transaction(async (tx) => {
      const current = await lockReferral(tx, s);
      check(current, s, rule);
      const now = clock();
      const done = work(current, now);
      const [updated] = await tx
        .update(referrals)
        .set({ ...done.set, status: rule.to, updatedAt: now, version: current.version + 1 })
        .where(eq(referrals.id, current.id))
        .returning();
      const r = updated!;
      await tx.insert(referralSteps).values({
        referralId: r.id,
        seq: sql`(select coalesce(max(${referralSteps.seq}), 0) + 1 from ${referralSteps} where ${referralSteps.referralId} = ${r.id})`,
        action: rule.to,
        fromStatus: current.status,
        toStatus: rule.to,
        at: now,
        clientId: s.actor.clientId,
        agency: s.actor.agency,
        note: done.note ?? null,
      });
      await events.publish(tx, rule.event, {
        subject: `referral/${r.id}`,
        region: r.region,
        data: { ...eventBase(r, now), ...done.data },
      });
      await audit.record(tx, s.actor, {
        operation: rule.operation,
        resourceType: 'referral',
        resourceIds: [r.id],
        personIds: [r.personId],
        detail: { from: current.status, to: rule.to },
      });
      if (rule.to === 'confirmed') await onConfirmed(tx, r, s.actor);
      return r;
    });
  }

  const receiver = (from: ReferralStatus[], to: ReferralStatus, event: EventDefinition, operation: string): Rule => ({
    from,
    to,
    event,
    operation,
    receiverOnly: true,
  });

  const acknowledge = (s: Act, note?: string) =>
    step(s, receiver(['reported'], 'acknowledged', referralAcknowledged, 'acknowledgeReferral'), (_r, now) => ({
      set: { acknowledgedAt: now, receiverClientId: s.caller.id },
      note,
      data: { acknowledgedAt: now.toISOString() },
    }));

  const transfer = (
    s: Act,
    input: { hospital: string; transferredAt?: string | undefined; note?: string | undefined },
  ) =>
    step(s, receiver(['acknowledged'], 'transferred', referralTransferred, 'transferReferral'), (r, now) => {
      const at = input.transferredAt ? new Date(input.transferredAt) : now;
      if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        throw validationError([bodyError('/transferredAt', 'must not be in the future')]);
      }
      if (at.getTime() < r.createdAt.getTime()) {
        throw validationError([
          bodyError('/transferredAt', `must not be before the report (${r.createdAt.toISOString()})`),
        ]);
      }
      return {
        set: { hospital: input.hospital, transferredAt: at },
        note: input.note,
        data: { hospital: input.hospital, transferredAt: at.toISOString() },
      };
    });

  const outcome = (s: Act, to: 'confirmed' | 'excluded', note?: string) =>
    step(
      s,
      receiver(
        ['transferred'],
        to,
        to === 'confirmed' ? referralConfirmed : referralExcluded,
        to === 'confirmed' ? 'confirmReferral' : 'excludeReferral',
      ),
      (r, now) => ({
        set: { outcome: to, outcomeAt: now },
        note,
        data: { outcome: to, outcomeAt: now.toISOString(), hospital: r.hospital },
      }),
    );

  const close = (to: 'rejected' | 'cancelled') => (s: Act, reason: string) =>
    step(
      s,
      to === 'rejected'
        ? receiver(['reported', 'acknowledged'], 'rejected', referralRejected, 'rejectReferral')
        : {
            from: ['reported', 'acknowledged', 'transferred'],
            to: 'cancelled',
            event: referralCancelled,
            operation: 'cancelReferral',
            receiverOnly: false,
          },
      (_r, now) => ({
        set: { closedReason: reason, closedAt: now },
        note: reason,
        data: { reason, closedAt: now.toISOString() },
      }),
    );

  return {
    acknowledge,
    transfer,
    confirm: (s: Act, note?: string) => outcome(s, 'confirmed', note),
    exclude: (s: Act, note?: string) => outcome(s, 'excluded', note),
    reject: close('rejected'),
    cancel: close('cancelled'),
  };
}
