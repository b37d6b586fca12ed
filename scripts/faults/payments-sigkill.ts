/**
 * Fault: the service is SIGKILLed while it generates a month's payment batch, then started again;
 * and again while its job writes the approved batch's pain.001 out. Passes when nothing of the
 * killed generation is ever seen (no batch, no payment, no event), generating again makes the whole
 * batch once (two requests at once get the same batch), nobody is paid twice, and the killed file
 * job is taken up again and writes the whole file, which the bank then downloads with every payment.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/faults/payments-sigkill.ts
 *
 * Uses a fresh database `doudi_fault_payments` on that server (dropped after a pass, kept after a
 * failure) and loopback addresses only. Gives up, failing, after FAULT_TIMEOUT_S (300) seconds.
 * Knobs: FAULT_HOUSEHOLDS (100000), FAULT_LEASE_MS (5000: the job lease of the service).
 */
import { payerAccount, PAYMENTS_REGION, paymentsCity } from '../../bench/payments-city.js';
import { type Answer, bulkServiceEnv, type Fault, knob, runFault, sleep } from './lib.js';

const HOUSEHOLDS = knob('FAULT_HOUSEHOLDS', 100_000);
const TIMEOUT_S = knob('FAULT_TIMEOUT_S', 300);
const LEASE_MS = knob('FAULT_LEASE_MS', 5_000);
const PERIOD = '2025-01';
const RENDER_JOB = 'payment_batch.render_pain001';

interface Batch {
  id: string;
  status: string;
  itemCount: number;
  totalFen: number;
}

await runFault(
  {
    name: 'payments',
    timeoutS: TIMEOUT_S,
    serviceEnv: { ...bulkServiceEnv, JOBS_LEASE_MS: String(LEASE_MS) },
  },
  async (fault) => {
    const { log, check, query } = fault;
    fault.stage = 'seeding the county';
    const city = await paymentsCity(fault.url, HOUSEHOLDS, 'fault');
    const [expected] = await query<{ n: number; fen: string }>(
      `select count(*)::int as n, sum(monthly_benefit_fen)::text as fen from enrollments
       where program_code = 'dibao' and region = $1 and status = 'active'`,
      [PAYMENTS_REGION],
    );
    const expectedFen = Number(expected!.fen);
    log(
      `county ${PAYMENTS_REGION}: ${expected!.n} households with an active dibao enrollment, ${expectedFen} fen a month (seeded in ${city.seedSeconds.toFixed(1)} s)`,
    );
    const request = { program: 'dibao', period: PERIOD, region: PAYMENTS_REGION };

    // 1. Kill in the middle of the generation's statement.
    fault.stage = 'starting the service';
    await fault.start();
    const killedStart = fault.generation;
    let firstAnswered = false;
    const first = fault.api<Batch>(city.prepare.key, 'POST', '/v1/payment-batches', request).then(
      (a) => a,
      (err: unknown) => err as Error,
    );
    void first.then(() => (firstAnswered = true));
    const busy = await fault.waitFor(
      'the generation to insert payments',
      // The statement that fills the batch (generate.sql.ts); pg_stat_activity shows its first 1 kB.
      async () => (firstAnswered ? 'answered' : fault.busyWith('%with cand as%')),
      10,
    );
    if (busy === 'answered') {
      fault.problem(
        `the generation answered before it could be killed (${stateOf(await first)}): raise FAULT_HOUSEHOLDS`,
      );
      return '';
    }
    await sleep(200); // deeper into the statement
    await fault.kill();
    const answered = await first;
    check(answered instanceof Error, `the killed generation answered: ${stateOf(answered)}`);
    log(`SIGKILL during the generation's INSERT … SELECT (backend ${busy.pid}); the request got: ${stateOf(answered)}`);

    // While PostgreSQL finishes the orphaned statement (then rolls it back), nothing of it shows.
    let samples = 0;
    let orphanRunning = true;
    while (orphanRunning) {
      await partialBatches(fault, 'while the killed generation’s statement was still running');
      samples++;
      orphanRunning = (await fault.backends(killedStart)).some((b) => b.state === 'active');
      if (orphanRunning) await sleep(100);
    }
    const orphanS = await fault.orphansGone(killedStart);
    log(
      `the orphaned statement ran on and was rolled back (${samples} samples meanwhile, closed ${orphanS.toFixed(1)} s after)`,
    );
    const [left] = await query<{ batches: number; items: number; exclusions: number; events: number; history: number }>(
      `select (select count(*)::int from payment_batches where period = $1) as batches,
              (select count(*)::int from payment_items where period = $1) as items,
              (select count(*)::int from payment_exclusions) as exclusions,
              (select count(*)::int from events where type like 'payment_batch.%') as events,
              (select count(*)::int from payment_batch_history) as history`,
      [PERIOD],
    );
    check(
      Object.values(left!).every((n) => n === 0),
      `the killed generation left something behind: ${JSON.stringify(left)}`,
    );

    // 2. Started again: the API shows no batch; two generations at once make one, whole.
    fault.stage = 'starting the service again';
    await fault.start();
    const listed = await fault.api<{ items: Batch[] }>(
      city.prepare.key,
      'GET',
      `/v1/payment-batches?program=dibao&period=${PERIOD}&region=${PAYMENTS_REGION}`,
    );
    check(
      listed.status === 200 && listed.body.items.length === 0,
      `after the restart the batch list answered ${listed.status} with ${listed.body.items?.length} batches, expected none`,
    );
    fault.stage = 'generating again, twice at once';
    const again = await Promise.all(
      [0, 1].map(() => fault.api<Batch>(city.prepare.key, 'POST', '/v1/payment-batches', request)),
    );
    const statuses = again.map((a) => a.status).sort();
    check(
      statuses.join() === '200,201',
      `two generations at once answered ${statuses.join(' and ')}, expected 201 and 200`,
    );
    const batch = again.find((a) => a.status === 201)?.body ?? again[0]!.body;
    check(
      again.every((a) => a.body.id === batch.id),
      `two generations at once answered two batches: ${again.map((a) => a.body.id).join(', ')}`,
    );
    check(
      batch.itemCount === expected!.n && batch.totalFen === expectedFen,
      `the batch made again declares ${batch.itemCount} payments of ${batch.totalFen} fen, expected ${expected!.n} of ${expectedFen}`,
    );
    log(
      `generated again: batch ${batch.id}, ${batch.itemCount} payments, ${batch.totalFen} fen (answers ${statuses.join(', ')})`,
    );
    await wholeBatch(fault, batch.id, expected!.n, expectedFen);
    const repeat = await fault.api<Batch>(city.prepare.key, 'POST', '/v1/payment-batches', request);
    check(
      repeat.status === 200 && repeat.body.id === batch.id,
      `generating a third time answered ${repeat.status} with batch ${repeat.body.id}, expected 200 with ${batch.id}`,
    );

    // 3. Approved: kill while the job writes the bank's file out; started again, it is written whole.
    fault.stage = 'submitting and approving the batch';
    const ok = (a: Answer, what: string) =>
      check(a.status < 300, `${what} answered ${a.status}: ${a.text.slice(0, 300)}`);
    ok(await fault.api(city.prepare.key, 'POST', `/v1/payment-batches/${batch.id}/submit`, {}), 'submitting');
    ok(
      await fault.api(city.finance.key, 'POST', '/v1/payment-payer-accounts', payerAccount),
      'setting the payer account',
    );
    ok(
      await fault.api(city.finance.key, 'POST', `/v1/payment-batches/${batch.id}/approve`, {
        itemCount: batch.itemCount,
        totalFen: batch.totalFen,
      }),
      'approving',
    );
    const renderStart = fault.generation;
    const writing = await fault.waitFor('the file job to write parts', async () => {
      const [ended] = await query(`select 1 from jobs where type = $1 and status in ('succeeded','failed')`, [
        RENDER_JOB,
      ]);
      return ended ? 'ended' : fault.busyWith('%payment_batch_file_parts%', { active: false });
    });
    if (writing === 'ended') {
      fault.problem('the file job ended before it could be killed: raise FAULT_HOUSEHOLDS');
      return '';
    }
    const [job] = await query<{ id: string; status: string; attempts: number }>(
      `select id, status, attempts from jobs where type = $1`,
      [RENDER_JOB],
    );
    await sleep(200);
    await fault.kill();
    log(
      `SIGKILL while the ${RENDER_JOB} job (${job!.status}, attempt ${job!.attempts}) wrote parts (backend ${writing.pid})`,
    );
    await fault.orphansGone(renderStart);
    const [cut] = await query<{ parts: number; rendered: boolean; status: string }>(
      `select (select count(*)::int from payment_batch_file_parts where batch_id = $1) as parts,
              coalesce((select rendered_at is not null from payment_batch_files where batch_id = $1), false) as rendered,
              (select status from jobs where id = $2) as status`,
      [batch.id, job!.id],
    );
    check(
      cut!.parts === 0 && !cut!.rendered,
      `the killed file job left ${cut!.parts} parts (rendered: ${cut!.rendered})`,
    );
    log(`after the kill: no part of the file stored; the job row says ${cut!.status} until its lease ends`);
    fault.stage = 'starting the service a third time';
    await fault.start();
    const restarted = Date.now();
    const done = await fault.waitFor(
      'the file job to end after the restart',
      async () => {
        const [row] = await query<{ status: string; attempts: number; problem: unknown }>(
          `select status, attempts, problem from jobs where id = $1 and status in ('succeeded','failed')`,
          [job!.id],
        );
        return row;
      },
      100,
    );
    log(
      `the file job ${done.status} on attempt ${done.attempts}, ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`,
    );
    check(done.status === 'succeeded', `the file job ended ${done.status}: ${JSON.stringify(done.problem)}`);
    check(done.attempts === 2, `the file job took ${done.attempts} attempts, expected 2 (the killed one and one more)`);
    const [file] = await query<{ parts: number; rendered_parts: number | null; rendered: boolean }>(
      `select (select count(*)::int from payment_batch_file_parts where batch_id = $1) as parts, rendered_parts,
              rendered_at is not null as rendered
       from payment_batch_files where batch_id = $1`,
      [batch.id],
    );
    check(
      Boolean(file?.rendered) && file!.parts === file!.rendered_parts && file!.parts > 0,
      `the file as stored: ${JSON.stringify(file)}`,
    );

    // The bank takes the batch and downloads its file: every payment in it, the header's figures right.
    fault.stage = 'dispatching and downloading the file';
    ok(await fault.api(city.bank.key, 'POST', `/v1/payment-batches/${batch.id}/dispatch`, {}), 'dispatching');
    const xml = await fault.api(city.bank.key, 'GET', `/v1/payment-batches/${batch.id}/pain.001`);
    const transactions = xml.text.split('<CdtTrfTxInf>').length - 1;
    const declared = [...xml.text.matchAll(/<NbOfTxs>(\d+)<\/NbOfTxs><CtrlSum>([\d.]+)<\/CtrlSum>/g)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    const sum = `${expected!.n} ${(expectedFen / 100).toFixed(2)}`;
    check(
      xml.status === 200 && transactions === expected!.n && xml.text.trimEnd().endsWith('</Document>'),
      `the pain.001 downloaded (${xml.status}) holds ${transactions} payments, expected ${expected!.n} and a whole document`,
    );
    check(
      declared.length === 2 && declared.every((d) => d === sum),
      `the pain.001 declares ${declared.join(' / ')}, expected ${sum} twice`,
    );
    log(
      `pain.001 downloaded: ${(xml.text.length / 2 ** 20).toFixed(1)} MiB, ${transactions} payments, declared ${declared[0]}`,
    );
    await wholeBatch(fault, batch.id, expected!.n, expectedFen);
    return `no partial batch (nothing of the killed generation seen, during or after), one batch generated again with all ${expected!.n} payments (two requests at once: one 201, one 200, the same batch), nobody paid twice, the killed pain.001 job taken up again after its lease and the file written whole (${transactions} payments downloaded)`;
  },
);

function stateOf(answer: Answer<unknown> | Error): string {
  return answer instanceof Error ? `no answer (${answer.message})` : `${answer.status}`;
}

/** Every batch visible holds exactly the payments it declares. */
async function partialBatches(fault: Fault, when: string) {
  const partial = await fault.query<{ id: string; item_count: number; items: number }>(
    `select b.id, b.item_count, (select count(*)::int from payment_items i where i.batch_id = b.id) as items
     from payment_batches b`,
  );
  for (const b of partial) {
    fault.check(
      b.items === b.item_count,
      `${when}: batch ${b.id} declares ${b.item_count} payments and holds ${b.items}`,
    );
  }
  const [loose] = await fault.query<{ n: number }>(`select count(*)::int as n from payment_items where period = $1`, [
    PERIOD,
  ]);
  const declared = partial.reduce((n, b) => n + b.item_count, 0);
  fault.check(loose!.n === declared, `${when}: ${loose!.n} payments for ${PERIOD} in the table, ${declared} declared`);
}

/** The batch holds one payment for each enrollment, its count and total as declared; nobody twice. */
async function wholeBatch(fault: Fault, batchId: string, households: number, fen: number) {
  const [state] = await fault.query<{
    batches: number;
    item_count: number;
    total_fen: string;
    items: number;
    sum: string;
    enrollments: number;
    period_items: number;
    twice: number;
    generated_events: number;
    generated_history: number;
  }>(
    `select (select count(*)::int from payment_batches where kind = 'regular' and period = $2 and region = $3
               and status <> 'rejected') as batches,
            b.item_count, b.total_fen::text,
            (select count(*)::int from payment_items i where i.batch_id = b.id) as items,
            (select coalesce(sum(amount_fen), 0)::text from payment_items i where i.batch_id = b.id) as sum,
            (select count(distinct enrollment_id)::int from payment_items i where i.batch_id = b.id) as enrollments,
            (select count(*)::int from payment_items where period = $2) as period_items,
            (select count(*)::int from (select 1 from payment_items where program_code = 'dibao' and period = $2 and live
               group by enrollment_id having count(*) > 1) twice) as twice,
            (select count(*)::int from events where type = 'payment_batch.generated') as generated_events,
            (select count(*)::int from payment_batch_history h where h.batch_id = b.id and h.action = 'generated') as generated_history
     from payment_batches b where b.id = $1`,
    [batchId, PERIOD, PAYMENTS_REGION],
  );
  const s = state!;
  fault.check(s.batches === 1, `${s.batches} batches for dibao ${PERIOD} ${PAYMENTS_REGION}, expected 1`);
  fault.check(
    s.item_count === households &&
      s.items === households &&
      s.enrollments === households &&
      s.period_items === households,
    `the batch declares ${s.item_count} payments, holds ${s.items} for ${s.enrollments} enrollments; ${s.period_items} payments for ${PERIOD} in all; expected ${households}`,
  );
  fault.check(
    Number(s.total_fen) === fen && Number(s.sum) === fen,
    `the batch declares ${s.total_fen} fen and its payments add up to ${s.sum}, expected ${fen}`,
  );
  fault.check(s.twice === 0, `${s.twice} enrollments paid twice for ${PERIOD}`);
  fault.check(
    s.generated_events === 1 && s.generated_history === 1,
    `${s.generated_events} payment_batch.generated events and ${s.generated_history} 'generated' history rows, expected 1 each`,
  );
}
