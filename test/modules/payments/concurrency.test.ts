import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { json, onPostgres, testApp } from '../../helpers.js';
import { type Batch, enrolled, http, payerAccounts, type Reconciliation, thisMonth } from './payments.fixtures.js';

interface ResultsAnswer {
  recorded: Record<'paid' | 'failed' | 'returned', { count: number; amountFen: number }>;
  unchanged: number;
  stillSent: number;
}

const period = thisMonth();

t.test(
  'concurrent requests on PostgreSQL make exactly one payment each',
  { skip: !onPostgres && 'needs PostgreSQL' },
  async (t) => {
    const { app, admin, client } = await testApp(t);
    const city = await client('civil_affairs');
    const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
    const finance = [await client('finance'), await client('finance'), await client('finance')];
    const bank = await client('bank');
    const { post, paymentsOf, reconciliation, count } = http(app);
    await payerAccounts(app, finance[0]!);
    const nanguanEnrollments: Awaited<ReturnType<typeof enrolled>>[] = [];
    for (let i = 0; i < 120; i++)
      nanguanEnrollments.push(await enrolled(app, { region: '220102', benefitFen: 10_000 + i }));
    for (let i = 0; i < 40; i++) await enrolled(app, { region: '220104', benefitFen: 20_000 + i });
    const everyone = 120 * 10_000 + (119 * 120) / 2 + 40 * 20_000 + (39 * 40) / 2;

    let nanguanBatch: Batch;
    let chaoyangBatch: Batch;
    t.test('generation: the same batch four times at once, another district’s twice', async (t) => {
      const answers = await Promise.all([
        ...[1, 2, 3, 4].map(() => post('/v1/payment-batches', nanguan, { program: 'dibao', period, region: '220102' })),
        ...[1, 2].map(() => post('/v1/payment-batches', city, { program: 'dibao', period, region: '220104' })),
      ]);
      const statuses = answers.map((a) => a.statusCode);
      t.same(statuses.slice(0, 4).sort(), [200, 200, 200, 201], answers.map((a) => a.body).join('\n'));
      t.same(statuses.slice(4).sort(), [200, 201]);
      const batches = answers.map((a) => json<Batch>(a));
      t.equal(new Set(batches.slice(0, 4).map((b) => b.id)).size, 1, 'one Nanguan batch');
      t.equal(new Set(batches.slice(4).map((b) => b.id)).size, 1, 'one Chaoyang batch');
      nanguanBatch = batches[0]!;
      chaoyangBatch = batches[4]!;
      t.match(nanguanBatch, { itemCount: 120, totalFen: 120 * 10_000 + (119 * 120) / 2 });
      t.match(chaoyangBatch, { itemCount: 40, totalFen: everyone - nanguanBatch.totalFen });
      t.equal(await count(sql`select count(*)::int as n from payment_items`), 160);
    });

    t.test(
      'generation: overlapping batches at once (a district’s and the city’s) pay each enrollment once',
      async (t) => {
        for (let i = 0; i < 30; i++)
          await enrolled(app, { region: i < 20 ? '220102' : '220104', program: 'tekun', benefitFen: 5_000 });
        const answers = await Promise.all([
          ...[1, 2].map(() => post('/v1/payment-batches', nanguan, { program: 'tekun', period, region: '220102' })),
          ...[1, 2].map(() => post('/v1/payment-batches', city, { program: 'tekun', period, region: '2201' })),
        ]);
        const made = answers.filter((a) => a.statusCode === 201).map((a) => json<Batch>(a));
        // Whichever commits first pays Nanguan; the other pays the rest (or, for Nanguan, finds nothing: 422).
        t.ok(
          answers.every((a) => [200, 201, 422].includes(a.statusCode)),
          answers.map((a) => a.body).join('\n'),
        );
        t.equal(
          made.reduce((n, b) => n + b.itemCount, 0),
          30,
        );
        t.equal(
          made.reduce((n, b) => n + b.totalFen, 0),
          30 * 5_000,
        );
        const twice = await count(
          sql`select count(*)::int as n from (select enrollment_id from payment_items where program_code = 'tekun' group by enrollment_id having count(*) > 1) d`,
        );
        t.equal(twice, 0);
        t.equal(await count(sql`select count(*)::int as n from payment_items where program_code = 'tekun'`), 30);
      },
    );

    t.test('approval: three finance officials at once, one approves', async (t) => {
      const id = nanguanBatch.id;
      t.equal((await post(`/v1/payment-batches/${id}/submit`, nanguan)).statusCode, 200);
      const echo = { itemCount: nanguanBatch.itemCount, totalFen: nanguanBatch.totalFen };
      const answers = await Promise.all(finance.map((f) => post(`/v1/payment-batches/${id}/approve`, f, echo)));
      t.same(answers.map((a) => a.statusCode).sort(), [200, 409, 409]);
      t.equal(
        await count(
          sql`select count(*)::int as n from payment_journal where batch_id = ${id}::uuid and kind = 'approval'`,
        ),
        1,
      );
      t.match(await reconciliation(id, finance[0]!), {
        ledger: { allocatedFen: nanguanBatch.totalFen },
        ledgerAgrees: true,
      });
    });

    t.test('results: the same posting four times at once is recorded once', async (t) => {
      const id = nanguanBatch.id;
      t.equal((await post(`/v1/payment-batches/${id}/dispatch`, bank)).statusCode, 200);
      const items = await paymentsOf(id, bank);
      const results = items.map((item, i) =>
        i % 6 === 0
          ? { endToEndId: item.endToEndId, status: 'failed', reasonCode: 'AC04' }
          : { endToEndId: item.endToEndId, status: 'paid' },
      );
      const failures = results.filter((r) => r.status === 'failed').length;
      const answers = await Promise.all(
        [1, 2, 3, 4].map(() => post(`/v1/payment-batches/${id}/results`, bank, { results })),
      );
      t.same(
        answers.map((a) => a.statusCode),
        [200, 200, 200, 200],
        answers.map((a) => a.body).join('\n'),
      );
      const bodies = answers.map((a) => json<ResultsAnswer>(a));
      t.equal(
        bodies.reduce((n, b) => n + b.recorded.paid.count, 0),
        items.length - failures,
      );
      t.equal(
        bodies.reduce((n, b) => n + b.recorded.failed.count, 0),
        failures,
      );
      t.equal(
        bodies.reduce((n, b) => n + b.unchanged, 0),
        3 * items.length,
      );
      t.equal(
        await count(
          sql`select count(*)::int as n from payment_journal where batch_id = ${id}::uuid and kind = 'results'`,
        ),
        1,
      );
      t.match(await reconciliation(id, finance[0]!), {
        pending: { count: 0 },
        failed: { count: failures },
        balanced: true,
        ledgerAgrees: true,
      });
    });

    t.test('results: disjoint postings at once each count', async (t) => {
      const id = chaoyangBatch.id;
      await post(`/v1/payment-batches/${id}/submit`, city);
      await post(`/v1/payment-batches/${id}/approve`, finance[0]!, {
        itemCount: chaoyangBatch.itemCount,
        totalFen: chaoyangBatch.totalFen,
      });
      t.equal((await post(`/v1/payment-batches/${id}/dispatch`, bank)).statusCode, 200);
      const items = await paymentsOf(id, bank);
      const chunks = [0, 1, 2, 3].map((k) =>
        items.filter((_, i) => i % 4 === k).map((i) => ({ endToEndId: i.endToEndId, status: 'paid' })),
      );
      const answers = await Promise.all(
        chunks.map((results) => post(`/v1/payment-batches/${id}/results`, bank, { results })),
      );
      t.same(
        answers.map((a) => a.statusCode),
        [200, 200, 200, 200],
      );
      t.equal(
        answers.reduce((n, a) => n + json<ResultsAnswer>(a).recorded.paid.count, 0),
        items.length,
      );
      t.match(await reconciliation(id, finance[0]!), {
        paid: { count: items.length, amountFen: chaoyangBatch.totalFen },
        ledgerAgrees: true,
      });
    });

    t.test('results: overlapping postings in opposite orders at once', async (t) => {
      for (let i = 0; i < 60; i++) await enrolled(app, { region: '220105', benefitFen: 3_000 + i });
      const made = json<Batch>(await post('/v1/payment-batches', city, { program: 'dibao', period, region: '220105' }));
      await post(`/v1/payment-batches/${made.id}/submit`, city);
      await post(`/v1/payment-batches/${made.id}/approve`, finance[0]!, {
        itemCount: made.itemCount,
        totalFen: made.totalFen,
      });
      await post(`/v1/payment-batches/${made.id}/dispatch`, bank);
      const results = (await paymentsOf(made.id, bank)).map((item, i) =>
        i % 10 === 3
          ? { endToEndId: item.endToEndId, status: 'returned', reasonCode: 'AC01' }
          : { endToEndId: item.endToEndId, status: 'paid' },
      );
      // Each posting shares payments with the others, in another order.
      const postings = [results, [...results].reverse(), results.slice(0, 40).reverse(), results.slice(20)];
      const posted = await Promise.all(
        postings.map((r) => post(`/v1/payment-batches/${made.id}/results`, bank, { results: r })),
      );
      t.same(
        posted.map((a) => a.statusCode),
        [200, 200, 200, 200],
        posted.map((a) => a.body).join('\n'),
      );
      const bodies = posted.map((a) => json<ResultsAnswer>(a));
      const recorded = bodies.reduce((n, b) => n + b.recorded.paid.count + b.recorded.returned.count, 0);
      t.equal(recorded, 60, 'each payment recorded once');
      t.equal(
        bodies.reduce((n, b) => n + b.unchanged, 0),
        60 + 40 + 40,
        'the rest counted unchanged',
      );
      // Counted in turn: what each posting left awaiting its result is what the others had not done yet.
      const stillSent = bodies.map((b) => b.stillSent).sort((a, b) => b - a);
      t.equal(stillSent.at(-1), 0);
      t.equal((await post(`/v1/payment-batches/${made.id}/complete`, bank)).statusCode, 200);
      t.match(await reconciliation(made.id, finance[0]!), {
        pending: { count: 0 },
        returned: { count: 6 },
        balanced: true,
        ledgerAgrees: true,
      });
      const [batch] = await rows<{ result_count: number; version: number }>(
        app.database.db,
        sql`select result_count, version from payment_batches where id = ${made.id}::uuid`,
      );
      t.equal(batch!.result_count, 60);
    });

    t.test('follow-ups: three at once, each failure re-issued once', async (t) => {
      const id = nanguanBatch.id;
      t.equal((await post(`/v1/payment-batches/${id}/complete`, bank)).statusCode, 200);
      const answers = await Promise.all([1, 2, 3].map(() => post(`/v1/payment-batches/${id}/follow-up`, nanguan)));
      t.same(answers.map((a) => a.statusCode).sort(), [201, 409, 409], answers.map((a) => a.body).join('\n'));
      const failed = await count(
        sql`select count(*)::int as n from payment_items where batch_id = ${id}::uuid and status = 'failed'`,
      );
      t.equal(await count(sql`select count(*)::int as n from payment_items where reissue_of is not null`), failed);
      const r = json<Reconciliation>(
        await app.inject({ method: 'GET', url: `/v1/payment-batches/${id}/reconciliation`, headers: nanguan.headers }),
      );
      t.match(r, { reissued: { count: failed }, outstandingFailures: { count: 0 } });
    });

    t.test('an emergency payment asked for four times at once is made once', async (t) => {
      await post('/v1/programs/temporary_assistance/standards', admin, {
        region: '2201',
        effectiveFrom: '2020-01-01',
        monthlyStandardFen: 100_000,
      });
      const person = nanguanEnrollments[0]!.headId;
      const grant = await post('/v1/temporary-assistance', nanguan, {
        personId: person,
        cashFen: 30_000,
        reason: 'hospitalised',
      });
      t.equal(grant.statusCode, 201, grant.body);
      const grantId = json<{ id: string }>(grant).id;
      const answers = await Promise.all(
        [1, 2, 3, 4].map(() => post('/v1/payment-batches/emergency', nanguan, { temporaryAssistanceId: grantId })),
      );
      t.same(answers.map((a) => a.statusCode).sort(), [200, 200, 200, 201], answers.map((a) => a.body).join('\n'));
      t.equal(new Set(answers.map((a) => json<Batch>(a).id)).size, 1);
      t.equal(
        await count(sql`select count(*)::int as n from payment_items where temporary_assistance_id = ${grantId}::uuid`),
        1,
      );
    });
  },
);
