/**
 * An open-loop, paced load: `rate` requests a second for `durationS` seconds, each request's kind
 * drawn by weight, sent when its time comes whatever the earlier ones are doing (so a slow service
 * shows as latency and a growing number in flight, not as a quietly lower rate). Every answer is
 * read whole and checked against the status its kind expects; anything else, or a socket error, is
 * an error. Latencies are kept whole, so percentiles are exact.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';

export interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  expect: number;
  /** Called with the parsed body of an expected answer. */
  ok?: (body: unknown) => void;
}

export interface Kind {
  name: string;
  group: 'read' | 'write';
  weight: number;
  make: () => Call;
}

export interface KindStats {
  requests: number;
  errors: number;
  latenciesMs: number[];
  statuses: Record<string, number>;
}

export interface Live {
  sent: number;
  done: number;
  errors: number;
  inFlight: number;
  maxInFlight: number;
}

export interface MixResult {
  stats: Map<string, KindStats>;
  live: Live;
  /** How late each request left against its schedule, ms (the generator's own lag). */
  dispatchLagsMs: number[];
  seconds: number;
  aborted: string | null;
}

export const newLive = (): Live => ({ sent: 0, done: 0, errors: 0, inFlight: 0, maxInFlight: 0 });

/** Connections the generator keeps open to the service. */
const CONNECTIONS = 32;
/** Requests in flight at which the run stops as not sustained. */
const MAX_IN_FLIGHT = 2_000;

export async function runMix(
  port: number,
  key: string,
  kinds: Kind[],
  rate: number,
  durationS: number,
  problems: string[],
  live: Live = newLive(),
): Promise<MixResult> {
  const pool = new Pool(`http://127.0.0.1:${port}`, {
    connections: CONNECTIONS,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const stats = new Map<string, KindStats>(
    kinds.map((k) => [k.name, { requests: 0, errors: 0, latenciesMs: [], statuses: {} }]),
  );
  const dispatchLagsMs: number[] = [];
  const totalWeight = kinds.reduce((a, k) => a + k.weight, 0);
  const pick = () => {
    let r = Math.random() * totalWeight;
    for (const k of kinds) if ((r -= k.weight) < 0) return k;
    return kinds.at(-1)!;
  };
  const problem = (kind: string, message: string) => {
    live.errors++;
    stats.get(kind)!.errors++;
    if (problems.length < 50) problems.push(`${kind}: ${message}`);
  };

  async function fire(kind: Kind) {
    const s = stats.get(kind.name)!;
    let call: Call;
    try {
      call = kind.make();
    } catch (err) {
      return problem(kind.name, `could not make a request: ${(err as Error).message}`);
    }
    live.inFlight++;
    live.maxInFlight = Math.max(live.maxInFlight, live.inFlight);
    const started = performance.now();
    try {
      const res = await pool.request({
        method: call.method,
        path: call.path,
        headers: {
          authorization: `Bearer ${key}`,
          ...(call.body !== undefined && { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
        },
        ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
      });
      const text = await res.body.text();
      s.latenciesMs.push(performance.now() - started);
      s.requests++;
      s.statuses[res.statusCode] = (s.statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode !== call.expect) {
        problem(kind.name, `${call.method} ${call.path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
      } else if (call.ok) {
        try {
          call.ok(JSON.parse(text));
        } catch (err) {
          problem(kind.name, `${call.method} ${call.path}: unreadable answer: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      s.requests++;
      problem(kind.name, `${call.method} ${call.path}: ${(err as Error).message}`);
    } finally {
      live.inFlight--;
      live.done++;
    }
  }

  const total = Math.floor(rate * durationS);
  const pending = new Set<Promise<void>>();
  let aborted: string | null = null;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * rate));
      while (live.sent < due) {
        dispatchLagsMs.push(now - (t0 + (live.sent * 1000) / rate));
        live.sent++;
        const p = fire(pick());
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      if (live.inFlight > MAX_IN_FLIGHT) {
        aborted = `${live.inFlight} requests in flight: the service does not sustain ${rate} requests/s`;
      }
      if (live.sent >= total || aborted) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.all(pending);
  await pool.close();
  return { stats, live, dispatchLagsMs, seconds: (performance.now() - t0) / 1000, aborted };
}

/** The q-quantile (0 < q ≤ 1) of values, nearest rank; NaN when empty. */
export function quantile(values: number[], q: number, sorted = false): number {
  if (values.length === 0) return NaN;
  const s = sorted ? values : [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export interface LatencySummary {
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(latencies: number[], requests: number, errors: number): LatencySummary {
  const s = [...latencies].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    requests,
    errors,
    p50Ms: r(quantile(s, 0.5, true)),
    p99Ms: r(quantile(s, 0.99, true)),
    maxMs: r(s.at(-1) ?? NaN),
  };
}
