/** An authenticated, audited GET of one client against a bare fastify + pg route doing one SELECT. */
import { openDatabase } from '../../src/db/client.js';
import { createAuditService } from '../../src/platform/audit/service.js';
import { createClientService } from '../../src/platform/clients/service.js';
import { createEventService } from '../../src/platform/events/service.js';
import { createRegionService } from '../../src/platform/regions/service.js';
import { loadConfig } from '../../src/config.js';
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

export async function scenarioAuditedGet(url: string): Promise<ScenarioResult> {
  // Seed: an admin, and a thousand clients across the districts to read.
  const database = await openDatabase({ databaseUrl: url, dataDir: 'memory://' });
  await database.migrate();
  const db = database.db;
  const audit = createAuditService({ db });
  const regions = createRegionService({ db });
  const config = loadConfig({});
  const clients = createClientService({
    db,
    audit,
    events: createEventService({ db }),
    regions,
    pepper: config.API_KEY_PEPPER,
  });
  const actor = { clientId: null, agency: null, requestId: 'bench' };
  const admin = await clients.create({ jurisdiction: '2201' }, actor, {
    name: 'bench admin',
    agency: 'admin',
    jurisdiction: '2201',
  });
  const districts = ['220102', '220103', '220104', '220105', '220106'];
  let target = '';
  for (let i = 0; i < 1000; i++) {
    const c = await clients.create({ jurisdiction: '2201' }, actor, {
      name: `bench client ${i}`,
      agency: 'civil_affairs',
      jurisdiction: districts[i % districts.length]!,
    });
    if (i === 500) target = c.client.id;
  }
  await database.close();

  const env = {
    ...(process.env.SEAL ? { AUDIT_SEAL_INTERVAL_MS: process.env.SEAL } : {}),
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: process.env.BENCH_POOL ?? '20',
    RATE_LIMIT_PER_MINUTE: '100000000',
  };
  // Both servers get the same Node flags: a larger young generation, as `npm start` runs the service.
  const nodeFlags = ['--max-semi-space-size=32'];
  const bare = await start('./servers/bare.ts', { ...env, PORT: '3901' }, nodeFlags);
  const real = await start('./servers/doudi.ts', { ...env, PORT: '3902', HOST: '127.0.0.1' }, nodeFlags);
  const bareUrl = `http://127.0.0.1:3901/clients/${target}`;
  const realUrl = `http://127.0.0.1:3902/v1/clients/${target}`;
  const auth = { authorization: `Bearer ${admin.key}` };
  try {
    // Warm both up, then measure them in alternating rounds with the same generator, so that
    // whatever else the machine does falls on both alike; each figure is the median of the rounds.
    await load(bareUrl, {}, 3);
    await load(realUrl, auth, 3);
    const baselineRounds: Figures[] = [];
    const measuredRounds: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baselineRounds.push(await load(bareUrl, {}, DURATION_S));
      measuredRounds.push(await load(realUrl, auth, DURATION_S));
    }
    const baseline = median(baselineRounds);
    const measured = median(measuredRounds);
    const ratio = measured.requestsPerSec / baseline.requestsPerSec;
    return {
      name: 'audited-get',
      title: 'Authenticated, audited GET of a small regional resource (GET /v1/clients/{id})',
      baselineTitle: 'Bare fastify + pg route, one primary-key SELECT',
      notes: [
        `Baseline: Bare fastify + pg route, one primary-key SELECT. ${CONNECTIONS} connections; ${ROUNDS} alternating rounds of ${DURATION_S} s each after a 3 s warm-up; medians over the rounds.`,
      ],
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      roundsMeasured: measuredRounds,
      roundsBaseline: baselineRounds,
      measured,
      baseline,
      table: httpTable(measured, baseline),
      throughputRatio: Number(ratio.toFixed(3)),
      target: 'ratio ≥ 0.5 and p99 < 25 ms at 50 connections',
      met: ratio >= 0.5 && measured.latencyP99Ms < 25,
    };
  } finally {
    await stop(bare);
    await stop(real);
  }
}
