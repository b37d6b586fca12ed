/**
 * What the fault scripts share: a fresh database `doudi_fault_<name>` on the server DATABASE_URL
 * names (loopback only), the real service (`src/server.ts`, as `npm start` runs it) in a process
 * of its own that can be SIGKILLed and started again, the service's connections as PostgreSQL sees
 * them (to kill at a moment when work is surely under way), a deadline, and the verdict: PASS, or
 * FAIL with every problem found and a non-zero exit. After a pass the database, the service's log
 * and the script's temporary files are removed; after a failure they are kept for inspection.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, closeSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The server the fault databases are made on. */
/**
 * What the service is started with for bulk work: one client sends everything (no rate limit to
 * speak of), and a request may take an hour to arrive (a snapshot of millions of records).
 */
export const bulkServiceEnv = { RATE_LIMIT_PER_MINUTE: '100000000', REQUEST_TIMEOUT_MS: '3600000' };

export const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A positive number from the environment (a knob), or `fallback`; anything else ends the script. */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`FAIL: ${name} must be a positive number, not ${raw}`);
    process.exit(2);
  }
  return value;
}

/** The machine's load average (1, 5, 15 minutes) and its cores, for the record. */
export const machineLoad = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')} on ${cpus().length} cores`;

const loopback = ['127.0.0.1', 'localhost', '[::1]'];

/** Makes `doudi_fault_<name>` afresh on the server; answers its URL. */
export async function freshDatabase(dbName: string): Promise<string> {
  const target = new URL(serverUrl);
  if (!loopback.includes(target.hostname)) {
    console.error(`FAIL: DATABASE_URL must point at a loopback address, not ${target.hostname}`);
    process.exit(2);
  }
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.query(`create database ${dbName}`);
  } finally {
    await admin.end();
  }
  target.pathname = `/${dbName}`;
  return target.toString();
}

export async function dropDatabase(dbName: string) {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${dbName} with (force)`);
  } finally {
    await admin.end();
  }
}

/** A port free on 127.0.0.1 right now. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

/** Waits until a child process has exited, sending it `signal` first. */
export const killed = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });

/** An answer of the service: status, headers and body (parsed when JSON). */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A connection of the service to the database, as pg_stat_activity shows it. */
export interface Backend {
  pid: number;
  state: string | null;
  /** Whether its transaction has written (holds a transaction id). */
  writing: boolean;
  query: string;
}

export interface FaultOptions {
  /** The database is `doudi_fault_<name>`; the log file and temporary folder are named after it too. */
  name: string;
  /** Gives up, failing, after this many seconds. */
  timeoutS: number;
  /** The service's environment besides DATABASE_URL, HOST, PORT and JOBS_ENABLED=true. */
  serviceEnv?: Record<string, string>;
}

export type Fault = Awaited<ReturnType<typeof openFault>>;

/**
 * Runs a fault scenario: `scenario` gets the fault's tools and answers what held (the PASS line).
 * Problems it records (`fault.problem`), an error it throws, or the deadline make it FAIL.
 */
export async function runFault(options: FaultOptions, scenario: (fault: Fault) => Promise<string>): Promise<never> {
  const fault = await openFault(options);
  let summary = '';
  try {
    summary = await scenario(fault);
  } catch (err) {
    fault.problem(`the scenario broke off at "${fault.stage}": ${(err as Error).stack ?? String(err)}`);
  }
  return fault.finish(summary);
}

async function openFault({ name, timeoutS, serviceEnv = {} }: FaultOptions) {
  const started = Date.now();
  const loadAtStart = machineLoad();
  const dbName = `doudi_fault_${name.replace(/[^a-z0-9_]/g, '_')}`;
  const url = await freshDatabase(dbName);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `doudi-fault-${name}-`));
  const logFile = join(dir, 'service.log');
  const logFd = openSync(logFile, 'a');
  // The script's own connections, named so that they are never taken for the service's.
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'doudi-fault-script' });
  pool.on('error', () => {});
  const problems: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  let service: ChildProcess | null = null;
  /** How many times the service was started: its connections carry the number in their name. */
  let generation = 0;
  let finished = false;

  const log = (message: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
  const appName = (n: number) => `doudi-fault-${name}-${n}`;

  async function query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await pool.query(text, params)).rows as T[];
  }

  /** Starts the service (migrations, job worker, sequencer and sender included) and waits until it is ready. */
  async function start(): Promise<ChildProcess> {
    generation++;
    const named = new URL(url);
    named.searchParams.set('application_name', appName(generation));
    const child = fork(new URL('../../src/server.ts', import.meta.url), [], {
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        ...serviceEnv,
        DATABASE_URL: named.toString(),
        HOST: '127.0.0.1',
        PORT: String(port),
        JOBS_ENABLED: 'true',
      },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', logFd, logFd, 'ipc'],
    });
    service = child;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the service exited (${child.exitCode ?? child.signalCode}) while starting; see ${logFile}`);
      }
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
  }

  /** SIGKILL: the service dies at once, in the middle of whatever it does. */
  async function kill() {
    if (service) await killed(service, 'SIGKILL');
  }

  /** The connections of the service's `n`th start (default: the current one) that are still open. */
  async function backends(n = generation): Promise<Backend[]> {
    return query<Backend>(
      `select pid, state, backend_xid is not null as writing, query from pg_stat_activity
       where datname = $1 and application_name = $2`,
      [dbName, appName(n)],
    );
  }

  /**
   * A connection of the service whose transaction has written and whose statement matches
   * `pattern` (ILIKE): running it (`active`, the default), or done with it with the transaction
   * still open. The moment to kill the service, with work surely under way.
   */
  async function busyWith(pattern: string, { active = true, n = generation } = {}): Promise<Backend | null> {
    const [found] = await query<Backend>(
      `select pid, state, true as writing, query from pg_stat_activity
       where datname = $1 and application_name = $2 and backend_xid is not null and query ilike $3
         and (state = 'active' or (not $4 and state = 'idle in transaction'))
       limit 1`,
      [dbName, appName(n), pattern, active],
    );
    return found ?? null;
  }

  /**
   * Waits until the connections a killed service left behind have closed: PostgreSQL ends a
   * backend whose client is gone when it next talks to it, so one in the middle of a statement
   * finishes that statement first, then rolls back. Answers how long it took, in seconds.
   */
  async function orphansGone(n: number): Promise<number> {
    const from = Date.now();
    stage = `waiting for the connections of the killed service (start ${n}) to close`;
    while ((await backends(n)).length > 0) await sleep(50);
    return (Date.now() - from) / 1000;
  }

  /** Polls `probe` every `everyMs` until it answers something truthy; the deadline bounds the wait. */
  async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, everyMs = 20) {
    const before = stage;
    stage = `waiting for ${what}`;
    for (;;) {
      const value = await probe();
      if (value) {
        stage = before;
        return value;
      }
      await sleep(everyMs);
    }
  }

  /** Calls the service as the client holding `key`. */
  async function api<T = Record<string, unknown>>(
    key: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  const problem = (detail: string) => {
    problems.push(detail);
    log(`problem: ${detail}`);
  };
  /** Records `detail` as a problem unless `ok`. */
  const check = (ok: boolean, detail: string) => {
    if (!ok) problem(detail);
    return ok;
  };

  async function cleanUp(passed: boolean) {
    finished = true;
    if (service) await killed(service, 'SIGKILL');
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    closeSync(logFd);
    if (passed) {
      await dropDatabase(dbName);
      rmSync(dir, { recursive: true, force: true });
    } else {
      console.log(`Database ${dbName} kept for inspection; service log and files in ${dir}`);
    }
  }

  let stage = 'setting up';
  const deadline = setTimeout(() => {
    if (finished) return;
    console.log(`FAIL: gave up after ${timeoutS} s, ${stage}`);
    for (const p of problems) console.log(`  - ${p}`);
    void cleanUp(false).finally(() => process.exit(1));
  }, timeoutS * 1000);

  /** Prints the verdict and ends the process. */
  async function finish(summary: string): Promise<never> {
    clearTimeout(deadline);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const loadAtEnd = machineLoad();
    const passed = problems.length === 0;
    await cleanUp(passed);
    console.log(`Run time ${seconds} s; at the start ${loadAtStart}, at the end ${loadAtEnd}.`);
    if (passed) {
      console.log(`PASS: ${summary}`);
      process.exit(0);
    }
    console.log(`FAIL:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }

  return {
    name,
    dbName,
    url,
    port,
    dir,
    logFile,
    pool,
    log,
    query,
    start,
    kill,
    backends,
    busyWith,
    orphansGone,
    waitFor,
    api,
    problem,
    check,
    finish,
    /** Runs `close` when the script ends (in reverse order of registration). */
    onClose: (close: () => Promise<unknown>) => void closers.push(close),
    /** What the script is doing now: named when the deadline passes. */
    get stage() {
      return stage;
    },
    set stage(value: string) {
      stage = value;
    },
    get generation() {
      return generation;
    },
    get service() {
      return service;
    },
  };
}
