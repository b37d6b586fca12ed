import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, type FieldError, notFound, validationError } from '../../platform/errors.js';
import { effectiveRegionPrefix, inJurisdiction } from '../../platform/jurisdiction.js';
import { createApplicationActions } from './applications.actions.js';
import {
  addHistory,
  type ApplicationDeps,
  applicationEventBase,
  type ApplicationView,
  type Caller,
  enrollmentIdSql,
  openStatuses,
  viewOf,
  visibleTo,
} from './applications.common.js';
import { createApproval } from './applications.decide.js';
import { applicationSubmitted } from './applications.events.js';
import type { MonthlyProgram } from './applications.schemas.js';
import { applications, enrollments } from './applications.tables.js';
import { addDays, businessDateOf } from './dates.js';
import type { NewHousehold } from './people.schemas.js';
import { households, persons } from './people.tables.js';

export interface NewApplication {
  program: MonthlyProgram;
  householdId?: string | undefined;
  household?: NewHousehold | undefined;
  personId?: string | undefined;
  memberIndex?: number | undefined;
  declaredMonthlyIncomeFen?: number | undefined;
  notes?: string | undefined;
}

export interface ApplicationFilter {
  status?: string | undefined;
  program?: string | undefined;
  region?: string | undefined;
  householdId?: string | undefined;
  overdue?: boolean | undefined;
  after?: { submittedAt: string; id: string } | undefined;
  limit: number;
}

/**
 * Applications for the monthly programs (measure 2): submitted by a caseworker or a portal,
 * verified by economic verification and a phone survey (and a home visit unless fast-tracked),
 * decided with reasons; an approval creates the enrollment.
 */
export function createApplicationService(deps: ApplicationDeps) {
  const { db, audit, events, programs, policies, people, clock = () => new Date() } = deps;
  const today = () => businessDateOf(clock());

  /**
   * The household applying: registered (householdId), or described by its members (household),
   * registered with the application when new; and the applicant among its members.
   */
  async function applicantOf(caller: Caller, input: NewApplication) {
    const given = (input.householdId ? 1 : 0) + (input.household ? 1 : 0);
    if (given !== 1) {
      throw validationError([
        { in: 'body', pointer: '/householdId', detail: 'give either householdId or household (exactly one of them)' },
      ]);
    }
    if (!input.household) {
      const household = await checkNew(caller, input.householdId!, input);
      return { household, personId: input.personId ?? null, write: null };
    }
    const errors: FieldError[] = [];
    if (input.personId !== undefined) {
      errors.push({
        in: 'body',
        pointer: '/personId',
        detail: 'goes with householdId; with household, use memberIndex',
      });
    }
    const index = input.memberIndex ?? input.household.members.findIndex((m) => m.relationship === 'head');
    if (input.memberIndex !== undefined && input.memberIndex >= input.household.members.length) {
      errors.push({ in: 'body', pointer: '/memberIndex', detail: 'is not the index of a member of household.members' });
    }
    if (errors.length > 0) throw validationError(errors);
    const found = await people.householdForApplication(caller, input.household, '/household');
    const personId = input.program === 'tekun' || input.memberIndex !== undefined ? found.memberIds[index]! : null;
    return { household: { id: found.householdId, region: found.region }, personId, write: found.write };
  }

  /** Every bad field at once: the household must be in the caller's jurisdiction, the person one of its members. */
  async function checkNew(caller: Caller, householdId: string, input: NewApplication) {
    const errors: FieldError[] = [];
    const at = (pointer: string, detail: string) => errors.push({ in: 'body', pointer, detail });
    const [household] = await db.select().from(households).where(eq(households.id, householdId));
    if (!household || !inJurisdiction(caller, household.region)) {
      at('/householdId', `no household with this id in your jurisdiction ${caller.jurisdiction}`);
    }
    if (input.personId === undefined) {
      if (input.program === 'tekun') at('/personId', 'is required for tekun: the member of the household to support');
    } else if (household) {
      const [person] = await db
        .select({ householdId: persons.householdId })
        .from(persons)
        .where(eq(persons.id, input.personId));
      if (!person || person.householdId !== household.id) at('/personId', 'is not a member of this household');
    }
    if (errors.length > 0) throw validationError(errors);
    return household!;
  }

  async function submit(caller: Caller, actor: AuditActor, input: NewApplication): Promise<ApplicationView> {
    const { household, personId, write } = await applicantOf(caller, input);
    const program = await programs.getProgram(input.program);
    if (program.decisionDeadlineDays === null) throw new Error(`program ${program.code} has no decision deadline`);
    const submitting = () =>
      db.transaction(async (tx) => {
        if (write) await write(tx, actor);
        // One submission per household at a time, so two open applications cannot both pass the check.
        await tx.select({ id: households.id }).from(households).where(eq(households.id, household.id)).for('update');
        const sameApplicant =
          input.program === 'tekun' ? eq(applications.personId, personId!) : eq(applications.householdId, household.id);
        const [open] = await tx
          .select({ id: applications.id, status: applications.status, submittedAt: applications.submittedAt })
          .from(applications)
          .where(
            and(eq(applications.programCode, input.program), sameApplicant, inArray(applications.status, openStatuses)),
          )
          .limit(1);
        if (open) {
          throw conflict(
            `Application ${open.id} of ${input.program} for this ${input.program === 'tekun' ? 'person' : 'household'} is still open (${open.status}); decide or withdraw it first.`,
            { openApplication: { id: open.id, status: open.status } },
          );
        }
        const liveFor =
          input.program === 'tekun' ? eq(enrollments.personId, personId!) : eq(enrollments.householdId, household.id);
        const [live] = await tx
          .select({ id: enrollments.id, status: enrollments.status })
          .from(enrollments)
          .where(and(eq(enrollments.programCode, input.program), liveFor, sql`${enrollments.status} <> 'ended'`))
          .limit(1);
        if (live) {
          throw conflict(`Already enrolled in ${input.program}: enrollment ${live.id} is ${live.status}.`, {
            enrollment: { id: live.id, status: live.status },
          });
        }
        const now = clock();
        const day = businessDateOf(now);
        const policy = await policies.inForce(household.region, day, tx);
        const fastTrack = policy?.fastTrack ?? false;
        const deadlineDays = fastTrack
          ? (policy!.decisionDeadlineDays ?? program.decisionDeadlineDays)
          : program.decisionDeadlineDays;
        const [row] = await tx
          .insert(applications)
          .values({
            programCode: input.program,
            householdId: household.id,
            personId,
            region: household.region,
            channel: caller.agency === 'portal' ? 'portal' : 'caseworker',
            submittedByClientId: caller.id,
            submittedAt: now,
            status: 'verifying',
            policyId: policy?.id ?? null,
            fastTrack,
            homeVisitRequired: !fastTrack,
            decisionDueDate: addDays(day, deadlineDays!),
            declaredMonthlyIncomeFen: input.declaredMonthlyIncomeFen ?? null,
            notes: input.notes ?? null,
          })
          .returning();
        const application = row!;
        await addHistory(tx, events, application, {
          status: 'verifying',
          action: 'submitted',
          note: fastTrack
            ? `fast-tracked by policy ${policy!.name}: economic verification requested, no home visit`
            : 'economic verification requested',
          byClientId: caller.id,
        });
        await events.publish(tx, applicationSubmitted, {
          subject: `application/${application.id}`,
          region: application.region,
          data: {
            ...applicationEventBase(application),
            personId,
            channel: application.channel,
            fastTrack,
            homeVisitRequired: application.homeVisitRequired,
            decisionDueDate: application.decisionDueDate,
            policyId: application.policyId,
          },
        });
        await audit.record(tx, actor, {
          operation: 'submitApplication',
          resourceType: 'application',
          resourceIds: [application.id],
          personIds: personId ? [personId] : [],
          detail: { program: input.program, householdId: household.id, fastTrack },
        });
        return viewOf(tx, application);
      });
    try {
      return await submitting();
    } catch (err) {
      // A member registered by someone else between the check and the write.
      if (write && people.isDocumentTaken(err)) {
        throw conflict('A member of this household was registered by another request at the same moment; try again.');
      }
      throw err;
    }
  }

  async function get(caller: Caller, actor: AuditActor, id: string) {
    const [row] = await db.select().from(applications).where(eq(applications.id, id));
    if (!row || !visibleTo(caller, row)) throw notFound('application');
    const view = await viewOf(db, row);
    await audit.recordRead(actor, {
      operation: 'getApplication',
      resourceType: 'application',
      resourceIds: [id],
      personIds: row.personId ? [row.personId] : [],
    });
    return view;
  }

  /** Newest first. */
  async function list(caller: Caller, filter: ApplicationFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [sql`starts_with(${applications.region}, ${prefix})`];
    if (caller.agency === 'portal') conditions.push(eq(applications.submittedByClientId, caller.id));
    if (filter.status) conditions.push(eq(applications.status, filter.status));
    if (filter.program) conditions.push(eq(applications.programCode, filter.program));
    if (filter.householdId) conditions.push(eq(applications.householdId, filter.householdId));
    if (filter.overdue !== undefined) {
      const overdue = and(
        inArray(applications.status, openStatuses),
        sql`${applications.decisionDueDate} < ${today()}::date`,
      )!;
      conditions.push(filter.overdue ? overdue : sql`not (${overdue})`);
    }
    if (filter.after) {
      conditions.push(
        sql`(${applications.submittedAt}, ${applications.id}) < (${filter.after.submittedAt}::timestamptz, ${filter.after.id}::uuid)`,
      );
    }
    const found = await db
      .select({ row: applications, enrollmentId: enrollmentIdSql })
      .from(applications)
      .where(and(...conditions))
      .orderBy(desc(applications.submittedAt), desc(applications.id))
      .limit(filter.limit + 1);
    const items = found.slice(0, filter.limit).map((f) => ({ ...f.row, enrollmentId: f.enrollmentId }));
    return { items, more: found.length > filter.limit };
  }

  return {
    submit,
    get,
    list,
    ...createApplicationActions(deps),
    approve: createApproval(deps),
    today,
  };
}

export type ApplicationService = ReturnType<typeof createApplicationService>;
