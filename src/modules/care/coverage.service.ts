import { type SQL, sql } from 'drizzle-orm';
import { type Db, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { notFound, validationError } from '../../platform/errors.js';
import { effectiveRegionPrefix, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { businessDateOf } from '../registry/dates.js';
import type { CoveragePerson, Figures } from './coverage.schemas.js';
import { type CoverageRow, type CoverageScope, coverageSql, keyPersonsSql } from './coverage.sql.js';
import { NORMAL_VISIT_INTERVAL_DAYS, policiesInForce } from './interval.js';

interface Deps {
  db: Db;
  audit: AuditService;
  regions: RegionService;
  clock: () => Date;
}

interface PersonRow {
  id: string;
  name: string;
  region: string;
  days: number;
  caregiver_id: string | null;
  caregiver_name: string | null;
  visit_id: string | null;
  visited_at: string | Date | null;
  due: string | null;
  days_overdue: number | null;
}

const share = (visited: number, all: number) => (all === 0 ? null : Math.round((visited / all) * 10_000) / 10_000);

/** The visit figures of a group of key persons. */
function visited(r: CoverageRow) {
  return {
    keyPersons: r.key_persons,
    visitedWithinInterval: r.visited,
    overdue: r.key_persons - r.visited,
    neverVisited: r.never_visited,
    shareVisited: share(r.visited, r.key_persons),
  };
}

const figures = (r: CoverageRow): Figures => ({
  ...visited(r),
  withCaregiver: r.with_caregiver,
  withoutCaregiver: r.key_persons - r.with_caregiver,
});

function personOut(r: PersonRow): CoveragePerson {
  const overdue = r.days_overdue === null || r.days_overdue > 0;
  return {
    personId: r.id,
    name: r.name,
    region: r.region,
    caregiverId: r.caregiver_id,
    caregiverName: r.caregiver_name,
    lastVisitId: r.visit_id,
    lastVisitAt: r.visited_at === null ? null : new Date(r.visited_at).toISOString(),
    intervalDays: r.days,
    dueDate: r.due,
    overdue,
    daysOverdue: r.days_overdue === null ? null : Math.max(0, r.days_overdue),
  };
}

/** Overdue pages are ordered by due day (never visited first), then person id. */
export const overdueKey = (p: CoveragePerson) => `${p.dueDate ?? ''}|${p.personId}`;
const overdueCursor = /^(\d{4}-\d{2}-\d{2})?\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Coverage (measure 4, "no blind spots"): per region, per caregiver and in total, the key persons,
 * those without a caregiver, those visited within the interval and those overdue; and the lists of
 * persons unassigned and overdue. Set-based: one statement each, after reading the few policies in
 * force (each person's interval is a CASE over them, see interval.ts).
 */
export function createCoverageService({ db, audit, regions, clock }: Deps) {
  async function scopeOf(caller: Jurisdictional, query: { region?: string | undefined; date?: string | undefined }) {
    if (query.region && !(await regions.isKnown(query.region))) {
      throw validationError([
        { in: 'query', pointer: '/region', detail: `${query.region} is not a region code this service knows` },
      ]);
    }
    const prefix = effectiveRegionPrefix(caller, query.region);
    if (prefix === null) throw notFound('region');
    const today = businessDateOf(clock());
    const date = query.date ?? today;
    return {
      prefix,
      date,
      past: date < today,
      policies: await policiesInForce(db, prefix, date),
    } satisfies CoverageScope;
  }

  async function coverage(caller: Jurisdictional, query: { region?: string | undefined; date?: string | undefined }) {
    const scope = await scopeOf(caller, query);
    // A serial plan: on the 100,000-key-person city, parallel workers (forced by lowering the
    // planner's parallel costs) measured slower, 256 ms against 152 ms (bench/RESULTS.md).
    const found = await rows<CoverageRow>(db, coverageSql(scope));
    const total = found.find((r) => r.kind === 'total');
    const empty = { kind: 'total', key_persons: 0, with_caregiver: 0, visited: 0, never_visited: 0 } as CoverageRow;
    const byRegion = found.filter((r) => r.kind === 'region').sort((a, b) => a.region!.localeCompare(b.region!));
    const byCaregiver = found
      .filter((r) => r.kind === 'caregiver')
      .sort(
        (a, b) =>
          b.key_persons - b.visited - (a.key_persons - a.visited) || a.caregiver_id!.localeCompare(b.caregiver_id!),
      );
    return {
      region: scope.prefix,
      date: scope.date,
      normalIntervalDays: NORMAL_VISIT_INTERVAL_DAYS,
      total: figures(total ?? empty),
      regions: await Promise.all(
        byRegion.map(async (r) => ({
          region: r.region!,
          name: (await regions.get(r.region!))?.name ?? null,
          ...figures(r),
        })),
      ),
      caregivers: byCaregiver.map((r) => ({
        caregiverId: r.caregiver_id!,
        name: r.caregiver_name!,
        region: r.caregiver_region!,
        active: r.caregiver_active!,
        ...visited(r),
      })),
    };
  }

  async function persons(actor: AuditActor, operation: string, statement: SQL, limit: number) {
    const found = await rows<PersonRow>(db, statement);
    const items = found.slice(0, limit).map(personOut);
    if (items.length > 0) {
      await audit.recordRead(actor, {
        operation,
        resourceType: 'person',
        resourceIds: items.map((p) => p.personId),
        personIds: items.map((p) => p.personId),
      });
    }
    return { items, more: found.length > limit };
  }

  const select = (s: CoverageScope) => sql`select x.id, x.name, x.region, x.days, x.caregiver_id, x.visit_id,
      x.visited_at, x.due::text as due, c.name as caregiver_name, (${s.date}::date - x.due) as days_overdue
    from x left join caregivers c on c.id = x.caregiver_id`;

  /** Key persons without an active caregiver, by region then id; `after` is the last person id of the previous page. */
  async function unassigned(
    caller: Jurisdictional,
    actor: AuditActor,
    query: { region?: string; date?: string },
    page: { after?: string | undefined; limit: number },
  ) {
    const s = await scopeOf(caller, query);
    const where = sql`and not exists (select 1 from care_assignments a where a.person_id = p.id and a.ended_at is null)
      ${page.after ? sql`and (p.region, p.id) > (select q.region, q.id from persons q where q.id = ${page.after}::uuid)` : sql``}`;
    const order = sql`order by p.region, p.id limit ${page.limit + 1}`;
    return persons(
      actor,
      'listUnassignedKeyPersons',
      sql`${keyPersonsSql(s, where, order)} ${select(s)} order by x.region, x.id`,
      page.limit,
    );
  }

  /** Key persons not visited within the interval: never visited first, then the longest overdue. */
  async function overdue(
    caller: Jurisdictional,
    actor: AuditActor,
    query: { region?: string; date?: string },
    page: { after?: string | undefined; limit: number },
  ) {
    const s = await scopeOf(caller, query);
    let after = sql``;
    if (page.after) {
      const [, due, id] = overdueCursor.exec(page.after) ?? [];
      if (!id)
        throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
      after = due
        ? sql`and x.due is not null and (x.due, x.id) > (${due}::date, ${id}::uuid)`
        : sql`and (x.due is not null or x.id > ${id}::uuid)`;
    }
    return persons(
      actor,
      'listOverdueKeyPersons',
      sql`${keyPersonsSql(s)} ${select(s)} where (x.due is null or x.due < ${s.date}::date) ${after}
        order by x.due nulls first, x.id limit ${page.limit + 1}`,
      page.limit,
    );
  }

  return { coverage, unassigned, overdue };
}

export type CoverageService = ReturnType<typeof createCoverageService>;
