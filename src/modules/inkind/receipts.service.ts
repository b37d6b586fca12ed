import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict, type FieldError, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { inKindReceiptRecorded } from './events.js';
import { body, type LineInput, type LineOut, linesOf, resolveLines, sameLines } from './lines.js';
import type { ReceiptSource } from './schemas.js';
import { CLOCK_SKEW_MS, checkStockRegion } from './stock.js';
import { inKindItems, inKindReceiptLines, inKindReceipts, inKindStock } from './tables.js';

export type ReceiptRow = typeof inKindReceipts.$inferSelect;
export type ReceiptView = ReceiptRow & { lines: LineOut[] };

export interface NewReceipt {
  region: string;
  source: ReceiptSource;
  supplier?: string | undefined;
  reference: string;
  receivedAt?: string | undefined;
  lines: LineInput[];
  note?: string | undefined;
}

export const receiptOut = (r: ReceiptView) => ({
  id: r.id,
  region: r.region,
  source: r.source as ReceiptSource,
  supplier: r.supplier,
  reference: r.reference,
  receivedAt: r.receivedAt.toISOString(),
  note: r.note,
  lines: r.lines,
  createdBy: r.createdByClientId,
  createdAt: r.createdAt.toISOString(),
});

const isReferenceTaken = (err: unknown) => {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint } = e as { code?: string; constraint?: string };
    if (code === '23505' && constraint === 'inkind_receipts_reference_idx') return true;
  }
  return false;
};

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  clock: () => Date;
}

/** Receipts into a region's stock, and the stock itself. */
export function createReceiptService({ db, audit, events, regions, clock }: Deps) {
  const withLines = async (executor: Executor, rows: ReceiptRow[]): Promise<ReceiptView[]> => {
    const lines = await linesOf(
      executor,
      'receipt',
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({ ...r, lines: lines.get(r.id)! }));
  };

  /** The receipt already recorded under this reference: the same delivery again (replayed), or a clash (409). */
  async function earlier(region: string, input: NewReceipt): Promise<ReceiptView | null> {
    const [row] = await db
      .select()
      .from(inKindReceipts)
      .where(and(eq(inKindReceipts.region, region), eq(inKindReceipts.reference, input.reference)));
    if (!row) return null;
    const [view] = await withLines(db, [row]);
    const same =
      view!.source === input.source &&
      view!.supplier === (input.supplier ?? null) &&
      (input.receivedAt === undefined || view!.receivedAt.getTime() === Date.parse(input.receivedAt)) &&
      sameLines(view!.lines, input.lines);
    if (same) return view!;
    throw conflict(
      `Reference ${input.reference} is already recorded for region ${region} with other contents; a new delivery needs its own reference.`,
      { existingReceiptId: row.id },
    );
  }

  /**
   * Adds a delivery to the region's stock, once per reference: `created` is false when the same
   * delivery was recorded before (a retry), and nothing is added again.
   */
  async function recordReceipt(caller: Jurisdictional, actor: AuditActor, input: NewReceipt) {
    const errors: FieldError[] = await checkStockRegion(regions, caller, input.region);
    if (input.receivedAt && Date.parse(input.receivedAt) > clock().getTime() + CLOCK_SKEW_MS) {
      errors.push(body('/receivedAt', 'must not be in the future'));
    }
    const resolved = await resolveLines(db, input.lines, true);
    errors.push(...resolved.errors);
    if (errors.length > 0) throw validationError(errors);
    const before = await earlier(input.region, input);
    if (before) return { receipt: before, created: false };
    try {
      const receipt = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(inKindReceipts)
          .values({
            region: input.region,
            source: input.source,
            supplier: input.supplier ?? null,
            reference: input.reference,
            receivedAt: input.receivedAt ? new Date(input.receivedAt) : clock(),
            note: input.note ?? null,
            createdByClientId: actor.clientId,
          })
          .returning();
        const lines = resolved.lines.map((l) => ({ receiptId: row!.id, itemId: l.item.id, quantity: l.quantity }));
        await tx.insert(inKindReceiptLines).values(lines);
        // One statement, rows in item-id order: the order every writer locks stock rows in.
        await tx
          .insert(inKindStock)
          .values(
            lines.map((l) => ({ region: input.region, itemId: l.itemId, quantity: l.quantity, received: l.quantity })),
          )
          .onConflictDoUpdate({
            target: [inKindStock.region, inKindStock.itemId],
            set: {
              quantity: sql`${inKindStock.quantity} + excluded.quantity`,
              received: sql`${inKindStock.received} + excluded.received`,
              updatedAt: sql`now()`,
            },
          });
        const [view] = await withLines(tx, [row!]);
        await events.publish(tx, inKindReceiptRecorded, {
          subject: `in_kind_receipt/${row!.id}`,
          region: row!.region,
          data: {
            receiptId: row!.id,
            region: row!.region,
            source: input.source,
            supplier: row!.supplier,
            reference: row!.reference,
            receivedAt: row!.receivedAt.toISOString(),
            lines: view!.lines.map(({ itemCode, unit, quantity }) => ({ itemCode, unit, quantity })),
          },
        });
        await audit.record(tx, actor, {
          operation: 'recordInKindReceipt',
          resourceType: 'inkind_receipt',
          resourceIds: [row!.id],
          detail: { region: row!.region, reference: row!.reference, lines: input.lines },
        });
        return view!;
      });
      return { receipt, created: true };
    } catch (err) {
      // A concurrent request recorded the same reference first: answer as if it had come before.
      if (!isReferenceTaken(err)) throw err;
      const concurrent = await earlier(input.region, input);
      if (!concurrent) throw err;
      return { receipt: concurrent, created: false };
    }
  }

  async function getReceipt(caller: Jurisdictional, id: string): Promise<ReceiptView> {
    const [row] = await db.select().from(inKindReceipts).where(eq(inKindReceipts.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('receipt');
    return (await withLines(db, [row]))[0]!;
  }

  /** Newest received first; `after` is the id of the previous page's last receipt. */
  async function listReceipts(
    caller: Jurisdictional,
    filter: { region?: string | undefined; from?: string | undefined; to?: string | undefined },
    page: { after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const r = inKindReceipts;
    const conditions: SQL[] = [sql`${r.region} like ${`${prefix}%`}`];
    if (filter.from) conditions.push(sql`${r.receivedAt} >= ${filter.from}::timestamptz`);
    if (filter.to) conditions.push(sql`${r.receivedAt} < ${filter.to}::timestamptz`);
    if (page.after) {
      conditions.push(
        sql`(${r.receivedAt}, ${r.id}) < (select x.received_at, x.id from ${r} x where x.id = ${page.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(r)
      .where(and(...conditions))
      .orderBy(desc(r.receivedAt), desc(r.id))
      .limit(page.limit + 1);
    return { items: await withLines(db, found.slice(0, page.limit)), more: found.length > page.limit };
  }

  /** By region then item code; `after` is the previous page's last (region, item code). */
  async function listStock(
    caller: Jurisdictional,
    filter: { region?: string | undefined; itemCode?: string | undefined },
    page: { after?: { region: string; itemCode: string } | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const s = inKindStock;
    const conditions: SQL[] = [sql`${s.region} like ${`${prefix}%`}`];
    if (filter.itemCode) conditions.push(eq(inKindItems.code, filter.itemCode));
    if (page.after)
      conditions.push(sql`(${s.region}, ${inKindItems.code}) > (${page.after.region}, ${page.after.itemCode})`);
    const found = await db
      .select({ stock: s, item: inKindItems })
      .from(s)
      .innerJoin(inKindItems, eq(inKindItems.id, s.itemId))
      .where(and(...conditions))
      .orderBy(asc(s.region), asc(inKindItems.code))
      .limit(page.limit + 1);
    return { items: found.slice(0, page.limit), more: found.length > page.limit };
  }

  return { recordReceipt, getReceipt, listReceipts, listStock };
}
