/**
 * The registry at scale: 100,000 households (about 250,000 persons) loaded through the bulk path,
 * in-process as `seed-registry` does and over HTTP (`POST /v1/households/bulk`), then
 * authenticated, audited reads of random persons (`GET /v1/persons/{id}`) against a bare fastify +
 * pg route selecting the same rows.
 */
import type autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, rows } from '../../src/db/client.js';
import { syntheticHouseholds } from '../../src/modules/registry/people.seed.js';
import { BULK_MAX } from '../../src/modules/registry/people.schemas.js';
import {
  CONNECTIONS,
  DURATION_S,
  type Figures,
  httpTable,
  load,
  median,
  ROUNDS,
  type ScenarioResult,
  start,
  stop,
} from '../lib.js';

const HOUSEHOLDS = Number(process.env.BENCH_HOUSEHOLDS ?? 100_000);
/** Of which this many go over HTTP, a bulk request of 1000 at a time. */
const OVER_HTTP = Math.min(HOUSEHOLDS, Number(process.env.BENCH_HOUSEHOLDS_HTTP ?? 10_000));
const DISTRICTS = ['220102', '220103', '220104', '220105', '220106'];

export async function scenarioPersonReads(url: string): Promise<ScenarioResult> {
  const env = { DATABASE_URL: url, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '100000000' };
  const app = await buildApp(loadConfig(env), { background: false });
  await app.database.migrate();
  await app.ready();
  const actor = { clientId: null, agency: null, requestId: 'bench' };
  const created = (agency: 'admin' | 'civil_affairs', scopes?: string[]) =>
    app.services.clients.create({ jurisdiction: '2201' }, actor, {
      name: `bench ${agency}`,
      agency,
      jurisdiction: '2201',
      ...(scopes && { scopes: scopes as never }),
    });
  const caseworker = await created('civil_affairs');
  const masked = await created('civil_affairs', ['registry:read', 'registry:write']);

  // Load, in-process: what `npm run cli -- seed-registry` does, district after district.
  const inProcess = HOUSEHOLDS - OVER_HTTP;
  const perDistrict = Math.ceil(inProcess / DISTRICTS.length);
  let loaded = 0;
  const loadStarted = performance.now();
  for (const [d, region] of DISTRICTS.entries()) {
    const count = Math.min(perDistrict, inProcess - d * perDistrict);
    for (let from = 0; from < count; from += BULK_MAX) {
      const batch = syntheticHouseholds({ region, seed: d + 1 }, from, Math.min(BULK_MAX, count - from));
      await app.services.people.registerHouseholdsBulk({ jurisdiction: '2201', scopes: [] }, actor, batch);
      loaded += batch.length;
    }
  }
  const inProcessSeconds = (performance.now() - loadStarted) / 1000;
  await app.close();

  const serverEnv = { ...env, DB_POOL_MAX: '20' };
  const nodeFlags = ['--max-semi-space-size=32'];
  const real = await start('./servers/doudi.ts', { ...serverEnv, PORT: '3902', HOST: '127.0.0.1' }, nodeFlags);
  const bare = await start('./servers/bare.ts', { ...serverEnv, PORT: '3901' }, nodeFlags);
  try {
    // Load, over HTTP: the API's bulk path, a district of its own.
    const httpStarted = performance.now();
    for (let from = 0; from < OVER_HTTP; from += BULK_MAX) {
      const batch = syntheticHouseholds({ region: '220112', seed: 9 }, from, Math.min(BULK_MAX, OVER_HTTP - from));
      const res = await fetch('http://127.0.0.1:3902/v1/households/bulk', {
        method: 'POST',
        headers: { authorization: `Bearer ${caseworker.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ households: batch }),
      });
      if (res.status !== 201) throw new Error(`bulk load answered ${res.status}: ${await res.text()}`);
    }
    const httpSeconds = (performance.now() - httpStarted) / 1000;

    const database = await openDatabase({ databaseUrl: url, dataDir: 'memory://' });
    const db = database.db;
    const [counts] = await rows<{ households: number; persons: number }>(
      db,
      sql`select (select count(*) from households)::int as households, (select count(*) from persons)::int as persons`,
    );
    const ids = (await rows<{ id: string }>(db, sql`select id from persons order by random() limit 20000`)).map(
      (r) => r.id,
    );
    await database.close();
    const randomPath = (prefix: string) => ({
      requests: [
        {
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            path: `${prefix}${ids[Math.floor(Math.random() * ids.length)]}`,
          }),
        },
      ],
    });
    const bareUrl = 'http://127.0.0.1:3901/persons/';
    const realUrl = 'http://127.0.0.1:3902/v1/persons/';
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    await load(bareUrl, {}, 3, randomPath('/persons/'));
    await load(realUrl, as(masked.key), 3, randomPath('/v1/persons/'));
    const baselineRounds: Figures[] = [];
    const measuredRounds: Figures[] = [];
    const unmaskedRounds: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baselineRounds.push(await load(bareUrl, {}, DURATION_S, randomPath('/persons/')));
      measuredRounds.push(await load(realUrl, as(masked.key), DURATION_S, randomPath('/v1/persons/')));
      unmaskedRounds.push(await load(realUrl, as(caseworker.key), DURATION_S, randomPath('/v1/persons/')));
    }
    const baseline = median(baselineRounds);
    const measured = median(measuredRounds);
    const unmasked = median(unmaskedRounds);
    const ratio = measured.requestsPerSec / baseline.requestsPerSec;
    const perSecond = (n: number, s: number) => Math.round(n / s);
    return {
      name: 'person-reads',
      title: 'The registry at scale: bulk load, then authenticated, audited person reads (GET /v1/persons/{id})',
      baselineTitle: 'Bare fastify + pg route, one primary-key SELECT of the person',
      notes: [
        `Data: ${counts!.households} households and ${counts!.persons} persons (synthetic, valid GB 11643 numbers; phones and bank accounts sealed and blind-indexed like the ID numbers).`,
        `Load: ${loaded} households in-process through the bulk function \`seed-registry\` uses, 1000 a transaction, in ${inProcessSeconds.toFixed(1)} s (${perSecond(loaded, inProcessSeconds)} households/s); ${OVER_HTTP} more over HTTP through \`POST /v1/households/bulk\`, 1000 a request, in ${httpSeconds.toFixed(1)} s (${perSecond(OVER_HTTP, httpSeconds)} households/s). Each household is checked (GB 11643, regions, duplicates), sealed, indexed, written set-based with its members, an event and an audit row.`,
        `Reads: random persons among 20,000 drawn from the whole table. Doudi: authenticated, scope-checked, jurisdiction-checked, the read audited, masked for a caller without registry:read_sensitive. The same with registry:read_sensitive (every sealed field opened): ${unmasked.requestsPerSec} requests/s, p99 ${unmasked.latencyP99Ms} ms.`,
        `Baseline: bare fastify + pg route, one primary-key SELECT of the person, no auth, no audit. ${CONNECTIONS} connections; ${ROUNDS} alternating rounds of ${DURATION_S} s each after a 3 s warm-up; medians over the rounds.`,
      ],
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      households: counts!.households,
      persons: counts!.persons,
      loadInProcess: { households: loaded, seconds: Number(inProcessSeconds.toFixed(1)) },
      loadOverHttp: { households: OVER_HTTP, seconds: Number(httpSeconds.toFixed(1)) },
      roundsMeasured: measuredRounds,
      roundsBaseline: baselineRounds,
      roundsUnmasked: unmaskedRounds,
      measured,
      baseline,
      unmasked,
      table: httpTable(measured, baseline),
      throughputRatio: Number(ratio.toFixed(3)),
      target: 'none set by the issue: recorded beside the baseline (the platform’s audited GET keeps ≥ 0.5)',
      met: null,
    };
  } finally {
    await stop(bare);
    await stop(real);
  }
}
