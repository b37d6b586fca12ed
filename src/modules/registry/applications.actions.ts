import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { invalidState, validationError } from '../../platform/errors.js';
import {
  addHistory,
  type ApplicationDeps,
  applicationEventBase,
  type ApplicationView,
  type Caller,
  lockApplication,
  openStatuses,
  recordDecision,
  requireStatus,
  viewOf,
} from './applications.common.js';
import { applicationWithdrawn } from './applications.events.js';
import { applications, type SurveyRecord } from './applications.tables.js';

/** Economic verification's answer, as the matching module (or a caseworker, by hand) gives it. */
export interface VerificationResult {
  monthlyIncomeFen: number;
  financialAssetsFen: number;
  passed: boolean;
  rules: { rule: string; outcome: 'pass' | 'fail' | 'flag'; detail: string; sources?: string[] | undefined }[];
  source: 'matching' | 'manual';
}

/** Options of a change: who asks (jurisdiction; absent for the service's own modules) and If-Match. */
export interface ChangeOptions {
  caller?: Caller | undefined;
  expectedVersion?: number | undefined;
  /** Run inside this transaction (the caller's change and the answer commit together). */
  tx?: Executor | undefined;
}

/** Lets a survey be dated a few minutes ahead of the service's clock (a caller's clock may run fast). */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Every non-deciding action on an application: surveys, verification, rejection, withdrawal. */
export function createApplicationActions({ db, audit, events, clock = () => new Date() }: ApplicationDeps) {
  async function recordSurvey(
    kind: 'phone_survey' | 'home_visit',
    caller: Caller,
    actor: AuditActor,
    id: string,
    survey: SurveyRecord,
    expectedVersion?: number,
  ): Promise<ApplicationView> {
    if (Date.parse(survey.at) > clock().getTime() + CLOCK_SKEW_MS) {
      throw validationError([{ in: 'body', pointer: '/at', detail: 'must not be in the future' }]);
    }
    const what = kind === 'phone_survey' ? 'phone survey' : 'home visit';
    return db.transaction(async (tx) => {
      const row = await lockApplication(tx, caller, id, expectedVersion);
      requireStatus(row, openStatuses, `given a ${what}`);
      const replaced = kind === 'phone_survey' ? row.phoneSurvey : row.homeVisit;
      const record = { by: survey.by, at: new Date(survey.at).toISOString(), findings: survey.findings };
      const [updated] = await tx
        .update(applications)
        .set({
          ...(kind === 'phone_survey' ? { phoneSurvey: record } : { homeVisit: record }),
          version: row.version + 1,
        })
        .where(eq(applications.id, id))
        .returning();
      await addHistory(tx, events, row, {
        status: row.status,
        action: `${kind}_recorded`,
        note: `${replaced ? 'replaces the earlier record; ' : ''}by ${record.by} at ${record.at}`,
        byClientId: actor.clientId,
      });
      await audit.record(tx, actor, {
        operation: kind === 'phone_survey' ? 'recordPhoneSurvey' : 'recordHomeVisit',
        resourceType: 'application',
        resourceIds: [id],
        personIds: row.personId ? [row.personId] : [],
      });
      return viewOf(tx, updated!);
    });
  }

  /**
   * Records economic verification's answer: verifying → verified. The matching module calls it
   * (without `caller`); the `/verification` route calls it for a caseworker's manual answer.
   */
  async function recordVerification(
    applicationId: string,
    result: VerificationResult,
    actor: AuditActor,
    options: ChangeOptions = {},
  ): Promise<ApplicationView> {
    const within = <T>(work: (tx: Executor) => Promise<T>) => (options.tx ? work(options.tx) : db.transaction(work));
    return within(async (tx) => {
      const row = await lockApplication(tx, options.caller ?? null, applicationId, options.expectedVersion);
      if (row.status !== 'verifying') {
        throw invalidState(
          `The application is ${row.status}: economic verification answers only applications that are verifying.`,
          row.status,
        );
      }
      const verification = { ...result, recordedAt: clock().toISOString(), recordedBy: actor.clientId };
      const [updated] = await tx
        .update(applications)
        .set({ status: 'verified', verification, version: row.version + 1 })
        .where(eq(applications.id, applicationId))
        .returning();
      const failed = result.rules.filter((r) => r.outcome === 'fail').map((r) => r.rule);
      await addHistory(tx, events, row, {
        status: 'verified',
        action: 'verified',
        note: result.passed
          ? `passed (${result.source})`
          : `did not pass (${result.source})${failed.length > 0 ? `: ${failed.join(', ')}` : ''}`,
        byClientId: actor.clientId,
      });
      await audit.record(tx, actor, {
        operation: 'recordVerification',
        resourceType: 'application',
        resourceIds: [applicationId],
        personIds: row.personId ? [row.personId] : [],
        detail: { passed: result.passed, source: result.source },
      });
      return viewOf(tx, updated!);
    });
  }

  async function reject(
    caller: Caller,
    actor: AuditActor,
    id: string,
    reasons: string[],
    expectedVersion?: number,
  ): Promise<ApplicationView> {
    return db.transaction(async (tx) => {
      const row = await lockApplication(tx, caller, id, expectedVersion);
      requireStatus(row, openStatuses, 'rejected');
      const updated = await recordDecision(
        tx,
        events,
        row,
        { decision: 'rejected', reasons, at: clock(), byClientId: actor.clientId },
        null,
        reasons.join('; '),
      );
      await audit.record(tx, actor, {
        operation: 'rejectApplication',
        resourceType: 'application',
        resourceIds: [id],
        personIds: row.personId ? [row.personId] : [],
      });
      return viewOf(tx, updated);
    });
  }

  async function withdraw(
    caller: Caller,
    actor: AuditActor,
    id: string,
    reason: string,
    expectedVersion?: number,
  ): Promise<ApplicationView> {
    return db.transaction(async (tx) => {
      const row = await lockApplication(tx, caller, id, expectedVersion);
      requireStatus(row, openStatuses, 'withdrawn');
      const [updated] = await tx
        .update(applications)
        .set({ status: 'withdrawn', version: sql`${applications.version} + 1` })
        .where(eq(applications.id, id))
        .returning();
      await addHistory(tx, events, row, {
        status: 'withdrawn',
        action: 'withdrawn',
        note: reason,
        byClientId: actor.clientId,
      });
      await events.publish(tx, applicationWithdrawn, {
        subject: `application/${id}`,
        region: row.region,
        data: { ...applicationEventBase(row), reason },
      });
      await audit.record(tx, actor, {
        operation: 'withdrawApplication',
        resourceType: 'application',
        resourceIds: [id],
        personIds: row.personId ? [row.personId] : [],
      });
      return viewOf(tx, updated!);
    });
  }

  return {
    recordPhoneSurvey: (caller: Caller, actor: AuditActor, id: string, survey: SurveyRecord, version?: number) =>
      recordSurvey('phone_survey', caller, actor, id, survey, version),
    recordHomeVisit: (caller: Caller, actor: AuditActor, id: string, survey: SurveyRecord, version?: number) =>
      recordSurvey('home_visit', caller, actor, id, survey, version),
    recordVerification,
    reject,
    withdraw,
  };
}
