/**
 * Generating a month's batch (issue 6): `POST /v1/payment-batches` for a county of BENCH_PAYMENTS
 * households (default 500,000), each with an active dibao enrollment and a head with a bank
 * account, against the bare `INSERT … SELECT` of the same payments from the same enrollments, in
 * alternating rounds (each a period of its own), on the service in a process of its own.
 */
import { cpus } from 'node:os';
import pg from 'pg';
import { mid, type ScenarioResult, stop } from '../lib.js';
import {
  type BatchAnswer,
  call,
  freePeriods,
  load1,
  PAYMENTS_REGION,
  paymentsCity,
  settle,
  startService,
} from '../payments-city.js';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 500_000);
const ROUNDS = Number(process.env.BENCH_PAYMENTS_ROUNDS ?? 3);
const PORT = 3908;

/**
 * The baseline: the batch row, then one INSERT … SELECT of an item per enrollment paid to its
 * household's head, with the table's own defaults (ids, EndToEndIds); one transaction.
 */
async function bareGeneration(db: pg.Client, period: string) {
  const started = performance.now();
  await db.query('begin');
  const { rows } = await db.query<{ id: string }>(
    `insert into payment_batches (kind, program_code, period, region, status) values ('regular', 'dibao', $1, $2, 'draft') returning id`,
    [period, PAYMENTS_REGION],
  );
  const inserted = await db.query(
    `insert into payment_items (batch_id, program_code, period, region, enrollment_id, household_id, person_id, amount_fen,
       payee_name, bank_name, account_holder, account_sealed, account_masked)
     select $1, 'dibao', $2, e.region, e.id, e.household_id, p.id, e.monthly_benefit_fen,
       p.name, p.bank_name, p.bank_account_holder, p.bank_account_sealed, p.bank_account_masked
     from enrollments e join persons p on p.household_id = e.household_id and p.relationship = 'head'
     where e.program_code = 'dibao' and e.status = 'active' and e.region like $3`,
    [rows[0]!.id, period, `${PAYMENTS_REGION}%`],
  );
  await db.query('commit');
  return { seconds: (performance.now() - started) / 1000, count: inserted.rowCount ?? 0, batchId: rows[0]!.id };
}

/** Takes a batch made by a round away again (it was never submitted), so that every round starts alike. */
async function discard(db: pg.Client, batchId: string) {
  await db.query('begin');
  for (const table of ['payment_items', 'payment_exclusions', 'payment_batch_history'])
    await db.query(`delete from ${table} where batch_id = $1`, [batchId]);
  await db.query('delete from payment_batches where id = $1', [batchId]);
  await db.query('commit');
}

const countPayments = async (db: pg.Client) =>
  Number((await db.query<{ n: string }>('select count(*) as n from payment_items')).rows[0]!.n);

export async function scenarioPaymentsGenerate(url: string): Promise<ScenarioResult> {
  const city = await paymentsCity(url, PAYMENTS, 'generate');
  const payments = city.households;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const server = await startService(url, PORT);
  try {
    // A month paid already (as in any month but the first): generated through the API, not timed.
    const [earlier, ...periods] = await freePeriods(db, 3);
    const generate = async (period: string) =>
      (await call(
        PORT,
        city.prepare.key,
        '/v1/payment-batches',
        { program: 'dibao', period, region: PAYMENTS_REGION },
        [201],
      )) as unknown as BatchAnswer;
    if ((await countPayments(db)) === 0) await generate(earlier!);
    const before = await countPayments(db);
    const measured: number[] = [];
    const baseline: number[] = [];
    const loads: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await settle(db);
      loads.push(load1());
      const bare = await bareGeneration(db, periods[0]!);
      if (bare.count !== payments) throw new Error(`the baseline inserted ${bare.count}, not ${payments}`);
      baseline.push(bare.seconds);
      await discard(db, bare.batchId);
      await settle(db);
      const started = performance.now();
      const batch = await generate(periods[1]!);
      measured.push((performance.now() - started) / 1000);
      if (batch.itemCount !== payments) throw new Error(`the batch pays ${batch.itemCount}, not ${payments}`);
      await discard(db, batch.id);
      console.error(
        `  generate round ${round + 1}: bare ${baseline.at(-1)!.toFixed(2)} s, Doudi ${measured.at(-1)!.toFixed(2)} s (load ${loads.at(-1)})`,
      );
    }
    const ours = mid(measured);
    const theirs = mid(baseline);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    const row = (seconds: number) => [seconds.toFixed(2), Math.round(payments / seconds)];
    return {
      name: 'payments-generate',
      title: `Payments: generating a ${payments.toLocaleString('en')}-payment batch (POST /v1/payment-batches)`,
      baselineTitle: 'The bare INSERT … SELECT of the same payments from the same enrollments',
      notes: [
        `Data: ${payments.toLocaleString('en')} households in ${PAYMENTS_REGION}, each a head with a bank account (sealed, blind-indexed and masked by the registry's protector) and an active dibao enrollment, written set-based${city.seedSeconds ? ` in ${city.seedSeconds.toFixed(0)} s` : ' (by an earlier scenario of the run)'}. The service in a process of its own (as \`npm start\` runs it).`,
        `Doudi: \`POST /v1/payment-batches\` \`{ program: dibao, period, region: ${PAYMENTS_REGION} }\` as a caseworker, timed from request to answer (201, the batch with its payments by status and history): the caller's region and period checked, the batch row, one statement selecting the candidates (active, started, not paid for the period; payee the household's head), inserting the payments in enrollment order with time-ordered ids and the exclusions, and setting the declared count and total; history, event and audit row; one transaction. Baseline: in one transaction, the batch row and one \`INSERT INTO payment_items … SELECT\` joining the same enrollments to their heads, with the table's default ids and EndToEndIds, through node-postgres. Every step starts alike: the table holds ${before.toLocaleString('en')} payments (the county's earlier month, generated through the API first, and those of earlier scenarios of the run); the step's batch is deleted again afterwards, dead rows vacuumed and a checkpoint taken. Alternating rounds, baseline first.`,
        `Rounds (seconds): baseline ${list(baseline)}; Doudi ${list(measured)}. Load average (1 min) at each round's start: ${loads.join(', ')} on ${cpus().length} cores shared with other work.`,
      ],
      payments,
      rounds: ROUNDS,
      measured: { seconds: measured },
      baseline: { seconds: baseline },
      table: { columns: ['seconds', 'payments/s'], measured: row(ours), baseline: row(theirs) },
      throughputRatio: Number((theirs / ours).toFixed(3)),
      target: 'a 500,000-payment batch in under 10 s',
      met: payments >= 500_000 ? ours < 10 : null,
    };
  } finally {
    await stop(server);
    await db.end();
  }
}
