import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { EventService } from '../../platform/events/service.js';
import type { Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { temporaryAssistanceGranted, temporaryAssistanceOpened } from './assistance.events.js';
import { temporaryAssistance } from './assistance.tables.js';
import { businessDateOf } from './dates.js';
import type { PolicyService } from './policies.service.js';
import type { ProgramService } from './programs.service.js';
import {
  createClosingActions,
  eventData,
  type GrantPayments,
  lockAssistance,
  mustBe,
} from './temporary-assistance.closing.js';
import { createAssistanceQueries } from './temporary-assistance.queries.js';
import {
  type AidedPerson,
  aidedPerson,
  alreadyGranted,
  type AssistanceRow,
  checkEmergencyRegion,
  createGrantRules,
  type GrantFields,
  isNonLocal,
  isSecondGrantViolation,
} from './temporary-assistance.rules.js';

/** Who and which emergency a grant was for, to answer a unique-index violation like the check would. */
type Attempt = { personId: string | null; policyId: string | null };

export interface NewGrant extends GrantFields {
  personId: string;
  region?: string | undefined;
  reason: string;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  programs: ProgramService;
  policies: PolicyService;
  /** Withdraws a cancelled grant's payment, or refuses the cancellation once the bank has it. */
  payments: GrantPayments;
  clock?: () => Date;
}

/**
 * Temporary assistance (measures 1 and 6), aid first and paperwork after: opened by a hardship
 * finding or granted on the spot, completed when the paperwork is done. Jurisdiction follows the
 * place of emergency (`region`); the person aided may be registered anywhere.
 */
export function createTemporaryAssistanceService(deps: Deps) {
  const { db, audit, events, regions, clock = () => new Date() } = deps;
  const rules = createGrantRules(deps);
  const today = () => businessDateOf(clock());
  const queries = createAssistanceQueries({ db, audit, today });

  const announce = (tx: Executor, definition: typeof temporaryAssistanceOpened, row: AssistanceRow) =>
    events.publish(tx, definition, {
      subject: `temporary_assistance/${row.id}`,
      region: row.region,
      data: eventData(row),
    });

  /** Opens assistance for a hardship finding, in the contact's transaction. */
  async function open(
    tx: Executor,
    actor: AuditActor,
    input: { person: AidedPerson; region: string; needs: string[]; welfareContactId: string },
  ): Promise<AssistanceRow> {
    const policy = await deps.policies.inForce(input.region, today(), tx);
    const [row] = await tx
      .insert(temporaryAssistance)
      .values({
        personId: input.person.id,
        householdId: input.person.householdId,
        region: input.region,
        hukouRegion: input.person.hukouRegion,
        nonLocal: isNonLocal(input.person.hukouRegion, input.region),
        policyId: policy?.id ?? null,
        status: 'opened',
        needs: input.needs,
        welfareContactId: input.welfareContactId,
        createdByClientId: actor.clientId,
      })
      .returning();
    await announce(tx, temporaryAssistanceOpened, row!);
    await audit.record(tx, actor, {
      operation: 'openTemporaryAssistance',
      resourceType: 'temporary_assistance',
      resourceIds: [row!.id],
      personIds: [row!.personId],
      detail: { region: row!.region, welfareContactId: input.welfareContactId },
    });
    return row!;
  }

  /** The same 409 whether the check saw the earlier grant or the unique index stopped a concurrent one. */
  async function onceOnly<T>(caller: Jurisdictional, work: (attempt: Attempt) => Promise<T>): Promise<T> {
    const attempt: Attempt = { personId: null, policyId: null };
    try {
      return await work(attempt);
    } catch (err) {
      if (!isSecondGrantViolation(err) || !attempt.personId || !attempt.policyId) throw err;
      const [existing] = await db
        .select()
        .from(temporaryAssistance)
        .where(
          and(
            eq(temporaryAssistance.personId, attempt.personId),
            eq(temporaryAssistance.policyId, attempt.policyId),
            inArray(temporaryAssistance.status, ['granted', 'completed']),
          ),
        )
        .limit(1);
      if (!existing) throw err;
      throw alreadyGranted(caller, existing);
    }
  }

  async function recordGrant(tx: Executor, actor: AuditActor, row: AssistanceRow, operation: string) {
    await announce(tx, temporaryAssistanceGranted, row);
    await audit.record(tx, actor, {
      operation,
      resourceType: 'temporary_assistance',
      resourceIds: [row.id],
      personIds: [row.personId],
      detail: { region: row.region, cashFen: row.cashFen, nonLocal: row.nonLocal, policyId: row.policyId },
    });
  }

  /** Grants aid on the spot: status granted at once, paperwork due within the program's deadline. */
  async function grantOnSpot(caller: Jurisdictional, actor: AuditActor, input: NewGrant): Promise<AssistanceRow> {
    const person = await aidedPerson(db, input.personId);
    const region = input.region ?? person.region;
    const regionErrors = await checkEmergencyRegion(regions, caller, region, input.region ? '/region' : null);
    return onceOnly(caller, (attempt) =>
      db.transaction(async (tx) => {
        const day = today();
        const facts = await rules.check(tx, person, region, input, day, regionErrors);
        Object.assign(attempt, { personId: person.id, policyId: facts.policy?.id ?? null });
        await rules.refuseSecondGrant(tx, caller, person.id, facts.policy);
        const [row] = await tx
          .insert(temporaryAssistance)
          .values({
            personId: person.id,
            householdId: person.householdId,
            region,
            hukouRegion: facts.hukouRegion,
            nonLocal: facts.nonLocal,
            policyId: facts.policy?.id ?? null,
            strandedReason: input.strandedReason ?? null,
            infectionStatus: input.infectionStatus ?? null,
            status: 'granted',
            cashFen: input.cashFen,
            inKind: input.inKind,
            reason: input.reason,
            grantedAt: sql`now()`,
            grantedByClientId: actor.clientId,
            paperworkDueDate: facts.paperworkDueDate,
            createdByClientId: actor.clientId,
          })
          .returning();
        await recordGrant(tx, actor, row!, 'grantTemporaryAssistanceOnSpot');
        return row!;
      }),
    );
  }

  /** Grants assistance a hardship finding opened, with the same rules as on the spot. */
  async function grant(
    caller: Jurisdictional,
    actor: AuditActor,
    id: string,
    fields: GrantFields & { reason?: string | undefined },
    expectedVersion?: number,
  ): Promise<AssistanceRow> {
    return onceOnly(caller, (attempt) =>
      db.transaction(async (tx) => {
        const current = await lockAssistance(tx, caller, id, expectedVersion);
        mustBe(current, 'opened', 'granted');
        const day = today();
        const person = await aidedPerson(tx, current.personId);
        const facts = await rules.check(tx, person, current.region, fields, day);
        Object.assign(attempt, { personId: person.id, policyId: facts.policy?.id ?? null });
        await rules.refuseSecondGrant(tx, caller, person.id, facts.policy);
        const [row] = await tx
          .update(temporaryAssistance)
          .set({
            hukouRegion: facts.hukouRegion,
            nonLocal: facts.nonLocal,
            policyId: facts.policy?.id ?? null,
            strandedReason: fields.strandedReason ?? null,
            infectionStatus: fields.infectionStatus ?? null,
            status: 'granted',
            cashFen: fields.cashFen,
            inKind: fields.inKind,
            reason: fields.reason ?? current.reason,
            grantedAt: sql`now()`,
            grantedByClientId: actor.clientId,
            paperworkDueDate: facts.paperworkDueDate,
            updatedAt: sql`now()`,
            version: current.version + 1,
          })
          .where(eq(temporaryAssistance.id, id))
          .returning();
        await recordGrant(tx, actor, row!, 'grantTemporaryAssistance');
        return row!;
      }),
    );
  }

  return {
    open,
    grantOnSpot,
    grant,
    ...createClosingActions({ db, audit, events, payments: deps.payments }),
    ...queries,
    today,
  };
}

export type TemporaryAssistanceService = ReturnType<typeof createTemporaryAssistanceService>;
