import { eq, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { invalidState, notFound, ProblemError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import {
  type AssistanceEventData,
  temporaryAssistanceCancelled,
  temporaryAssistanceCompleted,
  temporaryAssistanceRefused,
} from './assistance.events.js';
import { temporaryAssistance } from './assistance.tables.js';
import { businessDateOf } from './dates.js';
import type { AssistanceRow } from './temporary-assistance.rules.js';

export type AssistanceStatus = AssistanceEventData['status'];

/** Completed on or before the due date (Asia/Shanghai); null until completed. */
export const paperworkOnTime = (row: AssistanceRow) =>
  row.completedAt && row.paperworkDueDate ? businessDateOf(row.completedAt) <= row.paperworkDueDate : null;

/** What the payments module needs of an assistance: who, where, how much, which emergency, by when. */
export const eventData = (row: AssistanceRow): AssistanceEventData => ({
  temporaryAssistanceId: row.id,
  personId: row.personId,
  householdId: row.householdId,
  region: row.region,
  hukouRegion: row.hukouRegion,
  nonLocal: row.nonLocal,
  policyId: row.policyId,
  status: row.status as AssistanceStatus,
  needs: row.needs as AssistanceEventData['needs'],
  cashFen: row.cashFen,
  inKind: row.inKind,
  welfareContactId: row.welfareContactId,
  grantedAt: row.grantedAt?.toISOString() ?? null,
  paperworkDueDate: row.paperworkDueDate,
});

/** Locks one assistance inside the caller's jurisdiction (404 outside it), at the version asked for. */
export async function lockAssistance(
  tx: Executor,
  caller: Jurisdictional,
  id: string,
  expectedVersion: number | undefined,
) {
  const [current] = await tx.select().from(temporaryAssistance).where(eq(temporaryAssistance.id, id)).for('update');
  if (!current || !inJurisdiction(caller, current.region)) throw notFound('temporary assistance');
  if (expectedVersion !== undefined && current.version !== expectedVersion) {
    throw new ProblemError(412, 'precondition-failed', 'The assistance changed since you read it; read it again.', {
      currentETag: etagOf(current),
    });
  }
  return current;
}

export function mustBe(current: AssistanceRow, from: AssistanceStatus, action: string) {
  if (current.status !== from) {
    throw invalidState(`Only ${from} assistance can be ${action}; this one is ${current.status}.`, current.status);
  }
}

/**
 * The payments module's part in cancelling a grant (app.ts wires it; the registry does not reach
 * into payments): in the cancellation's transaction, with the grant locked, it withdraws the grant's
 * payment while the bank does not have it yet, or refuses (409) once it does.
 */
export interface GrantPayments {
  withdrawGrantPayments(tx: Executor, actor: AuditActor, grant: { id: string }, reason: string): Promise<unknown>;
}

/** The actions that end an assistance: paperwork completed, refused, cancelled. */
export function createClosingActions({
  db,
  audit,
  events,
  payments,
}: {
  db: Db;
  audit: AuditService;
  events: EventService;
  payments: GrantPayments;
}) {
  /** The paperwork is done: granted → completed, on time or not. */
  const complete = (caller: Jurisdictional, actor: AuditActor, id: string, notes?: string, expectedVersion?: number) =>
    db.transaction(async (tx) => {
      const current = await lockAssistance(tx, caller, id, expectedVersion);
      mustBe(current, 'granted', 'completed');
      const [row] = await tx
        .update(temporaryAssistance)
        .set({
          status: 'completed',
          completedAt: sql`now()`,
          closedReason: notes ?? null,
          updatedAt: sql`now()`,
          version: current.version + 1,
        })
        .where(eq(temporaryAssistance.id, id))
        .returning();
      const done = row!;
      const onTime = paperworkOnTime(done) ?? false;
      await events.publish(tx, temporaryAssistanceCompleted, {
        subject: `temporary_assistance/${id}`,
        region: done.region,
        data: { ...eventData(done), completedAt: done.completedAt!.toISOString(), paperworkOnTime: onTime },
      });
      await audit.record(tx, actor, {
        operation: 'completeTemporaryAssistance',
        resourceType: 'temporary_assistance',
        resourceIds: [id],
        personIds: [done.personId],
        detail: { paperworkDueDate: done.paperworkDueDate, paperworkOnTime: onTime },
      });
      return done;
    });

  /**
   * Refuses opened assistance, or cancels a grant: nothing is, or may any longer be, paid. A grant's
   * payment not yet with the bank is withdrawn with it; one the bank has refuses the cancellation.
   */
  const close =
    (to: 'refused' | 'cancelled') =>
    (caller: Jurisdictional, actor: AuditActor, id: string, reason: string, expectedVersion?: number) =>
      db.transaction(async (tx) => {
        const current = await lockAssistance(tx, caller, id, expectedVersion);
        mustBe(current, to === 'refused' ? 'opened' : 'granted', to);
        if (to === 'cancelled') await payments.withdrawGrantPayments(tx, actor, current, reason);
        const [row] = await tx
          .update(temporaryAssistance)
          .set({ status: to, closedReason: reason, updatedAt: sql`now()`, version: current.version + 1 })
          .where(eq(temporaryAssistance.id, id))
          .returning();
        const definition = to === 'refused' ? temporaryAssistanceRefused : temporaryAssistanceCancelled;
        await events.publish(tx, definition, {
          subject: `temporary_assistance/${id}`,
          region: row!.region,
          data: { ...eventData(row!), reason },
        });
        await audit.record(tx, actor, {
          operation: to === 'refused' ? 'refuseTemporaryAssistance' : 'cancelTemporaryAssistance',
          resourceType: 'temporary_assistance',
          resourceIds: [id],
          personIds: [row!.personId],
          detail: { from: current.status, reason },
        });
        return row!;
      });

  return { complete, refuse: close('refused'), cancel: close('cancelled') };
}
