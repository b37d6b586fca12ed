import type { Test } from 'tap';
import t from 'tap';
import { readPain002 } from '../../../src/modules/payments/bank.pain002.js';
import { ProblemError } from '../../../src/platform/errors.js';
import { json, testApp, type TestClient } from '../../helpers.js';
import { dispatchedBatch, pain002 } from './bank.fixtures.js';
import { enrolled, http, type Payment, type ProblemBody, type Reconciliation, thisMonth } from './payments.fixtures.js';

const period = thisMonth();
const TX = '/Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts';

interface Answer {
  batchId: string;
  reportMessageId: string | null;
  recorded: Record<'paid' | 'failed' | 'returned', { count: number; amountFen: number }>;
  unchanged: number;
  stillSent: number;
  interim: number;
}

t.test('a report is read as it streams, within its size limit', async (t) => {
  const xml = pain002('M', [{ e2e: 'E1', status: 'RJCT', reason: 'AM04', info: '余额不足' }]);
  // Split inside a multi-byte character: the decoder must carry it over.
  const bytes = Buffer.from(xml);
  const cut = bytes.indexOf(Buffer.from('余')) + 1;
  const report = await readPain002([bytes.subarray(0, cut), bytes.subarray(cut)]);
  t.match(report, {
    messageId: 'RPT1',
    originalMessageId: 'M',
    paymentInformation: [
      {
        originalId: 'M',
        transactions: [{ endToEndId: 'E1', status: 'RJCT', reasons: [{ code: 'AM04', info: ['余额不足'] }] }],
      },
    ],
  });
  const tooBig = await readPain002([bytes], 100).catch((err: unknown) => err);
  t.ok(tooBig instanceof ProblemError && tooBig.status === 413, 'past the limit: 413');
  const notUtf8 = await readPain002([Buffer.from([0x3c, 0xff, 0xfe])]).catch((err: unknown) => err);
  t.match(notUtf8, { status: 400, message: 'The body is not UTF-8.' });
});

t.test('pain.002 status reports: paid and failed, replays change nothing, bad reports are refused whole', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const finance = await client('finance');
  const bank = await client('bank');
  const { post, batch: readBatch, paymentsOf, reconciliation } = http(app);
  const amounts = [10_000, 20_000, 30_000, 40_000, 50_000];
  for (const benefitFen of amounts) await enrolled(app, { region: '220102', benefitFen });
  const made = await post('/v1/payment-payer-accounts', finance, {
    program: 'dibao',
    region: '220102',
    accountName: '南关区低保资金专户',
    accountNumber: '220501610008000001',
    bankName: '吉林银行南关支行',
  });
  t.equal(made.statusCode, 201);
  const batch = await dispatchedBatch(app, { caseworker, finance, bank }, { region: '220102', period });
  const messageId = batch.id.replaceAll('-', '');
  const url = `/v1/payment-batches/${batch.id}/pain.002`;
  const items = (await paymentsOf(batch.id, bank)).sort((x, y) => x.amountFen - y.amountFen);
  const [a, b, c, d, e] = items.map((i) => i.endToEndId) as [string, string, string, string, string];

  const send = (xml: string, who: TestClient = bank, type = 'application/xml') =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, 'content-type': type }, payload: xml });
  const statuses = async () =>
    Object.fromEntries((await paymentsOf(batch.id, bank)).map((i) => [i.endToEndId, i.status] as const));
  const unchangedBy = async (t: Test, res: Awaited<ReturnType<typeof send>>, before: Record<string, string>) => {
    t.same(await statuses(), before, 'no payment changed');
    return json<ProblemBody>(res);
  };

  const first = pain002(messageId, [
    { e2e: a, status: 'ACSC', acceptedAt: '2024-05-02T09:15:00', ref: 'JL20240502-0001' },
    { e2e: b, status: 'RJCT', reason: 'AC04', info: '账户已销户 &amp; 冻结' },
    { e2e: c, status: 'ACTC' },
  ]);
  const res = await send(first);
  t.equal(res.statusCode, 200, res.body);
  t.same(json<Answer>(res), {
    batchId: batch.id,
    reportMessageId: 'RPT1',
    recorded: {
      paid: { count: 1, amountFen: 10_000 },
      failed: { count: 1, amountFen: 20_000 },
      returned: { count: 0, amountFen: 0 },
    },
    unchanged: 0,
    stillSent: 3,
    interim: 1,
  });
  const after = await paymentsOf(batch.id, bank);
  const paid = after.find((i) => i.endToEndId === a)! as Payment & { bankReference: string | null };
  t.match(paid, { status: 'paid', bankReference: 'JL20240502-0001' });
  t.equal(new Date(paid.resultAt!).toISOString(), '2024-05-02T01:15:00.000Z', 'AccptncDtTm without offset is CST');
  t.match(
    after.find((i) => i.endToEndId === b),
    {
      status: 'failed',
      resultCode: 'AC04',
      resultDetail: '账户已销户 & 冻结',
    },
  );
  t.equal(after.find((i) => i.endToEndId === c)!.status, 'sent', 'a status that is not final records nothing');
  const settled = await statuses();
  const historyLength = (await readBatch(batch.id, bank)).history.length;

  await t.test('the same report again changes nothing', async (t) => {
    const again = await send(first);
    t.equal(again.statusCode, 200);
    t.match(json<Answer>(again), {
      recorded: { paid: { count: 0 }, failed: { count: 0 } },
      unchanged: 2,
      stillSent: 3,
      interim: 1,
    });
    t.same(await statuses(), settled);
    t.equal((await readBatch(batch.id, bank)).history.length, historyLength, 'no history step either');
  });

  await t.test('a malformed report is refused whole', async (t) => {
    const cut = pain002(messageId, [{ e2e: d, status: 'ACSC' }]).slice(0, -40);
    const broken = await send(cut);
    t.equal(broken.statusCode, 400);
    const problem = await unchangedBy(t, broken, settled);
    t.equal(problem.type, '/problems/malformed-request');
    t.match(problem.detail, /not well-formed XML: .*\d+:\d+/);

    const mismatched = await send(pain002(messageId, [{ e2e: d, status: 'ACSC' }]).replace('</TxSts>', '</TxStatus>'));
    t.equal(mismatched.statusCode, 400);
    t.match(
      json<ProblemBody>(mismatched).detail,
      /7:\d+: .*inside \/Document\/CstmrPmtStsRpt\/OrgnlPmtInfAndSts\[1\]\/TxInfAndSts\[1\]/,
    );

    const notPain002 = await send(
      '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>',
    );
    t.equal(notPain002.statusCode, 400);
    t.match(json<ProblemBody>(notPain002).detail, /namespace urn:iso:std:iso:20022:tech:xsd:pain\.002\.001\.03/);

    const doctype = await send(
      `<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x "y">]>${pain002(messageId, [{ e2e: d, status: 'ACSC' }]).replace(/^<\?xml[^>]*\?>/, '')}`,
    );
    t.equal(doctype.statusCode, 400);
    t.match(json<ProblemBody>(doctype).detail, /DOCTYPE/);

    const latin = await send(pain002(messageId, [{ e2e: d, status: 'ACSC' }]).replace('UTF-8', 'ISO-8859-1'));
    t.equal(latin.statusCode, 400);
    t.match(json<ProblemBody>(latin).detail, /must be UTF-8/);

    const empty = await send('');
    t.equal(empty.statusCode, 400);
    await unchangedBy(t, empty, settled);
  });

  await t.test('unknown payments and missing elements are named, and nothing is applied', async (t) => {
    const unknown = await send(
      pain002(messageId, [
        { e2e: d, status: 'ACSC' },
        { e2e: 'NOSUCHPAYMENT0001', status: 'ACSC' },
      ]),
    );
    t.equal(unknown.statusCode, 400);
    const problem = await unchangedBy(t, unknown, settled);
    t.equal(problem.type, '/problems/validation-error');
    t.same(problem.errors, [
      { in: 'body', pointer: `${TX}[2]/OrgnlEndToEndId`, detail: 'is not a payment of this batch' },
    ]);

    const noReason = await send(
      pain002(messageId, [
        { e2e: d, status: 'ACSC' },
        { e2e: e, status: 'RJCT' },
        { e2e: c, status: 'DONE' },
      ]),
    );
    t.equal(noReason.statusCode, 400);
    const pointers = (await unchangedBy(t, noReason, settled)).errors!.map((x) => x.pointer);
    t.same(pointers, [`${TX}[2]/StsRsnInf`, `${TX}[3]/TxSts`]);

    const wrongFile = await send(pain002('SOMEOTHERFILE', [{ e2e: d, status: 'ACSC' }]));
    t.equal(wrongFile.statusCode, 400);
    t.match((await unchangedBy(t, wrongFile, settled)).errors, [
      { pointer: '/Document/CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId', detail: new RegExp(messageId) },
    ]);

    const badReason = await send(pain002(messageId, [{ e2e: e, status: 'RJCT', reason: 'account closed' }]));
    t.equal(badReason.statusCode, 400);
    t.match((await unchangedBy(t, badReason, settled)).errors, [{ pointer: `${TX}[1]/StsRsnInf[1]/Rsn` }]);

    const groupNoReason = await send(pain002(messageId, [], { status: 'RJCT' }));
    t.equal(groupNoReason.statusCode, 400);
    t.match((await unchangedBy(t, groupNoReason, settled)).errors, [
      { pointer: '/Document/CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf' },
    ]);
  });

  await t.test('a result contradicting one recorded is a conflict, and nothing is applied', async (t) => {
    const contradicting = await send(
      pain002(messageId, [
        { e2e: d, status: 'ACSC' },
        { e2e: a, status: 'RJCT', reason: 'AC04' },
      ]),
    );
    t.equal(contradicting.statusCode, 409);
    t.match((await unchangedBy(t, contradicting, settled)).errors, [{ pointer: `${TX}[2]/TxSts`, detail: /already/ }]);
  });

  await t.test('who may report', async (t) => {
    t.equal((await send(first, caseworker)).statusCode, 403);
    t.equal((await send(first, finance)).statusCode, 403);
    t.equal((await send(first, await client('bank', { jurisdiction: '220104' }))).statusCode, 404);
    const asJson = await send(JSON.stringify({ results: [] }), bank, 'application/json');
    t.equal(asJson.statusCode, 415);
    t.same(await statuses(), settled);
  });

  await t.test('ACCP (AcceptedCustomerProfile) is not settlement: interim, nothing recorded', async (t) => {
    const accepted = await send(
      pain002(messageId, [
        { e2e: d, status: 'ACCP' },
        { e2e: e, status: 'ACSP' },
      ]),
    );
    t.equal(accepted.statusCode, 200, accepted.body);
    t.match(json<Answer>(accepted), {
      recorded: { paid: { count: 0 }, failed: { count: 0 }, returned: { count: 0 } },
      unchanged: 0,
      stillSent: 3,
      interim: 2,
    });
    t.same(await statuses(), settled, 'd and e still sent');
    // A whole file accepted for its profile settles nothing either: a report with nothing final is refused.
    const wholeFile = await send(pain002(messageId, [], { status: 'ACCP', reportId: 'RPT-ACCP' }));
    t.equal(wholeFile.statusCode, 400, wholeFile.body);
    t.match((await unchangedBy(t, wholeFile, settled)).errors, [
      { pointer: '/Document/CstmrPmtStsRpt/OrgnlGrpInfAndSts', detail: /no final status \(GrpSts ACCP\)/ },
    ]);
    t.equal((await readBatch(batch.id, bank)).history.length, historyLength, 'no history step');
  });

  await t.test('a final group status with no transaction listed settles the rest', async (t) => {
    const rest = await send(pain002(messageId, [], { status: 'ACSC', reportId: 'RPT2' }));
    t.equal(rest.statusCode, 200, rest.body);
    t.match(json<Answer>(rest), {
      reportMessageId: 'RPT2',
      recorded: { paid: { count: 3, amountFen: 30_000 + 40_000 + 50_000 }, failed: { count: 0 } },
      unchanged: 1,
      stillSent: 0,
      interim: 0,
    });
    t.same(await statuses(), { [a]: 'paid', [b]: 'failed', [c]: 'paid', [d]: 'paid', [e]: 'paid' });
    const completed = await post(`/v1/payment-batches/${batch.id}/complete`, bank);
    t.equal(completed.statusCode, 200, completed.body);
    const report = await reconciliation(batch.id, finance);
    t.match(report, { balanced: true, ledgerAgrees: true, paid: { count: 4 }, failed: { count: 1 } });
    t.equal(
      (report as Reconciliation).declared.amountFen,
      amounts.reduce((s, x) => s + x, 0),
    );
    const late = await send(pain002(messageId, [{ e2e: c, status: 'ACSC' }]));
    t.equal(late.statusCode, 409, 'no results once the batch is completed');
    t.equal(json<ProblemBody>(late).currentState, 'completed');
  });
});
