import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { json, testApp } from '../../helpers.js';
import {
  type Batch,
  cardNumber,
  countSql,
  enrolled,
  failure,
  http,
  type Payment,
  payerAccounts,
  type ProblemBody,
  type Reconciliation,
  thisMonth,
} from './payments.fixtures.js';

const period = thisMonth();

t.test('a month’s dibao batch, from generation to reconciliation, then a follow-up', async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const finance = await client('finance');
  const bank = await client('bank');
  const { post, get, batch, paymentsOf, reconciliation, count } = http(app);
  await payerAccounts(app, finance);

  // Four households to pay in Nanguan (one of them two people: its head is paid), one without a
  // bank account, one suspended, one enrolled after the period, one in Chaoyang, one in tekun.
  const paid = [
    await enrolled(app, { region: '220102', benefitFen: 140_000, size: 2 }),
    await enrolled(app, { region: '220102001', benefitFen: 56_000 }),
    await enrolled(app, { region: '220102', benefitFen: 98_000 }),
    await enrolled(app, { region: '220102003', benefitFen: 70_001 }),
  ];
  const noAccount = await enrolled(app, { region: '220102', benefitFen: 30_000, account: null });
  await enrolled(app, { region: '220102', status: 'suspended' });
  await enrolled(app, { region: '220102', startDate: '2099-01-01' });
  await enrolled(app, { region: '220104', benefitFen: 77_700 });
  await enrolled(app, { region: '220102', program: 'tekun', benefitFen: 66_600 });
  const total = 140_000 + 56_000 + 98_000 + 70_001;

  const generate = (who = nanguan, body: Record<string, unknown> = { program: 'dibao', period, region: '220102' }) =>
    post('/v1/payment-batches', who, body);

  const first = await generate();
  t.equal(first.statusCode, 201, first.body);
  const made = json<Batch>(first);
  t.match(made, {
    kind: 'regular',
    program: 'dibao',
    period,
    region: '220102',
    status: 'draft',
    itemCount: 4,
    totalFen: total,
    excludedCount: 1,
  });
  t.equal(first.headers.location, `/v1/payment-batches/${made.id}`);
  t.equal(first.headers.etag, `"${made.id}.1"`);
  t.same(made.payments.pending, { count: 4, amountFen: total });
  const id = made.id;

  t.test('a second generation answers the first', async (t) => {
    const again = await generate();
    t.equal(again.statusCode, 200);
    t.equal(json<Batch>(again).id, id);
    t.equal(await count(countSql('payment_batches')), 1);
    t.equal(await count(countSql('payment_items')), 4);
  });

  t.test('payments name enrollment, payee and amount; accounts are whole only for finance and banks', async (t) => {
    const items = await paymentsOf(id, nanguan);
    t.same(items.map((i) => i.enrollmentId).sort(), paid.map((p) => p.enrollmentId).sort());
    const family = items.find((i) => i.enrollmentId === paid[0]!.enrollmentId)!;
    t.match(family, {
      personId: paid[0]!.headId,
      householdId: paid[0]!.householdId,
      amountFen: 140_000,
      status: 'pending',
    });
    t.match(family.endToEndId, /^[0-9a-f]{32}$/);
    t.same(family.payee.accountNumber, `${'*'.repeat(paid[0]!.account!.length - 4)}${paid[0]!.account!.slice(-4)}`);
    t.equal(family.payee.accountNumberMasked, true);
    for (const who of [finance, bank]) {
      const whole = (await paymentsOf(id, who)).find((i) => i.id === family.id)!;
      t.match(whole.payee, { accountNumber: paid[0]!.account, accountNumberMasked: false });
    }
    const exclusions = json<{ items: { enrollmentId: string; reason: string }[] }>(
      await get(`/v1/payment-batches/${id}/exclusions`, nanguan),
    );
    t.same(
      exclusions.items.map((x) => [x.enrollmentId, x.reason]),
      [[noAccount.enrollmentId, 'no_bank_account']],
    );
    const audited = await rows<{ n: number }>(
      app.database.db,
      sql`select count(*)::int as n from audit_events where operation = 'listBatchPayments' and ${paid[0]!.headId}::uuid = any(person_ids)`,
    );
    t.ok(audited[0]!.n >= 3, 'every read naming payees is audited');
  });

  t.test('outside the jurisdiction: 404', async (t) => {
    t.equal((await get(`/v1/payment-batches/${id}`, chaoyang)).statusCode, 404);
    t.equal((await post(`/v1/payment-batches/${id}/submit`, chaoyang)).statusCode, 404);
  });

  t.test('submission, and what waits for finance', async (t) => {
    const early = await post(`/v1/payment-batches/${id}/approve`, finance, { itemCount: 4, totalFen: total });
    t.equal(early.statusCode, 409);
    t.equal(json<ProblemBody>(early).currentState, 'draft');
    const submitted = await post(`/v1/payment-batches/${id}/submit`, nanguan, {}, { 'if-match': `"${id}.1"` });
    t.equal(submitted.statusCode, 200, submitted.body);
    t.equal(json<Batch>(submitted).status, 'submitted');
    const queue = json<{ items: Batch[] }>(await get('/v1/payment-batches/awaiting-approval', finance)).items;
    t.same(
      queue.map((b) => b.id),
      [id],
    );
    const elsewhere = await client('finance', { jurisdiction: '220104' });
    t.same(json<{ items: Batch[] }>(await get('/v1/payment-batches/awaiting-approval', elsewhere)).items, []);
    t.equal((await get('/v1/payment-batches/awaiting-approval', nanguan)).statusCode, 403, 'finance only');
  });

  t.test('approval echoes the declared count and total; a mismatch changes nothing', async (t) => {
    const wrong = await post(`/v1/payment-batches/${id}/approve`, finance, { itemCount: 4, totalFen: total - 1 });
    t.equal(wrong.statusCode, 409);
    const problem = json<ProblemBody>(wrong);
    t.same(
      problem.errors?.map((e) => e.pointer),
      ['/totalFen'],
    );
    t.same(problem.declared, { itemCount: 4, totalFen: total });
    const both = json<ProblemBody>(
      await post(`/v1/payment-batches/${id}/approve`, finance, { itemCount: 5, totalFen: 1 }),
    );
    t.same(
      both.errors?.map((e) => e.pointer),
      ['/itemCount', '/totalFen'],
    );
    const stale = await post(
      `/v1/payment-batches/${id}/approve`,
      finance,
      { itemCount: 4, totalFen: total },
      { 'if-match': `"${id}.1"` },
    );
    t.equal(stale.statusCode, 412);
    t.equal((await batch(id, finance)).status, 'submitted');
    t.equal(await count(countSql('payment_journal')), 0);
    t.equal(
      (await post(`/v1/payment-batches/${id}/approve`, nanguan, { itemCount: 4, totalFen: total })).statusCode,
      403,
    );

    const approved = await post(`/v1/payment-batches/${id}/approve`, finance, {
      itemCount: 4,
      totalFen: total,
      note: 'funds released',
    });
    t.equal(approved.statusCode, 200, approved.body);
    t.match(json<Batch>(approved), { status: 'approved', decisionReason: 'funds released' });
    t.match(await reconciliation(id, finance), {
      ledger: { allocatedFen: total, pendingFen: total, paidFen: 0 },
      ledgerAgrees: true,
      balanced: true,
    });
  });

  let items: Payment[] = [];
  t.test('the bank collects the batch and posts results, all or nothing, idempotently', async (t) => {
    const early = await post(`/v1/payment-batches/${id}/results`, bank, {
      results: [{ endToEndId: 'x', status: 'paid' }],
    });
    t.equal(early.statusCode, 409);
    t.equal((await post(`/v1/payment-batches/${id}/dispatch`, nanguan)).statusCode, 403);
    const dispatched = await post(`/v1/payment-batches/${id}/dispatch`, bank);
    t.equal(dispatched.statusCode, 200);
    t.same(json<Batch>(dispatched).payments.sent, { count: 4, amountFen: total });
    items = await paymentsOf(id, bank);
    const [a, b, c, d] = items as [Payment, Payment, Payment, Payment];

    const bad = await post(`/v1/payment-batches/${id}/results`, bank, {
      results: [
        { endToEndId: a.endToEndId, status: 'failed' },
        { endToEndId: 'not-ours', status: 'paid' },
        { endToEndId: b.endToEndId, status: 'paid', settledAt: '2999-01-01T00:00:00Z' },
        { endToEndId: c.endToEndId, status: 'lost' },
      ],
    });
    t.equal(bad.statusCode, 400);
    t.same(
      json<ProblemBody>(bad).errors?.map((e) => e.pointer),
      ['/results/3/status'],
    );
    const bad2 = await post(`/v1/payment-batches/${id}/results`, bank, {
      results: [
        { endToEndId: a.endToEndId, status: 'failed' },
        { endToEndId: b.endToEndId, status: 'paid', settledAt: '2999-01-01T00:00:00Z' },
        { endToEndId: c.endToEndId, status: 'paid' },
        { endToEndId: c.endToEndId, status: 'paid' },
      ],
    });
    t.same(
      json<ProblemBody>(bad2)
        .errors?.map((e) => e.pointer)
        .sort(),
      ['/results/0/reasonCode', '/results/1/settledAt', '/results/3/endToEndId'],
    );
    const unknown = await post(`/v1/payment-batches/${id}/results`, bank, {
      results: [
        { endToEndId: a.endToEndId, status: 'paid' },
        { endToEndId: 'not-ours', status: 'paid' },
      ],
    });
    t.equal(unknown.statusCode, 400);
    t.same(
      json<ProblemBody>(unknown).errors?.map((e) => e.pointer),
      ['/results/1/endToEndId'],
    );
    t.same((await batch(id, bank)).payments.sent, { count: 4, amountFen: total }, 'nothing changed');

    const results = [
      { endToEndId: a.endToEndId, status: 'paid', bankReference: 'BR-1' },
      { endToEndId: b.endToEndId, status: 'paid' },
      { endToEndId: c.endToEndId, status: 'failed', reasonCode: 'AC04', detail: 'account closed' },
    ];
    const posted = await post(`/v1/payment-batches/${id}/results`, bank, { results });
    t.equal(posted.statusCode, 200, posted.body);
    t.same(json(posted), {
      batchId: id,
      recorded: {
        paid: { count: 2, amountFen: a.amountFen + b.amountFen },
        failed: { count: 1, amountFen: c.amountFen },
        returned: { count: 0, amountFen: 0 },
      },
      unchanged: 0,
      stillSent: 1,
    });
    const journals = await count(countSql('payment_journal'));
    const repeat = await post(`/v1/payment-batches/${id}/results`, bank, {
      results: [...results, { endToEndId: d.endToEndId, status: 'returned', reasonCode: 'AC01' }],
    });
    t.match(json(repeat), {
      recorded: { paid: { count: 0 }, failed: { count: 0 }, returned: { count: 1, amountFen: d.amountFen } },
      unchanged: 3,
      stillSent: 0,
    });
    t.equal(await count(countSql('payment_journal')), journals + 1, 'a repeat posts nothing again');
    const contradiction = await post(`/v1/payment-batches/${id}/results`, bank, {
      results: [{ endToEndId: c.endToEndId, status: 'paid' }],
    });
    t.equal(contradiction.statusCode, 409);
    t.same(
      json<ProblemBody>(contradiction).errors?.map((e) => e.pointer),
      ['/results/0/status'],
    );
    t.match(await reconciliation(id, bank), {
      declared: { count: 4, amountFen: total },
      paid: { count: 2, amountFen: a.amountFen + b.amountFen },
      failed: { count: 1, amountFen: c.amountFen },
      returned: { count: 1, amountFen: d.amountFen },
      pending: { count: 0, amountFen: 0 },
      balanced: true,
      ledgerAgrees: true,
      ledger: {
        allocatedFen: total,
        pendingFen: 0,
        paidFen: a.amountFen + b.amountFen,
        failedFen: c.amountFen,
        returnedFen: d.amountFen,
      },
      outstandingFailures: { count: 2, amountFen: c.amountFen + d.amountFen },
    });
  });

  t.test('completed, then reconciled by finance', async (t) => {
    const done = await post(`/v1/payment-batches/${id}/complete`, bank);
    t.equal(done.statusCode, 200, done.body);
    t.match(json<Batch>(done), { status: 'completed', metDeadline: null });
    t.equal((await post(`/v1/payment-batches/${id}/reconcile`, bank)).statusCode, 403);
    const reconciled = await post(`/v1/payment-batches/${id}/reconcile`, finance, {
      note: 'matches the bank statement',
    });
    t.equal(reconciled.statusCode, 200, reconciled.body);
    const final = json<Batch>(reconciled);
    t.equal(final.status, 'reconciled');
    t.same(
      final.history.map((h) => h.action),
      [
        'generated',
        'submitted',
        'approved',
        'dispatched',
        'results_recorded',
        'results_recorded',
        'completed',
        'reconciled',
      ],
    );
    t.equal(final.history.at(-1)!.note, 'matches the bank statement');
    const period_ = json<Reconciliation & { batches: unknown[] }>(
      await get(`/v1/payments/reconciliation?program=dibao&period=${period}&region=220102`, finance),
    );
    t.match(period_, { declared: { count: 4, amountFen: total }, balanced: true, ledgerAgrees: true });
    t.equal(period_.batches.length, 1);
  });

  t.test('a failed payment is re-issued once, and not twice', async (t) => {
    const now = await paymentsOf(id, nanguan);
    const failures = now.filter((i) => i.status === 'failed' || i.status === 'returned');
    t.equal(failures.length, 2);
    // A caseworker records the bank account the left-out household lacked.
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/persons/${noAccount.headId}`,
      headers: nanguan.headers,
      payload: { bankAccount: { bankName: 'Bank of Jilin', accountNumber: cardNumber(), holder: 'Holder' } },
    });
    t.equal(patched.statusCode, 200, patched.body);

    const notMine = await post(`/v1/payment-batches/${id}/follow-up`, nanguan, {
      itemIds: [now.find((i) => i.status === 'paid')!.id],
    });
    t.equal(notMine.statusCode, 400);
    t.same(
      json<ProblemBody>(notMine).errors?.map((e) => e.pointer),
      ['/itemIds/0'],
    );

    const follow = await post(`/v1/payment-batches/${id}/follow-up`, nanguan);
    t.equal(follow.statusCode, 201, follow.body);
    const second = json<Batch>(follow);
    t.match(second, { kind: 'follow_up', followsBatchId: id, status: 'draft', itemCount: 3, program: 'dibao', period });
    const reissues = await paymentsOf(second.id, nanguan);
    t.same(
      reissues
        .map((r) => r.reissueOf)
        .filter(Boolean)
        .sort(),
      failures.map((f) => f.id).sort(),
    );
    t.match(
      reissues.find((r) => r.reissueOf === null),
      { enrollmentId: noAccount.enrollmentId, amountFen: 30_000 },
    );
    t.equal(
      json<Payment>(await get(`/v1/payments/${failures[0]!.id}`, nanguan)).reissuedBy,
      reissues.find((r) => r.reissueOf === failures[0]!.id)!.id,
    );

    const twice = await post(`/v1/payment-batches/${id}/follow-up`, nanguan);
    t.equal(twice.statusCode, 409);
    t.same(json<ProblemBody>(twice).followUpBatchIds, [second.id]);
    const named = await post(`/v1/payment-batches/${id}/follow-up`, nanguan, { itemIds: [failures[0]!.id] });
    t.equal(named.statusCode, 409);
    t.same(
      json<ProblemBody>(named).errors?.map((e) => e.pointer),
      ['/itemIds/0'],
    );
    // The database refuses a second re-issue and a second live payment, whatever the code does.
    const f = failures[0]!;
    const direct = (reissueOf: string | null, status: string) =>
      app.database.db.execute(sql`
        insert into payment_items (batch_id, program_code, period, region, enrollment_id, person_id, amount_fen,
          payee_name, bank_name, account_holder, account_sealed, account_masked, reissue_of, status, sent_at, result_at)
        select ${second.id}::uuid, program_code, period, region, enrollment_id, person_id, amount_fen,
          payee_name, bank_name, account_holder, account_sealed, account_masked, ${reissueOf}::uuid, ${status},
          now(), case when ${status} = 'failed' then now() end
        from payment_items where id = ${f.id}::uuid`);
    t.match(await failure(direct(f.id, 'failed')), /payment_items_reissue_once_idx/);
    t.match(await failure(direct(null, 'sent')), /payment_items_enrollment_once_idx/);
    t.equal(await count(countSql('payment_items')), 7);

    // The follow-up goes the whole way; the period then reconciles across both batches.
    const f2 = second.id;
    t.equal((await post(`/v1/payment-batches/${f2}/submit`, nanguan)).statusCode, 200);
    t.equal(
      (await post(`/v1/payment-batches/${f2}/approve`, finance, { itemCount: 3, totalFen: second.totalFen }))
        .statusCode,
      200,
    );
    t.equal((await post(`/v1/payment-batches/${f2}/dispatch`, bank)).statusCode, 200);
    const sent = await paymentsOf(f2, bank);
    const posted = await post(`/v1/payment-batches/${f2}/results`, bank, {
      results: sent.map((s) => ({ endToEndId: s.endToEndId, status: 'paid' })),
    });
    t.equal(posted.statusCode, 200, posted.body);
    t.equal((await post(`/v1/payment-batches/${f2}/complete`, bank)).statusCode, 200);
    const report = json<Reconciliation & { batches: { batchId: string }[] }>(
      await get(`/v1/payments/reconciliation?program=dibao&period=${period}`, finance),
    );
    t.match(report, {
      declared: { count: 7, amountFen: total + second.totalFen },
      reissued: { count: 2 },
      outstandingFailures: { count: 0, amountFen: 0 },
      balanced: true,
      ledgerAgrees: true,
    });
    t.same(
      report.batches.map((b) => b.batchId),
      [id, f2],
    );
  });

  t.test('events tell civil affairs, finance and banks each step', async (t) => {
    await app.services.events.sequence();
    const feed = json<{ items: { type: string; subject: string; data: Record<string, unknown> }[] }>(
      await get('/v1/events?after=0&limit=500', finance),
    );
    const mine = feed.items.filter((e) => e.subject === `payment_batch/${id}`).map((e) => e.type);
    t.same(mine, [
      'payment_batch.generated',
      'payment_batch.submitted',
      'payment_batch.approved',
      'payment_batch.dispatched',
      'payment_batch.results_recorded',
      'payment_batch.results_recorded',
      'payment_batch.completed',
      'payment_batch.reconciled',
    ]);
    t.equal(feed.items.filter((e) => e.type === 'payment.failed').length, 2);
    const outside = json<{ items: { type: string }[] }>(await get('/v1/events?after=0&limit=500', chaoyang));
    t.notOk(
      outside.items.some((e) => e.type.startsWith('payment')),
      'another district hears nothing of them',
    );
  });
});

t.test('a rejected batch is regenerated; price subsidies from their own standard', async (t) => {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const finance = await client('finance');
  const { post, get, batch, paymentsOf, reconciliation, count } = http(app);
  const standard = await post('/v1/programs/price_subsidy/standards', admin, {
    region: '2201',
    effectiveFrom: '2020-01-01',
    monthlyStandardFen: 2_500,
  });
  t.equal(standard.statusCode, 201, standard.body);
  const three = await enrolled(app, { region: '220102', program: 'price_subsidy', size: 3, benefitFen: 1 });
  await enrolled(app, { region: '220102', program: 'price_subsidy', size: 1, benefitFen: 1 });

  const body = { program: 'price_subsidy', period, region: '220102' };
  const first = json<Batch>(await post('/v1/payment-batches', nanguan, body));
  t.match(first, { itemCount: 2, totalFen: 2_500 * 4 });
  t.equal((await paymentsOf(first.id, nanguan)).find((p) => p.enrollmentId === three.enrollmentId)!.amountFen, 7_500);
  await post(`/v1/payment-batches/${first.id}/submit`, nanguan);

  const noReason = await post(`/v1/payment-batches/${first.id}/reject`, finance, {});
  t.equal(noReason.statusCode, 400);
  t.same(
    json<ProblemBody>(noReason).errors?.map((e) => e.pointer),
    ['/reason'],
  );
  const rejected = await post(`/v1/payment-batches/${first.id}/reject`, finance, { reason: 'wrong standard applied' });
  t.equal(rejected.statusCode, 200);
  t.match(json<Batch>(rejected), {
    status: 'rejected',
    decisionReason: 'wrong standard applied',
    payments: { cancelled: { count: 2 } },
  });
  t.match(await reconciliation(first.id, finance), {
    cancelled: { count: 2, amountFen: 10_000 },
    balanced: true,
    ledgerAgrees: true,
    ledger: { allocatedFen: 0 },
  });
  t.equal((await post(`/v1/payment-batches/${first.id}/dispatch`, await client('bank'))).statusCode, 409);

  const again = await post('/v1/payment-batches', nanguan, body);
  t.equal(again.statusCode, 201, 'a rejected batch is generated anew');
  const second = json<Batch>(again);
  t.not(second.id, first.id);
  t.match(second, { itemCount: 2, totalFen: 10_000, status: 'draft' });
  t.equal((await post('/v1/payment-batches', nanguan, body)).statusCode, 200);
  t.equal(await count(countSql('payment_batches')), 2);
  t.equal((await batch(first.id, nanguan)).status, 'rejected');
  const listed = json<{ items: Batch[] }>(
    await get('/v1/payment-batches?program=price_subsidy&status=rejected', nanguan),
  );
  t.same(
    listed.items.map((b) => b.id),
    [first.id],
  );
});

t.test('bad input is refused with the field named, and leaves nothing behind', async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const { post, count } = http(app);
  await enrolled(app, { region: '220102' });
  const cases: [Record<string, unknown>, string[]][] = [
    [{ program: 'dibao', period: '2026-13', region: '220102' }, ['/period']],
    [{ program: 'temporary_assistance', period, region: '220102' }, ['/program']],
    [{ program: 'dibao', period, region: '220104' }, ['/region']],
    [{ program: 'dibao', period, region: '229999' }, ['/region']],
    [{ program: 'dibao', period: '2999-01', region: '220102' }, ['/period']],
    [{ program: 'dibao', period, region: '220102', expedited: true }, ['/expedited']],
    [{ program: 'dibao', period, region: '220102', colour: 'red' }, ['/colour']],
  ];
  for (const [body, pointers] of cases) {
    const res = await post('/v1/payment-batches', nanguan, body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    t.same(
      json<ProblemBody>(res).errors?.map((e) => e.pointer),
      pointers,
      JSON.stringify(body),
    );
  }
  const nobody = await post('/v1/payment-batches', nanguan, { program: 'tekun', period, region: '220102' });
  t.equal(nobody.statusCode, 422);
  for (const table of ['payment_batches', 'payment_items', 'payment_exclusions', 'payment_batch_history']) {
    t.equal(await count(countSql(table)), 0, `${table} is empty`);
  }
});

t.test('the ledger balances in the database, and is append-only', async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const finance = await client('finance');
  const { post, count } = http(app);
  await enrolled(app, { region: '220102', benefitFen: 1_000 });
  const made = json<Batch>(await post('/v1/payment-batches', nanguan, { program: 'dibao', period, region: '220102' }));
  await post(`/v1/payment-batches/${made.id}/submit`, nanguan);
  t.equal(
    (await post(`/v1/payment-batches/${made.id}/approve`, finance, { itemCount: 1, totalFen: 1_000 })).statusCode,
    200,
  );
  const db = app.database.db;
  const entry = (journal: string, account: string, side: string, amount: number) => sql`
    insert into payment_ledger_entries (journal_id, batch_id, program_code, period, region, account, side, amount_fen)
    values (${journal}::uuid, ${made.id}::uuid, 'dibao', ${period}, '220102', ${account}, ${side}, ${amount})`;
  const journal = (tx: typeof db) =>
    rows<{ id: string }>(
      tx,
      sql`insert into payment_journal (batch_id, kind) values (${made.id}::uuid, 'results') returning id`,
    );
  const unbalanced = db.transaction(async (tx) => {
    const [j] = await journal(tx as unknown as typeof db);
    await tx.execute(entry(j!.id, 'paid', 'debit', 1_000));
    await tx.execute(entry(j!.id, 'pending', 'credit', 999));
  });
  t.match(await failure(unbalanced), /does not balance: 2 entries, debits 1000 fen, credits 999 fen/);
  const empty = db.transaction(async (tx) => void (await journal(tx as unknown as typeof db)));
  t.match(await failure(empty), /does not balance: 0 entries/);
  t.match(await failure(db.execute(sql`update payment_ledger_entries set amount_fen = amount_fen + 1`)), /append-only/);
  t.match(await failure(db.execute(sql`delete from payment_journal`)), /append-only/);
  t.equal(await count(countSql('payment_journal')), 1);
  t.equal(await count(countSql('payment_ledger_entries')), 2);
});
