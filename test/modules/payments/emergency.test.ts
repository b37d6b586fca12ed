import { sql } from 'drizzle-orm';
import t from 'tap';
import { json, testApp, type TestClient } from '../../helpers.js';
import {
  type Batch,
  countSql,
  enrolled,
  http,
  payerAccounts,
  type ProblemBody,
  thisMonth,
} from './payments.fixtures.js';

const HOUR = 3_600_000;

t.test('the green channel: emergency payments and expedited batches carry a deadline', async (t) => {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const finance = await client('finance');
  const bank = await client('bank');
  const { post, get, paymentsOf, reconciliation, count } = http(app);
  await payerAccounts(app, finance, ['temporary_assistance']);

  t.equal(
    (
      await post('/v1/programs/temporary_assistance/standards', admin, {
        region: '2201',
        effectiveFrom: '2020-01-01',
        monthlyStandardFen: 100_000,
      })
    ).statusCode,
    201,
  );
  const policy = await post('/v1/policies', admin, {
    name: 'Epidemic response',
    region: '2201',
    effectiveFrom: '2020-01-01',
    greenChannelHours: 24,
  });
  t.equal(policy.statusCode, 201, policy.body);
  const policyId = json<{ id: string }>(policy).id;

  const grant = async (personId: string, cashFen: number, who: TestClient = nanguan) => {
    const res = await post('/v1/temporary-assistance', who, {
      personId,
      cashFen,
      inKind: cashFen === 0 ? [{ item: 'surgical masks', quantity: 30, unit: 'piece' }] : [],
      reason: 'income lost in the lockdown',
    });
    t.equal(res.statusCode, 201, res.body);
    return json<{ id: string; grantedAt: string; policyId: string }>(res);
  };
  const pay = (temporaryAssistanceId: string, who: TestClient = nanguan) =>
    post('/v1/payment-batches/emergency', who, { temporaryAssistanceId });

  const zhang = await enrolled(app, { region: '220102' });
  const urgent = await grant(zhang.headId, 50_000);
  t.equal(urgent.policyId, policyId);
  const first = await pay(urgent.id);
  t.equal(first.statusCode, 201, first.body);
  const emergency = json<Batch>(first);
  t.match(emergency, {
    kind: 'emergency',
    program: 'temporary_assistance',
    region: '220102',
    status: 'submitted',
    expedited: true,
    policyId,
    temporaryAssistanceId: urgent.id,
    itemCount: 1,
    totalFen: 50_000,
    overdue: false,
  });
  t.equal(
    new Date(emergency.deadline!).getTime(),
    new Date(urgent.grantedAt).getTime() + 24 * HOUR,
    'due 24 hours after the grant',
  );
  t.same(
    emergency.history.map((h) => h.action),
    ['generated', 'submitted'],
  );
  const again = await pay(urgent.id);
  t.equal(again.statusCode, 200);
  t.equal(json<Batch>(again).id, emergency.id);
  const [payment] = await paymentsOf(emergency.id, finance);
  t.match(payment, { temporaryAssistanceId: urgent.id, enrollmentId: null, personId: zhang.headId, amountFen: 50_000 });
  const ofZhang = json<{ items: { id: string }[] }>(await get(`/v1/payments?personId=${zhang.headId}`, nanguan));
  t.same(
    ofZhang.items.map((p) => p.id),
    [payment!.id],
    'the emergency payment is among the person’s payments',
  );

  // A grant made 30 hours ago and not paid yet: overdue as soon as its payment exists.
  const li = await enrolled(app, { region: '220102005' });
  const late = await grant(li.headId, 20_000);
  await app.database.db.execute(
    sql`update temporary_assistance set granted_at = now() - interval '30 hours' where id = ${late.id}::uuid`,
  );
  const overdue = json<Batch>(await pay(late.id));
  t.match(overdue, { overdue: true, status: 'submitted' });

  // An expedited month's batch, due within the policy's hours, and an ordinary one.
  await enrolled(app, { region: '220102', program: 'tekun', benefitFen: 80_000 });
  await enrolled(app, { region: '220102', program: 'dibao', benefitFen: 60_000 });
  const expedited = json<Batch>(
    await post('/v1/payment-batches', nanguan, {
      program: 'tekun',
      period: thisMonth(),
      region: '220102',
      expedited: true,
    }),
  );
  t.match(expedited, { expedited: true, policyId });
  t.ok(Math.abs(new Date(expedited.deadline!).getTime() - Date.now() - 24 * HOUR) < 10 * 60_000, 'due in 24 hours');
  const ordinary = json<Batch>(
    await post('/v1/payment-batches', nanguan, { program: 'dibao', period: thisMonth(), region: '220102' }),
  );
  t.match(ordinary, { expedited: false, deadline: null });
  for (const b of [expedited, ordinary])
    t.equal((await post(`/v1/payment-batches/${b.id}/submit`, nanguan)).statusCode, 200);

  t.test('finance sees the most urgent first, and what is overdue', async (t) => {
    const queue = json<{ items: Batch[] }>(await get('/v1/payment-batches/awaiting-approval', finance)).items;
    t.same(
      queue.map((b) => [b.id, b.overdue]),
      [
        [overdue.id, true],
        [emergency.id, false],
        [expedited.id, false],
        [ordinary.id, false],
      ],
    );
    const paged = json<{ items: Batch[]; nextCursor: string }>(
      await get('/v1/payment-batches/awaiting-approval?limit=3', finance),
    );
    const rest = json<{ items: Batch[]; nextCursor: string | null }>(
      await get(`/v1/payment-batches/awaiting-approval?limit=3&cursor=${paged.nextCursor}`, finance),
    );
    t.same(
      [...paged.items, ...rest.items].map((b) => b.id),
      queue.map((b) => b.id),
    );
    t.equal(rest.nextCursor, null);
    const late = json<{ items: Batch[] }>(await get('/v1/payment-batches?overdue=true', finance)).items;
    t.same(
      late.map((b) => b.id),
      [overdue.id],
    );
    const onTime = json<{ items: Batch[] }>(
      await get('/v1/payment-batches?overdue=false&expedited=true', finance),
    ).items;
    t.same(onTime.map((b) => b.id).sort(), [emergency.id, expedited.id].sort());
  });

  t.test('the emergency payment is paid before its deadline', async (t) => {
    const approved = await post(`/v1/payment-batches/${emergency.id}/approve`, finance, {
      itemCount: 1,
      totalFen: 50_000,
    });
    t.equal(approved.statusCode, 200, approved.body);
    t.equal((await post(`/v1/payment-batches/${emergency.id}/dispatch`, bank)).statusCode, 200);
    const [sent] = await paymentsOf(emergency.id, bank);
    const posted = await post(`/v1/payment-batches/${emergency.id}/results`, bank, {
      results: [{ endToEndId: sent!.endToEndId, status: 'paid', bankReference: 'GC-0001' }],
    });
    t.equal(posted.statusCode, 200, posted.body);
    const done = await post(`/v1/payment-batches/${emergency.id}/complete`, bank);
    t.match(json<Batch>(done), { status: 'completed', metDeadline: true, overdue: false });
    t.match(await reconciliation(emergency.id, finance), {
      paid: { count: 1, amountFen: 50_000 },
      balanced: true,
      ledgerAgrees: true,
    });
    const late = json<{ items: Batch[] }>(await get('/v1/payment-batches?overdue=true', finance)).items;
    t.same(
      late.map((b) => b.id),
      [overdue.id],
      'still only the late one',
    );
  });

  t.test('what cannot be paid is refused, and leaves nothing behind', async (t) => {
    const batches = await count(countSql('payment_batches'));
    const masksOnly = await grant((await enrolled(app, { region: '220102' })).headId, 0);
    const inKind = await pay(masksOnly.id);
    t.equal(inKind.statusCode, 400);
    t.same(
      json<ProblemBody>(inKind).errors?.map((e) => e.pointer),
      ['/temporaryAssistanceId'],
    );
    t.equal((await pay(urgent.id, chaoyang)).statusCode, 404, 'another district’s grant');
    t.equal((await pay('00000000-0000-4000-8000-000000000000')).statusCode, 404);
    const noAccount = await grant((await enrolled(app, { region: '220102', account: null })).headId, 10_000);
    const refused = await pay(noAccount.id);
    t.equal(refused.statusCode, 422, refused.body);
    t.match(json<ProblemBody>(refused), { excludedByReason: { no_bank_account: 1 } });
    const cancelled = await grant((await enrolled(app, { region: '220102' })).headId, 10_000);
    t.equal(
      (await post(`/v1/temporary-assistance/${cancelled.id}/cancel`, nanguan, { reason: 'granted in error' }))
        .statusCode,
      200,
    );
    const gone = await pay(cancelled.id);
    t.equal(gone.statusCode, 409);
    t.equal(json<ProblemBody>(gone).currentState, 'cancelled');
    t.equal(await count(countSql('payment_batches')), batches);
  });
});
