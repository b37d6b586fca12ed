import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { conflict, type FieldError, notFound, unprocessable, validationError } from '../../platform/errors.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { InKindItem } from './assistance.tables.js';
import { temporaryAssistance } from './assistance.tables.js';
import { addDays } from './dates.js';
import { households, persons } from './people.tables.js';
import { policies as policyTable } from './policies.tables.js';
import type { PolicyRow, PolicyService } from './policies.service.js';
import type { ProgramService } from './programs.service.js';

export type AssistanceRow = typeof temporaryAssistance.$inferSelect;

/** What a grant gives, on the spot or to an opened assistance. */
export interface GrantFields {
  cashFen: number;
  inKind: InKindItem[];
  strandedReason?: string | undefined;
  infectionStatus?: string | undefined;
}

/** The person aided, with the hukou region that decides whether they are local. */
export interface AidedPerson {
  id: string;
  householdId: string | null;
  region: string;
  /** The person's own hukou region, or their household's when they have none. */
  hukouRegion: string | null;
}

/** What the checks found: stored with the grant. */
export interface GrantFacts {
  policy: PolicyRow | null;
  hukouRegion: string | null;
  nonLocal: boolean;
  paperworkDueDate: string;
}

const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/**
 * Non-local (measure 6): the hukou region is not inside the district (first six digits) of the
 * place of emergency. An unknown hukou region counts as local: there is nothing to compare, and
 * the once-per-emergency rule applies to everyone anyway.
 */
export const isNonLocal = (hukouRegion: string | null, emergencyRegion: string) =>
  hukouRegion !== null && !hukouRegion.startsWith(emergencyRegion.slice(0, 6));

/** Any person of the city: a stranded person may be registered in another district. */
export async function aidedPerson(executor: Executor, personId: string): Promise<AidedPerson> {
  const [found] = await executor
    .select({
      id: persons.id,
      householdId: persons.householdId,
      region: persons.region,
      hukouRegion: persons.hukouRegion,
      householdHukou: households.hukouRegion,
    })
    .from(persons)
    .leftJoin(households, eq(households.id, persons.householdId))
    .where(eq(persons.id, personId));
  if (!found) throw notFound('person');
  return {
    id: found.id,
    householdId: found.householdId,
    region: found.region,
    hukouRegion: found.hukouRegion ?? found.householdHukou,
  };
}

/** The place of emergency must be a known region inside the caller's jurisdiction. */
export async function checkEmergencyRegion(
  regions: RegionService,
  caller: Jurisdictional,
  region: string,
  pointer: string | null,
): Promise<FieldError[]> {
  const detail = !(await regions.isKnown(region))
    ? `${region} is not a region code this service knows (see /v1/regions)`
    : !inJurisdiction(caller, region)
      ? `the place of emergency ${region} is outside your jurisdiction ${caller.jurisdiction}`
      : null;
  if (detail === null) return [];
  // Defaulted from the person's residence: there is no field to point at but the person.
  return [body(pointer ?? '/personId', pointer ? detail : `${detail}; give the place of emergency as region`)];
}

interface Deps {
  programs: ProgramService;
  policies: PolicyService;
}

/** The rules every grant passes, in the grant's transaction. Throws the problem that stops it. */
export function createGrantRules({ programs, policies }: Deps) {
  async function check(
    tx: Executor,
    person: AidedPerson,
    region: string,
    fields: GrantFields,
    today: string,
    earlier: FieldError[] = [],
  ): Promise<GrantFacts> {
    const errors = [...earlier];
    if (fields.cashFen <= 0 && fields.inKind.length === 0) {
      errors.push(body('/cashFen', 'give cash (cashFen > 0) or at least one in-kind item (inKind), or both'));
    }
    const policy = await policies.inForce(region, today, tx);
    const nonLocal = isNonLocal(person.hukouRegion, region);
    const relaxed = policy?.hukouRelaxed ?? false;
    if (nonLocal && relaxed) {
      const why = `is required for a non-local person (hukou ${person.hukouRegion}) granted aid at the place of emergency`;
      if (!fields.strandedReason) errors.push(body('/strandedReason', why));
      if (!fields.infectionStatus) errors.push(body('/infectionStatus', why));
    }
    const standard =
      fields.cashFen > 0 ? await programs.standardInForce('temporary_assistance', region, today, tx) : null;
    if (standard && fields.cashFen > standard.monthlyStandardFen) {
      errors.push(
        body(
          '/cashFen',
          `must not exceed ${standard.monthlyStandardFen} fen, the largest one-off grant of the temporary_assistance standard in force for ${standard.region}`,
        ),
      );
    }
    if (errors.length > 0) throw validationError(errors);
    if (nonLocal && !relaxed) {
      throw unprocessable(
        `The person’s hukou is in ${person.hukouRegion}, outside the district ${region.slice(0, 6)} of the place of emergency. ` +
          'Under normal rules temporary assistance is granted where the hukou is; only an emergency policy that relaxes hukou allows it here, and none is in force for this region today.',
        { hukouRegion: person.hukouRegion, emergencyRegion: region, policyId: policy?.id ?? null },
      );
    }
    if (fields.cashFen > 0 && !standard) {
      throw unprocessable(
        `No temporary_assistance standard is in force for region ${region} today (${today}), so the largest cash grant is unknown. ` +
          'An admin creates one at /v1/programs/temporary_assistance/standards; in-kind aid alone needs none.',
      );
    }
    const program = await programs.getProgram('temporary_assistance', tx);
    if (program.paperworkDeadlineDays === null) {
      throw unprocessable('The temporary_assistance program has no paperwork deadline configured.');
    }
    return {
      policy,
      hukouRegion: person.hukouRegion,
      nonLocal,
      paperworkDueDate: addDays(today, program.paperworkDeadlineDays),
    };
  }

  /**
   * Nobody is paid twice for one emergency: a grant (granted or completed) of the same person
   * under the same policy, or under an overlapping one (a district's response inside the city's,
   * in force at the same time), anywhere. The problem says where and when, and gives the grant's
   * id only to a caller whose jurisdiction holds it. Without a policy there is no emergency to key
   * on, and each grant stands on its own.
   */
  async function refuseSecondGrant(tx: Executor, caller: Jurisdictional, personId: string, policy: PolicyRow | null) {
    if (policy === null) return;
    const [existing] = await tx
      .select({ grant: temporaryAssistance })
      .from(temporaryAssistance)
      .innerJoin(policyTable, eq(policyTable.id, temporaryAssistance.policyId))
      .where(
        and(
          eq(temporaryAssistance.personId, personId),
          inArray(temporaryAssistance.status, ['granted', 'completed']),
          sql`(starts_with(${policyTable.region}, ${policy.region}) or starts_with(${policy.region}, ${policyTable.region}))`,
          sql`daterange(${policyTable.effectiveFrom}, ${policyTable.effectiveTo}, '[)') && daterange(${policy.effectiveFrom}::date, ${policy.effectiveTo}::date, '[)')`,
        ),
      )
      .orderBy(desc(temporaryAssistance.grantedAt))
      .limit(1);
    if (existing) throw alreadyGranted(caller, existing.grant);
  }

  return { check, refuseSecondGrant };
}

export function alreadyGranted(caller: Jurisdictional, existing: AssistanceRow) {
  const when = existing.grantedAt?.toISOString() ?? null;
  const visible = inJurisdiction(caller, existing.region);
  return conflict(
    `The person was already granted temporary assistance for this emergency in region ${existing.region} at ${when}` +
      `${visible ? ` (${existing.id})` : ''}: one grant per person and emergency, wherever it is asked for.`,
    {
      existingGrant: {
        region: existing.region,
        grantedAt: when,
        policyId: existing.policyId,
        ...(visible && { id: existing.id }),
      },
    },
  );
}

/** Postgres' unique violation on the once-per-emergency index, through drizzle's wrapper or not. */
export function isSecondGrantViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint, message } = e as { code?: string; constraint?: string; message?: string };
    if (
      code === '23505' &&
      (constraint === 'temporary_assistance_once_per_emergency_idx' ||
        message?.includes('temporary_assistance_once_per_emergency_idx'))
    ) {
      return true;
    }
  }
  return false;
}
