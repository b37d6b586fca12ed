import { randomUUID } from 'node:crypto';
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { groupCommit } from '../../db/group-commit.js';
import { type AuditActor, type AuditService, auditRowOf } from '../../platform/audit/service.js';
import { invalidState, notFound, unprocessable, validationError } from '../../platform/errors.js';
import { type EventService, eventRow } from '../../platform/events/service.js';
import { jurisdictionPattern } from '../../platform/jurisdiction.js';
import type { VerificationResult } from '../registry/applications.actions.js';
import type { Caller } from '../registry/applications.common.js';
import type { ApplicationService } from '../registry/applications.service.js';
import type { ProgramService } from '../registry/programs.service.js';
import { matchingVerifications } from './tables.js';
import { matchingVerificationCompleted } from './verify.events.js';
import { evaluate, type RuleResult } from './verify.rules.js';
import type { VerifiableProgram } from './verify.schemas.js';
import { householdReader, verificationStore, verificationsStore, verificationValues } from './verify.sql.js';

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
/**
 * A UUID of version 7 (RFC 9562): the time in milliseconds, then random bits. Verifications are
 * only ever added: ids in the order they are made put each one (and its event's subject) at the end
 * of its indexes instead of on a random page of them, which the next checkpoint writes out again.
 */
export function timeOrderedId(now = Date.now()): string {
  // A version 4 UUID's random bits (node:crypto keeps entropy at hand for them), behind the time.
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}

/** Rules as the jsonb columns take them. */
const toJson = (rules: RuleResult[]) => rules as unknown as Record<string, unknown>[];

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

  const readHousehold = householdReader(db);
  // What commits with a stored result: its event and its audit row, in the same statement.
  const event = events.publishWith(matchingVerificationCompleted);
  const audited = audit.recordWith();
  const alongside = [...event.ctes, audited.cte];
  // Verifications answered at the same time are stored together (group commit): one statement and
  // one commit for all of them, rather than a round trip and a WAL flush each. One at a time while
  // the service is quiet; each waits at most for the group written before it.
  const store = groupCommit(verificationsStore(db), { maxItems: 64, inFlight: 2 });

  async function verify(caller: Caller, actor: AuditActor, input: NewVerification): Promise<Verification> {
    await checkApplication(caller, actor, input);
    const date = input.date ?? programs.today();
    // The price subsidy goes to households that meet the dibao rules: its own standard is an amount paid.
    const rulesOf = input.program === 'price_subsidy' ? 'dibao' : input.program;
    const found = await readHousehold({
      householdId: input.householdId,
      pattern: jurisdictionPattern(caller),
      program: rulesOf,
      date,
    });
    if (!found) throw notFound('household');
    const { region, standard } = found;
    if (!standard) {
      throw unprocessable(
        `No ${rulesOf} standard is in force for region ${region} on ${date}: there is nothing to verify against.`,
      );
    }
    if (found.members.length === 0) throw unprocessable('The household has no members to verify.');
    const result = evaluate({ members: found.members, records: found.records, standard, date });
    const row = {
      id: timeOrderedId(),
      householdId: input.householdId,
      applicationId: input.applicationId ?? null,
      runId: null,
      program: input.program,
      region,
      asOf: date,
      passed: result.passed,
      members: result.members,
      monthlyIncomeFen: result.monthlyIncomeFen,
      financialAssetsFen: result.financialAssetsFen,
      rules: result.rules,
      flags: result.flags,
      snapshots: Object.fromEntries(found.sources.map((s) => [s.sourceId, s.snapshotId])),
      createdByClientId: actor.clientId,
    };
    const verification = { ...row, rules: toJson(row.rules), flags: toJson(row.flags) };
    const completed = {
      subject: `matching_verification/${row.id}`,
      region,
      data: {
        verificationId: row.id,
        householdId: row.householdId,
        applicationId: row.applicationId,
        program: input.program,
        asOf: date,
        passed: row.passed,
        failedRules: result.rules.filter((r) => r.outcome === 'fail').map((r) => r.rule),
        flags: result.flags.length,
      },
    };
    const entry = {
      operation: 'verifyHousehold',
      resourceType: 'matching_verification',
      resourceIds: [row.id, input.householdId],
      personIds: found.members.map((m) => m.id),
      detail: { program: input.program, asOf: date, passed: row.passed },
    };
    const { applicationId } = input;
    // The result, its event and its audit row: one statement, one transaction (with those of the
    // verifications answered at the same time).
    if (!applicationId) {
      const createdAt = await store({
        verification,
        event: eventRow(matchingVerificationCompleted, completed),
        audit: auditRowOf(actor, entry),
      });
      return { ...row, createdAt };
    }
    const values = {
      ...verificationValues(verification),
      ...event.values(completed),
      ...audited.values(actor, entry),
    };
    // The application is answered in the same transaction: both are recorded, or neither.
    return db.transaction(async (tx) => {
      const [stored] = await verificationStore(tx, alongside).execute(values);
      const verification = { ...row, createdAt: stored!.createdAt };
      await applications.recordVerification(applicationId, applicationAnswer(verification), actor, { caller, tx });
      return verification;
    });
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
