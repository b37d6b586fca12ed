/**
 * Benchmarks against a real PostgreSQL. Each scenario runs the real thing and its baseline in the
 * same run, with the same load generator, each server in a process of its own, and records the
 * figures in bench/results.json and bench/RESULTS.md.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench
 *   BENCH_ONLY=webhook-deliveries npm run bench    # one scenario; the others keep their last figures
 *
 * Scenarios: bench/scenarios/*.ts. Knobs: BENCH_ROUNDS, BENCH_DURATION_S, BENCH_EVENTS,
 * BENCH_SUBSCRIPTIONS, BENCH_SUBJECTS, BENCH_FEED_EVENTS, BENCH_HOUSEHOLDS, BENCH_HOUSEHOLDS_HTTP, BENCH_CPU_PROF=<dir> (profiles the service
 * in webhook-deliveries), BENCH_LOAD_RECORDS (matching-load, default 5,000,000), BENCH_LOAD_ROUNDS
 * (default 1), BENCH_VERIFY_HOUSEHOLDS (matching-verify's city, default 100,000), BENCH_DATA_DIR
 * (where generated record files are kept between runs; default $TMPDIR/doudi-bench), BENCH_CARE_KEY_PERSONS (care-coverage's
 * key persons, default 100,000; visits are 20 a key person), BENCH_CARE_ROUNDS (default 20),
 * BENCH_CONTACTS_PERSONS (contacts-assemble's city, default 400,000), BENCH_CONTACTS_VISITS (default
 * 2,000,000), BENCH_CONTACTS_HOUSEHOLD (the case's household, default 40), BENCH_CONTACTS_CASE_VISITS
 * (default 5,000), BENCH_CONTACTS_ROUNDS (default 20), BENCH_REPORTS_ROUNDS (reports-compliance, default 30).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import pg from 'pg';
import { format } from 'prettier';
import { type Figures, httpTable, type ScenarioResult } from './lib.js';
import { scenarioAuditedGet } from './scenarios/audited-get.js';
import { scenarioCareCoverage } from './scenarios/care-coverage.js';
import { scenarioContactsAssemble } from './scenarios/contacts-assemble.js';
import { scenarioFeedReads } from './scenarios/feed-reads.js';
import { scenarioMatchingRuns } from './scenarios/matching-runs.js';
import { scenarioMatchingLoad } from './scenarios/matching-load.js';
import { scenarioMatchingVerify } from './scenarios/matching-verify.js';
import { scenarioPaymentsPain001 } from './scenarios/payments-pain001.js';
import { scenarioPaymentsGenerate } from './scenarios/payments-generate.js';
import { scenarioPaymentsResults } from './scenarios/payments-results.js';
import { scenarioPersonReads } from './scenarios/person-reads.js';
import { scenarioReportsCompliance } from './scenarios/reports-compliance.js';
import { scenarioWebhookDeliveries } from './scenarios/webhook-deliveries.js';

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** BENCH_DB: another database name, so two benchmarks can run side by side. */
const dbName = process.env.BENCH_DB ?? 'doudi_bench';

const scenarios: Record<string, (url: string) => Promise<ScenarioResult>> = {
  'audited-get': scenarioAuditedGet,
  'webhook-deliveries': scenarioWebhookDeliveries,
  'feed-reads': scenarioFeedReads,
  'person-reads': scenarioPersonReads,
  'matching-runs': scenarioMatchingRuns,
  'matching-load': scenarioMatchingLoad,
  'matching-verify': scenarioMatchingVerify,
  'payments-pain001': scenarioPaymentsPain001,
  'payments-generate': scenarioPaymentsGenerate,
  'payments-results': scenarioPaymentsResults,
  'care-coverage': scenarioCareCoverage,
  'contacts-assemble': scenarioContactsAssemble,
  'reports-compliance': scenarioReportsCompliance,
};

const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = only?.filter((name) => !(name in scenarios)) ?? [];
if (unknown.length > 0) {
  console.error(`BENCH_ONLY: unknown scenario ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}

let postgresVersion = '';
async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  postgresVersion = (await admin.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

const url = await freshDatabase();
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: postgresVersion,
};
const date = new Date().toISOString();

const fresh: ScenarioResult[] = [];
for (const [name, run] of Object.entries(scenarios)) {
  if (only && !only.includes(name)) continue;
  console.error(`scenario ${name}…`);
  fresh.push({ ...(await run(url)), date: new Date().toISOString() });
}

/** In RESULTS.md, the line after which other scripts' sections begin. */
const KEPT_MARKER =
  '<!-- Below: figures of the fault scripts and the soak (scripts/faults, npm run soak), kept by npm run bench. -->';

// A partial run keeps the other scenarios' last figures (each carries its own date).
const resultsFile = new URL('./results.json', import.meta.url);
const stored = existsSync(resultsFile)
  ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown> & { scenarios?: ScenarioResult[] })
  : {};
const previous: ScenarioResult[] = only ? (stored.scenarios ?? []) : [];
const all = Object.keys(scenarios).flatMap((name) => {
  const result = fresh.find((s) => s.name === name) ?? previous.find((s) => s.name === name);
  if (!result) return [];
  // Figures recorded before scenarios carried their own table (requests/s, latencies).
  result.table ??= httpTable(result.measured as Figures, result.baseline as Figures);
  return [result];
});
// Other scripts' figures (the soak's, under "soak") are kept as they are.
writeFileSync(resultsFile, `${JSON.stringify({ ...stored, date, machine, scenarios: all }, null, 2)}\n`);

const verdict = (s: ScenarioResult) => (s.met === null ? '—' : s.met ? 'met' : 'NOT met');
const md = [
  '# Benchmark results',
  '',
  `Recorded by \`npm run bench\`${only ? ` (last run: BENCH_ONLY=${only.join(',')})` : ''} on ${date}.`,
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; PostgreSQL ${machine.postgres}.`,
  'Load generator and publisher in the benchmark process; each server, receiver and sender in its own process; same database. Other work on the machine can add noise: every figure is the median of alternating rounds of the real thing and its baseline.',
  '',
  ...all.flatMap((s) => [
    `## ${s.title}`,
    '',
    ...(fresh.includes(s) ? [] : [`Measured ${s.date ?? 'earlier'} (not in the last run).`, '']),
    ...(s.notes ?? [`Baseline: ${s.baselineTitle}.`]).flatMap((note) => [note, '']),
    `| | ${s.table.columns.join(' | ')} |`,
    `|---|${s.table.columns.map(() => '---:').join('|')}|`,
    `| Doudi | ${s.table.measured.join(' | ')} |`,
    `| baseline | ${s.table.baseline.join(' | ')} |`,
    '',
    `Throughput ratio (Doudi / baseline): **${s.throughputRatio}**. Target: ${s.target}: **${verdict(s)}**.`,
    '',
  ]),
].join('\n');
const resultsMd = new URL('./RESULTS.md', import.meta.url);
// What follows the marker is written by other scripts (fault scripts, the soak): kept as it is.
const kept = existsSync(resultsMd) ? readFileSync(resultsMd, 'utf8').split(KEPT_MARKER)[1] : undefined;
writeFileSync(
  resultsMd,
  await format(kept === undefined ? md : `${md}\n${KEPT_MARKER}${kept}`, {
    parser: 'markdown',
    filepath: resultsMd.pathname,
  }),
);
console.log(md);
