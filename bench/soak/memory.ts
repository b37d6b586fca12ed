/**
 * The service's memory over the soak: every SOAK_SAMPLE_S seconds its resident set (VmRSS in
 * /proc/<pid>/status) and its V8 heap (used and total, from its own /metrics), with the machine's
 * load average beside them. "Flat" is defined here, once.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface Sample {
  /** Seconds since the mix started (negative: before it). */
  t: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  load1: number;
}

const MiB = 2 ** 20;
const round1 = (x: number) => Math.round(x * 10) / 10;

function rss(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return round1((Number(match[1]) * 1024) / MiB);
}

async function heap(port: number) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`/metrics has no ${name}`);
    return round1(Number(match[1]) / MiB);
  };
  return { used: value('doudi_nodejs_heap_size_used_bytes'), total: value('doudi_nodejs_heap_size_total_bytes') };
}

export async function sample(pid: number, port: number, t: number): Promise<Sample> {
  const h = await heap(port);
  return {
    t: Math.round(t),
    rssMiB: rss(pid),
    heapUsedMiB: h.used,
    heapTotalMiB: h.total,
    load1: round1(loadavg()[0]!),
  };
}

/** Samples every `everyS` seconds until stopped; a failed sample is a problem, not a crash. */
export function sampler(pid: number, port: number, origin: number, everyS: number, problems: string[]) {
  const samples: Sample[] = [];
  const take = async () => {
    try {
      samples.push(await sample(pid, port, (performance.now() - origin) / 1000));
    } catch (err) {
      problems.push(`memory sample failed: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => void take(), everyS * 1000);
  return {
    samples,
    take,
    stop: () => clearInterval(timer),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Least-squares slope of y over t, per minute. */
function slopePerMinute(points: { t: number; y: number }[]) {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.t - mt) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 60;
}

export interface Flatness {
  /** The first sample, taken before the mix started. */
  beforeMiB: number;
  /** Median of the samples in the window after warm-up, and of those in the last window. */
  startMiB: number;
  endMiB: number;
  lastMiB: number;
  maxMiB: number;
  /** (end − start) / start. */
  growth: number;
  slopeMiBPerMin: number;
  flat: boolean;
}

/**
 * Flat: after a warm-up of `warmupS` seconds, the median of the samples in the last `windowS`
 * seconds exceeds the median of those in the first `windowS` seconds after the warm-up by at most
 * `tolerance` (a share). Medians over a window, so that one sample caught before a collection
 * does not decide; a leak shows as a rise that the windows' medians keep.
 */
export function flatness(
  samples: Sample[],
  field: 'rssMiB' | 'heapUsedMiB',
  durationS: number,
  warmupS: number,
  windowS: number,
  tolerance: number,
): Flatness {
  const y = (s: Sample) => s[field];
  const after = samples.filter((s) => s.t >= warmupS);
  const start = median(after.filter((s) => s.t < warmupS + windowS).map(y));
  const end = median(samples.filter((s) => s.t >= durationS - windowS).map(y));
  const growth = (end - start) / start;
  return {
    beforeMiB: y(samples[0]!),
    startMiB: round1(start),
    endMiB: round1(end),
    lastMiB: y(samples.at(-1)!),
    maxMiB: Math.max(...samples.map(y)),
    growth: Math.round(growth * 1000) / 1000,
    slopeMiBPerMin: Math.round(slopePerMinute(after.map((s) => ({ t: s.t, y: y(s) }))) * 100) / 100,
    flat: Number.isFinite(growth) && growth <= tolerance,
  };
}
