/**
 * The soak's verdict and figures: the checks, a summary on stdout, bench/results.json's "soak" key
 * (read, merged, written: the other keys stay as they are) and the section for bench/RESULTS.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format } from 'prettier';
import type { Flatness, Sample } from './memory.js';
import { type Kind, type LatencySummary, type MixResult, quantile, summarize } from './mix.js';

export interface BulkOutcome {
  ok: boolean;
  requests: number;
  errors: number;
  problem?: string;
  startedAtS?: number;
  loadSeconds?: number;
  runSeconds?: number;
  seconds?: number;
  jobStatus?: string;
  runStatus?: string;
  counts?: Record<string, number>;
  enrolled?: number;
}

export interface SoakInput {
  settings: {
    minutes: number;
    rate: number;
    households: number;
    persons: number;
    keyPersons: number;
    caregivers: number;
    bulkAtS: number;
    sampleS: number;
    warmupS: number;
    windowS: number;
    memoryTolerance: number;
    seedSeconds: number;
    poolMax: string;
  };
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; postgres: string };
  loadBefore: string;
  loadAfter: string;
  /** The 1-minute load average every 30 s during the mix. */
  loads: number[];
  /** CPU the service's process used during the mix, in cores (1 = one core busy throughout). */
  serviceCpuCores: number;
  /** The same for the PostgreSQL backends serving the soak's database. */
  databaseCpuCores: number;
  kinds: Kind[];
  mix: MixResult;
  bulk: BulkOutcome;
  events: {
    publishedByMix: Record<string, number>;
    inOutbox: Record<string, number>;
    expected: number;
    missing: number;
    received: number;
    receivedByType: Record<string, number>;
    messages: number;
    repeats: number;
    badSignatures: number;
    deliveriesRecorded: number;
    deliveriesTotal: number;
    drainSeconds: number;
    lagsMs: number[];
  };
  memory: { rss: Flatness; heapUsed: Flatness; samples: Sample[] };
  mixProblems: string[];
  problems: string[];
}

/**
 * The generator kept pace when 99% of requests left within this many ms of their time (on a busy
 * machine its own process waits for a core too: the schedule catches up, the rate holds).
 */
const MAX_DISPATCH_LAG_P99_MS = 1_000;
/** The last answers may come this long after the last request left. */
const MAX_TAIL_S = 30;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const fmt = (n: number) => n.toLocaleString('en');

export async function report(input: SoakInput): Promise<{ passed: boolean }> {
  const { settings: s, mix, bulk, events, memory } = input;
  const durationS = Math.round(s.minutes * 60);
  const planned = Math.floor(s.rate * durationS);
  const byKind: Record<string, LatencySummary> = {};
  let all: number[] = [];
  const group = { read: [] as number[], write: [] as number[] };
  const groupCounts = { read: { requests: 0, errors: 0 }, write: { requests: 0, errors: 0 } };
  for (const kind of input.kinds) {
    const st = mix.stats.get(kind.name)!;
    byKind[kind.name] = summarize(st.latenciesMs, st.requests, st.errors);
    all = all.concat(st.latenciesMs);
    group[kind.group] = group[kind.group].concat(st.latenciesMs);
    groupCounts[kind.group].requests += st.requests;
    groupCounts[kind.group].errors += st.errors;
  }
  const overall = summarize(all, mix.live.done, mix.live.errors);
  const reads = summarize(group.read, groupCounts.read.requests, groupCounts.read.errors);
  const writes = summarize(group.write, groupCounts.write.requests, groupCounts.write.errors);
  const lagP99 = Math.round(quantile(mix.dispatchLagsMs, 0.99) * 10) / 10;
  const deliveryLag = summarize(events.lagsMs, events.received, 0);
  const errors = mix.live.errors + bulk.errors + input.problems.length;
  const requests = mix.live.done + bulk.requests;
  const sortedLoads = [...input.loads].sort((a, b) => a - b);
  const load = {
    before: input.loadBefore,
    after: input.loadAfter,
    duringMin: sortedLoads[0] ?? NaN,
    duringMedian: quantile(sortedLoads, 0.5, true),
    duringMax: sortedLoads.at(-1) ?? NaN,
  };

  const outboxMismatch = Object.entries(events.publishedByMix).filter(([t, n]) => events.inOutbox[t] !== n);
  const checks = [
    {
      name: 'no errors',
      passed: errors === 0,
      detail: `${fmt(errors)} errors in ${fmt(requests)} requests (mix ${mix.live.errors}, bulk ${bulk.errors}, other ${input.problems.length})`,
    },
    {
      name: 'rate sustained',
      passed:
        !mix.aborted &&
        mix.live.done === planned &&
        lagP99 <= MAX_DISPATCH_LAG_P99_MS &&
        mix.seconds <= durationS + MAX_TAIL_S,
      detail: mix.aborted
        ? mix.aborted
        : `${fmt(mix.live.done)} of ${fmt(planned)} requests answered in ${mix.seconds.toFixed(1)} s; dispatch lag p99 ${lagP99} ms (limit ${MAX_DISPATCH_LAG_P99_MS}); at most ${mix.live.maxInFlight} in flight`,
    },
    {
      name: 'bulk job succeeded',
      passed: bulk.ok,
      detail: bulk.ok
        ? `matching run ${bulk.runStatus}: ${fmt(bulk.counts!.households!)} of ${fmt(bulk.enrolled!)} households in ${bulk.runSeconds} s (records loaded again in ${bulk.loadSeconds} s first)`
        : (bulk.problem ?? 'failed'),
    },
    {
      name: 'every event delivered',
      passed: events.expected > 0 && events.missing === 0 && events.badSignatures === 0 && outboxMismatch.length === 0,
      detail: `${fmt(events.expected - events.missing)} of ${fmt(events.expected)} events the subscriber may see delivered, ${events.badSignatures} bad signatures${outboxMismatch.length ? `; the writes' events and the outbox disagree: ${outboxMismatch.map(([t, n]) => `${t} ${n} written, ${events.inOutbox[t] ?? 0} in the outbox`).join(', ')}` : ''}`,
    },
    {
      name: 'memory flat',
      passed: memory.rss.flat,
      detail: `RSS median ${memory.rss.startMiB} MiB after warm-up, ${memory.rss.endMiB} MiB over the last ${s.windowS} s: ${pct(memory.rss.growth)} (limit ${pct(s.memoryTolerance)})`,
    },
  ];
  const passed = checks.every((c) => c.passed);
  const date = new Date().toISOString();

  const figures = {
    date,
    passed,
    machine: input.machine,
    load,
    settings: s,
    requests: { total: requests, mix: mix.live.done, bulk: bulk.requests, planned, errors },
    latency: { overall, reads, writes, byKind },
    dispatchLagP99Ms: lagP99,
    serviceCpuCores: input.serviceCpuCores,
    databaseCpuCores: input.databaseCpuCores,
    maxInFlight: mix.live.maxInFlight,
    events: { ...events, lagsMs: undefined, deliveryLag },
    bulk,
    memory: { rss: memory.rss, heapUsed: memory.heapUsed, samples: memory.samples },
    checks,
    problems: [...input.mixProblems, ...input.problems].slice(0, 20),
  };
  const row = (name: string, f: LatencySummary) =>
    `| ${name} | ${fmt(f.requests)} | ${f.errors} | ${f.p50Ms} | ${f.p99Ms} | ${f.maxMs} |`;
  const weights = input.kinds.map((k) => `${k.name} ${k.weight}`).join(', ');
  const published = Object.entries(events.publishedByMix)
    .map(([t, n]) => `${fmt(n)} ${t}`)
    .join(', ');
  const md = [
    `## Soak: ${s.minutes} minutes of mixed load at ${s.rate} requests/s (\`npm run soak\`)`,
    '',
    `Run ${date} on ${input.machine.cpu}, ${input.machine.cores} cores, ${input.machine.memoryGiB} GiB; Node ${input.machine.node}; PostgreSQL ${input.machine.postgres}. Machine load (1-minute average; other work was running): ${load.before.replace('load average: ', '')} before; during the mix ${load.duringMin} to ${load.duringMax} (median ${load.duringMedian}); ${load.after.replace('load average: ', '')} after.`,
    '',
    `City: ${fmt(s.households)} households, ${fmt(s.persons)} persons (${fmt(s.keyPersons)} key persons, each assigned one of ${s.caregivers} caregivers), every household enrolled in dibao, one matching source of each kind loaded over HTTP; a webhook subscription of the caseworker to a receiver in the soak's process that verifies each signature (standardwebhooks). The service is the real one (\`bench/servers/doudi.ts\`, job worker, sequencer and webhook sender running, ${s.poolMax} database connections; the per-client rate limit raised, as in the benchmarks, since one client sends the whole mix) in a process of its own.`,
    '',
    `Mix, open-loop (each request sent on its schedule whatever the earlier ones are doing; 32 connections), weights out of 100: ${weights}. Every answer must be the status its request expects, else it is an error, as is any socket error or timeout. Bulk job at ${s.bulkAtS} s: the income source's records loaded again (a new snapshot, ${bulk.loadSeconds ?? '–'} s), then a matching run of every enrolled household (202, a job) followed to its end: ${bulk.ok ? `${bulk.jobStatus}, ${fmt(bulk.counts!.households!)} households in ${bulk.runSeconds} s` : `FAILED: ${bulk.problem}`}.`,
    '',
    `| kind | requests | errors | p50 ms | p99 ms | max ms |`,
    `|---|---:|---:|---:|---:|---:|`,
    ...Object.entries(byKind).map(([name, f]) => row(name, f)),
    row('**reads**', reads),
    row('**writes**', writes),
    row('**all**', overall),
    '',
    `Requests: ${fmt(requests)} (${fmt(mix.live.done)} in the mix, ${bulk.requests} by the bulk job); errors: **${errors}**. The generator sent 99% of requests within ${lagP99} ms of their time; at most ${mix.live.maxInFlight} were in flight. On average the service's process used ${input.serviceCpuCores} and the database backends serving it ${input.databaseCpuCores} of the ${input.machine.cores} cores.`,
    '',
    `Events: the writes published ${published}; the subscriber was entitled to ${fmt(events.expected)} events in all (the run's and jobs' included), and the receiver held **${fmt(events.expected - events.missing)}** of them, ${events.badSignatures} bad signatures, ${events.repeats} repeats; the last arrived ${events.drainSeconds} s after the mix ended. From commit to arrival: p50 ${deliveryLag.p50Ms} ms, p99 ${deliveryLag.p99Ms} ms, max ${deliveryLag.maxMs} ms.`,
    '',
    `Memory of the service process, sampled every ${s.sampleS} s (MiB): resident set ${memory.rss.beforeMiB} before the mix, **${memory.rss.startMiB}** after a ${s.warmupS} s warm-up (median over ${s.windowS} s), **${memory.rss.endMiB}** at the end (median over the last ${s.windowS} s; last sample ${memory.rss.lastMiB}), max ${memory.rss.maxMiB}: ${pct(memory.rss.growth)}, slope ${memory.rss.slopeMiBPerMin} MiB/min. V8 heap used: ${memory.heapUsed.beforeMiB} before, ${memory.heapUsed.startMiB} after warm-up, ${memory.heapUsed.endMiB} at the end, max ${memory.heapUsed.maxMiB} (${pct(memory.heapUsed.growth)}, slope ${memory.heapUsed.slopeMiBPerMin} MiB/min). Flat means the resident set's end median at most ${pct(s.memoryTolerance)} above its median after warm-up.`,
    '',
    ...checks.map((c) => `- ${c.passed ? 'passed' : '**FAILED**'}: ${c.name}: ${c.detail}`),
    '',
    `Result: **${passed ? 'PASS' : 'FAIL'}**.`,
    '',
  ].join('\n');
  const resultsMd = new URL('../RESULTS.md', import.meta.url);
  const section = await format(md, { parser: 'markdown', filepath: resultsMd.pathname });

  const resultsFile = new URL('../results.json', import.meta.url);
  const previous = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>)
    : {};
  writeFileSync(resultsFile, `${JSON.stringify({ ...previous, soak: { ...figures, section } }, null, 2)}\n`);

  console.log(section);
  const shown = [...input.mixProblems, ...input.problems];
  if (shown.length > 0)
    console.log(
      `Problems (first ${Math.min(20, shown.length)}):\n${shown
        .slice(0, 20)
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    );
  console.log(
    passed
      ? 'PASS'
      : `FAIL: ${checks
          .filter((c) => !c.passed)
          .map((c) => c.name)
          .join(', ')}`,
  );
  return { passed };
}
