import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { conflict, type FieldError } from '../../platform/errors.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { body, type Line, type LineInput, lineIndex } from './lines.js';
import { inKindStock } from './tables.js';

/** Clocks of callers drift a little; a time this far ahead is still "now". */
export const CLOCK_SKEW_MS = 60_000;

/** A place the caller may hold stock in: a known region inside its jurisdiction. */
export async function checkStockRegion(regions: RegionService, caller: Jurisdictional, region: string) {
  if (!(await regions.isKnown(region))) {
    return [body('/region', `${region} is not a region code this service knows (see /v1/regions)`)];
  }
  if (!inJurisdiction(caller, region)) {
    return [body('/region', `${region} is outside your jurisdiction ${caller.jurisdiction}`)];
  }
  return [];
}

/**
 * Takes each line out of the region's stock with a conditional UPDATE, in item-id order: a row
 * is changed only while it holds enough, re-checked against the latest committed quantity when a
 * concurrent distribution got there first (and the CHECK on the row stops anything that slips by).
 * Every line that could not be taken is a field error; the caller's transaction then rolls back.
 */
export async function takeFromStock(tx: Executor, region: string, lines: Line[], input: LineInput[]) {
  const short: Line[] = [];
  for (const line of lines) {
    const taken = await tx
      .update(inKindStock)
      .set({
        quantity: sql`${inKindStock.quantity} - ${line.quantity}`,
        distributed: sql`${inKindStock.distributed} + ${line.quantity}`,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(inKindStock.region, region),
          eq(inKindStock.itemId, line.item.id),
          sql`${inKindStock.quantity} >= ${line.quantity}`,
        ),
      )
      .returning({ quantity: inKindStock.quantity });
    if (taken.length === 0) short.push(line);
  }
  if (short.length === 0) return;
  const held = await tx
    .select({ itemId: inKindStock.itemId, quantity: inKindStock.quantity })
    .from(inKindStock)
    .where(
      and(
        eq(inKindStock.region, region),
        inArray(
          inKindStock.itemId,
          short.map((l) => l.item.id),
        ),
      ),
    );
  const available = new Map(held.map((h) => [h.itemId, h.quantity]));
  const index = lineIndex(input);
  short.sort((a, b) => index.get(a.item.code)! - index.get(b.item.code)!);
  const errors: FieldError[] = short.map((l) =>
    body(
      `/lines/${index.get(l.item.code)}/quantity`,
      `${l.quantity} ${l.item.unit} asked, ${available.get(l.item.id) ?? 0} in stock at ${region}`,
    ),
  );
  throw conflict(`Not enough in stock at ${region}: nothing was handed out.`, {
    errors,
    shortages: short.map((l) => ({
      itemCode: l.item.code,
      requested: l.quantity,
      available: available.get(l.item.id) ?? 0,
    })),
  });
}
