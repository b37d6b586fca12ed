import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { validationError } from '../../platform/errors.js';
import { effectiveRegionPrefix, type Jurisdictional } from '../../platform/jurisdiction.js';
import { addDays } from '../registry/dates.js';
import { REPORT_DAYS_MAX } from './schemas.js';
import { inKindDistributionLines as l, inKindDistributions as d, inKindItems as i } from './tables.js';

export interface ReportFilter {
  from: string;
  to: string;
  region?: string | undefined;
  itemCode?: string | undefined;
}

export interface DailyKey {
  day: string;
  region: string;
  itemCode: string;
}

export interface PersonKey {
  personId: string;
  itemCode: string;
}

// Each line is one (distribution, item): counting lines counts the distributions of an item.
const counted = {
  itemCode: i.code,
  itemName: i.name,
  unit: i.unit,
  quantity: sql<number>`sum(${l.quantity})::bigint`.mapWith(Number),
  distributions: sql<number>`count(*)::int`.mapWith(Number),
};
const persons = sql<number>`count(distinct ${d.personId})::int`.mapWith(Number);

/** What was handed out, summed from the distributions themselves (never from a kept tally). */
export function createReportService({ db, audit }: { db: Db; audit: AuditService }) {
  /** The distributions' conditions; null when the region lies outside the caller's jurisdiction. */
  function scope(caller: Jurisdictional, filter: ReportFilter): SQL[] | null {
    if (filter.to < filter.from) {
      throw validationError([{ in: 'query', pointer: '/to', detail: 'must not be before from' }]);
    }
    if (filter.to > addDays(filter.from, REPORT_DAYS_MAX - 1)) {
      throw validationError([
        { in: 'query', pointer: '/to', detail: `a report covers at most ${REPORT_DAYS_MAX} days` },
      ]);
    }
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return null;
    const conditions = [
      sql`${d.region} like ${`${prefix}%`}`,
      sql`${d.businessDate} between ${filter.from}::date and ${filter.to}::date`,
    ];
    if (filter.itemCode) conditions.push(eq(i.code, filter.itemCode));
    return conditions;
  }

  /** Per day, region and item, with each item's totals over the whole range. */
  async function daily(
    caller: Jurisdictional,
    filter: ReportFilter,
    page: { after?: DailyKey | undefined; limit: number },
  ) {
    const conditions = scope(caller, filter);
    const region = effectiveRegionPrefix(caller, filter.region) ?? filter.region!;
    if (!conditions) return { region, items: [], totals: [], more: false };
    const keyed = [...conditions];
    if (page.after) {
      const { day, region: after, itemCode } = page.after;
      keyed.push(sql`(${d.businessDate}, ${d.region}, ${i.code}) > (${day}::date, ${after}, ${itemCode})`);
    }
    const found = await db
      .select({ day: d.businessDate, region: d.region, ...counted, persons })
      .from(l)
      .innerJoin(d, eq(d.id, l.distributionId))
      .innerJoin(i, eq(i.id, l.itemId))
      .where(and(...keyed))
      .groupBy(d.businessDate, d.region, i.code, i.name, i.unit)
      .orderBy(asc(d.businessDate), asc(d.region), asc(i.code))
      .limit(page.limit + 1);
    const totals = await db
      .select({ ...counted, persons })
      .from(l)
      .innerJoin(d, eq(d.id, l.distributionId))
      .innerJoin(i, eq(i.id, l.itemId))
      .where(and(...conditions))
      .groupBy(i.code, i.name, i.unit)
      .orderBy(asc(i.code));
    return { region, items: found.slice(0, page.limit), totals, more: found.length > page.limit };
  }

  /** Per person and item; each person shown is recorded as read. */
  async function perPerson(
    caller: Jurisdictional,
    actor: AuditActor,
    filter: ReportFilter & { personId?: string | undefined },
    page: { after?: PersonKey | undefined; limit: number },
  ) {
    const conditions = scope(caller, filter);
    const region = effectiveRegionPrefix(caller, filter.region) ?? filter.region!;
    if (!conditions) return { region, items: [], more: false };
    if (filter.personId) conditions.push(eq(d.personId, filter.personId));
    if (page.after) {
      conditions.push(sql`(${d.personId}, ${i.code}) > (${page.after.personId}::uuid, ${page.after.itemCode})`);
    }
    const found = await db
      .select({
        personId: d.personId,
        ...counted,
        firstDistributedAt: sql<Date>`min(${d.distributedAt})`.mapWith(d.distributedAt),
        lastDistributedAt: sql<Date>`max(${d.distributedAt})`.mapWith(d.distributedAt),
      })
      .from(l)
      .innerJoin(d, eq(d.id, l.distributionId))
      .innerJoin(i, eq(i.id, l.itemId))
      .where(and(...conditions))
      .groupBy(d.personId, i.code, i.name, i.unit)
      .orderBy(asc(d.personId), asc(i.code))
      .limit(page.limit + 1);
    const items = found.slice(0, page.limit);
    if (items.length > 0) {
      await audit.recordRead(actor, {
        operation: 'reportInKindPerPerson',
        resourceType: 'inkind_distribution',
        personIds: [...new Set(items.map((r) => r.personId))],
      });
    }
    return { region, items, more: found.length > page.limit };
  }

  return { dailyReport: daily, personReport: perPerson };
}
