import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { json, onPostgres, testApp, type TestClient } from '../../helpers.js';
import {
  type Batch,
  countSql,
  enrolled,
  http,
  payerAccounts,
  type Payment,
  type ProblemBody,
  type Reconciliation,
} from './payments.fixtures.js';

interface Grant {
  id: string;
  status: string;
  updatedAt: string;
  closedReason: string | null;
}

interface Event {
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

/** An app with a temporary-assistance standard and a green-channel policy, and the steps of a grant's payment. */
async function setup(t: Test) {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const finance = await client('finance');
  const bank = await client('bank');
  const h = http(app);
  const { post, get } = h;
  const standard = await post('/v1/programs/temporary_assistance/standards', admin, {
    region: '2201',
    effectiveFrom: '2020-01-01',
    monthlyStandardFen: 100_000,
  });
  t.equal(standard.statusCode, 201, standard.body);
  const policy = await post('/v1/policies', admin, {
    name: 'Epidemic response',
    region: '2201',
    effectiveFrom: '2020-01-01',
    greenChannelHours: 24,
  });
  t.equal(policy.statusCode, 201, policy.body);

  const grant = async (cashFen: number) => {
    const person = await enrolled(app, { region: '220102' });
    const res = await post('/v1/temporary-assistance', nanguan, {
      personId: person.headId,
      cashFen,
      reason: 'income lost in the lockdown',
    });
    t.equal(res.statusCode, 201, res.body);
    return json<Grant>(res);
  };
  const pay = (grantId: string) => post('/v1/payment-batches/emergency', nanguan, { temporaryAssistanceId: grantId });
  const paid = async (grantId: string) => {
    const res = await pay(grantId);
    t.equal(res.statusCode, 201, res.body);
    return json<Batch>(res);
  };
  const cancel = (grantId: string, reason = 'granted in error') =>
    post(`/v1/temporary-assistance/${grantId}/cancel`, nanguan, { reason });
  const grantOf = async (grantId: string) => json<Grant>(await get(`/v1/temporary-assistance/${grantId}`, nanguan));
  const act = async (b: Batch, action: 'approve' | 'dispatch') => {
    const res =
      action === 'approve'
        ? await post(`/v1/payment-batches/${b.id}/approve`, finance, { itemCount: b.itemCount, totalFen: b.totalFen })
        : await post(`/v1/payment-batches/${b.id}/dispatch`, bank);
    t.equal(res.statusCode, 200, `${action}: ${res.body}`);
    return json<Batch>(res);
  };
  const result = async (b: Batch, status: 'paid' | 'failed') => {
    const [payment] = await h.paymentsOf(b.id, bank);
    const res = await post(`/v1/payment-batches/${b.id}/results`, bank, {
      results: [{ endToEndId: payment!.endToEndId, status, ...(status === 'failed' && { reasonCode: 'AC04' }) }],
    });
    t.equal(res.statusCode, 200, res.body);
  };
  return { app, client, nanguan, finance, bank, ...h, grant, pay, paid, cancel, grantOf, act, result };
}

const eventsOf = async (app: FastifyInstance, who: TestClient, type: string) => {
  await app.services.events.sequence();
  const res = await app.inject({ method: 'GET', url: '/v1/events?after=0&limit=500', headers: who.headers });
  return json<{ items: Event[] }>(res).items.filter((e) => e.type === type);
};

/** The batch's journal: its transactions' kinds, and each account's balance (debit positive). */
async function ledgerOf(app: FastifyInstance, batchId: string) {
  const db = app.database.db;
  const kinds = await rows<{ kind: string }>(
    db,
    sql`select kind from payment_journal where batch_id = ${batchId}::uuid order by at, kind`,
  );
  const entries = await rows<{ kind: string; account: string; side: string; amount: number }>(
    db,
    sql`select j.kind, e.account, e.side, e.amount_fen::int as amount from payment_ledger_entries e
        join payment_journal j on j.id = e.journal_id where e.batch_id = ${batchId}::uuid
        order by j.kind, e.account`,
  );
  return { kinds: kinds.map((k) => k.kind), entries };
}

t.test('a grant cancelled before the bank has its payment: the payment is withdrawn with its batch', async (t) => {
  const s = await setup(t);
  const { app, post, get, batch, paymentsOf, reconciliation, count } = s;
  await payerAccounts(app, s.finance, ['temporary_assistance']);

  await t.test('submitted: the batch is cancelled, nothing reaches the ledger', async (t) => {
    const g = await s.grant(50_000);
    const b = await s.paid(g.id);
    t.equal(b.status, 'submitted');
    const res = await s.cancel(g.id);
    t.equal(res.statusCode, 200, res.body);
    t.match(json<Grant>(res), { status: 'cancelled', closedReason: 'granted in error' });

    const after = await batch(b.id, s.finance);
    t.match(after, {
      status: 'cancelled',
      itemCount: 1,
      totalFen: 50_000,
      payments: { cancelled: { count: 1, amountFen: 50_000 }, pending: { count: 0, amountFen: 0 } },
    });
    t.match(after.history.at(-1), {
      action: 'cancelled',
      status: 'cancelled',
      note: 'granted in error',
      by: s.nanguan.id,
    });
    t.same(
      (await paymentsOf(b.id, s.finance)).map((p) => p.status),
      ['cancelled'],
    );
    const report = await reconciliation(b.id, s.finance);
    t.match(report, {
      declared: { count: 1, amountFen: 50_000 },
      cancelled: { count: 1, amountFen: 50_000 },
      pending: { count: 0, amountFen: 0 },
      paid: { count: 0, amountFen: 0 },
      balanced: true,
      ledgerAgrees: true,
      ledger: { allocatedFen: 0, pendingFen: 0, paidFen: 0 },
    });
    t.same((await ledgerOf(app, b.id)).kinds, [], 'never approved: no journal transaction');

    const approve = await post(`/v1/payment-batches/${b.id}/approve`, s.finance, { itemCount: 1, totalFen: 50_000 });
    t.equal(approve.statusCode, 409);
    t.equal(json<ProblemBody>(approve).currentState, 'cancelled');
    const again = await s.pay(g.id);
    t.equal(again.statusCode, 409, 'a cancelled grant is not paid again');
    t.equal(json<ProblemBody>(again).currentState, 'cancelled');
    const [audited] = await rows<{ n: number }>(
      app.database.db,
      sql`select count(*)::int as n from audit_events
          where operation = 'cancelPaymentBatch' and resource_ids @> array[${b.id}]::text[]`,
    );
    t.equal(audited!.n, 1, 'audited');
    const cancelled = await get(`/v1/payment-batches?status=cancelled`, s.finance);
    t.same(
      json<{ items: Batch[] }>(cancelled).items.map((x) => x.id),
      [b.id],
    );
  });

  await t.test('approved: cancelled, its funds given back in the ledger; no bank file', async (t) => {
    const g = await s.grant(30_000);
    const b = await s.act(await s.paid(g.id), 'approve');
    t.equal(b.status, 'approved');
    const res = await s.cancel(g.id, 'duplicate of another grant');
    t.equal(res.statusCode, 200, res.body);
    const after = await batch(b.id, s.finance);
    t.match(after, { status: 'cancelled', payments: { cancelled: { count: 1, amountFen: 30_000 } } });
    t.match(after.history.at(-1), { action: 'cancelled', note: 'duplicate of another grant' });

    const ledger = await ledgerOf(app, b.id);
    t.same(ledger.kinds, ['approval', 'withdrawal']);
    t.same(
      ledger.entries.filter((e) => e.kind === 'withdrawal'),
      [
        { kind: 'withdrawal', account: 'allocated', side: 'debit', amount: 30_000 },
        { kind: 'withdrawal', account: 'pending', side: 'credit', amount: 30_000 },
      ],
      'the allocation reversed, debits = credits',
    );
    t.match(await reconciliation(b.id, s.finance), {
      declared: { count: 1, amountFen: 30_000 },
      cancelled: { count: 1, amountFen: 30_000 },
      balanced: true,
      ledgerAgrees: true,
      ledger: { allocatedFen: 0, pendingFen: 0, paidFen: 0, failedFen: 0, returnedFen: 0 },
    });

    const dispatch = await post(`/v1/payment-batches/${b.id}/dispatch`, s.bank);
    t.equal(dispatch.statusCode, 409);
    t.equal(json<ProblemBody>(dispatch).currentState, 'cancelled');
    const file = await get(`/v1/payment-batches/${b.id}/pain.001`, s.bank);
    t.equal(file.statusCode, 409, 'never written into a pain.001');
    const period = json<Reconciliation>(
      await get(`/v1/payments/reconciliation?program=temporary_assistance&period=${after.period}`, s.finance),
    );
    t.match(period, { balanced: true, ledgerAgrees: true, cancelled: { count: 2, amountFen: 80_000 } });
  });

  await t.test('a re-issue waiting in a draft follow-up is withdrawn too', async (t) => {
    const g = await s.grant(20_000);
    const b = await s.act(await s.act(await s.paid(g.id), 'approve'), 'dispatch');
    await s.result(b, 'failed');
    const follow = await post(`/v1/payment-batches/${b.id}/follow-up`, s.nanguan);
    t.equal(follow.statusCode, 201, follow.body);
    const f = json<Batch>(follow);
    t.match(f, { status: 'draft', itemCount: 1, totalFen: 20_000 });
    t.equal((await s.cancel(g.id)).statusCode, 200);
    t.match(await batch(f.id, s.finance), { status: 'cancelled', payments: { cancelled: { count: 1 } } });
    t.match(await batch(b.id, s.finance), { status: 'dispatched', payments: { failed: { count: 1 } } });
    t.match(await reconciliation(f.id, s.finance), { balanced: true, ledgerAgrees: true });
  });

  await t.test('events and the registry tell what happened', async (t) => {
    const cancelledBatches = await eventsOf(app, s.finance, 'payment_batch.cancelled');
    t.same(
      cancelledBatches.map((e) => [e.data.previousStatus, e.data.withdrawn, e.data.status]),
      [
        ['submitted', { count: 1, amountFen: 50_000 }, 'cancelled'],
        ['approved', { count: 1, amountFen: 30_000 }, 'cancelled'],
        ['draft', { count: 1, amountFen: 20_000 }, 'cancelled'],
      ],
    );
    t.ok(cancelledBatches.every((e) => typeof e.data.temporaryAssistanceId === 'string' && e.data.reason));
    t.equal((await eventsOf(app, s.nanguan, 'temporary_assistance.cancelled')).length, 3);
    t.equal(await count(sql`select count(*)::int as n from payment_items where status = 'cancelled'`), 3);
  });
});

t.test(
  'a grant whose payment the bank has cannot be cancelled; once failed it can, and is not re-issued',
  async (t) => {
    const s = await setup(t);
    const { app, post, batch, count } = s;
    // Accounts of another program, and of another district: not the batch's.
    await payerAccounts(app, s.finance, ['dibao']);
    await payerAccounts(app, s.finance, ['temporary_assistance'], '220104');

    const g = await s.grant(40_000);
    const b = await s.act(await s.paid(g.id), 'approve');
    const refused = await post(`/v1/payment-batches/${b.id}/dispatch`, s.bank);
    t.equal(refused.statusCode, 422, refused.body);
    t.match(json<ProblemBody>(refused), {
      type: '/problems/unprocessable-request',
      missing: 'payerAccount',
      program: 'temporary_assistance',
      region: '220102',
    });
    t.equal((await batch(b.id, s.bank)).status, 'approved', 'the batch stays approved');
    await payerAccounts(app, s.finance, ['temporary_assistance']);
    const sent = await s.act(b, 'dispatch');

    const conflict = await s.cancel(g.id);
    t.equal(conflict.statusCode, 409, conflict.body);
    const problem = json<ProblemBody>(conflict);
    t.match(problem, { type: '/problems/conflict', batchId: b.id, batchStatus: 'dispatched', paymentStatus: 'sent' });
    t.match(problem.detail, /sent to the bank .* can no longer be withdrawn/);
    t.same(await s.grantOf(g.id), g, 'the grant as it was');
    const still = await batch(b.id, s.bank);
    t.equal(still.status, 'dispatched');
    t.equal(still.history.length, sent.history.length, 'no step in its history');
    t.same(await eventsOf(app, s.nanguan, 'temporary_assistance.cancelled'), []);

    await t.test('a paid grant: 409 too', async (t) => {
      const other = await s.grant(10_000);
      const ob = await s.act(await s.act(await s.paid(other.id), 'approve'), 'dispatch');
      await s.result(ob, 'paid');
      const res = await s.cancel(other.id);
      t.equal(res.statusCode, 409);
      t.match(json<ProblemBody>(res), { paymentStatus: 'paid', detail: /paid already/ });
      t.equal((await s.grantOf(other.id)).status, 'granted');
    });

    await t.test('the bank fails it: the grant is cancelled, and a follow-up does not pay it', async (t) => {
      await s.result(b, 'failed');
      const res = await s.cancel(g.id);
      t.equal(res.statusCode, 200, res.body);
      t.equal(json<Grant>(res).status, 'cancelled');
      t.equal((await batch(b.id, s.bank)).status, 'dispatched', 'nothing to withdraw: the batch is left as it is');
      const [failed] = await s.paymentsOf(b.id, s.bank);
      t.equal((failed as Payment).status, 'failed');
      const before = await count(countSql('payment_batches'));
      const follow = await post(`/v1/payment-batches/${b.id}/follow-up`, s.nanguan);
      t.equal(follow.statusCode, 409, follow.body);
      t.match(json<ProblemBody>(follow), {
        detail: /cancelled since/,
        cancelledTemporaryAssistanceIds: [g.id],
      });
      const named = await post(`/v1/payment-batches/${b.id}/follow-up`, s.nanguan, { itemIds: [failed!.id] });
      t.equal(named.statusCode, 409);
      t.match(json<ProblemBody>(named).errors, [{ pointer: '/itemIds/0', detail: /cancelled since/ }]);
      t.equal(await count(countSql('payment_batches')), before, 'no follow-up made');
    });
  },
);

t.test(
  'on PostgreSQL, a cancellation racing the dispatch or the payment itself: one wins, nothing half done',
  { skip: !onPostgres && 'needs PostgreSQL' },
  async (t) => {
    const s = await setup(t);
    const { app, post, batch, count } = s;
    await payerAccounts(app, s.finance, ['temporary_assistance']);

    for (let i = 0; i < 4; i++) {
      const g = await s.grant(10_000 + i);
      const b = await s.act(await s.paid(g.id), 'approve');
      const [cancel, dispatch] = await Promise.all([
        s.cancel(g.id),
        post(`/v1/payment-batches/${b.id}/dispatch`, s.bank),
      ]);
      const after = await batch(b.id, s.finance);
      if (cancel.statusCode === 200) {
        t.equal(dispatch.statusCode, 409, 'the cancellation won: no dispatch');
        t.equal(after.status, 'cancelled');
      } else {
        t.equal(cancel.statusCode, 409, cancel.body);
        t.equal(dispatch.statusCode, 200, 'the dispatch won: the grant stays');
        t.equal(after.status, 'dispatched');
        t.equal((await s.grantOf(g.id)).status, 'granted');
      }
      t.match(await s.reconciliation(b.id, s.finance), { balanced: true, ledgerAgrees: true });
    }

    for (let i = 0; i < 4; i++) {
      const g = await s.grant(20_000 + i);
      const [made, cancel] = await Promise.all([s.pay(g.id), s.cancel(g.id)]);
      t.equal(cancel.statusCode, 200, cancel.body);
      if (made.statusCode === 201) t.equal((await batch(json<Batch>(made).id, s.finance)).status, 'cancelled');
      else t.equal(made.statusCode, 409, made.body);
    }
    t.equal(
      await count(sql`select count(*)::int as n from payment_items i
        join temporary_assistance g on g.id = i.temporary_assistance_id where g.status = 'cancelled' and i.live`),
      0,
      'no cancelled grant has a payment that may still be made',
    );
  },
);
