/**
 * Fault: PostgreSQL restarted (`pg_ctl restart -m fast`), then crashed (`pg_ctl stop -m immediate`,
 * started again a few seconds later), each time under a steady load of registry writes and reads.
 * Passes when /readyz turns red while the database is down and green again by itself (the service
 * is never restarted, and never exits), every call during the outage fails cleanly (503
 * problem+json with Retry-After: no 500, no hang), writes succeed again afterwards, and every write
 * the service acknowledged (201 with its id) reads back afterwards with the content it was
 * acknowledged with: none lost.
 *
 *   npx tsx scripts/faults/postgres-restart.ts        (npm run fault:postgres)
 *
 * It never touches the server DATABASE_URL names: it makes a PostgreSQL cluster of its own (initdb
 * into a temporary folder, a free port on 127.0.0.1; as the `postgres` user when run as root, since
 * PostgreSQL refuses to run as root), breaks that one, and removes it at the end. Binaries:
 * FAULT_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. Gives up, failing, after
 * FAULT_TIMEOUT_S (180) seconds. Other knobs: FAULT_WRITERS (8), FAULT_READERS (2), FAULT_STEADY_S
 * (5: load before, between and after the faults), FAULT_DOWN_S (3: how long the crashed database
 * stays down), FAULT_RECOVERY_S (30: the bound on /readyz turning green again).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { freePort, killed, knob, machineLoad, sleep } from './lib.js';

const TIMEOUT_S = knob('FAULT_TIMEOUT_S', 180);
const WRITERS = knob('FAULT_WRITERS', 8);
const READERS = knob('FAULT_READERS', 2);
const STEADY_S = knob('FAULT_STEADY_S', 5);
const DOWN_S = knob('FAULT_DOWN_S', 3);
const RECOVERY_S = knob('FAULT_RECOVERY_S', 30);
/** How often /readyz and /healthz are asked. */
const PROBE_MS = 100;
/** A call not answered within this has hung: a failure of its own. */
const CALL_TIMEOUT_MS = 20_000;
/** A caller whose call failed waits this long before the next one. */
const PAUSE_AFTER_FAILURE_MS = 100;

const started = performance.now();
const now = () => performance.now() - started;
const at = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (message: string) => console.log(`[${(now() / 1000).toFixed(1).padStart(5)} s] ${message}`);
const loadAtStart = machineLoad();

// ---------------------------------------------------------------------------------------------
// The private PostgreSQL cluster

function pgBin(): string {
  const given = process.env.FAULT_PG_BIN;
  if (given) return given;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((bin) => existsSync(join(bin, 'pg_ctl')));
  if (!found) {
    console.error(`FAIL: no PostgreSQL binaries in ${root}/<version>/bin; set FAULT_PG_BIN`);
    process.exit(2);
  }
  return found;
}

const bin = pgBin();
const asRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'doudi-fault-postgres-'));
const dataDir = join(dir, 'data');
const pgLog = join(dir, 'postgres.log');
const serviceLog = join(dir, 'service.log');
if (asRoot) {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, id('-u'), id('-g'));
}
const pgPort = await freePort();
const port = await freePort();
const databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
const serverOptions = `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1`;

/** Runs a PostgreSQL program, as `postgres` when we are root; rejects with its output when it fails. */
function pgTool(program: string, args: string[]): Promise<void> {
  const path = join(bin, program);
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    // 'exit', not 'close': the server pg_ctl starts must not be waited for.
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${program} ${args[0]} failed (${code ?? signal}): ${output.trim()}`)),
    );
  });
}
/** pg_ctl on the cluster, waiting (up to 60 s) until the server is up or down. */
const pgCtl = (command: string, ...args: string[]) =>
  pgTool('pg_ctl', [command, '-D', dataDir, '-w', '-t', '60', ...args]);
const startPostgres = () => pgCtl('start', '-l', pgLog, '-o', serverOptions);

// ---------------------------------------------------------------------------------------------
// The service, and calls to it

let service: ChildProcess | null = null;
let serviceExit: string | null = null;
let logFd: number | null = null;
let key = '';
const base = `http://127.0.0.1:${port}`;

interface Reply {
  status: number;
  type: string;
  retryAfter: string | null;
  etag: string | null;
  text: string;
  error?: string;
}

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      retryAfter: res.headers.get('retry-after'),
      etag: res.headers.get('etag'),
      text: await res.text(),
    };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const error =
      e.name === 'TimeoutError'
        ? `no answer within ${CALL_TIMEOUT_MS / 1000} s`
        : `${e.message} ${e.cause?.message ?? ''}`;
    return { status: 0, type: '', retryAfter: null, etag: null, text: '', error };
  }
}

/** What a caller should get while the database is away: 503 problem+json saying when to retry. */
function cleanRefusal(r: Reply): boolean {
  if (r.status !== 503 || !r.type.startsWith('application/problem+json') || !r.retryAfter) return false;
  try {
    return (JSON.parse(r.text) as { type?: string }).type === '/problems/service-unavailable';
  } catch {
    return false;
  }
}

type Outcome = 'ok' | 'refused' | 'bad';
interface Call {
  kind: 'write' | 'read';
  start: number;
  outcome: Outcome;
}
const calls: Call[] = [];
/** Answers that were neither the expected success nor a clean refusal. */
const bad: string[] = [];
function classify(what: string, r: Reply, expected: number): Outcome {
  if (r.status === expected) return 'ok';
  if (cleanRefusal(r)) return 'refused';
  bad.push(`${what} at ${at(now())}: ${r.error ?? `${r.status} ${r.type} ${r.text.slice(0, 300)}`}`);
  return 'bad';
}

// ---------------------------------------------------------------------------------------------
// The load: writers registering persons and households, readers reading them back

const birthDate = '1980-01-01';
const personBody = (n: number) => ({
  name: `PG fault ${n}`,
  idType: 'passport',
  idNumber: `PF${String(n).padStart(8, '0')}`,
  birthDate,
  sex: n % 2 ? 'male' : 'female',
  region: '220102',
});
const householdBody = (n: number) => ({
  region: '220102',
  address: `Fault Road ${n}`,
  members: [
    {
      name: `PG fault ${n} head`,
      idType: 'passport',
      idNumber: `PH${String(n).padStart(8, '0')}`,
      birthDate,
      sex: n % 2 ? 'male' : 'female',
      relationship: 'head',
    },
    {
      name: `PG fault ${n} child`,
      idType: 'passport',
      idNumber: `PC${String(n).padStart(8, '0')}`,
      birthDate: '2015-06-01',
      relationship: 'child',
    },
  ],
});

interface Acked {
  n: number;
  /** Where it is read: /v1/persons/{id} or /v1/households/{id}. */
  path: string;
  text: string;
  etag: string | null;
}
const acked: Acked[] = [];
const refused = new Set<number>();
let written = 0;
let loading = true;

/** A body as compared: household members in id order (the order a read lists them in is not promised). */
function normalised(text: string): unknown {
  const body = JSON.parse(text) as { members?: { id: string }[] };
  if (Array.isArray(body.members)) body.members = [...body.members].sort((a, b) => a.id.localeCompare(b.id));
  return body;
}
const sameContent = (write: Acked, r: Reply) =>
  isDeepStrictEqual(normalised(write.text), normalised(r.text)) && (!write.etag || !r.etag || write.etag === r.etag);

async function writer() {
  while (loading) {
    const n = ++written;
    const path = n % 3 === 0 ? '/v1/households' : '/v1/persons';
    const start = now();
    const r = await call('POST', path, n % 3 === 0 ? householdBody(n) : personBody(n));
    const outcome = classify(`POST ${path}`, r, 201);
    calls.push({ kind: 'write', start, outcome });
    if (outcome === 'ok') {
      acked.push({ n, path: `${path}/${(JSON.parse(r.text) as { id: string }).id}`, text: r.text, etag: r.etag });
      continue;
    }
    if (outcome === 'refused') refused.add(n);
    await sleep(PAUSE_AFTER_FAILURE_MS);
  }
}

async function reader() {
  while (loading) {
    const write = acked.length > 0 && Math.random() < 0.7 ? acked[Math.floor(Math.random() * acked.length)]! : null;
    const path = write ? write.path : '/v1/persons?limit=20';
    const start = now();
    const r = await call('GET', path);
    let outcome = classify(`GET ${path}`, r, 200);
    if (outcome === 'ok' && write && !sameContent(write, r)) {
      outcome = 'bad';
      bad.push(`GET ${path} at ${at(now())} answered other content than its write was acknowledged with`);
    }
    calls.push({ kind: 'read', start, outcome });
    if (outcome !== 'ok') await sleep(PAUSE_AFTER_FAILURE_MS);
  }
}

// /readyz and /healthz, every PROBE_MS.
interface Sample {
  start: number;
  end: number;
  status: number;
}
const readyz: Sample[] = [];
const healthz: Sample[] = [];
let probing = true;
async function probe(path: string, samples: Sample[]) {
  while (probing) {
    const start = now();
    let status = 0;
    try {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      // no answer: status 0
    }
    samples.push({ start, end: now(), status });
    await sleep(Math.max(0, PROBE_MS - (now() - start)));
  }
}

// ---------------------------------------------------------------------------------------------
// The faults

interface Round {
  name: string;
  /** When the command that takes the database down was given. */
  down: number;
  /** When PostgreSQL accepted connections again (pg_ctl -w returned). */
  up: number;
  /** When /readyz answered 200 again, asked after `up`; null if not within FAULT_RECOVERY_S. */
  green: number | null;
}

async function round(name: string, breakIt: () => Promise<void>): Promise<Round> {
  log(`${name}`);
  const down = now();
  await breakIt();
  const up = now();
  log(`  PostgreSQL accepts connections again, ${at(up - down)} after the command`);
  let green: number | null = null;
  while (now() - up < RECOVERY_S * 1000 && serviceExit === null) {
    const sample = readyz.find((s) => s.start >= up && s.status === 200);
    if (sample) {
      green = sample.end;
      break;
    }
    await sleep(20);
  }
  log(green === null ? `  /readyz not green ${RECOVERY_S} s later` : `  /readyz green again ${at(green - up)} later`);
  return { name, down, up, green };
}

const problems: string[] = [];
const check = (ok: boolean, detail: string) => {
  if (!ok) {
    problems.push(detail);
    log(`problem: ${detail}`);
  }
};
const figures: string[] = [];

function report(r: Round, until: number) {
  const red = readyz.filter((s) => s.start >= r.down && s.start <= r.up && s.status !== 200);
  check(red.length > 0, `${r.name}: /readyz never answered other than 200 while PostgreSQL was down`);
  check(r.green !== null, `${r.name}: /readyz not green again within ${RECOVERY_S} s of PostgreSQL being back`);
  const end = r.green ?? r.up + RECOVERY_S * 1000;
  const firstRed = readyz.find((s) => s.start >= r.down && s.status !== 200);
  const during = calls.filter((c) => c.start >= r.down && c.start < end);
  const count = (kind: Call['kind'], outcome: Outcome) =>
    during.filter((c) => c.kind === kind && c.outcome === outcome).length;
  const after = calls.filter((c) => c.kind === 'write' && c.outcome === 'ok' && c.start >= end && c.start < until);
  check(after.length > 0, `${r.name}: no write acknowledged after /readyz was green again`);
  figures.push(
    `${r.name}: PostgreSQL down for ${at(r.up - r.down)} (from the command until it accepted connections); ` +
      `/readyz red ${firstRed ? `${at(firstRed.start - r.down)} after the command, ` : ''}` +
      `${red.length} red answers while down, green again ${r.green === null ? 'never' : at(r.green - r.up)} after PostgreSQL was back` +
      (firstRed && r.green !== null ? ` (red for ${at(r.green - firstRed.start)} in all)` : '') +
      `; from the command until green: writes ${count('write', 'ok')} acknowledged, ${count('write', 'refused')} refused with 503, ` +
      `${count('write', 'bad')} otherwise; reads ${count('read', 'ok')} answered, ${count('read', 'refused')} refused with 503, ` +
      `${count('read', 'bad')} otherwise; ${after.length} writes acknowledged after it until the next step`,
  );
}

// ---------------------------------------------------------------------------------------------
// Clean-up and the verdict

let finished = false;
async function cleanUp(passed: boolean) {
  finished = true;
  loading = false;
  probing = false;
  if (service) {
    const stopping = killed(service, 'SIGTERM');
    const late = setTimeout(() => service?.kill('SIGKILL'), 10_000);
    await stopping;
    clearTimeout(late);
  }
  if (logFd !== null) closeSync(logFd);
  await pgCtl('stop', '-m', 'immediate').catch(() => undefined);
  if (passed) {
    rmSync(dir, { recursive: true, force: true });
  } else {
    rmSync(dataDir, { recursive: true, force: true });
    console.log(`Cluster removed; PostgreSQL log: ${pgLog}; service log: ${serviceLog}`);
  }
}

const deadline = setTimeout(() => {
  if (finished) return;
  console.log(`FAIL: gave up after ${TIMEOUT_S} s`);
  for (const p of problems) console.log(`  - ${p}`);
  void cleanUp(false).finally(() => process.exit(1));
}, TIMEOUT_S * 1000);
process.once('SIGINT', () => {
  console.log('FAIL: interrupted');
  void cleanUp(false).finally(() => process.exit(130));
});

// ---------------------------------------------------------------------------------------------
// The scenario

async function scenario() {
  log(`PostgreSQL cluster of our own in ${dir} (${bin}, port ${pgPort}${asRoot ? ', as the postgres user' : ''})`);
  await pgTool('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  await startPostgres();

  // Migrations and a civil-affairs client, with the service's own code in this process.
  const setup = await buildApp(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', DB_POOL_MAX: '2' }), {
    background: false,
  });
  await setup.database.migrate();
  const made = await setup.services.clients.create(
    { jurisdiction: '2201' },
    { clientId: null, agency: null, requestId: 'fault' },
    { name: 'fault load', agency: 'civil_affairs', jurisdiction: '2201' },
  );
  key = made.key;
  await setup.close();

  // The real service, as `npm start` runs it, in a process of its own; never restarted.
  logFd = openSync(serviceLog, 'a');
  service = fork(new URL('../../src/server.ts', import.meta.url), [], {
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      JOBS_ENABLED: 'true',
      // The load comes from one client: its rate limit is not what is tested here.
      RATE_LIMIT_PER_MINUTE: '1000000',
    },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  service.on('exit', (code, signal) => {
    serviceExit = String(code ?? signal);
    if (!finished) log(`the service exited (${serviceExit})`);
  });
  for (;;) {
    if (serviceExit !== null) throw new Error(`the service exited (${serviceExit}) while starting; see ${serviceLog}`);
    const r = await call('GET', '/readyz');
    if (r.status === 200) break;
    await sleep(100);
  }
  const pid = service.pid;
  log(
    `service ready (pid ${pid}); load: ${WRITERS} writers, ${READERS} readers; /readyz and /healthz every ${PROBE_MS} ms`,
  );

  const probes = [probe('/readyz', readyz), probe('/healthz', healthz)];
  const loadStart = now();
  const workers = [
    ...Array.from({ length: WRITERS }, () => writer()),
    ...Array.from({ length: READERS }, () => reader()),
  ];
  await sleep(STEADY_S * 1000);
  log(`steady load: ${acked.length} writes acknowledged so far`);

  const restart = await round('restart (pg_ctl restart -m fast)', () =>
    pgCtl('restart', '-m', 'fast', '-l', pgLog, '-o', serverOptions),
  );
  await sleep(STEADY_S * 1000);
  const crash = await round(`crash (pg_ctl stop -m immediate, started again ${DOWN_S} s later)`, async () => {
    await pgCtl('stop', '-m', 'immediate');
    await sleep(DOWN_S * 1000);
    await startPostgres();
  });
  await sleep(STEADY_S * 1000);
  loading = false;
  await Promise.all(workers);
  const loadEnd = now();
  probing = false;
  await Promise.all(probes);

  // Checks.
  report(restart, crash.down);
  report(crash, Infinity);
  check(serviceExit === null && service.pid === pid, `the service exited (${serviceExit}) during the faults`);
  const sick = healthz.filter((s) => s.status !== 200);
  check(
    sick.length === 0,
    `/healthz answered other than 200 ${sick.length} times (0: no answer), e.g. ${sick
      .slice(0, 5)
      .map((s) => `${s.status} at ${at(s.start)}`)
      .join(', ')}`,
  );
  const silent = readyz.filter((s) => s.status === 0);
  check(silent.length === 0, `/readyz went unanswered ${silent.length} times (first at ${at(silent[0]?.start ?? 0)})`);
  check(
    bad.length === 0,
    `${bad.length} answers were neither the success expected nor 503 problem+json with Retry-After, e.g.:\n      ${bad.slice(0, 5).join('\n      ')}`,
  );

  // Every acknowledged write, read back through the API.
  log(`reading back the ${acked.length} acknowledged writes`);
  const lost: string[] = [];
  const changed: string[] = [];
  const unreadable: string[] = [];
  for (let i = 0; i < acked.length && serviceExit === null; i += 16) {
    await Promise.all(
      acked.slice(i, i + 16).map(async (write) => {
        const r = await call('GET', write.path);
        if (r.status === 404) lost.push(write.path);
        else if (r.status !== 200)
          unreadable.push(`${write.path}: ${r.error ?? `${r.status} ${r.text.slice(0, 200)}`}`);
        else if (!sameContent(write, r)) changed.push(write.path);
      }),
    );
  }
  check(lost.length === 0, `${lost.length} acknowledged writes lost (404), e.g. ${lost.slice(0, 3).join(', ')}`);
  check(
    changed.length === 0,
    `${changed.length} acknowledged writes read back changed, e.g. ${changed.slice(0, 3).join(', ')}`,
  );
  check(
    unreadable.length === 0,
    `${unreadable.length} acknowledged writes could not be read: ${unreadable.slice(0, 3).join('; ')}`,
  );

  // And in the database itself: which writes were committed, refused ones included.
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const names = (await db.query<{ name: string }>(`select name from persons where name like 'PG fault %'`)).rows;
  await db.end();
  const committed = new Map<number, number>();
  for (const { name } of names) {
    const n = Number(/^PG fault (\d+)/.exec(name)![1]);
    committed.set(n, (committed.get(n) ?? 0) + 1);
  }
  const missing = acked.filter((w) => !committed.has(w.n));
  check(missing.length === 0, `${missing.length} acknowledged writes have no row in the database`);
  const refusedButCommitted = [...refused].filter((n) => committed.has(n)).length;

  const writes = calls.filter((c) => c.kind === 'write');
  const reads = calls.filter((c) => c.kind === 'read');
  const tally = (list: Call[]) =>
    `${list.filter((c) => c.outcome === 'ok').length} succeeded, ${list.filter((c) => c.outcome === 'refused').length} refused with 503, ${list.filter((c) => c.outcome === 'bad').length} otherwise`;
  figures.push(
    `Load over ${at(loadEnd - loadStart)}: ${writes.length} writes (${tally(writes)}; ${Math.round(acked.length / ((loadEnd - loadStart) / 1000))} acknowledged a second), ` +
      `${reads.length} reads (${tally(reads)}); ${readyz.length} /readyz and ${healthz.length} /healthz probes, /healthz 200 every time: ${sick.length === 0}`,
    (serviceExit === null
      ? `Read back: ${acked.length - lost.length - changed.length - unreadable.length} of ${acked.length} acknowledged writes whole; `
      : `Not read back through the service (it is gone); ${acked.length - missing.length} of ${acked.length} acknowledged writes have their row; `) +
      `${refusedButCommitted} of the ${refused.size} writes refused with 503 had been committed nevertheless (the connection was lost while COMMIT was under way, so the service could not know: a caller that retries may find its write there already)`,
    `Service pid ${pid} throughout (never restarted): ${serviceExit === null}`,
  );
  return `PostgreSQL restarted and crashed under load: /readyz red while it was down and green again by itself, every failed call a 503 problem+json with Retry-After, writes succeeding again after each, all ${acked.length} acknowledged writes read back unchanged`;
}

let summary = '';
try {
  summary = await scenario();
} catch (err) {
  problems.push(`the scenario broke off: ${(err as Error).stack ?? String(err)}`);
}
clearTimeout(deadline);
const passed = problems.length === 0;
const runTime = at(now());
await cleanUp(passed);
for (const line of figures) console.log(line);
console.log(`Run time ${runTime}; at the start ${loadAtStart}, at the end ${machineLoad()}.`);
if (passed) {
  console.log(`PASS: ${summary}`);
  process.exit(0);
}
console.log(`FAIL:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
process.exit(1);
