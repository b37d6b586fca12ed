import { and, asc, desc, eq, getTableColumns, type Placeholder, type SQL, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict, type FieldError, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { businessDateOf } from './dates.js';
import { checkEnding, describePeriod } from './periods.js';
import { programStandardCreated, programStandardEnded } from './programs.events.js';
import type { CareAllowances, ProgramCode, StandardAmounts } from './programs.rules.js';
import { programs, programStandards } from './programs.tables.js';

export type ProgramRow = typeof programs.$inferSelect;
type StandardRow = typeof programStandards.$inferSelect;

/** A program's amounts for a region over a half-open period of business dates. */
export interface ProgramStandard extends StandardAmounts {
  id: string;
  program: ProgramCode;
  region: string;
  effectiveFrom: string;
  /** First day no longer in force; null: until further notice. */
  effectiveTo: string | null;
  /** Economic verification's limits (see the table); null: no limit. */
  propertyLimit: number | null;
  vehicleValueLimitFen: number | null;
  businessCapitalLimitFen: number | null;
  label: string | null;
  createdByClientId: string | null;
  createdAt: Date;
  endedByClientId: string | null;
  endedAt: Date | null;
  version: number;
}

export interface NewStandard {
  region: string;
  effectiveFrom: string;
  effectiveTo?: string | undefined;
  monthlyStandardFen: number;
  assetMultiple?: number | undefined;
  careAllowances?: CareAllowances | undefined;
  propertyLimit?: number | undefined;
  vehicleValueLimitFen?: number | undefined;
  businessCapitalLimitFen?: number | undefined;
  label?: string | undefined;
}

export interface StandardFilter {
  /** Standards whose region covers this one or lies inside it. */
  region?: string | undefined;
  /** Only standards in force on this business date. */
  date?: string | undefined;
  /** Key of the last standard of the previous page. */
  after?: { region: string; effectiveFrom: string; id: string } | undefined;
  limit: number;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  /** The time now; business dates ("today") are taken in Asia/Shanghai. */
  clock?: () => Date;
}

/** Programs that are means-tested against financial assets need the standard's asset multiple. */
const needsAssetMultiple: ProgramCode[] = ['dibao', 'tekun'];

export const standardOf = (row: StandardRow): ProgramStandard => ({
  id: row.id,
  program: row.programCode as ProgramCode,
  region: row.region,
  effectiveFrom: row.effectiveFrom,
  effectiveTo: row.effectiveTo,
  monthlyStandardFen: row.monthlyStandardFen,
  assetMultiple: row.assetMultiple,
  careAllowances:
    row.careAbleFen === null || row.carePartiallyUnableFen === null || row.careUnableFen === null
      ? null
      : { ableFen: row.careAbleFen, partiallyUnableFen: row.carePartiallyUnableFen, unableFen: row.careUnableFen },
  propertyLimit: row.propertyLimit,
  vehicleValueLimitFen: row.vehicleValueLimitFen,
  businessCapitalLimitFen: row.businessCapitalLimitFen,
  label: row.label,
  createdByClientId: row.createdByClientId,
  createdAt: row.createdAt,
  endedByClientId: row.endedByClientId,
  endedAt: row.endedAt,
  version: row.version,
});

/** Days in force: `daterange` is half-open like the standard's period, and null means unbounded. */
const periodOf = (from: SQL | string, to: SQL | string | null) => sql`daterange(${from}::date, ${to}::date, '[)')`;
const inForceOn = (date: string | Placeholder) =>
  sql`${programStandards.effectiveFrom} <= ${date}::date and (${programStandards.effectiveTo} is null or ${programStandards.effectiveTo} > ${date}::date)`;

/** The standards of a program in force for a region on a date; the most specific (longest region) comes first. */
const inForceFor = (program: ProgramCode | Placeholder, region: string | SQLWrapper, date: string | Placeholder) =>
  and(
    eq(programStandards.programCode, program),
    sql`starts_with(${region}, ${programStandards.region})`,
    inForceOn(date),
  );
const mostSpecificFirst = desc(sql`length(${programStandards.region})`);
const standardColumns = Object.entries(getTableColumns(programStandards));

/**
 * The standard in force (as `standardInForce` finds it) as a scalar subquery giving the row as
 * JSON, or null: for a statement that reads the region itself (economic verification reads the
 * household and the standard in one statement). `standardFromJson` reads it back.
 */
export function standardInForceJson(
  program: ProgramCode | Placeholder,
  region: SQLWrapper,
  date: string | Placeholder,
): SQL {
  const fields = standardColumns.map(([key, column]) => sql`${sql.raw(`'${key}'`)}, ${column}`);
  return sql`(select json_build_object(${sql.join(fields, sql`, `)}) from ${programStandards}
    where ${inForceFor(program, region, date)} order by ${mostSpecificFirst} limit 1)`;
}

/** A standard from `standardInForceJson`, each column read as a query would read it. */
export function standardFromJson(json: Record<string, unknown> | null): ProgramStandard | null {
  if (!json) return null;
  const row = Object.fromEntries(
    standardColumns.map(([key, column]) => {
      const value = json[key];
      return [key, value === null || value === undefined ? null : column.mapFromDriverValue(value)];
    }),
  );
  return standardOf(row as StandardRow);
}

/**
 * Programs and their standards. Standards are public rules: anyone with programs:read reads all of
 * them; an admin creates and ends standards only for regions inside its jurisdiction.
 */
export function createProgramService({ db, audit, events, regions, clock = () => new Date() }: Deps) {
  async function listPrograms(): Promise<ProgramRow[]> {
    return db.select().from(programs).orderBy(asc(programs.code));
  }

  async function getProgram(code: string, executor: Executor = db): Promise<ProgramRow> {
    const [found] = await executor.select().from(programs).where(eq(programs.code, code));
    if (!found) throw notFound('program');
    return found;
  }

  /** Every bad field of a new standard at once, each named by its pointer. */
  async function checkNewStandard(caller: Jurisdictional, program: ProgramCode, input: NewStandard) {
    const errors: FieldError[] = [];
    const at = (pointer: string, detail: string) => errors.push({ in: 'body', pointer, detail });
    if (!(await regions.isKnown(input.region))) {
      at('/region', `${input.region} is not a region code this service knows (see /v1/regions)`);
    } else if (!inJurisdiction(caller, input.region)) {
      at('/region', `must lie inside your own jurisdiction ${caller.jurisdiction}`);
    }
    if (input.effectiveTo !== undefined && input.effectiveTo <= input.effectiveFrom) {
      at(
        '/effectiveTo',
        `must be after effectiveFrom (${input.effectiveFrom}): it is the first day the standard is no longer in force`,
      );
    }
    if (program === 'tekun' && !input.careAllowances) {
      at('/careAllowances', 'is required for tekun: the care allowance a month for each self-care level');
    }
    if (program !== 'tekun' && input.careAllowances) {
      at('/careAllowances', 'only tekun standards have care allowances');
    }
    if (needsAssetMultiple.includes(program) && input.assetMultiple === undefined) {
      at('/assetMultiple', `is required for ${program}: the financial-asset limit per member, in monthly standards`);
    }
    if (errors.length > 0) throw validationError(errors);
  }

  async function createStandard(
    caller: Jurisdictional,
    actor: AuditActor,
    program: ProgramCode,
    input: NewStandard,
  ): Promise<ProgramStandard> {
    await getProgram(program);
    await checkNewStandard(caller, program, input);
    const effectiveTo = input.effectiveTo ?? null;
    return db.transaction(async (tx) => {
      // One writer at a time per program, so two overlapping standards cannot both pass the check.
      await tx.select({ code: programs.code }).from(programs).where(eq(programs.code, program)).for('update');
      const [overlapping] = await tx
        .select()
        .from(programStandards)
        .where(
          and(
            eq(programStandards.programCode, program),
            eq(programStandards.region, input.region),
            sql`${periodOf(sql`${programStandards.effectiveFrom}`, sql`${programStandards.effectiveTo}`)} && ${periodOf(input.effectiveFrom, effectiveTo)}`,
          ),
        )
        .orderBy(asc(programStandards.effectiveFrom))
        .limit(1);
      if (overlapping) {
        throw conflict(
          `Standard ${overlapping.id} of ${program} for region ${input.region} is in force ${describePeriod(overlapping)}, ` +
            'which overlaps the period asked for. End it first, or choose a period that starts when it ends.',
          {
            overlappingStandard: {
              id: overlapping.id,
              effectiveFrom: overlapping.effectiveFrom,
              effectiveTo: overlapping.effectiveTo,
            },
          },
        );
      }
      const [row] = await tx
        .insert(programStandards)
        .values({
          programCode: program,
          region: input.region,
          effectiveFrom: input.effectiveFrom,
          effectiveTo,
          monthlyStandardFen: input.monthlyStandardFen,
          assetMultiple: input.assetMultiple ?? null,
          careAbleFen: input.careAllowances?.ableFen ?? null,
          carePartiallyUnableFen: input.careAllowances?.partiallyUnableFen ?? null,
          careUnableFen: input.careAllowances?.unableFen ?? null,
          propertyLimit: input.propertyLimit ?? null,
          vehicleValueLimitFen: input.vehicleValueLimitFen ?? null,
          businessCapitalLimitFen: input.businessCapitalLimitFen ?? null,
          label: input.label ?? null,
          createdByClientId: actor.clientId,
        })
        .returning();
      const standard = standardOf(row!);
      await events.publish(tx, programStandardCreated, {
        subject: `program_standard/${standard.id}`,
        region: standard.region,
        data: {
          standardId: standard.id,
          program,
          region: standard.region,
          effectiveFrom: standard.effectiveFrom,
          effectiveTo: standard.effectiveTo,
          monthlyStandardFen: standard.monthlyStandardFen,
          assetMultiple: standard.assetMultiple,
          careAllowances: standard.careAllowances,
          propertyLimit: standard.propertyLimit,
          vehicleValueLimitFen: standard.vehicleValueLimitFen,
          businessCapitalLimitFen: standard.businessCapitalLimitFen,
          label: standard.label,
        },
      });
      await audit.record(tx, actor, {
        operation: 'createProgramStandard',
        resourceType: 'program_standard',
        resourceIds: [standard.id],
        detail: { program, region: standard.region, effectiveFrom: standard.effectiveFrom, effectiveTo },
      });
      return standard;
    });
  }

  async function getStandard(program: ProgramCode, id: string): Promise<ProgramStandard> {
    const [row] = await db
      .select()
      .from(programStandards)
      .where(and(eq(programStandards.id, id), eq(programStandards.programCode, program)));
    if (!row) throw notFound('program standard');
    return standardOf(row);
  }

  /** Ordered by region, then start date: a region's history reads top to bottom. */
  async function listStandards(program: ProgramCode, filter: StandardFilter) {
    await getProgram(program);
    const conditions: SQL[] = [eq(programStandards.programCode, program)];
    if (filter.region) {
      conditions.push(
        sql`(starts_with(${programStandards.region}, ${filter.region}) or starts_with(${filter.region}, ${programStandards.region}))`,
      );
    }
    if (filter.date) conditions.push(inForceOn(filter.date));
    if (filter.after) {
      const { region, effectiveFrom, id } = filter.after;
      conditions.push(
        sql`(${programStandards.region}, ${programStandards.effectiveFrom}, ${programStandards.id}) > (${region}, ${effectiveFrom}::date, ${id}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(programStandards)
      .where(and(...conditions))
      .orderBy(asc(programStandards.region), asc(programStandards.effectiveFrom), asc(programStandards.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit).map(standardOf), more: found.length > filter.limit };
  }

  /**
   * The standard of a program in force for a region on a business date: among the standards whose
   * region is a prefix of the given one, the most specific (a district's beats the city's). Null
   * when none is in force.
   */
  async function standardInForce(
    program: ProgramCode,
    region: string,
    date: string,
    executor: Executor = db,
  ): Promise<ProgramStandard | null> {
    const [row] = await executor
      .select()
      .from(programStandards)
      .where(inForceFor(program, region, date))
      .orderBy(mostSpecificFirst)
      .limit(1);
    return row ? standardOf(row) : null;
  }

  /**
   * Gives an open-ended standard its end: `effectiveTo`, the first day it is no longer in force.
   * The past stays as it was: the end cannot lie before today (Asia/Shanghai). A standard that has
   * not started yet may be ended on its first day, which withdraws it.
   */
  async function endStandard(
    caller: Jurisdictional,
    actor: AuditActor,
    program: ProgramCode,
    id: string,
    effectiveTo: string,
    expectedVersion?: number,
  ): Promise<ProgramStandard> {
    return db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(programStandards)
        .where(and(eq(programStandards.id, id), eq(programStandards.programCode, program)))
        .for('update');
      if (!current) throw notFound('program standard');
      checkEnding(caller, current, effectiveTo, businessDateOf(clock()), 'standard', expectedVersion);
      const [row] = await tx
        .update(programStandards)
        .set({
          effectiveTo,
          endedAt: sql`now()`,
          endedByClientId: actor.clientId,
          version: current.version + 1,
        })
        .where(eq(programStandards.id, id))
        .returning();
      const ended = standardOf(row!);
      await events.publish(tx, programStandardEnded, {
        subject: `program_standard/${id}`,
        region: ended.region,
        data: { standardId: id, program, region: ended.region, effectiveFrom: ended.effectiveFrom, effectiveTo },
      });
      await audit.record(tx, actor, {
        operation: 'endProgramStandard',
        resourceType: 'program_standard',
        resourceIds: [id],
        detail: { program, region: ended.region, effectiveTo },
      });
      return ended;
    });
  }

  /** Today's business date in Asia/Shanghai, by the service's clock. */
  const today = () => businessDateOf(clock());

  return {
    listPrograms,
    getProgram,
    createStandard,
    getStandard,
    listStandards,
    standardInForce,
    endStandard,
    today,
  };
}

export type ProgramService = ReturnType<typeof createProgramService>;
