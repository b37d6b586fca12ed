import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { nextPeriod } from '../../../src/modules/payments/common.js';
import { json, testApp } from '../../helpers.js';
import {
  type Batch,
  enrolled,
  failure,
  http,
  type Payment,
  payerAccounts,
  type ProblemBody,
  thisMonth,
} from './payments.fixtures.js';

const period = thisMonth();

t.test('what payments name cannot be deleted; ids and EndToEndIds follow the batch', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const bank = await client('bank');
  const { get, post, paymentsOf } = http(app);
  const paid: Awaited<ReturnType<typeof enrolled>>[] = [];
  for (let i = 0; i < 5; i++) paid.push(await enrolled(app, { region: '220102', benefitFen: 10_000 + i }));
  const idle = await enrolled(app, { region: '220104' });
  const made = await post('/v1/payment-batches', caseworker, { program: 'dibao', period, region: '220102' });
  t.equal(made.statusCode, 201, made.body);
  const batch = json<Batch>(made);
  const items = await paymentsOf(batch.id, bank);
  t.equal(items.length, 5);

  t.test('payments are in enrollment order, each EndToEndId its id’s 32 hex digits', async (t) => {
    const byEnrollment = [...items].sort((a, b) => a.enrollmentId!.localeCompare(b.enrollmentId!));
    t.same(
      items.map((i) => i.id),
      byEnrollment.map((i) => i.id),
      'listed by id, they come in enrollment order',
    );
    for (const item of items) {
      t.equal(item.endToEndId, item.id.replaceAll('-', ''));
      t.match(item.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a version 7 UUID');
    }
    t.equal(new Set(items.map((i) => i.endToEndId)).size, 5);
  });

  t.test('a person’s and an enrollment’s payments are found period by period', async (t) => {
    const db = app.database.db;
    t.same(
      (await rows<{ period: string }>(db, sql`select payment_item_periods() as period`)).map((r) => r.period),
      [period],
      'the periods paid, read off the batches',
    );
    const list = async (query: string) =>
      json<{ items: Payment[] }>(await get(`/v1/payments?${query}`, caseworker)).items.map((p) => p.id);
    const of = (p: Payment) => [p.id];
    const [a, b] = [items[2]!, items[3]!];
    t.same(await list(`personId=${a.personId}`), of(a));
    t.same(await list(`enrollmentId=${b.enrollmentId}`), of(b));
    t.same(await list(`personId=${a.personId}&period=${period}`), of(a));
    t.same(await list(`personId=${idle.headId}`), [], 'nobody paid, nothing found');
  });

  t.test('deleting a paid person, enrollment or the batch is refused by the database', async (t) => {
    const db = app.database.db;
    const refused = [
      await failure(db.execute(sql`delete from persons where id = ${paid[0]!.headId}::uuid`)),
      await failure(db.execute(sql`delete from enrollments where id = ${paid[1]!.enrollmentId}::uuid`)),
    ];
    t.match(refused[0], /payments name person_id/);
    t.match(refused[1], /payments name enrollment_id/);
    t.match(
      await failure(
        db.transaction(async (tx) => {
          await tx.execute(sql`delete from payment_batch_history where batch_id = ${batch.id}::uuid`);
          await tx.execute(sql`delete from payment_batches where id = ${batch.id}::uuid`);
        }),
      ),
      /payments name batch_id/,
    );
    // Rows no payment names go as before.
    await db.execute(sql`delete from enrollments where id = ${idle.enrollmentId}::uuid`);
    await db.execute(sql`delete from persons where id = ${idle.headId}::uuid`);
    const left = await paymentsOf(batch.id, bank);
    t.equal(left.length, 5, 'the payments are all there');
  });

  t.test('a posting of more than 1 MiB is read (up to 10,000 results), and refused whole', async (t) => {
    await post(`/v1/payment-batches/${batch.id}/submit`, caseworker);
    const finance = await client('finance');
    await payerAccounts(app, finance, ['dibao']);
    await post(`/v1/payment-batches/${batch.id}/approve`, finance, {
      itemCount: batch.itemCount,
      totalFen: batch.totalFen,
    });
    await post(`/v1/payment-batches/${batch.id}/dispatch`, bank);
    const detail = '账户已销户，请核实后重新发起。'.repeat(15);
    const results = Array.from({ length: 5_000 }, (_, i) => ({
      endToEndId: i < items.length ? items[i]!.endToEndId : `unknown${i}`,
      status: 'failed',
      reasonCode: 'AC04',
      detail,
    }));
    const payload = JSON.stringify({ results });
    t.ok(Buffer.byteLength(payload) > 2 ** 20, `${Buffer.byteLength(payload)} bytes`);
    const answer = await app.inject({
      method: 'POST',
      url: `/v1/payment-batches/${batch.id}/results`,
      headers: { ...bank.headers, 'content-type': 'application/json' },
      payload,
    });
    t.equal(answer.statusCode, 400, answer.body.slice(0, 500));
    const problem = json<ProblemBody>(answer);
    t.equal(problem.errors!.length, 5_000 - items.length);
    t.same(problem.errors![0], {
      in: 'body',
      pointer: `/results/${items.length}/endToEndId`,
      detail: 'is not a payment of this batch',
    });
    const after = await paymentsOf(batch.id, bank);
    t.same(
      after.map((p: Payment) => p.status),
      items.map(() => 'sent'),
      'no payment changed',
    );
  });

  t.test('a failed payment re-issued cannot be deleted', async (t) => {
    const results = items.map((p, i) =>
      i === 0
        ? { endToEndId: p.endToEndId, status: 'failed', reasonCode: 'AC04' }
        : { endToEndId: p.endToEndId, status: 'paid' },
    );
    t.equal((await post(`/v1/payment-batches/${batch.id}/results`, bank, { results })).statusCode, 200);
    t.equal((await post(`/v1/payment-batches/${batch.id}/complete`, bank)).statusCode, 200);
    t.equal((await post(`/v1/payment-batches/${batch.id}/follow-up`, caseworker)).statusCode, 201);
    const db = app.database.db;
    t.match(
      await failure(db.execute(sql`delete from payment_items where id = ${items[0]!.id}::uuid`)),
      /payments name reissue_of/,
    );
  });
});

t.test('payments no longer live are found by enrollment and still guard it', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220103' });
  const finance = await client('finance');
  const { get, post } = http(app);
  const person = await enrolled(app, { region: '220103' });
  const made = json<Batch>(
    await post('/v1/payment-batches', caseworker, { program: 'dibao', period, region: '220103' }),
  );
  t.equal((await post(`/v1/payment-batches/${made.id}/submit`, caseworker)).statusCode, 200);
  const rejected = await post(`/v1/payment-batches/${made.id}/reject`, finance, { reason: 'wrong standard' });
  t.equal(rejected.statusCode, 200, rejected.body);
  const list = async (query: string) =>
    json<{ items: Payment[] }>(await get(`/v1/payments?${query}`, caseworker)).items.map((p) => p.status);
  t.same(await list(`enrollmentId=${person.enrollmentId}`), ['cancelled'], 'the cancelled payment is found');
  const again = json<Batch>(
    await post('/v1/payment-batches', caseworker, { program: 'dibao', period, region: '220103' }),
  );
  t.not(again.id, made.id, 'generated again');
  t.same(
    (await list(`enrollmentId=${person.enrollmentId}`)).sort(),
    ['cancelled', 'pending'],
    'live and cancelled payments of the enrollment alike',
  );
  t.same(
    await list(`enrollmentId=${person.enrollmentId}&period=${period}&status=pending`),
    ['pending'],
    'with a period and a status too',
  );
  // The new batch's payment taken away again: only the cancelled payment names the enrollment.
  const db = app.database.db;
  await db.transaction(async (tx) => {
    for (const table of ['payment_items', 'payment_exclusions', 'payment_batch_history'])
      await tx.execute(sql`delete from ${sql.raw(table)} where batch_id = ${again.id}::uuid`);
    await tx.execute(sql`delete from payment_batches where id = ${again.id}::uuid`);
  });
  t.match(
    await failure(db.execute(sql`delete from enrollments where id = ${person.enrollmentId}::uuid`)),
    /payments name enrollment_id/,
    'a cancelled payment still names its enrollment',
  );
});

t.test('a payment made with a random EndToEndId (before migration 0020) gets its result by it', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220105' });
  const finance = await client('finance');
  const bank = await client('bank');
  const { post, paymentsOf } = http(app);
  for (let i = 0; i < 3; i++) await enrolled(app, { region: '220105' });
  const batch = json<Batch>(
    await post('/v1/payment-batches', caseworker, { program: 'dibao', period, region: '220105' }),
  );
  const db = app.database.db;
  const [first] = await paymentsOf(batch.id, bank);
  // As the table's default made EndToEndIds before: random hex digits, not the id's.
  const legacy = '0123456789abcdef4123456789abcdef';
  await db.execute(sql`update payment_items set end_to_end_id = ${legacy} where id = ${first!.id}::uuid`);
  const duplicate = await failure(
    db.execute(sql`update payment_items set end_to_end_id = ${legacy}
                   where batch_id = ${batch.id}::uuid and id <> ${first!.id}::uuid`),
  );
  t.match(duplicate, /payment_items_end_to_end_idx/, 'two random EndToEndIds are unique all the same');
  await post(`/v1/payment-batches/${batch.id}/submit`, caseworker);
  await payerAccounts(app, finance, ['dibao']);
  await post(`/v1/payment-batches/${batch.id}/approve`, finance, { itemCount: 3, totalFen: batch.totalFen });
  t.equal((await post(`/v1/payment-batches/${batch.id}/dispatch`, bank)).statusCode, 200);
  const items = await paymentsOf(batch.id, bank);
  t.equal(items.find((p) => p.id === first!.id)!.endToEndId, legacy);
  const byId = await post(`/v1/payment-batches/${batch.id}/results`, bank, {
    results: [{ endToEndId: first!.id.replaceAll('-', ''), status: 'paid' }],
  });
  t.equal(byId.statusCode, 400, 'its id’s hex digits are not its EndToEndId');
  t.match(json<ProblemBody>(byId).errors, [
    { pointer: '/results/0/endToEndId', detail: 'is not a payment of this batch' },
  ]);
  const results = items.map((p) => ({ endToEndId: p.endToEndId, status: 'paid' }));
  const posted = await post(`/v1/payment-batches/${batch.id}/results`, bank, { results });
  t.equal(posted.statusCode, 200, posted.body);
  t.same(
    (await paymentsOf(batch.id, bank)).map((p) => p.status),
    ['paid', 'paid', 'paid'],
    'every payment paid, the one with a random EndToEndId too',
  );
  const repeated = await post(`/v1/payment-batches/${batch.id}/results`, bank, { results });
  t.equal(repeated.statusCode, 200, 'posting again changes nothing');
});

t.test('a person’s payments are found after someone else became the head of the household', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220106' });
  const { get, post } = http(app);
  const family = await enrolled(app, { region: '220106', size: 2 });
  const [first, second] = family.members as [string, string];
  const db = app.database.db;
  await db.execute(sql`update persons set bank_name = 'Bank of Jilin', bank_account_holder = 'Holder',
    bank_account_sealed = h.bank_account_sealed, bank_account_masked = h.bank_account_masked
    from persons h where h.id = ${first}::uuid and persons.id = ${second}::uuid`);
  const batch = async (p: string) => {
    const res = await post('/v1/payment-batches', caseworker, { program: 'dibao', period: p, region: '220106' });
    t.equal(res.statusCode, 201, res.body);
  };
  await batch(period);
  await db.execute(sql`update persons set relationship = 'spouse' where id = ${first}::uuid`);
  await db.execute(sql`update persons set relationship = 'head' where id = ${second}::uuid`);
  await batch(nextPeriod(period));
  const of = async (person: string) =>
    json<{ items: Payment[] }>(await get(`/v1/payments?personId=${person}`, caseworker)).items.map((p) => [
      p.personId,
      p.period,
    ]);
  t.same(await of(first), [[first, period]], 'the former head: the month they were paid');
  t.same(await of(second), [[second, nextPeriod(period)]], 'the new head: the month after');
  t.match(
    await failure(db.execute(sql`delete from persons where id = ${first}::uuid`)),
    /payments name person_id/,
    'the former head cannot be deleted',
  );
});
