import { asc, eq, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditService } from '../../platform/audit/service.js';
import { invalidState, notFound, ProblemError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import { applicationDecided, portalApplicationChanged } from './applications.events.js';
import type { MonthlyProgram } from './applications.schemas.js';
import { applicationHistory, applications, enrollments } from './applications.tables.js';
import type { PeopleService } from './people.service.js';
import type { PolicyService } from './policies.service.js';
import type { ProgramService } from './programs.service.js';

export type ApplicationRow = typeof applications.$inferSelect;
export type ApplicationStatus = 'verifying' | 'verified' | 'approved' | 'rejected' | 'withdrawn';

/** Who is asking: portals see only what they submitted. */
export interface Caller extends Jurisdictional {
  id: string;
  agency: string;
}

export interface ApplicationDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  programs: ProgramService;
  policies: PolicyService;
  people: PeopleService;
  /** The time now; business dates are taken in Asia/Shanghai. */
  clock?: () => Date;
}

export interface HistoryEntry {
  at: Date;
  action: string;
  status: string;
  note: string | null;
  byClientId: string | null;
}

/** An application as read: its row, the enrollment an approval created, and its history. */
export interface ApplicationView extends ApplicationRow {
  enrollmentId: string | null;
  history: HistoryEntry[];
}

/** Undecided: open to surveys, verification, decision or withdrawal. */
export const openStatuses: ApplicationStatus[] = ['verifying', 'verified'];

/** A caller sees an application inside its jurisdiction; a portal only the ones it submitted. */
export const visibleTo = (caller: Caller, row: { region: string; submittedByClientId: string }) =>
  inJurisdiction(caller, row.region) && (caller.agency !== 'portal' || row.submittedByClientId === caller.id);

/**
 * The application, locked for a change: 404 when missing or not visible to the caller (null: a
 * module of the service itself), 412 when If-Match is stale.
 */
export async function lockApplication(
  tx: Executor,
  caller: Caller | null,
  id: string,
  expectedVersion: number | undefined,
): Promise<ApplicationRow> {
  const [row] = await tx.select().from(applications).where(eq(applications.id, id)).for('update');
  if (!row || (caller && !visibleTo(caller, row))) throw notFound('application');
  if (expectedVersion !== undefined && row.version !== expectedVersion) {
    throw new ProblemError(412, 'precondition-failed', 'The application changed since you read it; read it again.', {
      currentETag: etagOf(row),
    });
  }
  return row;
}

/** 409 invalid-state unless the application is in one of `allowed`. */
export function requireStatus(row: ApplicationRow, allowed: ApplicationStatus[], action: string) {
  if (!allowed.includes(row.status as ApplicationStatus)) {
    throw invalidState(
      `The application is ${row.status}; it can be ${action} only when ${allowed.join(' or ')}.`,
      row.status,
    );
  }
}

/**
 * Records a step of the application's history. A portal's application also tells the portal, and
 * only it (the event's audience), what happened: portals do not see other clients' applications,
 * in the feed any more than through the API.
 */
export async function addHistory(
  tx: Executor,
  events: EventService,
  application: ApplicationRow,
  entry: { status: string; action: string; note?: string | null; byClientId: string | null },
) {
  await tx.insert(applicationHistory).values({
    applicationId: application.id,
    status: entry.status,
    action: entry.action,
    note: entry.note ?? null,
    byClientId: entry.byClientId,
  });
  if (application.channel !== 'portal') return;
  await events.publish(tx, portalApplicationChanged, {
    subject: `portal_application/${application.id}`,
    region: application.region,
    audienceClientId: application.submittedByClientId,
    data: {
      applicationId: application.id,
      program: application.programCode as MonthlyProgram,
      status: entry.status as ApplicationStatus,
      action: entry.action,
    },
  });
}

/** The row with its enrollment and history. */
export async function viewOf(executor: Executor, row: ApplicationRow): Promise<ApplicationView> {
  const [history, [enrollment]] = await Promise.all([
    executor
      .select()
      .from(applicationHistory)
      .where(eq(applicationHistory.applicationId, row.id))
      .orderBy(asc(applicationHistory.id)),
    executor.select({ id: enrollments.id }).from(enrollments).where(eq(enrollments.applicationId, row.id)).limit(1),
  ]);
  return {
    ...row,
    enrollmentId: enrollment?.id ?? null,
    history: history.map((h) => ({
      at: h.at,
      action: h.action,
      status: h.status,
      note: h.note,
      byClientId: h.byClientId,
    })),
  };
}

/** For list rows: the enrollment id through a subquery, no history. */
export const enrollmentIdSql = sql<
  string | null
>`(select ${enrollments.id} from ${enrollments} where ${enrollments.applicationId} = ${applications.id} limit 1)`;

/** Event data shared by the application events. */
export const applicationEventBase = (row: ApplicationRow) => ({
  applicationId: row.id,
  program: row.programCode as MonthlyProgram,
  householdId: row.householdId,
  region: row.region,
});

/**
 * Records a decision on a locked application: the row, its history step and `application.decided`,
 * in the caller's transaction. Approval adds the enrollment it created; rejection has none.
 */
export async function recordDecision(
  tx: Executor,
  events: EventService,
  row: ApplicationRow,
  decision: { decision: 'approved' | 'rejected'; reasons: string[]; at: Date; byClientId: string | null },
  enrollmentId: string | null,
  note: string,
): Promise<ApplicationRow> {
  const [updated] = await tx
    .update(applications)
    .set({
      status: decision.decision,
      decision: decision.decision,
      decisionReasons: decision.reasons,
      decidedAt: decision.at,
      decidedByClientId: decision.byClientId,
      version: row.version + 1,
    })
    .where(eq(applications.id, row.id))
    .returning();
  await addHistory(tx, events, row, {
    status: decision.decision,
    action: decision.decision,
    note,
    byClientId: decision.byClientId,
  });
  await events.publish(tx, applicationDecided, {
    subject: `application/${row.id}`,
    region: row.region,
    data: {
      ...applicationEventBase(row),
      personId: row.personId,
      decision: decision.decision,
      reasons: decision.reasons,
      enrollmentId,
    },
  });
  return updated!;
}
