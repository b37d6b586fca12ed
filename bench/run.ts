/**
 * Benchmarks against a real PostgreSQL. Each scenario runs the real endpoint and its baseline in the
 * same run, with the same load generator (autocannon), each server in a process of its own, and
 * records the figures in bench/results.json and bench/RESULTS.md.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { createAuditService } from '../src/platform/audit/service.js';
import { createClientService } from '../src/platform/clients/service.js';
import { createEventService } from '../src/platform/events/service.js';
import { createRegionService } from '../src/platform/regions/service.js';
import { loadConfig } from '../src/config.js';

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const dbName = 'doudi_bench';

interface Figures {
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  postgresVersion = version;
  return url.toString();
}
let postgresVersion = '';

function start(script: string, env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(script, import.meta.url), [], {
      env: { ...process.env, ...env },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** Per figure, the median over rounds (errors summed). */
function median(rounds: Figures[]): Figures {
  const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return {
    requestsPerSec: mid(rounds.map((r) => r.requestsPerSec)),
    latencyP50Ms: mid(rounds.map((r) => r.latencyP50Ms)),
    latencyP99Ms: mid(rounds.map((r) => r.latencyP99Ms)),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
  };
}

async function load(url: string, headers: Record<string, string>, duration: number): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration, headers });
  return {
    requestsPerSec: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function scenarioAuditedGet(url: string) {
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
  const bare = await start('./servers/bare.ts', { ...env, PORT: '3901' });
  const real = await start('./servers/doudi.ts', { ...env, PORT: '3902', HOST: '127.0.0.1' });
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
    return {
      name: 'audited-get',
      title: 'Authenticated, audited GET of a small regional resource (GET /v1/clients/{id})',
      baselineTitle: 'Bare fastify + pg route, one primary-key SELECT',
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      roundsMeasured: measuredRounds,
      roundsBaseline: baselineRounds,
      measured,
      baseline,
      throughputRatio: Number((measured.requestsPerSec / baseline.requestsPerSec).toFixed(3)),
      target: 'ratio ≥ 0.5 and p99 < 25 ms at 50 connections',
      met: measured.requestsPerSec / baseline.requestsPerSec >= 0.5 && measured.latencyP99Ms < 25,
    };
  } finally {
    await stop(bare);
    await stop(real);
  }
}

const url = await freshDatabase();
const scenarios = [await scenarioAuditedGet(url)];
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: postgresVersion,
};
const date = new Date().toISOString();
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ date, machine, scenarios }, null, 2)}\n`);

const md = [
  '# Benchmark results',
  '',
  `Recorded by \`npm run bench\` on ${date}.`,
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; PostgreSQL ${machine.postgres}.`,
  'Load generator: autocannon in the benchmark process; each server in its own process; same database.',
  '',
  ...scenarios.flatMap((s) => [
    `## ${s.title}`,
    '',
    `Baseline: ${s.baselineTitle}. ${s.connections} connections; ${s.rounds} alternating rounds of ${s.durationSeconds} s each after a 3 s warm-up; medians over the rounds.`,
    '',
    '| | requests/s | p50 ms | p99 ms | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|',
    `| Doudi | ${s.measured.requestsPerSec} | ${s.measured.latencyP50Ms} | ${s.measured.latencyP99Ms} | ${s.measured.non2xx} | ${s.measured.errors} |`,
    `| baseline | ${s.baseline.requestsPerSec} | ${s.baseline.latencyP50Ms} | ${s.baseline.latencyP99Ms} | ${s.baseline.non2xx} | ${s.baseline.errors} |`,
    '',
    `Throughput ratio (Doudi / baseline): **${s.throughputRatio}**. Target: ${s.target}: **${s.met ? 'met' : 'NOT met'}**.`,
    '',
  ]),
].join('\n');
writeFileSync(new URL('./RESULTS.md', import.meta.url), `${md}\n`);
console.log(md);
