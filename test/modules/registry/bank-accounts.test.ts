import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { persons } from '../../../src/modules/registry/people.tables.js';
import { ProblemError } from '../../../src/platform/errors.js';
import { defaultScopes } from '../../../src/platform/scopes.js';
import { json, testApp } from '../../helpers.js';
import { countPersons, residentId, withWrongCheck } from './people.fixtures.js';

/**
 * Bank account numbers are at most 34 digits (ISO 20022 carries an account in 34 characters), so
 * every account on file can be sent to the bank: refused with the field named wherever one is
 * entered, in bulk line by line, and kept so by the database.
 */

interface Problem {
  errors?: { pointer: string; detail: string }[];
}

const digits = (n: number) => Array.from({ length: n }, (_, i) => String((i * 7 + 3) % 10)).join('');
/** `n` digits in groups of four, as people write them. */
const grouped = (n: number) => digits(n).replace(/(\d{4})(?=\d)/g, '$1 ');
const id = (n: number) => residentId('220102', '19700101', String(n).padStart(3, '0'));
const member = (idNumber: string, accountNumber?: string, relationship = 'head') => ({
  name: '测试',
  relationship,
  idType: 'resident_id',
  idNumber,
  ...(accountNumber && { bankAccount: { bankName: '中国农业银行', accountNumber, holder: '测试' } }),
});

t.test('an account number of more than 34 digits is refused, naming the field, wherever it is entered', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220102', scopes: defaultScopes.civil_affairs });
  const post = (url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, headers: caseworker.headers, payload: payload as object });

  const long = await post('/v1/households', { region: '220102', members: [member(id(1), digits(35))] });
  t.equal(long.statusCode, 400, long.body);
  t.match(long.headers['content-type'], /^application\/problem\+json/);
  t.same(json<Problem>(long).errors, [
    {
      in: 'body',
      pointer: '/members/0/bankAccount/accountNumber',
      detail: 'has 35 digits; an account number has at most 34 (ISO 20022, as banks are sent it)',
    },
  ]);
  const forty = await post('/v1/households', { region: '220102', members: [member(id(1), digits(40))] });
  t.equal(forty.statusCode, 400, 'the 40 digits the registry once allowed');
  t.equal(await countPersons(app), 0, 'nothing written');

  // 34 digits, grouped by spaces (42 characters): kept as the 34 digits.
  const longest = await post('/v1/households', { region: '220102', members: [member(id(1), grouped(34))] });
  t.equal(longest.statusCode, 201, longest.body);
  const personId = json<{ members: { id: string }[] }>(longest).members[0]!.id;
  const read = await app.inject({ method: 'GET', url: `/v1/persons/${personId}`, headers: caseworker.headers });
  t.match(json(read), { bankAccount: { accountNumber: digits(34), accountNumberMasked: false } });

  const patch = (accountNumber: string) =>
    app.inject({
      method: 'PATCH',
      url: `/v1/persons/${personId}`,
      headers: caseworker.headers,
      payload: { bankAccount: { bankName: '吉林银行', accountNumber, holder: '测试' } },
    });
  const patched = await patch(grouped(36));
  t.equal(patched.statusCode, 400);
  t.match(json<Problem>(patched).errors, [{ pointer: '/bankAccount/accountNumber', detail: /has 36 digits/ }]);
  t.equal((await patch('12 34')).statusCode, 400, 'nor fewer than 6');
  const after = await app.inject({ method: 'GET', url: `/v1/persons/${personId}`, headers: caseworker.headers });
  t.same(json(after), json(read), 'the person as it was');

  await t.test('a person registered alone, in a household', async (t) => {
    const household = json<{ id: string }>(longest).id;
    const alone = await post(`/v1/households/${household}/members`, member(id(2), digits(35), 'child'));
    t.equal(alone.statusCode, 400, alone.body);
    t.match(json<Problem>(alone).errors, [{ pointer: '/bankAccount/accountNumber' }]);
  });
});

t.test('bulk registration refuses a long account on its own line, with the other lines’ problems', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', {
    jurisdiction: '220102',
    scopes: ['registry:read', 'registry:write'],
  });
  const households = [
    { region: '220102', members: [member(id(1), grouped(19))] },
    { region: '220102', members: [member(id(2)), member(id(3), digits(35), 'spouse')] },
    { region: '220102', members: [member(id(4), digits(34))] },
  ];
  const bulk = await app.inject({
    method: 'POST',
    url: '/v1/households/bulk',
    headers: caseworker.headers,
    payload: { households },
  });
  t.equal(bulk.statusCode, 400, bulk.body);
  t.same(
    json<Problem>(bulk).errors?.map((e) => e.pointer),
    ['/households/1/members/1/bankAccount/accountNumber'],
  );
  t.equal(await countPersons(app), 0, 'nothing written');

  // The bulk function itself (the CLI's seed-registry calls it without HTTP) checks each line too,
  // with its other checks: every problem of every line at once.
  const caller = { jurisdiction: '220102', scopes: [] };
  const actor = { clientId: null, agency: null, requestId: 'test' };
  const direct = await app.services.people
    .registerHouseholdsBulk(caller, actor, [
      households[0]!,
      { region: '220102', members: [member(withWrongCheck(id(5)), digits(36))] },
      households[1]!,
    ] as Parameters<typeof app.services.people.registerHouseholdsBulk>[2])
    .catch((err: unknown) => err);
  t.ok(direct instanceof ProblemError && direct.status === 400, 'refused');
  t.same(
    ((direct as ProblemError).extensions.errors as { pointer: string }[]).map((e) => e.pointer),
    [
      '/households/1/members/0/bankAccount/accountNumber',
      '/households/1/members/0/idNumber',
      '/households/2/members/1/bankAccount/accountNumber',
    ],
  );
  t.equal(await countPersons(app), 0, 'nothing written');

  const fine = await app.inject({
    method: 'POST',
    url: '/v1/households/bulk',
    headers: caseworker.headers,
    payload: { households: [households[0], households[2]] },
  });
  t.equal(fine.statusCode, 201, fine.body);
  t.equal(await countPersons(app), 2);
});

t.test('the database keeps every account within 34 digits', async (t) => {
  const { app } = await testApp(t);
  const { pii } = app.services;
  const db = app.database.db;
  const insert = (account: string) => {
    const document = pii.protect('document', `P${account.length}X${account.slice(-6)}`);
    const bank = pii.protect('bank_account', account);
    return db.insert(persons).values({
      name: '测试',
      idType: 'other',
      idNumberSealed: document.sealed,
      idNumberIndex: document.index,
      idNumberMasked: document.masked,
      sealedKeyId: pii.currentKeyId,
      region: '220102',
      bankName: '中国农业银行',
      bankAccountHolder: '测试',
      bankAccountSealed: bank.sealed,
      bankAccountMasked: bank.masked,
    });
  };
  await insert(digits(34));
  const refused = await insert(`9${digits(34)}`).then(
    () => 'inserted',
    (err: unknown) => `${(err as Error).message} ${(err as { cause?: Error }).cause?.message ?? ''}`,
  );
  t.match(refused, /persons_bank_account_length_check/);
  const [n] = await rows<{ n: number }>(db, sql`select count(*)::int as n from persons`);
  t.equal(n!.n, 1);
});
