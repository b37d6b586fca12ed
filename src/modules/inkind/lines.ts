import { asc, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { FieldError } from '../../platform/errors.js';
import { inKindDistributionLines, inKindItems, inKindReceiptLines } from './tables.js';

export type ItemRow = typeof inKindItems.$inferSelect;

export interface LineInput {
  itemCode: string;
  quantity: number;
}

/** A line with its catalogue item resolved. */
export interface Line {
  item: ItemRow;
  quantity: number;
}

export interface LineOut {
  itemCode: string;
  itemName: string;
  unit: string;
  quantity: number;
}

export const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/**
 * The catalogue items of the lines, in item-id order (the order stock rows are locked in, so two
 * writers never wait on each other in a cycle). Unknown or repeated items, and retired ones where
 * `activeOnly`, are field errors naming `/lines/<i>/itemCode`.
 */
export async function resolveLines(
  executor: Executor,
  input: LineInput[],
  activeOnly: boolean,
): Promise<{ lines: Line[]; errors: FieldError[] }> {
  const codes = [...new Set(input.map((l) => l.itemCode))];
  const found = await executor.select().from(inKindItems).where(inArray(inKindItems.code, codes));
  const byCode = new Map(found.map((i) => [i.code, i]));
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const lines: Line[] = [];
  input.forEach((l, i) => {
    const item = byCode.get(l.itemCode);
    const pointer = `/lines/${i}/itemCode`;
    if (!item) errors.push(body(pointer, `${l.itemCode} is not in the catalogue (see /v1/in-kind/items)`));
    else if (seen.has(l.itemCode)) errors.push(body(pointer, `${l.itemCode} appears in an earlier line`));
    else if (activeOnly && !item.active) errors.push(body(pointer, `${l.itemCode} is retired: it takes no receipts`));
    else lines.push({ item, quantity: l.quantity });
    seen.add(l.itemCode);
  });
  lines.sort((a, b) => a.item.id.localeCompare(b.item.id));
  return { lines, errors };
}

/** The index of each item's line in the request, for field errors found after resolving. */
export const lineIndex = (input: LineInput[]) => new Map(input.map((l, i) => [l.itemCode, i]));

export const lineOut = (item: ItemRow, quantity: number): LineOut => ({
  itemCode: item.code,
  itemName: item.name,
  unit: item.unit,
  quantity,
});

const byCode = (a: LineOut, b: LineOut) => a.itemCode.localeCompare(b.itemCode);

/** The lines of these receipts (or distributions), by item code, keyed by receipt (distribution) id. */
export async function linesOf(
  executor: Executor,
  kind: 'receipt' | 'distribution',
  ids: string[],
): Promise<Map<string, LineOut[]>> {
  const result = new Map<string, LineOut[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return result;
  const found =
    kind === 'receipt'
      ? await executor
          .select({ owner: inKindReceiptLines.receiptId, quantity: inKindReceiptLines.quantity, item: inKindItems })
          .from(inKindReceiptLines)
          .innerJoin(inKindItems, eq(inKindItems.id, inKindReceiptLines.itemId))
          .where(inArray(inKindReceiptLines.receiptId, ids))
          .orderBy(asc(inKindItems.code))
      : await executor
          .select({
            owner: inKindDistributionLines.distributionId,
            quantity: inKindDistributionLines.quantity,
            item: inKindItems,
          })
          .from(inKindDistributionLines)
          .innerJoin(inKindItems, eq(inKindItems.id, inKindDistributionLines.itemId))
          .where(inArray(inKindDistributionLines.distributionId, ids))
          .orderBy(asc(inKindItems.code));
  for (const f of found) result.get(f.owner)!.push(lineOut(f.item, f.quantity));
  for (const list of result.values()) list.sort(byCode);
  return result;
}

/** Two sets of lines hold the same items in the same quantities. */
export const sameLines = (a: LineOut[], b: { itemCode: string; quantity: number }[]) =>
  a.length === b.length &&
  [...b]
    .sort((x, y) => x.itemCode.localeCompare(y.itemCode))
    .every((l, i) => l.itemCode === a[i]!.itemCode && l.quantity === a[i]!.quantity);
