/** What the scenarios share: child servers, the load generator, medians. */
import { type ChildProcess, fork } from 'node:child_process';
import autocannon from 'autocannon';

export const CONNECTIONS = 50;
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

export interface Figures {
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

/** One scenario's outcome, as results.json holds it and RESULTS.md shows it. */
export interface ScenarioResult {
  name: string;
  title: string;
  baselineTitle: string;
  /** When this scenario was measured (a BENCH_ONLY run replaces one scenario and keeps the others). */
  date?: string;
  /** Paragraphs shown under the title: setup, method. */
  notes?: string[];
  /** The figure compared, its unit, and the table RESULTS.md shows. */
  throughputRatio: number;
  target: string;
  /** null when the issue sets no target for the figure. */
  met: boolean | null;
  table: { columns: string[]; measured: (string | number)[]; baseline: (string | number)[] };
  [more: string]: unknown;
}

/** Starts a bench server (bench/servers/*.ts) in a process of its own; resolves once it says it is ready. */
export async function start(
  script: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<ChildProcess> {
  return (await startWithMessage(script, env, execArgv)).child;
}

/** Like start, with the first message the server sent (e.g. the port it listens on). */
export function startWithMessage<T = unknown>(
  script: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<{ child: ChildProcess; first: T }> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(script, import.meta.url), [], {
      env: { ...process.env, ...env },
      execArgv: [...execArgv, '--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (first) => resolve({ child, first: first as T }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** Waits for a message from a child that satisfies `match`, at most `timeoutMs`. */
export function awaitMessage<T>(child: ChildProcess, match: (m: T) => boolean, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', listener);
      reject(new Error(`no answer from the child within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (message: unknown) => {
      if (!match(message as T)) return;
      clearTimeout(timer);
      child.off('message', listener);
      resolve(message as T);
    };
    child.on('message', listener);
  });
}

export const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

export const mid = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Per figure, the median over rounds (errors summed). */
export function median(rounds: Figures[]): Figures {
  return {
    requestsPerSec: mid(rounds.map((r) => r.requestsPerSec)),
    latencyP50Ms: mid(rounds.map((r) => r.latencyP50Ms)),
    latencyP99Ms: mid(rounds.map((r) => r.latencyP99Ms)),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
  };
}

export async function load(
  url: string,
  headers: Record<string, string>,
  duration: number,
  options: Partial<autocannon.Options> = {},
): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration, headers, ...options });
  return {
    requestsPerSec: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** The table of an HTTP load scenario: requests/s and latencies. */
export function httpTable(measured: Figures, baseline: Figures): ScenarioResult['table'] {
  const row = (f: Figures) => [f.requestsPerSec, f.latencyP50Ms, f.latencyP99Ms, f.non2xx, f.errors];
  return {
    columns: ['requests/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
    measured: row(measured),
    baseline: row(baseline),
  };
}
