/**
 * The soak's city: a synthetic district registered through the registry's bulk function (the path
 * seed-registry takes), every household enrolled in dibao, a dibao standard, one matching source
 * of each kind; then, over HTTP against the running service, the sources' records loaded, caregivers
 * made and every key person assigned one.
 */
import { join } from 'node:path';
import { type SQL, sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import { writeSyntheticCity } from '../../src/modules/matching/synthetic.city.js';
import { type SourceKind, sourceKinds } from '../../src/modules/matching/tables.js';
import {
  actor,
  benchClient,
  benchSource,
  DATA_DIR,
  seedingApp,
  syntheticDibaoStandard,
  uploadFile,
} from '../matching-city.js';

/** Nanguan district, Changchun: where every household of the soak lives. */
export const REGION = '220102';
const CAREGIVERS = 20;

export interface Key {
  id: string;
  key: string;
}

export interface SoakCity {
  caseworker: Key;
  provider: Key;
  households: string[];
  persons: string[];
  keyPersons: string[];
  /** Households with an active dibao enrollment: what the matching run verifies. */
  enrolled: number;
  sources: Map<SourceKind, string>;
  /** The folder of the source files (`<kind>.ndjson`). */
  dir: string;
  seedSeconds: number;
}

/** In-process seeding (no service running yet). */
export async function seedCity(url: string, households: number): Promise<SoakCity> {
  const started = performance.now();
  const app = await seedingApp(url);
  try {
    const caseworker = await benchClient(app, 'civil_affairs', 'soak caseworker');
    const provider = await benchClient(app, 'data_provider', 'soak provider');
    await app.services.programs.createStandard({ jurisdiction: '22' }, actor, 'dibao', {
      ...syntheticDibaoStandard,
      label: 'soak',
    });
    const dir = join(DATA_DIR, `soak-city-${households}`);
    await writeSyntheticCity(
      app.services.people,
      { region: REGION, seed: 11, households },
      { out: dir, format: 'ndjson', progress: false },
    );
    const sources = new Map<SourceKind, string>();
    for (const kind of sourceKinds) sources.set(kind, await benchSource(app, provider.id, kind, '2201'));
    const db = app.database.db;
    await db.execute(sql`insert into enrollments (program_code, household_id, region, status, monthly_benefit_fen,
        benefit_basis, start_date)
      select 'dibao', id, region, 'active', 50000, '{}', '2025-01-01' from households`);
    await db.execute(sql`analyze`);
    const ids = async (query: SQL) => (await rows<{ id: string }>(db, query)).map((r) => r.id);
    return {
      caseworker,
      provider,
      households: await ids(sql`select id from households`),
      persons: await ids(sql`select id from persons`),
      keyPersons: await ids(
        sql`select id from persons where scattered_extremely_poor or lives_alone or disabled order by id`,
      ),
      enrolled: (await rows<{ n: number }>(db, sql`select count(*)::int as n from enrollments`))[0]!.n,
      sources,
      dir,
      seedSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await app.close();
  }
}

/** POSTs JSON as `key`; throws unless the answer is `expect`. */
export async function post<T>(port: number, key: string, path: string, body: unknown, expect = 201): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 1000)}`);
  return JSON.parse(text) as T;
}

/** One source's records loaded through `PUT …/snapshots/{uploadKey}`; seconds. */
export async function loadSource(port: number, city: SoakCity, kind: SourceKind, uploadKey: string) {
  const res = await uploadFile(
    port,
    city.provider.key,
    city.sources.get(kind)!,
    uploadKey,
    join(city.dir, `${kind}.ndjson`),
  );
  if (res.status !== 201) throw new Error(`${kind} load answered ${res.status}: ${res.body.slice(0, 1000)}`);
  return res.seconds;
}

/** Over HTTP, before the soak: every source loaded, caregivers made, every key person assigned one. */
export async function prepareOverHttp(port: number, city: SoakCity): Promise<string[]> {
  for (const kind of sourceKinds) await loadSource(port, city, kind, 'soak-initial');
  const caregivers: string[] = [];
  for (let i = 0; i < CAREGIVERS; i++) {
    const made = await post<{ id: string }>(port, city.caseworker.key, '/v1/caregivers', {
      name: `照料员${i + 1}`,
      kind: 'caseworker',
      region: REGION,
      organisation: '南关区民政局',
    });
    caregivers.push(made.id);
  }
  for (const [i, personId] of city.keyPersons.entries()) {
    await post(port, city.caseworker.key, '/v1/care-assignments', {
      personId,
      caregiverId: caregivers[i % CAREGIVERS],
    });
  }
  return caregivers;
}
