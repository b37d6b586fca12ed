/**
 * What the payments scenarios share: a county of households, each a head with a bank account (the
 * payee) and an active dibao enrollment, written set-based; the clients that drive a batch; calls
 * to the service over HTTP. The county is seeded once per database: a scenario that finds it
 * seeded (an earlier scenario of the same run) reuses it, and pays whatever it holds.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import { syntheticResidentId } from '../src/modules/registry/people.seed.js';
import { mask } from '../src/modules/registry/sensitive.js';
import { start } from './lib.js';
import { actor, benchClient, matchingEnv, seedingApp, syntheticDibaoStandard } from './matching-city.js';

/** A county no other (non-payments) scenario registers people in. */
export const PAYMENTS_REGION = '220112';
const SEED_CHUNK = 10_000;
const surnames = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
const given = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志';

export const thisMonth = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date());

export interface PaymentsCity {
  prepare: { id: string; key: string };
  finance: { id: string; key: string };
  bank: { id: string; key: string };
  /** Active dibao enrollments in the county: what a month's batch for it pays. */
  households: number;
  /** Seconds spent seeding in this call (0 when the county was seeded already). */
  seedSeconds: number;
}

/**
 * Seeds (or finds) `households` households in PAYMENTS_REGION, values sealed, indexed and masked
 * by the registry's protector; makes the caseworker, finance and bank clients named after `label`.
 */
/** The city's dibao fund account, which dispatching a batch needs (its pain.001's debtor). */
export const payerAccount = {
  program: 'dibao',
  region: '2201',
  accountName: '长春市城乡低保资金专户',
  accountNumber: '22050161000800000111',
  bankName: '中国农业银行长春分行',
  bankBic: 'ABOCCNBJ220',
};

export async function paymentsCity(url: string, households: number, label: string): Promise<PaymentsCity> {
  const app = await seedingApp(url);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const prepare = await benchClient(app, 'civil_affairs', `bench ${label} caseworker`, '2201');
    const finance = await benchClient(app, 'finance', `bench ${label} finance`, '2201');
    const bank = await benchClient(app, 'bank', `bench ${label} bank`, '2201');
    const count = async () =>
      Number(
        (
          await db.query<{ n: string }>(
            `select count(*) as n from enrollments where program_code = 'dibao' and region = $1`,
            [PAYMENTS_REGION],
          )
        ).rows[0]!.n,
      );
    const present = await count();
    if (present === 0) {
      await app.services.programs.createStandard({ jurisdiction: '22' }, actor, 'dibao', {
        ...syntheticDibaoStandard,
        label: 'bench payments',
      });
    }
    const started = performance.now();
    const { pii } = app.services;
    for (let from = present; from < households; from += SEED_CHUNK) {
      await seedChunk(db, pii, from, Math.min(SEED_CHUNK, households - from));
    }
    const seedSeconds = present < households ? (performance.now() - started) / 1000 : 0;
    if (seedSeconds > 0) await db.query('analyze');
    return { prepare, finance, bank, households: await count(), seedSeconds };
  } finally {
    await db.end();
    await app.close();
  }
}

type Pii = Awaited<ReturnType<typeof seedingApp>>['services']['pii'];

/** Households `from` … `from + count - 1`: each a head with a bank account, and an active dibao enrollment. */
async function seedChunk(db: pg.Client, pii: Pii, from: number, count: number) {
  const h: { id: string[]; benefit: number[] } = { id: [], benefit: [] };
  const columns = ['household', 'name', 'sealed', 'index', 'masked', 'acct', 'acctMasked'] as const;
  const p = Object.fromEntries(columns.map((c) => [c, [] as string[]])) as Record<(typeof columns)[number], string[]>;
  for (let i = from; i < from + count; i++) {
    const id = randomUUID();
    h.id.push(id);
    h.benefit.push(72_000 - ((i * 7_919) % 60_000));
    const idNumber = syntheticResidentId(PAYMENTS_REGION, i);
    const name = surnames[i % surnames.length]! + given[(i * 7) % given.length]! + given[(i * 13) % given.length]!;
    const account = `622848${String(1_000_000_000_000 + i)}`;
    p.household.push(id);
    p.name.push(name);
    p.sealed.push(pii.seal(idNumber));
    p.index.push(pii.index('document', idNumber));
    p.masked.push(mask('document', idNumber, 'resident_id'));
    p.acct.push(pii.seal(account));
    p.acctMasked.push(mask('bank_account', account));
  }
  await db.query('begin');
  await db.query(`insert into households (id, region) select id, $2 from unnest($1::uuid[]) as id`, [
    h.id,
    PAYMENTS_REGION,
  ]);
  await db.query(
    `insert into persons (household_id, relationship, name, id_type, id_number_sealed, id_number_index, id_number_masked,
       region, bank_name, bank_account_holder, bank_account_sealed, bank_account_masked, sealed_key_id)
     select household, 'head', name, 'resident_id', sealed, index, masked, $8, '中国农业银行双阳支行', name, acct, acct_masked, $9
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
       as x(household, name, sealed, index, masked, acct, acct_masked)`,
    [...columns.map((c) => p[c]), PAYMENTS_REGION, pii.currentKeyId],
  );
  await db.query(
    `insert into enrollments (program_code, household_id, region, status, monthly_benefit_fen, benefit_basis, start_date)
     select 'dibao', id, $3, 'active', benefit, jsonb_build_object('householdSize', 1, 'monthlyStandardFen', 72000), '2025-01-01'
     from unnest($1::uuid[], $2::bigint[]) as x(id, benefit)`,
    [h.id, h.benefit, PAYMENTS_REGION],
  );
  await db.query('commit');
}

/** POSTs JSON to the service; throws unless it answers one of `expect`. */
export async function call(
  port: number,
  key: string,
  path: string,
  body: unknown,
  expect = [200, 201],
): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!expect.includes(res.status)) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 2000)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export interface BatchAnswer {
  id: string;
  itemCount: number;
  totalFen: number;
}

/** A batch through the API: generated (201), then submitted, approved and dispatched; seconds each. */
export async function dispatchedBatch(port: number, city: PaymentsCity, period: string) {
  const timed = async <T>(f: () => Promise<T>) => {
    const started = performance.now();
    const value = await f();
    return { value, seconds: (performance.now() - started) / 1000 };
  };
  const gen = await timed(
    () =>
      call(
        port,
        city.prepare.key,
        '/v1/payment-batches',
        { program: 'dibao', period, region: PAYMENTS_REGION },
        [201],
      ) as Promise<unknown> as Promise<BatchAnswer>,
  );
  const batch = gen.value;
  const submit = await timed(() => call(port, city.prepare.key, `/v1/payment-batches/${batch.id}/submit`, {}));
  const approve = await timed(() =>
    call(port, city.finance.key, `/v1/payment-batches/${batch.id}/approve`, {
      itemCount: batch.itemCount,
      totalFen: batch.totalFen,
    }),
  );
  // Dispatch needs the fund account the batch is paid from: the city's, set once (409 when it is).
  await call(port, city.finance.key, '/v1/payment-payer-accounts', payerAccount, [201, 409]);
  const dispatch = await timed(() => call(port, city.bank.key, `/v1/payment-batches/${batch.id}/dispatch`, {}));
  return {
    batch,
    seconds: { generate: gen.seconds, submit: submit.seconds, approve: approve.seconds, dispatch: dispatch.seconds },
  };
}

/** The service in a process of its own, as `npm start` runs it (BENCH_CPU_PROF=<dir>: profiled). */
export const startService = (url: string, port: number): Promise<ChildProcess> =>
  start('./servers/doudi.ts', { ...matchingEnv(url), PORT: String(port), HOST: '127.0.0.1' }, [
    ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
  ]);

/** `n` periods (YYYY-MM, from 2025-01, when the county's enrollments start) no batch of the county has taken. */
export async function freePeriods(db: pg.Client, n: number): Promise<string[]> {
  const { rows } = await db.query<{ period: string }>(
    `select distinct period from payment_batches where region = $1 and kind = 'regular'`,
    [PAYMENTS_REGION],
  );
  const taken = new Set(rows.map((r) => r.period));
  const free: string[] = [];
  for (let y = 2025, m = 1; free.length < n; m === 12 ? (y++, (m = 1)) : m++) {
    const period = `${y}-${String(m).padStart(2, '0')}`;
    if (period > thisMonth()) throw new Error(`only ${free.length} free periods for ${n} batches`);
    if (!taken.has(period)) free.push(period);
  }
  return free;
}

/**
 * Waits until the service's job worker is idle (an approval queues the writing of the batch's
 * pain.001 when the program has a payer account): nothing runs in the background of a timed step.
 */
export async function jobsDone(db: pg.Client, timeoutMs = 900_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `select count(*) as n from jobs where status in ('queued','running')`,
    );
    if (rows[0]!.n === '0') return;
    if (Date.now() > until) throw new Error(`${rows[0]!.n} jobs still queued or running`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * Between timed steps: dead rows vacuumed and statistics fresh (so autovacuum does not start in
 * the middle of the next one), and a checkpoint (so none falls in it).
 */
export async function settle(db: pg.Client) {
  await db.query('vacuum analyze payment_items');
  await db.query('vacuum analyze payment_batches');
  await db.query('checkpoint');
}

/** The machine's load average (1 minute), for the notes. */
export const load1 = () => loadavg()[0]!.toFixed(1);
