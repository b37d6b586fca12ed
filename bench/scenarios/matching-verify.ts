/**
 * One household's economic verification (`POST /v1/matching/verifications`, dibao) on a loaded
 * synthetic city, 20 concurrent callers on random households, against a bare fastify + pg route
 * running the same (prepared) read statement with nothing around it; with the CPU each request
 * takes on either side, server process and database.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import pg from 'pg';
import { writeSyntheticCity } from '../../src/modules/matching/synthetic.city.js';
import type { HouseholdTruth } from '../../src/modules/matching/synthetic.js';
import { sourceKinds } from '../../src/modules/matching/tables.js';
import {
  DURATION_S,
  type Figures,
  httpTable,
  load,
  median,
  mid,
  ROUNDS,
  type ScenarioResult,
  start,
  stop,
} from '../lib.js';
import {
  actor,
  benchClient,
  benchSource,
  cpuMs,
  DATA_DIR,
  matchingEnv,
  seedingApp,
  syntheticDibaoStandard,
  uploadFile,
} from '../matching-city.js';

const HOUSEHOLDS = Number(process.env.BENCH_VERIFY_HOUSEHOLDS ?? 100_000);
const CONNECTIONS = 20;
/** Each side's pool: twice the cores the database has (it runs on this machine). */
const POOL_MAX = 2 * cpus().length;
/** The paced figure: the 20 callers together send this many verifications a second (one each). */
const PACED_RATE = 20;
const [REAL_PORT, BARE_PORT] = [3904, 3905];
const REGION = '220102';

type Truth = HouseholdTruth & { householdId: string };
/** One round's figures, with the CPU a request took (ms) in the server process and in the database. */
type Round = Figures & { serverCpuMs: number; databaseCpuMs: number };
const round2 = (n: number) => Math.round(n * 100) / 100;

export async function scenarioMatchingVerify(url: string): Promise<ScenarioResult> {
  const app = await seedingApp(url);
  const provider = await benchClient(app, 'data_provider', 'bench city provider');
  const caseworker = await benchClient(app, 'civil_affairs', 'bench city caseworker');
  await app.services.programs.createStandard({ jurisdiction: '22' }, actor, 'dibao', syntheticDibaoStandard);
  const out = join(DATA_DIR, `city-${HOUSEHOLDS}`);
  const city = await writeSyntheticCity(
    app.services.people,
    { region: REGION, seed: 5, households: HOUSEHOLDS },
    { out, format: 'ndjson', progress: false },
  );
  const sources = new Map<string, string>();
  for (const kind of sourceKinds) sources.set(kind, await benchSource(app, provider.id, kind, '2201'));
  await app.close();

  // Both sides' pools sized to the database's cores (twice their number, BENCH_POOL_MAX to change
  // it): with 2 cores, 20 backends competing for them cost each request twice the database CPU.
  const env = { ...matchingEnv(url), DB_POOL_MAX: process.env.BENCH_POOL_MAX ?? String(POOL_MAX) };
  const nodeFlags = ['--max-semi-space-size=32'];
  // BENCH_CPU_PROF=<dir>: a CPU profile of the service's process, written when it exits.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const real = await start('./servers/doudi.ts', { ...env, PORT: String(REAL_PORT), HOST: '127.0.0.1' }, [
    ...nodeFlags,
    ...profile,
  ]);
  const bare = await start('./servers/bare-verify.ts', { ...env, PORT: String(BARE_PORT) }, nodeFlags);
  try {
    // The city's records, each kind's file one load through the API.
    const loadStarted = performance.now();
    for (const [kind, sourceId] of sources) {
      const res = await uploadFile(REAL_PORT, provider.key, sourceId, 'city', join(out, `${kind}.ndjson`));
      if (res.status !== 201) throw new Error(`${kind} load answered ${res.status}: ${res.body.slice(0, 2000)}`);
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const records = Object.values(city.records).reduce((a, b) => a + b, 0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    // This PostgreSQL runs with autovacuum off: analyze once, as autovacuum would after the loads.
    await client.query('analyze');
    const inForce = (
      await client.query<{ sources: number; records: number }>(
        `select count(distinct s.id)::int as sources, count(r.*)::int as records
         from matching_sources s join matching_records r on r.snapshot_id = s.current_snapshot_id`,
      )
    ).rows[0]!;
    await client.end();

    const truth = readFileSync(join(out, 'truth.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Truth);
    const realUrl = `http://127.0.0.1:${REAL_PORT}/v1/matching/verifications`;
    const bareUrl = `http://127.0.0.1:${BARE_PORT}/verify`;
    const headers = { authorization: `Bearer ${caseworker.key}`, 'content-type': 'application/json' };

    // Sanity: verification agrees with what the generator drew, on a sample.
    let agreed = 0;
    const checked = truth.slice(0, 200);
    for (const t of checked) {
      const res = await fetch(realUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify({ householdId: t.householdId, program: 'dibao' }),
      });
      if (res.status !== 201) throw new Error(`verification answered ${res.status}: ${await res.text()}`);
      if (((await res.json()) as { passed: boolean }).passed === t.passes) agreed++;
    }

    const randomBody = {
      method: 'POST' as const,
      connections: CONNECTIONS,
      requests: [
        {
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            body: JSON.stringify({
              householdId: truth[Math.floor(Math.random() * truth.length)]!.householdId,
              program: 'dibao',
            }),
          }),
        },
      ],
    };
    const bareHeaders = { 'content-type': 'application/json' };
    // CPU a request: the server process's, and that of the database's backends (each round loads one
    // server; the other's connections sit idle). On a shared machine this is what the throughput of
    // each side is made of, whatever else runs meanwhile.
    const monitor = new pg.Client({ connectionString: url });
    await monitor.connect();
    const backends = async () =>
      (
        await monitor.query<{ pid: number }>(
          'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
        )
      ).rows.map((r) => r.pid);
    const measure = async (
      server: ChildProcess,
      target: string,
      targetHeaders: Record<string, string>,
      options: Partial<autocannon.Options>,
    ): Promise<Round> => {
      const before = new Map((await backends()).map((pid) => [pid, cpuMs(pid)]));
      const serverBefore = cpuMs(server.pid!);
      const figures = await load(target, targetHeaders, DURATION_S, options);
      const serverCpu = cpuMs(server.pid!) - serverBefore;
      let dbCpu = 0;
      for (const pid of await backends()) dbCpu += cpuMs(pid) - (before.get(pid) ?? 0);
      const n = Math.max(1, figures.requestsPerSec * DURATION_S);
      return { ...figures, serverCpuMs: round2(serverCpu / n), databaseCpuMs: round2(dbCpu / n) };
    };
    await load(bareUrl, bareHeaders, 3, randomBody);
    await load(realUrl, headers, 3, randomBody);
    const baselineRounds: Round[] = [];
    const measuredRounds: Round[] = [];
    const pacedRounds: Round[] = [];
    const loadBefore = loadavg()[0]!;
    for (let round = 0; round < ROUNDS; round++) {
      baselineRounds.push(await measure(bare, bareUrl, bareHeaders, randomBody));
      measuredRounds.push(await measure(real, realUrl, headers, randomBody));
      pacedRounds.push(await measure(real, realUrl, headers, { ...randomBody, overallRate: PACED_RATE }));
    }
    const loadAfter = loadavg()[0]!;
    await monitor.end();
    const baseline = median(baselineRounds);
    const measured = median(measuredRounds);
    const paced = median(pacedRounds);
    const cpu = (rounds: Round[]) => ({
      serverMs: mid(rounds.map((r) => r.serverCpuMs)),
      databaseMs: mid(rounds.map((r) => r.databaseCpuMs)),
    });
    const cpuMeasured = cpu(measuredRounds);
    const cpuBaseline = cpu(baselineRounds);
    const ratio = measured.requestsPerSec / baseline.requestsPerSec;
    return {
      name: 'matching-verify',
      title: 'One household verification (POST /v1/matching/verifications), 20 concurrent callers on loaded data',
      baselineTitle: 'Bare fastify + pg route running the same read statement',
      notes: [
        `Data: a synthetic city (\`synthetic-city\`'s generator) of ${city.households.toLocaleString('en')} households and ${city.persons.toLocaleString('en')} persons in ${REGION}, registered through the registry's bulk function, and its ${records.toLocaleString('en')} source records (${Object.entries(
          city.records,
        )
          .map(([k, n]) => `${k} ${n.toLocaleString('en')}`)
          .join(
            ', ',
          )}) loaded through the API, one snapshot per source, in ${loadSeconds.toFixed(1)} s. Every source with a current snapshot is read: ${inForce.sources} sources holding ${inForce.records.toLocaleString('en')} records in force (with matching-load's last load when it ran before in the same run). ANALYZE run once after the loads (autovacuum is off on the benchmark's PostgreSQL). A dibao standard for 2201 in force, with property, vehicle and business limits. On a sample of ${checked.length} households, verification agreed with the generator's expected outcome for ${agreed}.`,
        `Doudi: the service as \`npm start\` runs it (audit sealer and event sequencer included, their work part of the load). Each request authenticated, scope- and jurisdiction-checked, then two statements: the read statement of verify.sql.ts, prepared once per connection (household, members, every source's current snapshot, the members' records by blind index, and the program's standard in force for the household's region), the rules evaluated in the service, and one statement that INSERTs the result with its explanation together with its matching_verification.completed event (and the subject's counter) and its audit row, as common table expressions, for every verification answered at the same moment (group commit: one alone goes at once, the others wait for the group ahead of them, two groups in flight): one transaction, committed synchronously (the WAL is flushed before the answer). Random households among all the city's, body \`{ householdId, program: 'dibao' }\`. Both sides' connection pools hold ${env.DB_POOL_MAX} connections (\`DB_POOL_MAX\`, twice the database's cores, as the README advises).`,
        `Baseline: bare fastify + pg route running the same read statement (its SQL taken from verify.sql.ts, a named prepared statement like the service's) for a random household; no auth, no rules, no insert, no event, no audit. ${CONNECTIONS} connections, each sending its next request as soon as the previous one is answered (closed loop: 20 requests always in flight, so latency is 20 ÷ throughput); ${ROUNDS} alternating rounds of ${DURATION_S} s each after a 3 s warm-up; medians over the rounds.`,
        `CPU a request (medians over the closed-loop rounds; user + system time of the server process, and of the database's backends, which only the loaded server uses during a round): Doudi ${cpuMeasured.serverMs} ms in the server, ${cpuMeasured.databaseMs} ms in PostgreSQL; baseline ${cpuBaseline.serverMs} ms and ${cpuBaseline.databaseMs} ms. The machine's load average (1 min) was ${loadBefore.toFixed(1)} before the rounds and ${loadAfter.toFixed(1)} after them (${cpus().length} cores): other work shares them.`,
        `Paced: the same 20 callers sending ${PACED_RATE} verifications a second in all (each caller one a second, a caseworker's pace many times over), in rounds of their own between the others: ${paced.requestsPerSec} requests/s, p50 ${paced.latencyP50Ms} ms, p99 ${paced.latencyP99Ms} ms, ${paced.non2xx} non-2xx. The target is judged on the closed-loop figure.`,
      ],
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      households: city.households,
      persons: city.persons,
      records: city.records,
      inForce,
      recordsLoadSeconds: Number(loadSeconds.toFixed(1)),
      sampleAgreed: { checked: checked.length, agreed },
      roundsMeasured: measuredRounds,
      roundsBaseline: baselineRounds,
      roundsPaced: pacedRounds,
      paced,
      measured,
      baseline,
      cpuPerRequestMs: { measured: cpuMeasured, baseline: cpuBaseline },
      loadAverage: { before: loadBefore, after: loadAfter },
      table: httpTable(measured, baseline),
      throughputRatio: Number(ratio.toFixed(3)),
      target: 'p99 < 50 ms with 20 concurrent callers',
      met: measured.latencyP99Ms < 50 && measured.non2xx === 0 && measured.errors === 0,
    };
  } finally {
    await stop(bare);
    await stop(real);
  }
}
