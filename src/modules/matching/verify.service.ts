import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { invalidState, notFound, unprocessable, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { jurisdictionPattern } from '../../platform/jurisdiction.js';
import type { VerificationResult } from '../registry/applications.actions.js';
import type { Caller } from '../registry/applications.common.js';
import type { ApplicationService } from '../registry/applications.service.js';
import type { ProgramService } from '../registry/programs.service.js';
import { matchingVerifications } from './tables.js';
import { matchingVerificationCompleted } from './verify.events.js';
import { evaluate, type RuleResult } from './verify.rules.js';
import type { VerifiableProgram } from './verify.schemas.js';
import { readHousehold } from './verify.sql.js';

type Row = typeof matchingVerifications.$inferSelect;
export interface Verification extends Omit<Row, 'rules' | 'flags'> {
  rules: RuleResult[];
  flags: RuleResult[];
}

export interface NewVerification {
  householdId: string;
  program: VerifiableProgram;
  date?: string | undefined;
  applicationId?: string | undefined;
}

export interface VerificationFilter {
  householdId?: string | undefined;
  /** Key of the last verification of the previous page. */
  after?: { createdAt: string; id: string } | undefined;
  limit: number;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  programs: ProgramService;
  applications: ApplicationService;
}

const asVerification = (row: Row) => row as unknown as Verification;

/** How an application records the result: every rule and flag, each source as `source/snapshot/line`. */
export const applicationAnswer = (v: Verification): VerificationResult => ({
  monthlyIncomeFen: v.monthlyIncomeFen,
  financialAssetsFen: v.financialAssetsFen,
  passed: v.passed,
  rules: [...v.rules, ...v.flags].map((r) => ({
    rule: r.rule,
    outcome: r.outcome,
    detail: r.detail,
    sources: r.sources.map((s) => `${s.sourceId}/${s.snapshotId}/${s.line}`),
  })),
  source: 'matching',
});

/**
 * Economic verification of one household (DOMAIN.md): its members joined with every source's
 * current snapshot in one statement, the program's rules evaluated for its region and date with the
 * standard in force (verify.rules.ts), the result stored with `matching_verification.completed`.
 */
export function createVerificationService({ db, audit, events, programs, applications }: Deps) {
  /** The application to answer: this household's, this program's, and verifying. */
  async function checkApplication(caller: Caller, actor: AuditActor, input: NewVerification) {
    if (!input.applicationId) return;
    const application = await applications.get(caller, actor, input.applicationId);
    const errors = [];
    if (application.householdId !== input.householdId) {
      errors.push({ in: 'body' as const, pointer: '/applicationId', detail: 'is an application of another household' });
    }
    if (application.programCode !== input.program) {
      errors.push({
        in: 'body' as const,
        pointer: '/program',
        detail: `must be the application’s program (${application.programCode})`,
      });
    }
    if (errors.length > 0) throw validationError(errors);
    if (application.status !== 'verifying') {
      throw invalidState(
        `The application is ${application.status}: verification answers only applications that are verifying.`,
        application.status,
      );
    }
  }

  async function verify(caller: Caller, actor: AuditActor, input: NewVerification): Promise<Verification> {
    await checkApplication(caller, actor, input);
    const date = input.date ?? programs.today();
    const verification = await db.transaction(async (tx) => {
      const found = await readHousehold(tx, input.householdId, jurisdictionPattern(caller));
      if (found.region === null) throw notFound('household');
      // The price subsidy goes to households that meet the dibao rules: its own standard is an amount paid.
      const rulesOf = input.program === 'price_subsidy' ? 'dibao' : input.program;
      const standard = await programs.standardInForce(rulesOf, found.region, date, tx);
      if (!standard) {
        throw unprocessable(
          `No ${rulesOf} standard is in force for region ${found.region} on ${date}: there is nothing to verify against.`,
        );
      }
      if (found.members.length === 0) throw unprocessable('The household has no members to verify.');
      const result = evaluate({ members: found.members, records: found.records, standard, date });
      const [row] = await tx
        .insert(matchingVerifications)
        .values({
          householdId: input.householdId,
          applicationId: input.applicationId ?? null,
          program: input.program,
          region: found.region,
          asOf: date,
          passed: result.passed,
          members: result.members,
          monthlyIncomeFen: result.monthlyIncomeFen,
          financialAssetsFen: result.financialAssetsFen,
          rules: result.rules as unknown as Record<string, unknown>[],
          flags: result.flags as unknown as Record<string, unknown>[],
          snapshots: Object.fromEntries(found.sources.map((s) => [s.sourceId, s.snapshotId])),
          createdByClientId: actor.clientId,
        })
        .returning();
      const stored = asVerification(row!);
      await events.publish(tx, matchingVerificationCompleted, {
        subject: `matching_verification/${stored.id}`,
        region: stored.region,
        data: {
          verificationId: stored.id,
          householdId: stored.householdId,
          applicationId: stored.applicationId,
          program: input.program,
          asOf: date,
          passed: stored.passed,
          failedRules: result.rules.filter((r) => r.outcome === 'fail').map((r) => r.rule),
          flags: result.flags.length,
        },
      });
      await audit.record(tx, actor, {
        operation: 'verifyHousehold',
        resourceType: 'matching_verification',
        resourceIds: [stored.id, input.householdId],
        personIds: found.members.map((m) => m.id),
        detail: { program: input.program, asOf: date, passed: stored.passed },
      });
      // The application is answered in the same transaction: both are recorded, or neither.
      if (input.applicationId) {
        await applications.recordVerification(input.applicationId, applicationAnswer(stored), actor, { caller, tx });
      }
      return stored;
    });
    return verification;
  }

  async function get(caller: Caller, actor: AuditActor, id: string): Promise<Verification> {
    const [row] = await db
      .select()
      .from(matchingVerifications)
      .where(
        and(eq(matchingVerifications.id, id), sql`${matchingVerifications.region} like ${jurisdictionPattern(caller)}`),
      );
    if (!row) throw notFound('verification');
    await audit.recordRead(actor, {
      operation: 'getVerification',
      resourceType: 'matching_verification',
      resourceIds: [id, row.householdId],
    });
    return asVerification(row);
  }

  /** Newest first, inside the caller's jurisdiction. */
  async function list(caller: Caller, filter: VerificationFilter) {
    const conditions: SQL[] = [sql`${matchingVerifications.region} like ${jurisdictionPattern(caller)}`];
    if (filter.householdId) conditions.push(eq(matchingVerifications.householdId, filter.householdId));
    if (filter.after) {
      conditions.push(
        sql`(${matchingVerifications.createdAt}, ${matchingVerifications.id}) < (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`,
      );
    }
    // The cursor keeps the timestamp to the microsecond: a Date would round it to the millisecond.
    const found = await db
      .select({ row: matchingVerifications, at: sql<string>`${matchingVerifications.createdAt}::text` })
      .from(matchingVerifications)
      .where(and(...conditions))
      .orderBy(desc(matchingVerifications.createdAt), desc(matchingVerifications.id))
      .limit(filter.limit + 1);
    const items = found.slice(0, filter.limit);
    const last = items.at(-1);
    return {
      items: items.map((f) => asVerification(f.row)),
      next: found.length > filter.limit && last ? { createdAt: last.at, id: last.row.id } : null,
    };
  }

  return { verify, get, list };
}

export type VerificationService = ReturnType<typeof createVerificationService>;
