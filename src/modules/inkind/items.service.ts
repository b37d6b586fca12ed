import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict, notFound, ProblemError } from '../../platform/errors.js';
import { etagOf, ifMatchVersion } from '../../platform/http.js';
import type { ItemRow } from './lines.js';
import { inKindItems } from './tables.js';

export interface NewItem {
  code: string;
  name: string;
  unit: string;
  description?: string | undefined;
}

export interface ItemPatch {
  name?: string | undefined;
  description?: string | null | undefined;
  active?: boolean | undefined;
}

export const itemOut = (row: ItemRow) => ({
  id: row.id,
  code: row.code,
  name: row.name,
  unit: row.unit,
  description: row.description,
  active: row.active,
  createdBy: row.createdByClientId,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const isCodeTaken = (err: unknown) => {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint } = e as { code?: string; constraint?: string };
    if (code === '23505' && constraint === 'inkind_items_code_idx') return true;
  }
  return false;
};

/** The catalogue: city-wide reference data, read by everyone who handles in-kind aid. */
export function createItemService({ db, audit }: { db: Db; audit: AuditService }) {
  async function create(actor: AuditActor, input: NewItem): Promise<ItemRow> {
    try {
      return await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(inKindItems)
          .values({ ...input, description: input.description ?? null, createdByClientId: actor.clientId })
          .returning();
        await audit.record(tx, actor, {
          operation: 'createInKindItem',
          resourceType: 'inkind_item',
          resourceIds: [row!.id],
          detail: { code: row!.code, unit: row!.unit },
        });
        return row!;
      });
    } catch (err) {
      if (!isCodeTaken(err)) throw err;
      throw conflict(`The catalogue already holds an item ${input.code}.`, { code: input.code });
    }
  }

  async function get(code: string): Promise<ItemRow> {
    const [row] = await db.select().from(inKindItems).where(eq(inKindItems.code, code));
    if (!row) throw notFound('item');
    return row;
  }

  /** By code; `after` is the code of the previous page's last item. */
  async function list(filter: { active?: boolean | undefined; after?: string | undefined; limit: number }) {
    const conditions: SQL[] = [];
    if (filter.active !== undefined) conditions.push(eq(inKindItems.active, filter.active));
    if (filter.after) conditions.push(gt(inKindItems.code, filter.after));
    const found = await db
      .select()
      .from(inKindItems)
      .where(and(...conditions))
      .orderBy(asc(inKindItems.code))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  /** Name, description and retirement change; code and unit never do (quantities are counted in it). */
  async function update(actor: AuditActor, code: string, patch: ItemPatch, ifMatch: string | undefined) {
    return db.transaction(async (tx) => {
      const [current] = await tx.select().from(inKindItems).where(eq(inKindItems.code, code)).for('update');
      if (!current) throw notFound('item');
      const expected = ifMatchVersion(ifMatch, current.id, 'item');
      if (expected !== undefined && expected !== current.version) {
        throw new ProblemError(412, 'precondition-failed', 'The item changed since you read it; read it again.', {
          currentETag: etagOf(current),
        });
      }
      const changed = (Object.keys(patch) as (keyof ItemPatch)[]).filter(
        (k) => patch[k] !== undefined && patch[k] !== current[k],
      );
      if (changed.length === 0) return current;
      const [row] = await tx
        .update(inKindItems)
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.active !== undefined && { active: patch.active }),
          updatedAt: sql`now()`,
          version: current.version + 1,
        })
        .where(eq(inKindItems.id, current.id))
        .returning();
      await audit.record(tx, actor, {
        operation: 'updateInKindItem',
        resourceType: 'inkind_item',
        resourceIds: [current.id],
        detail: { code, changed },
      });
      return row!;
    });
  }

  return { createItem: create, getItem: get, listItems: list, updateItem: update };
}
