import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { type FieldError, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { businessDateOf } from './dates.js';
import { policyCreated, policyEnded } from './policies.events.js';
import { policies } from './policies.tables.js';
import { checkEnding } from './periods.js';

export type PolicyRow = typeof policies.$inferSelect;

/** The switches of an emergency policy (DOMAIN.md); null or false: normal rules. */
export interface PolicySwitches {
  fastTrack: boolean;
  decisionDeadlineDays: number | null;
  reviewExtensionMonths: number;
  hukouRelaxed: boolean;
  dailyReportCutoff: string | null;
  greenChannelHours: number | null;
  visitIntervalDays: number | null;
  referralAckHours: number | null;
  contactLookBackDays: number | null;
}

export interface NewPolicy extends Partial<PolicySwitches> {
  name: string;
  region: string;
  effectiveFrom: string;
  effectiveTo?: string | undefined;
  description?: string | undefined;
}

export interface PolicyFilter {
  region?: string | undefined;
  date?: string | undefined;
  after?: { effectiveFrom: string; id: string } | undefined;
  limit: number;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  clock?: () => Date;
}

const inForceOn = (date: string) =>
  sql`${policies.effectiveFrom} <= ${date}::date and (${policies.effectiveTo} is null or ${policies.effectiveTo} > ${date}::date)`;

/** SQL: the policy in force for `region` on `date` (both SQL expressions), most specific region first. */
export const policyInForceSql = (region: SQL, date: SQL) => sql`(
  select p.id from ${policies} p
  where starts_with(${region}, p.region)
    and p.effective_from <= ${date} and (p.effective_to is null or p.effective_to > ${date})
  order by length(p.region) desc, p.effective_from desc, p.id
  limit 1)`;

const eventData = (p: PolicyRow) => ({
  policyId: p.id,
  name: p.name,
  region: p.region,
  effectiveFrom: p.effectiveFrom,
  effectiveTo: p.effectiveTo,
  fastTrack: p.fastTrack,
  decisionDeadlineDays: p.decisionDeadlineDays,
  reviewExtensionMonths: p.reviewExtensionMonths,
  hukouRelaxed: p.hukouRelaxed,
  dailyReportCutoff: p.dailyReportCutoff,
  greenChannelHours: p.greenChannelHours,
  visitIntervalDays: p.visitIntervalDays,
  referralAckHours: p.referralAckHours,
  contactLookBackDays: p.contactLookBackDays,
});

/**
 * Emergency policies. Every module asks one question of them, `inForce(region, date)`: the
 * policy of the most specific region containing `region` whose period covers `date`; null when
 * none is, and normal rules apply. Policies may overlap (a city's and a district's); the district's
 * wins where it applies.
 */
export function createPolicyService({ db, audit, events, regions, clock = () => new Date() }: Deps) {
  async function inForce(region: string, date: string, executor: Executor = db): Promise<PolicyRow | null> {
    const [row] = await executor
      .select()
      .from(policies)
      .where(and(sql`starts_with(${region}, ${policies.region})`, inForceOn(date)))
      .orderBy(desc(sql`length(${policies.region})`), desc(policies.effectiveFrom), asc(policies.id))
      .limit(1);
    return row ?? null;
  }

  async function get(id: string, executor: Executor = db): Promise<PolicyRow> {
    const [row] = await executor.select().from(policies).where(eq(policies.id, id));
    if (!row) throw notFound('policy');
    return row;
  }

  async function checkNew(caller: Jurisdictional, input: NewPolicy) {
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
        `must be after effectiveFrom (${input.effectiveFrom}): it is the first day no longer in force`,
      );
    }
    if (input.decisionDeadlineDays !== undefined && input.decisionDeadlineDays !== null && !input.fastTrack) {
      at('/decisionDeadlineDays', 'is the deadline of fast-tracked applications: set fastTrack too');
    }
    if (errors.length > 0) throw validationError(errors);
  }

  async function create(caller: Jurisdictional, actor: AuditActor, input: NewPolicy): Promise<PolicyRow> {
    await checkNew(caller, input);
    return db.transaction(async (tx) => {
      const [row] = await tx
        .insert(policies)
        .values({
          name: input.name,
          region: input.region,
          effectiveFrom: input.effectiveFrom,
          effectiveTo: input.effectiveTo ?? null,
          fastTrack: input.fastTrack ?? false,
          decisionDeadlineDays: input.decisionDeadlineDays ?? null,
          reviewExtensionMonths: input.reviewExtensionMonths ?? 0,
          hukouRelaxed: input.hukouRelaxed ?? false,
          dailyReportCutoff: input.dailyReportCutoff ?? null,
          greenChannelHours: input.greenChannelHours ?? null,
          visitIntervalDays: input.visitIntervalDays ?? null,
          referralAckHours: input.referralAckHours ?? null,
          contactLookBackDays: input.contactLookBackDays ?? null,
          description: input.description ?? null,
          createdByClientId: actor.clientId,
        })
        .returning();
      const policy = row!;
      await events.publish(tx, policyCreated, {
        subject: `policy/${policy.id}`,
        region: policy.region,
        data: eventData(policy),
      });
      await audit.record(tx, actor, {
        operation: 'createPolicy',
        resourceType: 'policy',
        resourceIds: [policy.id],
        detail: { region: policy.region, effectiveFrom: policy.effectiveFrom, effectiveTo: policy.effectiveTo },
      });
      return policy;
    });
  }

  /** Newest first; `region` keeps policies of regions containing it or inside it. */
  async function list(filter: PolicyFilter) {
    const conditions: SQL[] = [];
    if (filter.region) {
      conditions.push(
        sql`(starts_with(${policies.region}, ${filter.region}) or starts_with(${filter.region}, ${policies.region}))`,
      );
    }
    if (filter.date) conditions.push(inForceOn(filter.date));
    if (filter.after) {
      conditions.push(
        sql`(${policies.effectiveFrom}, ${policies.id}) < (${filter.after.effectiveFrom}::date, ${filter.after.id}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(policies)
      .where(and(...conditions))
      .orderBy(desc(policies.effectiveFrom), desc(policies.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  /**
   * Ends an open-ended policy: `effectiveTo` is the first day it no longer applies, today or
   * later; what it did while in force stays done.
   */
  async function end(
    caller: Jurisdictional,
    actor: AuditActor,
    id: string,
    effectiveTo: string,
    expectedVersion?: number,
  ): Promise<PolicyRow> {
    return db.transaction(async (tx) => {
      const [current] = await tx.select().from(policies).where(eq(policies.id, id)).for('update');
      if (!current) throw notFound('policy');
      checkEnding(caller, current, effectiveTo, businessDateOf(clock()), 'policy', expectedVersion);
      const [row] = await tx
        .update(policies)
        .set({ effectiveTo, endedAt: sql`now()`, endedByClientId: actor.clientId, version: current.version + 1 })
        .where(eq(policies.id, id))
        .returning();
      const ended = row!;
      await events.publish(tx, policyEnded, { subject: `policy/${id}`, region: ended.region, data: eventData(ended) });
      await audit.record(tx, actor, {
        operation: 'endPolicy',
        resourceType: 'policy',
        resourceIds: [id],
        detail: { region: ended.region, effectiveTo },
      });
      return ended;
    });
  }

  const today = () => businessDateOf(clock());

  return { inForce, get, create, list, end, today };
}

export type PolicyService = ReturnType<typeof createPolicyService>;
