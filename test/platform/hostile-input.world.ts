/**
 * The world the hostile-input test runs in: a few real resources (so that ids in paths and bodies
 * reach the services, not only a 404), a caller for each operation that holds its scopes, and a
 * watch on every table to tell whether a refused request wrote anything.
 */
import { sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import { type Agency, defaultScopes, type Scope } from '../../src/platform/scopes.js';
import type { TestApp, TestClient } from '../helpers.js';
import { residentId } from '../modules/registry/people.fixtures.js';
import type { Operation } from './hostile-input.generators.js';

/**
 * Tables a refused request may legitimately write, and why:
 * - audit_events and audit_unsealed (the events not yet sealed into the hash chain): refusals that
 *   are themselves facts are audited (a missing scope, a withheld payment file, a rejected load);
 * - idempotency_keys: an answer to a request with an Idempotency-Key is stored, a 4xx too, so that a
 *   retry with the same key gets the same answer (API.md).
 * Nothing else may change.
 */
export const mayChangeOnRefusal = new Set(['audit_events', 'audit_unsealed', 'idempotency_keys']);

/**
 * Refusals that are records by design, by operation: what the operation keeps when it answers so.
 */
export const refusalsKept: Record<string, { status: number; tables: string[]; why: string }> = {
  loadMatchingSnapshot: {
    status: 422,
    tables: ['matching_snapshots', 'matching_load_progress', 'events', 'event_subjects'],
    why: 'a refused load is kept as a rejected snapshot with its report of bad lines, and matching_snapshot.rejected is published, so the provider learns what to fix; the records are not kept and the previous snapshot stays in force',
  },
};

/**
 * Watches every committed write: a row trigger on each table (but those above) notes the table in
 * hostile_writes, in the writing transaction, so a rolled-back write leaves nothing. Cheaper than
 * counting every table after every request, and it sees updates and deletes too. Only this test's
 * own database gets the triggers.
 */
export async function writeWatch(app: TestApp['app']) {
  const db = app.database.db;
  const tables = (
    await rows<{ name: string }>(
      db,
      sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
    )
  )
    .map((r) => r.name)
    .filter((name) => !mayChangeOnRefusal.has(name));
  await db.execute(sql`create table hostile_writes (id bigserial primary key, tbl text not null)`);
  await db.execute(
    sql.raw(`create function hostile_note_write() returns trigger language plpgsql as $$
      begin insert into hostile_writes (tbl) values (tg_table_name); return null; end $$`),
  );
  for (const name of tables) {
    await db.execute(
      sql.raw(`create trigger hostile_watch after insert or update or delete on "${name}"
               for each row execute function hostile_note_write()`),
    );
    await db.execute(
      sql.raw(`create trigger hostile_watch_truncate after truncate on "${name}"
               for each statement execute function hostile_note_write()`),
    );
  }
  return {
    tables,
    /** Where the record of writes stands now. */
    async mark(): Promise<number> {
      const [row] = await rows<{ id: string | null }>(db, sql`select max(id)::text as id from hostile_writes`);
      return Number(row?.id ?? 0);
    },
    /** Tables written since a mark. */
    async since(mark: number): Promise<string[]> {
      return (
        await rows<{ tbl: string }>(db, sql`select distinct tbl from hostile_writes where id > ${mark} order by 1`)
      ).map((r) => r.tbl);
    },
  };
}

/** Agencies tried in this order for an operation: the first whose default scopes cover it calls it. */
const preference: Agency[] = ['civil_affairs', 'admin', 'finance', 'bank', 'cdc', 'health', 'data_provider', 'portal'];

/** A caller for each operation: a client of the city (2201) holding the operation's scopes. */
export function callers(world: TestApp) {
  const made = new Map<string, Promise<TestClient>>();
  const get = (agency: Agency, scopes?: Scope[]) => {
    const key = `${agency}:${scopes?.join(',') ?? ''}`;
    if (!made.has(key)) made.set(key, world.client(agency, { jurisdiction: '2201', ...(scopes && { scopes }) }));
    return made.get(key)!;
  };
  return {
    agency: (agency: Agency) => get(agency),
    for(op: Operation): Promise<TestClient> {
      const needed = op.scopes as Scope[];
      const agency = preference.find((a) => needed.every((s) => defaultScopes[a].includes(s)));
      // No agency's defaults cover it: a civil-affairs client given exactly what it needs.
      return agency ? get(agency) : get('civil_affairs', [...new Set([...defaultScopes.civil_affairs, ...needed])]);
    },
    async ids(): Promise<Set<string>> {
      return new Set([world.admin.id, ...(await Promise.all(made.values())).map((c) => c.id)]);
    },
  };
}

type Inject = (
  method: string,
  url: string,
  who: TestClient,
  payload?: unknown,
) => Promise<{ status: number; body: unknown }>;

/**
 * A few real resources of each kind the services check ids against, made through the API as a
 * caseworker and an operator would. Returns what each seeding step answered, for the test to check.
 */
export async function seed(
  world: TestApp,
  { civil, finance, dataProvider }: { civil: TestClient; finance: TestClient; dataProvider: TestClient },
) {
  const inject: Inject = async (method, url, who, payload) => {
    const res = await world.app.inject({
      method: method as 'POST',
      url,
      headers: who.headers,
      ...(payload !== undefined && { payload: payload as Record<string, unknown> }),
    });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : null };
  };
  const answers: { step: string; status: number; body: string }[] = [];
  const step = async (name: string, method: string, url: string, who: TestClient, payload?: unknown) => {
    const res = await inject(method, url, who, payload);
    answers.push({ step: name, status: res.status, body: JSON.stringify(res.body).slice(0, 300) });
    return res.body as Record<string, unknown> & { id: string };
  };
  const admin = world.admin;
  const household = (await step('household', 'POST', '/v1/households', civil, {
    region: '220102',
    address: 'Renmin Street 1',
    members: [
      {
        relationship: 'head',
        name: 'Wang Fang',
        idType: 'resident_id',
        idNumber: residentId('220102', '19400101', '021'),
        livesAlone: true,
      },
      {
        relationship: 'spouse',
        name: 'Li Lei',
        idType: 'resident_id',
        idNumber: residentId('220102', '19720202', '013'),
      },
    ],
  })) as unknown as { id: string; members: { id: string }[] };
  const personId = household.members?.[0]?.id;
  const caregiver = await step('caregiver', 'POST', '/v1/caregivers', civil, {
    name: 'Zhao Min',
    kind: 'volunteer',
    region: '220102',
  });
  await step('care assignment', 'POST', '/v1/care-assignments', civil, { personId, caregiverId: caregiver.id });
  await step('welfare contact', 'POST', '/v1/welfare-contacts', civil, {
    personId,
    contactedAt: new Date().toISOString(),
    channel: 'phone',
    outcome: 'fine',
    caseworker: 'Sun Li',
  });
  await step('referral', 'POST', '/v1/referrals', civil, {
    personId,
    origin: 'direct',
    symptoms: ['fever'],
    locationKind: 'home',
    reporterName: 'Sun Li',
  });
  await step('standard', 'POST', '/v1/programs/temporary_assistance/standards', admin, {
    region: '2201',
    effectiveFrom: '2026-01-01',
    monthlyStandardFen: 480_000,
  });
  await step('temporary assistance', 'POST', '/v1/temporary-assistance', civil, {
    personId: household.members?.[1]?.id,
    cashFen: 50_000,
    reason: 'stranded',
  });
  await step('in-kind item', 'POST', '/v1/in-kind/items', admin, { code: 'rice_5kg', name: 'Rice', unit: 'bag' });
  await step('policy', 'POST', '/v1/policies', admin, {
    name: 'Epidemic measures',
    region: '2201',
    effectiveFrom: '2026-01-01',
  });
  await step('payer account', 'POST', '/v1/payment-payer-accounts', finance, {
    program: 'dibao',
    region: '2201',
    accountName: 'Civil affairs bureau',
    accountNumber: '6222020200112233445',
    bankName: 'ICBC',
  });
  await step('webhook subscription', 'POST', '/v1/webhook-subscriptions', civil, { url: 'http://127.0.0.1:9/hook' });
  await step('matching source', 'POST', '/v1/matching/sources', admin, {
    kind: 'income',
    name: 'Tax bureau wages',
    providerClientId: dataProvider.id,
    region: '2201',
  });
  await step('victim client', 'POST', '/v1/clients', admin, { name: 'victim', agency: 'bank', jurisdiction: '2201' });
  return { answers, personId };
}

/**
 * Real ids for each path parameter the document lets us list: `/v1/persons/{id}` gets the ids of
 * `GET /v1/persons`. Callers' own clients are left out (a hostile PATCH might disable the caller).
 */
export async function pathIds(
  world: TestApp,
  operations: Operation[],
  callerFor: (op: Operation) => Promise<TestClient>,
  exclude: Set<string>,
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const op of operations) {
    const first = op.path.indexOf('/{');
    if (first < 0) continue;
    const collection = op.path.slice(0, first);
    const param = /^\/\{([^}]+)\}/.exec(op.path.slice(first))![1]!;
    const key = `${collection} ${param}`;
    if (found.has(key)) continue;
    const list = operations.find((o) => o.method === 'GET' && o.path === collection);
    if (!list) {
      found.set(key, []);
      continue;
    }
    const who = await callerFor(list);
    const res = await world.app.inject({ method: 'GET', url: `${collection}?limit=20`, headers: who.headers });
    const items =
      res.statusCode === 200 ? ((JSON.parse(res.body) as { items?: Record<string, unknown>[] }).items ?? []) : [];
    found.set(
      key,
      items
        .map((item) => item[param === 'code' ? 'code' : 'id'])
        .filter((v): v is string => typeof v === 'string' && !exclude.has(v)),
    );
  }
  return found;
}

/** The known ids for an operation's first path parameter. */
export function idsFor(known: Map<string, string[]>, op: Operation, param: string): string[] {
  const first = op.path.indexOf('/{');
  if (first < 0 || !op.path.slice(first).startsWith(`/{${param}}`)) return [];
  return known.get(`${op.path.slice(0, first)} ${param}`) ?? [];
}
