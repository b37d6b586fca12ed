import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { rows } from '../../../src/db/client.js';
import { households, persons } from '../../../src/modules/registry/people.tables.js';
import { json, type TestClient } from '../../helpers.js';

export interface Line {
  itemCode: string;
  itemName?: string;
  unit?: string;
  quantity: number;
}

export interface Distribution {
  id: string;
  region: string;
  personId: string;
  householdId: string | null;
  temporaryAssistanceId: string | null;
  distributedAt: string;
  businessDate: string;
  distributedBy: string;
  lines: Line[];
}

export interface Stock {
  region: string;
  itemCode: string;
  unit: string;
  quantity: number;
  received: number;
  distributed: number;
}

export interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  existingReceiptId?: string;
  errors?: { in: string; pointer: string; detail: string }[];
  shortages?: { itemCode: string; requested: number; available: number }[];
}

/** A one-person household written straight into the registry's tables. */
export async function personFixture(
  app: FastifyInstance,
  input: { region: string; hukouRegion: string; name: string },
) {
  const db = app.database.db;
  const [household] = await db
    .insert(households)
    .values({ region: input.region, hukouRegion: input.hukouRegion })
    .returning();
  const unique = randomUUID();
  const [person] = await db
    .insert(persons)
    .values({
      householdId: household!.id,
      relationship: 'head',
      name: input.name,
      idType: 'resident_id',
      idNumberSealed: `sealed-${unique}`,
      idNumberIndex: `index-${unique}`,
      idNumberMasked: '220182********000X',
      sealedKeyId: 'test-key',
      region: input.region,
      hukouRegion: input.hukouRegion,
    })
    .returning();
  return person!;
}

/** The calls the tests make, as one client or another. */
export function inKindCalls(app: FastifyInstance) {
  const post = (url: string, who: TestClient, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload });
  const get = (url: string, who: TestClient) => app.inject({ method: 'GET', url, headers: who.headers });
  return {
    post,
    get,
    receive: (who: TestClient, payload: Record<string, unknown>) => post('/v1/in-kind/receipts', who, payload),
    distribute: (who: TestClient, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
      post('/v1/in-kind/distributions', who, payload, headers),
    /** Every stock row the client sees, as `region/itemCode → row`. */
    async stock(who: TestClient, query = '') {
      const page = json<{ items: Stock[] }>(await get(`/v1/in-kind/stock?limit=500&${query}`, who));
      return new Map(page.items.map((s) => [`${s.region}/${s.itemCode}`, s]));
    },
  };
}

/** Counts of the module's rows, to show that a refused request wrote nothing. */
export async function counts(app: FastifyInstance) {
  const [row] = await rows<Record<string, number>>(
    app.database.db,
    sql`select
      (select count(*)::int from inkind_receipts) as receipts,
      (select count(*)::int from inkind_receipt_lines) as "receiptLines",
      (select count(*)::int from inkind_distributions) as distributions,
      (select count(*)::int from inkind_distribution_lines) as "distributionLines",
      (select coalesce(sum(quantity), 0)::int from inkind_stock) as "stockHeld",
      (select count(*)::int from events where type like 'in_kind_%') as events,
      (select count(*)::int from audit_events where resource_type like 'inkind_%' and outcome = 'success'
         and operation not like 'get%' and operation not like 'list%' and operation not like 'report%') as audits`,
  );
  return row!;
}
