import { eq, sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { documentStart, transaction, xmlText, yuan } from '../../../src/modules/payments/bank.pain001.js';
import { persons } from '../../../src/modules/registry/people.tables.js';
import { json, testApp } from '../../helpers.js';
import { dispatchedBatch, fenOf, manyEnrolled, readPain001, xsdProblems } from './bank.fixtures.js';
import { enrolled, http, type Payment, type ProblemBody, thisMonth } from './payments.fixtures.js';

const period = thisMonth();

t.test('xmlText and yuan', async (t) => {
  t.equal(xmlText('A & B <c> "d"'), 'A &amp; B &lt;c&gt; &quot;d&quot;');
  t.equal(xmlText('tab\there\u0001\uFFFE'), 'tab here');
  t.equal(xmlText('\uD800lone'), 'lone');
  t.equal(xmlText('𠀀'.repeat(5), 3), '𠀀𠀀𠀀', 'lengths count characters, not UTF-16 units');
  t.equal(xmlText('&&&', 2), '&amp;&amp;', 'cut before escaping');
  t.equal(yuan(0), '0.00');
  t.equal(yuan(5), '0.05');
  t.equal(yuan(70_001), '700.01');
  t.equal(yuan(9_007_199_254_740_991), '90071992547409.91');
  t.throws(() => yuan(1.5));
  t.throws(() => yuan(-1));
  const tooLong = { endToEndId: 'e', amountFen: 1, payeeName: 'a', accountHolder: 'a', bankName: 'b', remittance: 'r' };
  t.throws(() => transaction({ ...tooLong, accountNumber: '1'.repeat(35) }), /35 characters cannot be sent/);
  const header = documentStart({
    messageId: 'M',
    createdAt: new Date('2024-05-01T01:30:00Z'),
    itemCount: 0,
    totalFen: 0,
    executionDate: new Date('2024-04-30T17:00:00Z'),
    urgent: false,
    payer: { accountName: 'n', accountNumber: '123456', bankName: 'b', bankBic: null, bankCnaps: null },
  });
  t.match(header, '<CreDtTm>2024-05-01T09:30:00+08:00</CreDtTm>');
  t.match(header, '<ReqdExctnDt>2024-05-01</ReqdExctnDt>', 'the business day in Asia/Shanghai');
});

t.test(
  'a dispatched batch as pain.001: valid against the XSD, its figures the batch’s, accounts only for finance and banks',
  async (t) => {
    const { app, client } = await testApp(t);
    const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
    const finance = await client('finance');
    const bank = await client('bank');
    const otherBank = await client('bank', { jurisdiction: '220104' });
    const { post, get, batch: readBatch, paymentsOf } = http(app);
    const who = { caseworker, finance, bank };

    const tricky = await enrolled(app, { region: '220102', benefitFen: 70_001 });
    await enrolled(app, { region: '220102001', benefitFen: 56_000, size: 2 });
    const plain = await enrolled(app, { region: '220102', benefitFen: 99 });
    // Names a file must escape, clean and cut: markup, a control character, and 150 characters.
    await app.database.db
      .update(persons)
      .set({ name: `O'Brien & <Sons> "甲"\u0007${'长'.repeat(150)}`, bankAccountHolder: 'Zhang & Co <holder>' })
      .where(eq(persons.id, tricky.headId));
    await app.database.db.update(persons).set({ bankAccountHolder: 'Same' }).where(eq(persons.id, plain.headId));
    await app.database.db.update(persons).set({ name: 'Same' }).where(eq(persons.id, plain.headId));

    const approved = await dispatchedBatch(app, who, { region: '220102', period, dispatch: false });
    const url = `/v1/payment-batches/${approved.id}/pain.001`;

    const early = await get(url, bank);
    t.equal(early.statusCode, 409, 'not before dispatch');
    t.equal(json<ProblemBody>(early).currentState, 'approved');

    await t.test('no payer account: dispatch is refused, and the batch stays approved', async (t) => {
      const db = app.database.db;
      const counted = async () =>
        (
          await rows<{ events: number; audits: number }>(
            db,
            sql`select (select count(*)::int from events where type = 'payment_batch.dispatched') as events,
                       (select count(*)::int from audit_events where operation = 'dispatchPaymentBatch') as audits`,
          )
        )[0];
      const before = { batch: await readBatch(approved.id, finance), counts: await counted() };
      const none = await post(`/v1/payment-batches/${approved.id}/dispatch`, bank);
      t.equal(none.statusCode, 422, none.body);
      t.match(none.headers['content-type'], /^application\/problem\+json/);
      t.match(json<ProblemBody>(none), {
        type: '/problems/unprocessable-request',
        missing: 'payerAccount',
        program: 'dibao',
        region: '220102',
      });
      t.match(json<ProblemBody>(none).detail, /no payer account is set for dibao in 220102/);
      t.match(json<ProblemBody>(none).detail, /POST \/v1\/payment-payer-accounts/);
      const after = await readBatch(approved.id, finance);
      t.same(after, before.batch, 'the batch as it was: approved, same version, no new history step');
      t.equal(after.status, 'approved');
      const items = await paymentsOf(approved.id, finance);
      t.same(
        items.map((i) => [i.status, (i as Payment & { sentAt: string | null }).sentAt]),
        [
          ['pending', null],
          ['pending', null],
          ['pending', null],
        ],
        'no payment sent',
      );
      t.same(await counted(), before.counts, 'no event, no audit of a dispatch');
      t.equal((await get(url, bank)).statusCode, 409, 'still nothing to collect');
    });

    await t.test('payer accounts are finance’s', async (t) => {
      const body = {
        program: 'dibao',
        region: '2201',
        accountName: '长春市社会保障基金专户',
        accountNumber: '2200 1234 5678 9012',
        bankName: '中国建设银行长春分行',
        bankCnaps: '105241000015',
      };
      t.equal((await post('/v1/payment-payer-accounts', bank, body)).statusCode, 403, 'banks do not set them');
      const badRes = await post('/v1/payment-payer-accounts', finance, {
        ...body,
        region: '3101',
        accountNumber: '12AB',
        bankBic: 'nope',
      });
      t.equal(badRes.statusCode, 400);
      t.same(
        json<ProblemBody>(badRes)
          .errors!.map((e) => e.pointer)
          .sort(),
        ['/accountNumber', '/bankBic'],
      );
      const tooLong = await post('/v1/payment-payer-accounts', finance, {
        ...body,
        accountNumber: `${'123456 '.repeat(5)}123456`,
      });
      t.equal(tooLong.statusCode, 400, 'an account of 36 digits cannot be sent in a pain.001');
      t.match(json<ProblemBody>(tooLong).errors, [
        { pointer: '/accountNumber', detail: /has 36 digits; .* at most 34/ },
      ]);
      const outside = await post(
        '/v1/payment-payer-accounts',
        await client('finance', { jurisdiction: '220104' }),
        body,
      );
      t.equal(outside.statusCode, 400);
      t.match(json<ProblemBody>(outside).errors, [{ pointer: '/region', detail: /inside your jurisdiction/ }]);

      const made = await post('/v1/payment-payer-accounts', finance, body);
      t.equal(made.statusCode, 201, made.body);
      t.match(json(made), { program: 'dibao', region: '2201', accountNumber: '2200123456789012', version: 1 });
      const again = await post('/v1/payment-payer-accounts', finance, body);
      t.equal(again.statusCode, 409);
      t.equal(json<ProblemBody>(again).existingId, json<{ id: string }>(made).id);
      const listed = json<{ items: { id: string }[] }>(await get('/v1/payment-payer-accounts', finance));
      t.same(
        listed.items.map((i) => i.id),
        [json<{ id: string }>(made).id],
      );
    });

    const dispatched = await post(`/v1/payment-batches/${approved.id}/dispatch`, bank);
    t.equal(dispatched.statusCode, 200, dispatched.body);
    t.equal(json<{ status: string }>(dispatched).status, 'dispatched');

    const res = await get(url, bank);
    t.equal(res.statusCode, 200, res.body.slice(0, 500));
    t.match(res.headers['content-type'], /^application\/xml/);
    t.match(res.headers['content-disposition'], /attachment; filename="pain\.001\.001\.03-[0-9a-f]{32}\.xml"/);
    const xml = res.body;
    t.same(xsdProblems(xml), [], 'valid against pain.001.001.03.xsd');

    const file = readPain001(xml);
    const batch = approved;
    const items = await paymentsOf(batch.id, finance);
    t.equal(file.messageId, batch.id.replaceAll('-', ''));
    t.equal(file.count, String(batch.itemCount));
    t.equal(file.blockCount, String(batch.itemCount));
    t.equal(fenOf(file.sum!), batch.totalFen);
    t.equal(fenOf(file.blockSum!), batch.totalFen);
    t.equal(
      file.transactions.reduce((s, tx) => s + fenOf(tx.amount!), 0),
      batch.totalFen,
      'the amounts add up to the batch’s total, to the fen',
    );
    t.equal(file.debtorAccount, '2200123456789012');
    t.equal(file.debtorName, '长春市社会保障基金专户');
    t.equal(file.debtorAgentCnaps, '105241000015');
    t.equal(file.priority, 'NORM');
    const byE2e = new Map(items.map((i) => [i.endToEndId, i]));
    t.equal(file.transactions.length, items.length);
    for (const tx of file.transactions) {
      const item = byE2e.get(tx.endToEndId!)!;
      t.ok(item, `${tx.endToEndId} is a payment of the batch`);
      t.equal(fenOf(tx.amount!), item.amountFen);
      t.equal(tx.currency, 'CNY');
      t.equal(tx.account, item.payee.accountNumber, 'the account, opened from its seal');
      t.equal(tx.agent, item.payee.bankName);
      t.equal(tx.remittance, `最低生活保障 ${period}`);
    }
    const trickyTx = file.transactions.find((tx) => byE2e.get(tx.endToEndId!)!.personId === tricky.headId)!;
    t.equal(trickyTx.creditor, 'Zhang & Co <holder>', 'escaped, and read back as it was');
    t.equal(trickyTx.ultimateCreditor, `O'Brien & <Sons> "甲" ${'长'.repeat(150)}`.slice(0, 140));
    t.equal(trickyTx.amount, '700.01');
    const plainTx = file.transactions.find((tx) => byE2e.get(tx.endToEndId!)!.personId === plain.headId)!;
    t.equal(plainTx.amount, '0.99');
    t.equal(plainTx.ultimateCreditor, null, 'no ultimate creditor when the payee holds the account');

    await t.test('each collection is audited; the file stays the same, even when the account changes', async (t) => {
      const [account] = json<{ items: { id: string; version: number }[] }>(
        await get('/v1/payment-payer-accounts', finance),
      ).items;
      const changed = await app.inject({
        method: 'PUT',
        url: `/v1/payment-payer-accounts/${account!.id}`,
        headers: { ...finance.headers, 'if-match': `"${account!.id}.1"` },
        payload: { accountName: '新专户', accountNumber: '99998888777766', bankName: '吉林银行' },
      });
      t.equal(changed.statusCode, 200, changed.body);
      const stale = await app.inject({
        method: 'PUT',
        url: `/v1/payment-payer-accounts/${account!.id}`,
        headers: { ...finance.headers, 'if-match': `"${account!.id}.1"` },
        payload: { accountName: '新专户', accountNumber: '99998888777766', bankName: '吉林银行' },
      });
      t.equal(stale.statusCode, 412);
      const again = await get(url, finance);
      t.equal(again.statusCode, 200, 'finance may collect it too');
      t.equal(again.body, xml, 'byte for byte the file the bank collected');
      const [audited] = await rows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from audit_events where operation = 'downloadPaymentBatchPain001' and outcome = 'success' and ${batch.id} = any(resource_ids)`,
      );
      t.equal(audited!.n, 2);
    });

    await t.test('callers without finance’s or a bank’s scope get no accounts', async (t) => {
      const denied = await get(url, caseworker);
      t.equal(denied.statusCode, 403);
      t.match(json<ProblemBody>(denied), { requiredScopes: ['payments:execute', 'payments:approve'] });
      for (const item of items) t.notOk(denied.body.includes(item.payee.accountNumber));
      const [refused] = await rows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from audit_events where operation = 'downloadPaymentBatchPain001' and outcome = 'denied'`,
      );
      t.equal(refused!.n, 1, 'the refusal is audited');
      t.equal((await get(url, otherBank)).statusCode, 404, 'outside the jurisdiction');
      const noRead = await client('bank', { scopes: ['payments:execute'] });
      t.equal((await get(url, noRead)).statusCode, 403);
      t.equal((await get('/v1/payment-payer-accounts', bank)).statusCode, 403);
      const masked = json<{ items: Payment[] }>(await get(`/v1/payment-batches/${batch.id}/payments`, caseworker));
      t.ok(masked.items.every((i) => i.payee.accountNumberMasked));
    });
  },
);

t.test('a batch of several pages streams whole and valid', async (t) => {
  const { app, client } = await testApp(t);
  const who = {
    caseworker: await client('civil_affairs', { jurisdiction: '220104' }),
    finance: await client('finance'),
    bank: await client('bank'),
  };
  const n = 4_321;
  const amount = (i: number) => 30_000 + (i % 997);
  await manyEnrolled(app, n, '220104', amount);
  const { post, get } = http(app);
  t.equal(
    (
      await post('/v1/payment-payer-accounts', who.finance, {
        program: 'dibao',
        region: '220104',
        accountName: '朝阳区低保资金专户',
        accountNumber: '22050161000800000111',
        bankName: '吉林银行朝阳支行',
        bankBic: 'JLBKCNBJ',
      })
    ).statusCode,
    201,
  );
  const batch = await dispatchedBatch(app, who, { region: '220104', period });
  const expected = Array.from({ length: n }, (_, i) => amount(i)).reduce((s, a) => s + a, 0);
  t.equal(batch.itemCount, n);
  t.equal(batch.totalFen, expected);

  const res = await get(`/v1/payment-batches/${batch.id}/pain.001`, who.bank);
  t.equal(res.statusCode, 200);
  t.same(xsdProblems(res.body), []);
  const file = readPain001(res.body);
  t.equal(file.count, String(n));
  t.equal(file.transactions.length, n);
  t.equal(new Set(file.transactions.map((tx) => tx.endToEndId)).size, n, 'each payment once');
  t.equal(fenOf(file.sum!), expected);
  t.equal(
    file.transactions.reduce((s, tx) => s + fenOf(tx.amount!), 0),
    expected,
  );

  // Approval queued the job that writes the file out; from then on downloads stream stored parts.
  t.equal(await app.services.jobs.drain(), 1, 'the render job ran');
  const [stored] = await rows<{ parts: number; bytes: number; sealed: number }>(
    app.database.db,
    sql`select f.rendered_parts as parts, f.rendered_bytes::int as bytes,
          (select count(*)::int from payment_batch_file_parts p where p.batch_id = f.batch_id) as sealed
        from payment_batch_files f where f.batch_id = ${batch.id}::uuid`,
  );
  t.ok(stored!.parts >= 2, `written out in parts (${stored!.parts})`);
  t.equal(stored!.sealed, stored!.parts);
  t.equal(stored!.bytes, Buffer.byteLength(res.body), 'the whole document');
  const [plainText] = await rows<{ n: number }>(
    app.database.db,
    sql`select count(*)::int as n from payment_batch_file_parts
        where position(convert_to('22050161000800000111', 'UTF8') in sealed) > 0 or position(convert_to('CdtTrfTxInf', 'UTF8') in sealed) > 0`,
  );
  t.equal(plainText!.n, 0, 'stored compressed and sealed: neither markup nor an account readable');
  const again = await get(`/v1/payment-batches/${batch.id}/pain.001`, who.bank);
  t.equal(again.statusCode, 200, again.body.slice(0, 300));
  t.equal(again.body, res.body, 'byte for byte the document made before it was written out');
  t.equal(await app.services.jobs.drain(), 0);
  t.match(await app.services.bank.renderFile(batch.id), { rendered: true, already: true }, 'written once');
});
