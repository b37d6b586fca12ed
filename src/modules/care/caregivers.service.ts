import { and, asc, eq, getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict, type FieldError, invalidState, notFound, ProblemError } from '../../platform/errors.js';
import { etagOf, ifMatchVersion } from '../../platform/http.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { persons } from '../registry/people.tables.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { CaregiverPatch, NewCaregiver } from './caregivers.schemas.js';
import { phoneColumns } from './caregivers.view.js';
import { body, type CareCaller, check, revealsTo } from './common.js';
import { careAssignments, caregivers } from './tables.js';

export type CaregiverRow = typeof caregivers.$inferSelect;
export type Counted = CaregiverRow & { activeAssignments: number };
const caregiversColumns = getTableColumns(caregivers);

interface Deps {
  db: Db;
  audit: AuditService;
  regions: RegionService;
  pii: PiiProtector;
}

/**
 * How many key persons the caregiver is responsible for now (the partial index of active
 * assignments). The outer column is named in full: drizzle leaves it unqualified in a one-table select.
 */
const activeCount = sql<number>`(select count(*)::int from ${careAssignments} a
  where a.caregiver_id = "caregivers"."id" and a.ended_at is null)`;

/** Caregivers (照料服务人): who looks after key persons. Their phones are kept as persons' are. */
export function createCaregiverService({ db, audit, regions, pii }: Deps) {
  async function checkNew(caller: Jurisdictional, input: NewCaregiver) {
    const errors: FieldError[] = [];
    if (!(await regions.isKnown(input.region))) {
      errors.push(body('/region', `${input.region} is not a region code this service knows (see /v1/regions)`));
    } else if (!inJurisdiction(caller, input.region)) {
      errors.push(body('/region', `${input.region} is outside your jurisdiction ${caller.jurisdiction}`));
    }
    check(errors);
    if (input.personId) {
      const [person] = await db.select({ region: persons.region }).from(persons).where(eq(persons.id, input.personId));
      if (!person || !inJurisdiction(caller, person.region)) throw notFound('person');
    }
  }

  async function create(caller: CareCaller, actor: AuditActor, input: NewCaregiver) {
    await checkNew(caller, input);
    return db.transaction(async (tx) => {
      const [row] = await tx
        .insert(caregivers)
        .values({
          region: input.region,
          name: input.name,
          kind: input.kind,
          organisation: input.organisation ?? null,
          personId: input.personId ?? null,
          ...phoneColumns(pii, input.phone ?? null),
          createdByClientId: actor.clientId,
        })
        .returning();
      await audit.record(tx, actor, {
        operation: 'createCaregiver',
        resourceType: 'caregiver',
        resourceIds: [row!.id],
        personIds: row!.personId ? [row!.personId] : [],
        detail: { region: row!.region, kind: row!.kind },
      });
      return { ...row!, activeAssignments: 0 };
    });
  }

  /** The caregiver inside the caller's jurisdiction, or 404. */
  async function find(executor: Executor, caller: Jurisdictional, id: string, lock?: 'update' | 'share') {
    const query = executor
      .select({ ...caregiversColumns, activeAssignments: activeCount })
      .from(caregivers)
      .where(eq(caregivers.id, id));
    const [row] = lock ? await query.for(lock, { of: caregivers }) : await query;
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('caregiver');
    return row;
  }

  const readAudit = (caller: CareCaller, actor: AuditActor, operation: string, rows: CaregiverRow[]) =>
    rows.length === 0
      ? Promise.resolve()
      : audit.recordRead(actor, {
          operation: revealsTo(caller) && rows.some((r) => r.phoneSealed) ? `${operation}Unmasked` : operation,
          resourceType: 'caregiver',
          resourceIds: rows.map((r) => r.id),
        });

  async function get(caller: CareCaller, actor: AuditActor, id: string) {
    const row = await find(db, caller, id);
    await readAudit(caller, actor, 'getCaregiver', [row]);
    return row;
  }

  /** By region, then id; `after` is the id of the previous page's last caregiver. */
  async function list(
    caller: CareCaller,
    actor: AuditActor,
    filter: { region?: string | undefined; active?: boolean | undefined },
    page: { after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const c = caregivers;
    const conditions: SQL[] = [sql`${c.region} like ${`${prefix}%`}`];
    if (filter.active !== undefined) conditions.push(eq(c.active, filter.active));
    if (page.after) {
      conditions.push(
        sql`(${c.region}, ${c.id}) > (select x.region, x.id from ${c} x where x.id = ${page.after}::uuid)`,
      );
    }
    const found = await db
      .select({ ...caregiversColumns, activeAssignments: activeCount })
      .from(c)
      .where(and(...conditions))
      .orderBy(asc(c.region), asc(c.id))
      .limit(page.limit + 1);
    const items = found.slice(0, page.limit);
    await readAudit(caller, actor, 'listCaregivers', items);
    return { items, more: found.length > page.limit };
  }

  /** A change under the caregiver's row lock, conditional on If-Match; audited. */
  async function change(
    caller: Jurisdictional,
    actor: AuditActor,
    id: string,
    ifMatch: string | undefined,
    apply: (
      current: Counted,
      tx: Executor,
    ) => Promise<{ set: Partial<CaregiverRow>; detail: Record<string, unknown> } | null>,
    operation: string,
  ): Promise<Counted> {
    return db.transaction(async (tx) => {
      const current = await find(tx, caller, id, 'update');
      const expected = ifMatchVersion(ifMatch, id, 'caregiver');
      if (expected !== undefined && expected !== current.version) {
        throw new ProblemError(412, 'precondition-failed', 'The caregiver changed since you read it; read it again.', {
          currentETag: etagOf(current),
        });
      }
      const change = await apply(current, tx);
      if (change === null) return current;
      const [row] = await tx
        .update(caregivers)
        .set({ ...change.set, updatedAt: sql`now()`, version: current.version + 1 })
        .where(eq(caregivers.id, id))
        .returning();
      await audit.record(tx, actor, {
        operation,
        resourceType: 'caregiver',
        resourceIds: [id],
        detail: change.detail,
      });
      return { ...row!, activeAssignments: current.activeAssignments };
    });
  }

  const update = (caller: Jurisdictional, actor: AuditActor, id: string, patch: CaregiverPatch, ifMatch?: string) =>
    change(
      caller,
      actor,
      id,
      ifMatch,
      async () => {
        const changed = (Object.keys(patch) as (keyof CaregiverPatch)[]).filter((k) => patch[k] !== undefined);
        if (changed.length === 0) return null;
        const set: Partial<CaregiverRow> = {
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.kind !== undefined && { kind: patch.kind }),
          ...(patch.organisation !== undefined && { organisation: patch.organisation }),
          ...(patch.phone !== undefined && phoneColumns(pii, patch.phone)),
        };
        return { set, detail: { changed } };
      },
      'updateCaregiver',
    );

  /**
   * Deactivation refuses (409, `activeAssignments`) while the caregiver is responsible for anyone:
   * reassign or end those first, so that nobody is left without a caregiver by accident.
   */
  const setActive = (
    caller: Jurisdictional,
    actor: AuditActor,
    id: string,
    active: boolean,
    reason?: string,
    ifMatch?: string,
  ) =>
    change(
      caller,
      actor,
      id,
      ifMatch,
      async (current) => {
        if (current.active === active) {
          const state = active ? 'active' : 'inactive';
          throw invalidState(`The caregiver is ${state} already.`, state);
        }
        if (!active && current.activeAssignments > 0) {
          throw conflict(
            `The caregiver is responsible for ${current.activeAssignments} key person(s): reassign them (POST /v1/care-assignments) or end those assignments first.`,
            { activeAssignments: current.activeAssignments, currentState: 'active' },
          );
        }
        return { set: { active }, detail: { active, reason: reason ?? null } };
      },
      active ? 'reactivateCaregiver' : 'deactivateCaregiver',
    );

  return { create, find, get, list, update, setActive };
}

export type CaregiverService = ReturnType<typeof createCaregiverService>;
