/**
 * A bank collecting a big batch's pain.001 (issue 6): a dispatched dibao batch of
 * BENCH_PAIN_PAYMENTS payments (default 500,000) downloaded through
 * `GET /v1/payment-batches/{id}/pain.001` from the service in a process of its own, against a bare
 * node http server streaming the same number of pre-rendered CdtTrfTxInf records of the same size,
 * in alternating rounds; the server's resident set size sampled meanwhile.
 */
import { request } from 'node:http';
import pg from 'pg';
import { mid, type ScenarioResult, start, startWithMessage, stop } from '../lib.js';
import { matchingEnv, rssMiB } from '../matching-city.js';
import { payerAccount, PAYMENTS_REGION, paymentsCity, thisMonth } from '../payments-city.js';

const PAYMENTS = Number(process.env.BENCH_PAIN_PAYMENTS ?? 500_000);
const ROUNDS = Number(process.env.BENCH_PAIN_ROUNDS ?? 3);
const PORT = 3907;
const REGION = PAYMENTS_REGION;
const RSS_EVERY_MS = 100;

interface Download {
  status: number;
  bytes: number;
  transactions: number;
  seconds: number;
  /** The server's RSS (MiB) sampled through the download. */
  rss: number[];
}

/** Reads a download to its end, counting bytes and transactions; the server's RSS sampled meanwhile. */
function download(port: number, path: string, headers: Record<string, string>, pid: number): Promise<Download> {
  const started = performance.now();
  const rss: number[] = [rssMiB(pid)];
  const sampler = setInterval(() => rss.push(rssMiB(pid)), RSS_EVERY_MS);
  const needle = Buffer.from('</CdtTrfTxInf>');
  return new Promise<Download>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let bytes = 0;
      let transactions = 0;
      let tail: Buffer = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // A closing tag may straddle two chunks.
        const data = tail.length ? Buffer.concat([tail, chunk]) : chunk;
        let at = data.indexOf(needle);
        let last = -1;
        while (at !== -1) {
          transactions++;
          last = at;
          at = data.indexOf(needle, at + needle.length);
        }
        const keep = Math.max(last === -1 ? 0 : last + needle.length, data.length - needle.length + 1);
        tail = data.subarray(keep);
      });
      res.on('end', () => {
        clearInterval(sampler);
        rss.push(rssMiB(pid));
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          transactions,
          seconds: (performance.now() - started) / 1000,
          rss,
        });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      clearInterval(sampler);
      reject(err);
    });
    req.end();
  });
}

export async function scenarioPaymentsPain001(url: string): Promise<ScenarioResult> {
  // Households written set-based (bench/payments-city.ts), values sealed, indexed and masked by the
  // registry's protector: each a head with a bank account (the payee), and an active dibao enrollment.
  const { prepare, finance, bank, households, seedSeconds } = await paymentsCity(url, PAYMENTS, 'pain.001');
  if (households !== PAYMENTS) throw new Error(`${REGION} holds ${households} households, not ${PAYMENTS}`);
  const db = new pg.Client({ connectionString: url });
  await db.connect();

  const server = await start('./servers/doudi.ts', { ...matchingEnv(url), PORT: String(PORT), HOST: '127.0.0.1' }, [
    '--max-semi-space-size=32',
    ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
  ]);
  let bare: Awaited<ReturnType<typeof startWithMessage<{ port: number }>>> | null = null;
  const call = async (key: string, path: string, body: unknown, expect = [200, 201]) => {
    const res = await fetch(`http://127.0.0.1:${PORT}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!expect.includes(res.status)) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 2000)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  try {
    // The batch through the API: generated, submitted, approved, dispatched; the payer account set.
    const prepStarted = performance.now();
    await call(finance.key, '/v1/payment-payer-accounts', payerAccount);
    const batch = (await call(
      prepare.key,
      '/v1/payment-batches',
      { program: 'dibao', period: thisMonth(), region: REGION },
      [201],
    )) as { id: string; itemCount: number; totalFen: number };
    if (batch.itemCount !== PAYMENTS) throw new Error(`the batch pays ${batch.itemCount}, not ${PAYMENTS}`);
    await call(prepare.key, `/v1/payment-batches/${batch.id}/submit`, {});
    await call(finance.key, `/v1/payment-batches/${batch.id}/approve`, {
      itemCount: batch.itemCount,
      totalFen: batch.totalFen,
    });
    await call(bank.key, `/v1/payment-batches/${batch.id}/dispatch`, {});
    const prepSeconds = (performance.now() - prepStarted) / 1000;
    // Approval queued the job that writes the file out (bank.render.ts); the bank's downloads
    // stream it once it is written. Its time is reported beside the downloads.
    let render: { status: string; seconds: number; parts: number; bytes: number } | undefined;
    for (let waited = 0; !render || render.status !== 'succeeded'; waited++) {
      if (waited > 1200) throw new Error(`the file was not written out in 10 minutes: ${JSON.stringify(render)}`);
      await new Promise((r) => setTimeout(r, 500));
      const [job] = (
        await db.query<{ status: string; seconds: number; parts: number; bytes: number }>(
          `select j.status, extract(epoch from j.finished_at - j.started_at)::float8 as seconds,
                  f.rendered_parts as parts, f.rendered_bytes::float8 as bytes
           from jobs j left join payment_batch_files f on f.batch_id = $1::uuid
           where j.type = 'payment_batch.render_pain001' and j.payload->>'batchId' = $1::text`,
          [batch.id],
        )
      ).rows;
      if (job?.status === 'failed') throw new Error('the render job failed');
      render = job;
    }
    await db.query('vacuum analyze payment_items');

    // The baseline serves what the first download holds: its header, then as many records as there
    // are payments, each the size of the file's average CdtTrfTxInf (one real one, padded), the end.
    const pathOf = `/v1/payment-batches/${batch.id}/pain.001`;
    const auth = { authorization: `Bearer ${bank.key}` };
    const first = await fetch(`http://127.0.0.1:${PORT}${pathOf}`, { headers: auth });
    const text = await first.text();
    if (first.status !== 200) throw new Error(`${pathOf} answered ${first.status}: ${text.slice(0, 2000)}`);
    const firstTx = text.indexOf('<CdtTrfTxInf>');
    const lastTx = text.lastIndexOf('</CdtTrfTxInf>\n') + '</CdtTrfTxInf>\n'.length;
    const txBytes = Buffer.byteLength(text.slice(firstTx, lastTx));
    const one = text.slice(firstTx, text.indexOf('</CdtTrfTxInf>\n') + '</CdtTrfTxInf>\n'.length);
    const fileBytes = Buffer.byteLength(text);
    const recordBytes = Math.round(txBytes / PAYMENTS);
    const pad = recordBytes - Buffer.byteLength(one);
    const record = pad > 0 ? one.replace('</Ustrd>', `${' '.repeat(pad)}</Ustrd>`) : one;
    bare = await startWithMessage<{ port: number }>('./servers/bare-pain001.ts', {
      BARE_HEAD: text.slice(0, firstTx),
      BARE_RECORD: record,
      BARE_TAIL: text.slice(lastTx),
      BARE_COUNT: String(PAYMENTS),
    });
    const barePid = bare.child.pid!;
    const bareBytes =
      Buffer.byteLength(text.slice(0, firstTx)) +
      Buffer.byteLength(record) * PAYMENTS +
      Buffer.byteLength(text.slice(lastTx));

    const measured: Download[] = [];
    const baseline: Download[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const b = await download(bare.first.port, '/', {}, barePid);
      if (b.transactions !== PAYMENTS || b.bytes !== bareBytes)
        throw new Error(`the baseline sent ${JSON.stringify(b)}`);
      baseline.push(b);
      const d = await download(PORT, pathOf, auth, server.pid!);
      if (d.status !== 200 || d.transactions !== PAYMENTS || d.bytes !== fileBytes)
        throw new Error(`the download gave ${d.status}, ${d.transactions} transactions, ${d.bytes} bytes`);
      measured.push(d);
      console.error(
        `  pain.001 round ${round + 1}: bare ${Math.round(PAYMENTS / b.seconds)}/s, Doudi ${Math.round(PAYMENTS / d.seconds)}/s (RSS ${Math.min(...d.rss)}–${Math.max(...d.rss)} MiB)`,
      );
    }

    const rate = (xs: Download[]) => Math.round(PAYMENTS / mid(xs.map((x) => x.seconds)));
    const rssOf = (xs: Download[]) => ({
      start: mid(xs.map((x) => x.rss[0]!)),
      peak: mid(xs.map((x) => Math.max(...x.rss))),
      end: mid(xs.map((x) => x.rss.at(-1)!)),
    });
    const m = rssOf(measured);
    const base = rssOf(baseline);
    const ours = rate(measured);
    const theirs = rate(baseline);
    // Flat: the peak within 64 MiB of where the download started, whatever the batch's size.
    const flat = measured.every((x) => Math.max(...x.rss) - x.rss[0]! <= 64);
    const met = ours >= 50_000 && flat;
    const list = (xs: Download[]) => xs.map((x) => Math.round(PAYMENTS / x.seconds).toLocaleString('en')).join(', ');
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);
    return {
      name: 'payments-pain001',
      title: `Payments: a bank collecting a ${PAYMENTS.toLocaleString('en')}-payment batch as pain.001 (GET /v1/payment-batches/{id}/pain.001)`,
      baselineTitle: 'A bare node http server streaming the same number of pre-rendered CdtTrfTxInf records',
      notes: [
        `Data: ${PAYMENTS.toLocaleString('en')} households in ${REGION}, each a head with a bank account (ID number and account sealed with AES-256-GCM, blind-indexed and masked by the registry's protector) and an active dibao enrollment, written set-based in ${seedSeconds.toFixed(0)} s; the payer account set, the batch generated, submitted, approved and dispatched through the API (${prepSeconds.toFixed(1)} s). The service in a process of its own (as \`npm start\` runs it).`,
        `Doudi: \`GET /v1/payment-batches/{id}/pain.001\` as a bank client, read to its end over HTTP (${mib(fileBytes)} MiB, ${PAYMENTS.toLocaleString('en')} CdtTrfTxInf counted in the body): the batch checked, the download audited, the document streamed from the parts written out after finance approved (each opened and inflated). Writing it out (the approval's job: the payments read in one COPY … TO STDOUT, each account opened from its seal, the XML made, compressed and sealed in ${render!.parts} parts of about 1 MiB) took ${render!.seconds.toFixed(1)} s, before the bank's first download. Baseline: a bare node http server (own process) writing the file's header, ${PAYMENTS.toLocaleString('en')} copies of a record of the file's average CdtTrfTxInf size (${recordBytes} bytes) joined 2,000 at a time with backpressure, and its end. Alternating rounds, baseline first; the first download not timed.`,
        `Rounds (payments/s): baseline ${list(baseline)}; Doudi ${list(measured)}. Server RSS sampled every ${RSS_EVERY_MS} ms during each download (medians over rounds): Doudi ${m.start} MiB at the start, ${m.peak} MiB at the peak, ${m.end} MiB at the end; baseline ${base.start} / ${base.peak} / ${base.end} MiB. Memory flat (peak within 64 MiB of the start in every round): **${flat ? 'yes' : 'NO'}**.`,
      ],
      payments: PAYMENTS,
      rounds: ROUNDS,
      fileBytes,
      measured: { paymentsPerSec: measured.map((x) => PAYMENTS / x.seconds), rssMiB: m },
      baseline: { paymentsPerSec: baseline.map((x) => PAYMENTS / x.seconds), rssMiB: base },
      table: {
        columns: ['payments/s', 'MiB/s', 'seconds', 'RSS start MiB', 'RSS peak MiB'],
        measured: [
          ours,
          (fileBytes / 2 ** 20 / mid(measured.map((x) => x.seconds))).toFixed(1),
          (PAYMENTS / ours).toFixed(2),
          m.start,
          m.peak,
        ],
        baseline: [
          theirs,
          (bareBytes / 2 ** 20 / mid(baseline.map((x) => x.seconds))).toFixed(1),
          (PAYMENTS / theirs).toFixed(2),
          base.start,
          base.peak,
        ],
      },
      throughputRatio: Number((ours / theirs).toFixed(3)),
      target: '50,000 payments/s with flat memory',
      met,
    };
  } finally {
    if (bare) await stop(bare.child);
    await stop(server);
    await db.end();
  }
}
