/**
 * A bank posting a dispatched batch's results (issue 6): BENCH_PAYMENTS results (default 500,000)
 * through `POST /v1/payment-batches/{id}/results` in chunks of 10,000 (the route's limit) by 4
 * concurrent callers, against bare UPDATEs of the same payments from the same result data in the
 * same chunks by as many connections, in alternating rounds, each on a batch of its own generated,
 * approved and dispatched through the API; the service in a process of its own.
 */
import { cpus } from 'node:os';
import pg from 'pg';
import { mid, type ScenarioResult, stop } from '../lib.js';
import {
  call,
  dispatchedBatch,
  freePeriods,
  jobsDone,
  load1,
  PAYMENTS_REGION,
  paymentsCity,
  settle,
  startService,
} from '../payments-city.js';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 500_000);
const ROUNDS = Number(process.env.BENCH_PAYMENTS_ROUNDS ?? 3);
const CHUNK = 10_000;
const CALLERS = 4;
const PORT = 3909;

interface Result {
  endToEndId: string;
  status: 'paid' | 'failed' | 'returned';
  reasonCode?: string;
  bankReference: string;
  settledAt: string;
}

/** What a bank reports: most paid, one in 100 failed (closed account), one in 200 returned. */
async function resultsOf(db: pg.Client, batchId: string): Promise<Result[][]> {
  const { rows } = await db.query<{ e2e: string }>(
    'select end_to_end_id as e2e from payment_items where batch_id = $1 order by id',
    [batchId],
  );
  const settledAt = new Date(Date.now() - 3_600_000).toISOString();
  const results = rows.map((r, i): Result => {
    const bankReference = `ABC${String(i).padStart(12, '0')}`;
    if (i % 100 === 7) return { endToEndId: r.e2e, status: 'failed', reasonCode: 'AC04', bankReference, settledAt };
    if (i % 200 === 11) return { endToEndId: r.e2e, status: 'returned', reasonCode: 'AC01', bankReference, settledAt };
    return { endToEndId: r.e2e, status: 'paid', bankReference, settledAt };
  });
  const chunks: Result[][] = [];
  for (let i = 0; i < results.length; i += CHUNK) chunks.push(results.slice(i, i + CHUNK));
  return chunks;
}

/** Runs `post` over the chunks with CALLERS at a time; seconds overall, and each call's. */
async function drive(chunks: Result[][], post: (chunk: Result[], caller: number) => Promise<void>) {
  const started = performance.now();
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const t = performance.now();
        await post(chunk, caller);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

/** The baseline: each chunk one UPDATE … FROM unnest(arrays), on CALLERS connections. */
function bareUpdate(connections: pg.Client[]) {
  return async (chunk: Result[], caller: number) => {
    const col = <K extends keyof Result>(k: K) => chunk.map((r) => r[k] ?? null);
    await connections[caller]!.query(
      `update payment_items i set status = r.status, result_code = r.code, bank_reference = r.ref, result_at = r.settled
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) as r(e2e, status, code, ref, settled)
       where i.end_to_end_id = r.e2e`,
      [col('endToEndId'), col('status'), col('reasonCode'), col('bankReference'), col('settledAt')],
    );
  };
}

export async function scenarioPaymentsResults(url: string): Promise<ScenarioResult> {
  const city = await paymentsCity(url, PAYMENTS, 'results');
  const payments = city.households;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const connections = await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const server = await startService(url, PORT);
  try {
    const periods = await freePeriods(db, 2 * ROUNDS);
    const measured: Awaited<ReturnType<typeof drive>>[] = [];
    const baseline: Awaited<ReturnType<typeof drive>>[] = [];
    const prep: Record<string, number>[] = [];
    const loads: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Two batches dispatched through the API: one for the baseline, one for the bank.
      const bare = await dispatchedBatch(PORT, city, periods[2 * round]!);
      const real = await dispatchedBatch(PORT, city, periods[2 * round + 1]!);
      prep.push(real.seconds);
      if (real.batch.itemCount !== payments) throw new Error(`the batch pays ${real.batch.itemCount}, not ${payments}`);
      const bareChunks = await resultsOf(db, bare.batch.id);
      const chunks = await resultsOf(db, real.batch.id);

      await jobsDone(db);
      await settle(db);
      loads.push(load1());
      baseline.push(await drive(bareChunks, bareUpdate(connections)));
      await settle(db);
      let stillSent = -1;
      measured.push(
        await drive(chunks, async (chunk) => {
          const answer = await call(PORT, city.bank.key, `/v1/payment-batches/${real.batch.id}/results`, {
            results: chunk,
          });
          const recorded = answer.recorded as Record<string, { count: number }>;
          const n = recorded.paid!.count + recorded.failed!.count + recorded.returned!.count;
          if (n !== chunk.length) throw new Error(`a posting of ${chunk.length} recorded ${n}`);
          stillSent = answer.stillSent as number;
        }),
      );
      const done = await call(PORT, city.bank.key, `/v1/payment-batches/${real.batch.id}/complete`, {}, [200, 409]);
      if (done.status !== 'completed') throw new Error(`the batch is not complete: ${JSON.stringify(done)}`);
      const rate = (d: { seconds: number }) => Math.round(payments / d.seconds);
      console.error(
        `  results round ${round + 1}: bare ${rate(baseline.at(-1)!)}/s, Doudi ${rate(measured.at(-1)!)}/s (last stillSent ${stillSent}; load ${loads.at(-1)}; prep ${JSON.stringify(real.seconds)})`,
      );
    }

    const rates = (xs: { seconds: number }[]) => xs.map((x) => payments / x.seconds);
    const ours = mid(rates(measured));
    const theirs = mid(rates(baseline));
    const latency = (xs: { latencies: number[] }[], q: number) =>
      Math.round(mid(xs.map((x) => [...x.latencies].sort((a, b) => a - b)[Math.floor(q * (x.latencies.length - 1))]!)));
    const list = (xs: number[]) => xs.map((x) => Math.round(x).toLocaleString('en')).join(', ');
    const steps = (k: string) => mid(prep.map((p) => p[k]!)).toFixed(1);
    const row = (rate: number, xs: typeof measured) => [
      Math.round(rate),
      (payments / rate).toFixed(2),
      latency(xs, 0.5),
      latency(xs, 0.99),
    ];
    return {
      name: 'payments-results',
      title: `Payments: a bank posting ${payments.toLocaleString('en')} results (POST /v1/payment-batches/{id}/results)`,
      baselineTitle: 'Bare UPDATEs of the same payments from the same result data, in the same chunks',
      notes: [
        `Data: the county of payments-generate (${payments.toLocaleString('en')} households in ${PAYMENTS_REGION}, each with a dibao enrollment and a head with a bank account). Each round two batches generated, submitted, approved and dispatched through the API (medians for the bank's batch: generate ${steps('generate')} s, submit ${steps('submit')} s, approve ${steps('approve')} s, dispatch ${steps('dispatch')} s), one for the baseline and one for the bank. The service in a process of its own (as \`npm start\` runs it).`,
        `Doudi: \`POST /v1/payment-batches/{id}/results\` as a bank client, JSON, ${CHUNK.toLocaleString('en')} results a request (the route's limit; each an EndToEndId, a status, a bank reference and the settlement time; one in 100 failed with AC04, one in 200 returned with AC01), ${CALLERS} callers at once over HTTP, timed from the first request to the last answer: each posting holds the batch with a key-share lock (postings run at once; a change of the batch's status waits for them), records its results in one statement with the ledger's journal and entries, then takes its turn on the batch row to count them and writes the history row, the posting's event, an event per failed or returned payment and the audit row, in one transaction. Baseline: one \`UPDATE payment_items … FROM unnest(arrays)\` per chunk of the same results, on ${CALLERS} node-postgres connections at once (autocommit). Baseline first; dead rows vacuumed and a checkpoint before each.`,
        `Rounds (payments/s): baseline ${list(rates(baseline))}; Doudi ${list(rates(measured))}. Load average (1 min) at each round's start: ${loads.join(', ')} on ${cpus().length} cores shared with other work.`,
      ],
      payments,
      rounds: ROUNDS,
      measured: { paymentsPerSec: rates(measured) },
      baseline: { paymentsPerSec: rates(baseline) },
      table: {
        columns: ['payments/s', 'seconds', 'p50 ms a request', 'p99 ms a request'],
        measured: row(ours, measured),
        baseline: row(theirs, baseline),
      },
      throughputRatio: Number((ours / theirs).toFixed(3)),
      target: '20,000 results/s',
      met: payments >= 500_000 ? ours >= 20_000 : null,
    };
  } finally {
    await stop(server);
    await Promise.all(connections.map((c) => c.end()));
    await db.end();
  }
}
