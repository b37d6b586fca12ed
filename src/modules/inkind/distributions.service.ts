import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { type FieldError, invalidState, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { businessDateOf } from '../registry/dates.js';
import type { PeopleService } from '../registry/people.service.js';
import type { TemporaryAssistanceService } from '../registry/temporary-assistance.service.js';
import { inKindDistributionRecorded } from './events.js';
import { body, type LineInput, type LineOut, lineOut, linesOf, resolveLines } from './lines.js';
import { CLOCK_SKEW_MS, checkStockRegion, takeFromStock } from './stock.js';
import { inKindDistributionLines, inKindDistributions } from './tables.js';

export type DistributionRow = typeof inKindDistributions.$inferSelect;
export type DistributionView = DistributionRow & { lines: LineOut[] };

export interface NewDistribution {
  region: string;
  temporaryAssistanceId?: string | undefined;
  personId?: string | undefined;
  lines: LineInput[];
  distributedAt?: string | undefined;
  distributedBy: string;
  note?: string | undefined;
}

export interface DistributionFilter {
  region?: string | undefined;
  personId?: string | undefined;
  temporaryAssistanceId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export const distributionOut = (d: DistributionView) => ({
  id: d.id,
  region: d.region,
  personId: d.personId,
  householdId: d.householdId,
  temporaryAssistanceId: d.temporaryAssistanceId,
  distributedAt: d.distributedAt.toISOString(),
  businessDate: d.businessDate,
  distributedBy: d.distributedBy,
  note: d.note,
  lines: d.lines,
  createdBy: d.createdByClientId,
  createdAt: d.createdAt.toISOString(),
});

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  people: PeopleService;
  assistance: TemporaryAssistanceService;
  clock: () => Date;
}

/** Distributions of in-kind aid to persons, from a region's stock. */
export function createDistributionService({ db, audit, events, regions, people, assistance, clock }: Deps) {
  /** Who receives it: the grant's person, or a person inside the caller's jurisdiction (404 otherwise). */
  async function recipientOf(caller: Jurisdictional, actor: AuditActor, input: NewDistribution) {
    if (input.temporaryAssistanceId) {
      const grant = await assistance.get(caller, actor, input.temporaryAssistanceId);
      if (grant.status !== 'granted' && grant.status !== 'completed') {
        throw invalidState(`Only granted assistance is handed out; this one is ${grant.status}.`, grant.status);
      }
      if (input.personId && input.personId !== grant.personId) {
        throw validationError([body('/personId', 'is not the person the grant was made to; leave it out')]);
      }
      return { personId: grant.personId, householdId: grant.householdId, temporaryAssistanceId: grant.id };
    }
    // Read as a caller without registry:read_sensitive: nothing sealed is opened for a distribution.
    const reader = { jurisdiction: caller.jurisdiction, scopes: [] };
    const { body: person } = await people.getPerson(reader, actor, input.personId!);
    return { personId: person.id, householdId: person.householdId, temporaryAssistanceId: null };
  }

  async function distribute(
    caller: Jurisdictional,
    actor: AuditActor,
    input: NewDistribution,
  ): Promise<DistributionView> {
    const errors: FieldError[] = await checkStockRegion(regions, caller, input.region);
    if (!input.personId && !input.temporaryAssistanceId) {
      errors.push(body('/personId', 'give the person, or the temporary-assistance grant whose aid this is'));
    }
    const at = input.distributedAt ? new Date(input.distributedAt) : clock();
    if (at.getTime() > clock().getTime() + CLOCK_SKEW_MS)
      errors.push(body('/distributedAt', 'must not be in the future'));
    const resolved = await resolveLines(db, input.lines, false);
    errors.push(...resolved.errors);
    if (errors.length > 0) throw validationError(errors);
    const recipient = await recipientOf(caller, actor, input);

    return db.transaction(async (tx) => {
      await takeFromStock(tx, input.region, resolved.lines, input.lines);
      const [row] = await tx
        .insert(inKindDistributions)
        .values({
          region: input.region,
          ...recipient,
          distributedAt: at,
          businessDate: businessDateOf(at),
          distributedBy: input.distributedBy,
          note: input.note ?? null,
          createdByClientId: actor.clientId,
        })
        .returning();
      await tx
        .insert(inKindDistributionLines)
        .values(resolved.lines.map((l) => ({ distributionId: row!.id, itemId: l.item.id, quantity: l.quantity })));
      const lines = resolved.lines
        .map((l) => lineOut(l.item, l.quantity))
        .sort((a, b) => a.itemCode.localeCompare(b.itemCode));
      await events.publish(tx, inKindDistributionRecorded, {
        subject: `in_kind_distribution/${row!.id}`,
        region: row!.region,
        data: {
          distributionId: row!.id,
          region: row!.region,
          personId: row!.personId,
          householdId: row!.householdId,
          temporaryAssistanceId: row!.temporaryAssistanceId,
          distributedAt: row!.distributedAt.toISOString(),
          businessDate: row!.businessDate,
          lines: lines.map(({ itemCode, unit, quantity }) => ({ itemCode, unit, quantity })),
        },
      });
      await audit.record(tx, actor, {
        operation: 'distributeInKindAid',
        resourceType: 'inkind_distribution',
        resourceIds: [row!.id],
        personIds: [row!.personId],
        detail: { region: row!.region, temporaryAssistanceId: row!.temporaryAssistanceId, lines: input.lines },
      });
      return { ...row!, lines };
    });
  }

  const withLines = async (rows: DistributionRow[]): Promise<DistributionView[]> => {
    const lines = await linesOf(
      db,
      'distribution',
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({ ...r, lines: lines.get(r.id)! }));
  };

  async function getDistribution(caller: Jurisdictional, actor: AuditActor, id: string) {
    const [row] = await db.select().from(inKindDistributions).where(eq(inKindDistributions.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('distribution');
    await audit.recordRead(actor, {
      operation: 'getInKindDistribution',
      resourceType: 'inkind_distribution',
      resourceIds: [id],
      personIds: [row.personId],
    });
    return (await withLines([row]))[0]!;
  }

  /** Newest handed out first; `after` is the id of the previous page's last distribution. */
  async function listDistributions(
    caller: Jurisdictional,
    actor: AuditActor,
    filter: DistributionFilter,
    page: { after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const d = inKindDistributions;
    const conditions: SQL[] = [sql`${d.region} like ${`${prefix}%`}`];
    if (filter.personId) conditions.push(eq(d.personId, filter.personId));
    if (filter.temporaryAssistanceId) conditions.push(eq(d.temporaryAssistanceId, filter.temporaryAssistanceId));
    if (filter.from) conditions.push(sql`${d.businessDate} >= ${filter.from}::date`);
    if (filter.to) conditions.push(sql`${d.businessDate} <= ${filter.to}::date`);
    if (page.after) {
      conditions.push(
        sql`(${d.distributedAt}, ${d.id}) < (select x.distributed_at, x.id from ${d} x where x.id = ${page.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(d)
      .where(and(...conditions))
      .orderBy(desc(d.distributedAt), desc(d.id))
      .limit(page.limit + 1);
    const items = found.slice(0, page.limit);
    if (items.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listInKindDistributions',
        resourceType: 'inkind_distribution',
        resourceIds: items.map((r) => r.id),
        personIds: [...new Set(items.map((r) => r.personId))],
      });
    }
    return { items: await withLines(items), more: found.length > page.limit };
  }

  return { distribute, getDistribution, listDistributions };
}
