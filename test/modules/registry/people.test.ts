import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { defaultScopes, type Scope } from '../../../src/platform/scopes.js';
import { json, onPostgres, testApp, type TestApp } from '../../helpers.js';
import { captureLog, countPersons, type Recorded, recorder, residentId, withWrongCheck } from './people.fixtures.js';

interface Person {
  id: string;
  householdId: string | null;
  relationship: string | null;
  name: string;
  idType: string;
  idNumber: string;
  idNumberMasked: boolean;
  birthDate: string | null;
  sex: string | null;
  region: string;
  phone: string | null;
  phoneMasked: boolean;
  bankAccount: { bankName: string; holder: string; accountNumber: string; accountNumberMasked: boolean } | null;
  scatteredExtremelyPoor: boolean;
  livesAlone: boolean;
}
interface Household {
  id: string;
  region: string;
  members: Person[];
}
interface Problem {
  status: number;
  detail: string;
  errors?: { pointer: string; detail: string }[];
  existingPersonId?: string;
  existingHouseholdId?: string | null;
  registeredElsewhere?: boolean;
  conflicts?: { pointer: string }[];
}

const head = residentId('220102', '19500307', '123');
const spouse = residentId('220102', '19520101', '124');
const child = residentId('220104', '19801231', '015');
const phone = '13812345678';
const account = '6222020200112233445';
/** Every whole number of this file: no answer to a masked caller and no log line may hold one. */
const secrets = [head, spouse, child, phone, account];
const allAnswers: Recorded[] = [];

const household = (overrides: Record<string, unknown> = {}) => ({
  region: '220102',
  address: '人民大街 100 号',
  hukouRegion: '220102',
  members: [
    {
      name: '张三',
      relationship: 'head',
      idType: 'resident_id',
      idNumber: head,
      phone,
      bankAccount: { bankName: '中国农业银行', accountNumber: account, holder: '张三' },
    },
    {
      name: '李四',
      relationship: 'spouse',
      idType: 'resident_id',
      idNumber: spouse,
      disabled: true,
      selfCare: 'unable',
    },
    { name: '张小', relationship: 'child', idType: 'resident_id', idNumber: child },
  ],
  ...overrides,
});

async function setup(t: Parameters<typeof testApp>[0], options: Parameters<typeof testApp>[1] = {}) {
  const test = await testApp(t, options);
  const as = async (jurisdiction: string, scopes: Scope[]) => ({
    ...(await test.client('civil_affairs', { jurisdiction, scopes })),
    scopes,
  });
  const masked = await as('220102', ['registry:read', 'registry:write']);
  const sensitive = await as('220102', defaultScopes.civil_affairs);
  const outsider = await as('220103', ['registry:read', 'registry:write']);
  const { call, answers } = recorder(test.app);
  t.teardown(() => void allAnswers.push(...answers));
  return { ...test, masked, sensitive, outsider, call };
}

const auditRows = (app: TestApp['app']) =>
  rows<{ operation: string; person_ids: string[] }>(
    app.database.db,
    sql`select operation, person_ids from audit_events order by seq`,
  );

t.test('a household registered with its members reads back masked, or whole with read_sensitive', async (t) => {
  const { app, masked, sensitive, call } = await setup(t);
  const created = await call(masked, 'POST', '/v1/households', household());
  t.equal(created.statusCode, 201, created.body);
  const body = json<Household>(created);
  t.equal(created.headers.location, `/v1/households/${body.id}`);
  t.match(created.headers.etag, /^"[0-9a-f-]{36}\.1"$/);
  t.same(
    body.members.map((m) => [m.relationship, m.idNumber, m.idNumberMasked, m.birthDate, m.sex]),
    [
      ['head', `220102********${head.slice(14)}`, true, '1950-03-07', 'male'],
      ['spouse', `220102********${spouse.slice(14)}`, true, '1952-01-01', 'female'],
      ['child', `220104********${child.slice(14)}`, true, '1980-12-31', 'male'],
    ],
  );
  const [h] = body.members;
  t.match(h, { phone: '138****5678', phoneMasked: true, region: '220102', householdId: body.id });
  t.same(h!.bankAccount, {
    bankName: '中国农业银行',
    holder: '张三',
    accountNumber: '***************3445',
    accountNumberMasked: true,
  });
  t.match(body.members[1], { disabled: true, selfCare: 'unable', phone: null, phoneMasked: false, bankAccount: null });

  const maskedRead = json<Household>(await call(masked, 'GET', `/v1/households/${body.id}`));
  t.same(maskedRead, body, 'a masked read shows what the creation answered');
  const whole = json<Household>(await call(sensitive, 'GET', `/v1/households/${body.id}`));
  t.same(
    whole.members.map((m) => [m.idNumber, m.idNumberMasked]),
    [
      [head, false],
      [spouse, false],
      [child, false],
    ],
  );
  t.match(whole.members[0], {
    phone,
    phoneMasked: false,
    bankAccount: { accountNumber: account, accountNumberMasked: false },
  });

  const personId = h!.id;
  t.match(json(await call(masked, 'GET', `/v1/persons/${personId}`)), { idNumber: body.members[0]!.idNumber });
  t.match(json(await call(sensitive, 'GET', `/v1/persons/${personId}`)), { idNumber: head, phone });

  const audits = await auditRows(app);
  const memberIds = body.members.map((m) => m.id).sort();
  const find = (operation: string) => audits.filter((a) => a.operation === operation);
  t.same(find('registerHousehold')[0]!.person_ids.sort(), memberIds, 'the creation is audited with its persons');
  t.same(find('getHousehold')[0]!.person_ids.sort(), memberIds, 'masked read audited');
  t.same(find('getHouseholdUnmasked')[0]!.person_ids.sort(), memberIds, 'unmasked read audited as such');
  t.same(find('getPerson')[0]!.person_ids, [personId]);
  t.same(find('getPersonUnmasked')[0]!.person_ids, [personId]);

  const events = await rows<{ type: string; region: string; data: { members: { maskedIdNumber: string }[] } }>(
    app.database.db,
    sql`select type, region, data from events where type = 'household.registered'`,
  );
  t.equal(events.length, 1);
  t.match(events[0], { region: '220102', data: { householdId: body.id, members: [{ relationship: 'head' }] } });
  t.equal(events[0]!.data.members[0]!.maskedIdNumber, body.members[0]!.idNumber);
  for (const secret of secrets) t.notOk(JSON.stringify(events).includes(secret), 'no whole number in an event');
});

t.test('invalid input is refused field by field, and nothing is written', async (t) => {
  const { app, masked, call } = await setup(t);
  const send = async (body: Record<string, unknown>) => {
    const res = await call(masked, 'POST', '/v1/households', body);
    t.equal(res.statusCode, 400, res.body);
    return json<Problem>(res).errors!.map((e) => [e.pointer, e.detail]);
  };
  const members = household().members;
  const bad = await send(
    household({
      members: [
        { ...members[0], idNumber: head.slice(0, 17) },
        { ...members[1], idNumber: withWrongCheck('11010519491231002X') },
        { ...members[2], idNumber: '220102195002301234' },
        { name: '王五', relationship: 'other', idType: 'resident_id', idNumber: '220102203001011234' },
      ],
    }),
  );
  t.match(bad, [
    ['/members/0/idNumber', /must be 18 characters .*not 17/],
    ['/members/1/idNumber', /check character: it should be X/],
    ['/members/2/idNumber', /no valid birth date/],
    ['/members/3/idNumber', /birth date in the future|check character/],
  ]);
  t.match(await send(household({ region: '229999' })), [['/region', /not a region code this service knows/]]);
  t.match(await send(household({ region: '220103' })), [['/region', /inside your own jurisdiction 220102/]]);
  t.match(await send(household({ region: '2201' })), [['/region', /county-level/]]);
  t.match(await send(household({ members: [members[0], { ...members[1], relationship: 'head' }] })), [
    ['/members/1/relationship', /exactly one head/],
  ]);
  t.match(await send(household({ members: [members[1]] })), [['/members', /exactly one head.*has 0/]]);
  t.match(await send(household({ members: [members[0], { ...members[1], idNumber: ` ${head.toLowerCase()}` }] })), [
    ['/members/1/idNumber', /same document as \/members\/0\/idNumber/],
  ]);
  t.match(await send(household({ members: [{ ...members[0], birthDate: '1950-03-08', sex: 'female' }] })), [
    ['/members/0/birthDate', /differs/],
    ['/members/0/sex', /differs/],
  ]);
  t.match(await send(household({ members: [{ ...members[0], idType: 'passport', idNumber: 'E1' }] })), [
    ['/members/0/idNumber', /5 to 30/],
  ]);
  t.match(await send({ ...household(), extra: 1 }), [['/extra', /not a field/]]);
  t.equal(await countPersons(app), 0, 'nothing was written');

  const passport = await call(masked, 'POST', '/v1/persons', {
    name: 'John Smith',
    idType: 'passport',
    idNumber: 'e 1234 5678',
    birthDate: '1970-05-06',
    sex: 'male',
    region: '220102',
    hukouRegion: '110105',
  });
  t.equal(passport.statusCode, 201, passport.body);
  t.match(json(passport), { idNumber: '*****5678', birthDate: '1970-05-06', sex: 'male', householdId: null });
});

t.test('jurisdiction: ids outside it are not found, lists stay inside it', async (t) => {
  const { masked, outsider, call } = await setup(t);
  const body = json<Household>(await call(masked, 'POST', '/v1/households', household()));
  const personId = body.members[0]!.id;
  for (const url of [`/v1/households/${body.id}`, `/v1/persons/${personId}`]) {
    t.equal((await call(outsider, 'GET', url)).statusCode, 404, url);
  }
  t.equal((await call(outsider, 'PATCH', `/v1/persons/${personId}`, { livesAlone: true })).statusCode, 404);
  const add = await call(outsider, 'POST', `/v1/households/${body.id}/members`, {
    name: '王五',
    relationship: 'other',
    idType: 'passport',
    idNumber: 'E99999999',
  });
  t.equal(add.statusCode, 404);
  t.same(json(await call(outsider, 'GET', '/v1/persons')), { items: [], nextCursor: null });
  t.same(json(await call(masked, 'GET', '/v1/persons?region=220103')), { items: [], nextCursor: null });
  t.same(json(await call(outsider, 'GET', '/v1/households?region=22')), { items: [], nextCursor: null });
});

t.test('one person per document: 409 naming the person inside the jurisdiction, not outside', async (t) => {
  const { app, masked, outsider, call } = await setup(t);
  const body = json<Household>(await call(masked, 'POST', '/v1/households', household()));
  const before = await countPersons(app);
  const again = { name: '张三', idType: 'resident_id', idNumber: ` ${head.toLowerCase()} `, region: '220102' };
  const inside = await call(masked, 'POST', '/v1/persons', again);
  t.equal(inside.statusCode, 409);
  t.match(json(inside), {
    existingPersonId: body.members[0]!.id,
    existingHouseholdId: body.id,
    pointer: '/idNumber',
    conflicts: [{ pointer: '/idNumber', existingPersonId: body.members[0]!.id }],
  });
  const outside = await call(outsider, 'POST', '/v1/persons', { ...again, region: '220103' });
  t.equal(outside.statusCode, 409);
  const problem = json<Problem>(outside);
  t.match(problem, { registeredElsewhere: true, detail: /outside your jurisdiction/ });
  t.notOk(
    'existingPersonId' in problem || outside.body.includes(body.members[0]!.id) || outside.body.includes(body.id),
  );
  t.notOk(outside.body.includes('220102'), 'not even the region');
  const inHousehold = await call(masked, 'POST', `/v1/households/${body.id}/members`, {
    ...again,
    relationship: 'other',
    region: undefined,
  });
  t.equal(inHousehold.statusCode, 409);
  t.equal(await countPersons(app), before, 'nothing written');
  const otherType = await call(masked, 'POST', '/v1/persons', { ...again, idType: 'other', idNumber: head });
  t.equal(otherType.statusCode, 201, 'the same number as another document type is another document');
});

t.test(
  'concurrent registrations of one document: one 201, one 409',
  { skip: !onPostgres && 'needs PostgreSQL' },
  async (t) => {
    const { app, masked, call } = await setup(t);
    for (let round = 0; round < 5; round++) {
      const idNumber = residentId('220102', '19900101', String(200 + round));
      const body = { name: '赵六', idType: 'resident_id', idNumber, region: '220102' };
      const answers = await Promise.all([
        call(masked, 'POST', '/v1/persons', body),
        call(
          masked,
          'POST',
          '/v1/households',
          household({ members: [{ ...body, relationship: 'head', region: undefined }] }),
        ),
      ]);
      t.same(answers.map((a) => a.statusCode).sort(), [201, 409], `round ${round}`);
      const conflict = json<Problem>(answers.find((a) => a.statusCode === 409)!);
      t.ok(conflict.existingPersonId, 'the loser is told who won');
    }
    t.equal(await countPersons(app), 5);
  },
);

t.test('search by document or phone through the blind index, inside the jurisdiction', async (t) => {
  const { app, masked, sensitive, outsider, call } = await setup(t);
  const body = json<Household>(await call(masked, 'POST', '/v1/households', household()));
  const search = (who: typeof masked, payload: Record<string, unknown>) =>
    call(who, 'POST', '/v1/persons/search', payload);
  const byId = json<{ items: Person[] }>(await search(masked, { idNumber: ` ${head.toLowerCase()} ` }));
  t.same(
    byId.items.map((p) => [p.id, p.idNumberMasked]),
    [[body.members[0]!.id, true]],
  );
  t.same(
    json<{ items: Person[] }>(await search(sensitive, { idType: 'resident_id', idNumber: spouse })).items.map(
      (p) => p.idNumber,
    ),
    [spouse],
  );
  t.same(
    json<{ items: Person[] }>(await search(masked, { phone: '138-1234-5678' })).items.map((p) => p.id),
    [body.members[0]!.id],
  );
  t.same(
    json(await search(masked, { idType: 'passport', idNumber: head })),
    { items: [], nextCursor: null },
    'type matters',
  );
  t.same(
    json(await search(outsider, { idNumber: head })),
    { items: [], nextCursor: null },
    'not outside the jurisdiction',
  );
  const neither = await search(masked, {});
  t.equal(neither.statusCode, 400);
  const audits = (await auditRows(app)).filter((a) => a.operation.startsWith('searchPersons'));
  t.same(
    audits.map((a) => [a.operation, a.person_ids.length]),
    [
      ['searchPersons', 1],
      ['searchPersonsUnmasked', 1],
      ['searchPersons', 1],
      ['searchPersons', 0],
      ['searchPersons', 0],
    ],
  );
});

t.test('update with If-Match; stale answers 412', async (t) => {
  const { app, masked, call } = await setup(t);
  const body = json<Household>(await call(masked, 'POST', '/v1/households', household()));
  const id = body.members[0]!.id;
  const read = await call(masked, 'GET', `/v1/persons/${id}`);
  const etag = String(read.headers.etag);
  const patch = { phone: '13900001111', bankAccount: null, livesAlone: true, region: '220102001' };
  const updated = await call(masked, 'PATCH', `/v1/persons/${id}`, patch, { 'if-match': etag });
  t.equal(updated.statusCode, 200, updated.body);
  t.match(json(updated), { phone: '139****1111', bankAccount: null, livesAlone: true, region: '220102001' });
  t.not(updated.headers.etag, etag);
  const stale = await call(masked, 'PATCH', `/v1/persons/${id}`, { livesAlone: false }, { 'if-match': etag });
  t.equal(stale.statusCode, 412);
  const away = await call(masked, 'PATCH', `/v1/persons/${id}`, { region: '220103' });
  t.match(json<Problem>(away).errors, [{ pointer: '/region', detail: /jurisdiction/ }]);
  const found = json<{ items: Person[] }>(await call(masked, 'POST', '/v1/persons/search', { phone: '13900001111' }));
  t.same(
    found.items.map((p) => p.id),
    [id],
    'the new phone is indexed',
  );
  const events = await rows<{ data: { changed: string[] } }>(
    app.database.db,
    sql`select data from events where type = 'person.updated'`,
  );
  t.same(
    events.map((e) => e.data.changed),
    [['region', 'livesAlone', 'phone', 'bankAccount']],
  );
  t.notOk(JSON.stringify(events).includes('13900001111'));
});

t.test('add a member: one head only, If-Match on the household', async (t) => {
  const { masked, call } = await setup(t);
  const body = json<Household>(await call(masked, 'POST', '/v1/households', household()));
  const etag = String((await call(masked, 'GET', `/v1/households/${body.id}`)).headers.etag);
  const member = {
    name: '张老',
    relationship: 'parent',
    idType: 'resident_id',
    idNumber: residentId('220102', '19300101', '001'),
  };
  const secondHead = await call(masked, 'POST', `/v1/households/${body.id}/members`, {
    ...member,
    relationship: 'head',
  });
  t.match(json<Problem>(secondHead), { status: 400, errors: [{ pointer: '/relationship' }] });
  const added = await call(masked, 'POST', `/v1/households/${body.id}/members`, member, { 'if-match': etag });
  t.equal(added.statusCode, 201, added.body);
  t.match(json(added), { householdId: body.id, region: '220102', relationship: 'parent', birthDate: '1930-01-01' });
  const stale = await call(
    masked,
    'POST',
    `/v1/households/${body.id}/members`,
    { ...member, idNumber: residentId('220102', '19300101', '003') },
    { 'if-match': etag },
  );
  t.equal(stale.statusCode, 412);
  t.equal(json<Household>(await call(masked, 'GET', `/v1/households/${body.id}`)).members.length, 4);
});

t.test('sealed columns hold no plain number; the blind index is not the number', async (t) => {
  const { app, masked, call } = await setup(t);
  await call(masked, 'POST', '/v1/households', household());
  const raw = await rows<Record<string, string | null>>(app.database.db, sql`select * from persons`);
  t.equal(raw.length, 3);
  const text = JSON.stringify(raw);
  for (const secret of secrets) t.notOk(text.includes(secret), 'no whole number in any column');
  for (const r of raw) {
    t.match(r.id_number_sealed, /^dev:[^:]+:[^:]+:[^:]+$/);
    t.equal(r.sealed_key_id, 'dev');
    t.match(r.id_number_index, /^[A-Za-z0-9_-]{43}$/);
  }
});

t.test('lists page by region and id with a cursor', async (t) => {
  const { masked, call } = await setup(t);
  for (let i = 0; i < 3; i++) {
    const members = [
      {
        name: `户主${i}`,
        relationship: 'head',
        idType: 'resident_id',
        idNumber: residentId('220102', '19600101', String(300 + i)),
      },
    ];
    await call(masked, 'POST', '/v1/households', household({ members, region: i === 0 ? '220102001' : '220102' }));
  }
  const seen: [string, string][] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Person[]; nextCursor: string | null } = json(
      await call(masked, 'GET', `/v1/persons?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
    );
    seen.push(...page.items.map((p) => [p.region, p.id] as [string, string]));
    cursor = page.nextCursor;
  } while (cursor);
  t.equal(seen.length, 3);
  const byKey = (a: [string, string], b: [string, string]) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]);
  t.same(seen, [...seen].sort(byKey), 'ordered by region, then id');
  t.equal(new Set(seen.map((k) => k[1])).size, 3, 'no one twice');
  const narrow = json<{ items: Household[] }>(await call(masked, 'GET', '/v1/households?region=220102001'));
  t.same(
    narrow.items.map((h) => h.region),
    ['220102001'],
  );
  t.equal((await call(masked, 'GET', '/v1/persons?cursor=nonsense')).statusCode, 400);
});

t.test('key rotation: values sealed under key A still open when SECRETS_KEYS is B,A', async (t) => {
  const keyA = `a:${Buffer.alloc(32, 1).toString('base64')}`;
  const keyB = `b:${Buffer.alloc(32, 2).toString('base64')}`;
  const first = await setup(t, { env: { SECRETS_KEYS: keyA } });
  const body = json<Household>(await first.call(first.masked, 'POST', '/v1/households', household()));
  const id = body.members[0]!.id;
  const second = await setup(t, { database: first.database, env: { SECRETS_KEYS: `${keyB},${keyA}` } });
  const whole = json<Person>(await second.call(second.sensitive, 'GET', `/v1/persons/${id}`));
  t.match(whole, { idNumber: head, phone, bankAccount: { accountNumber: account } });
  await second.call(second.masked, 'PATCH', `/v1/persons/${id}`, { phone: '13700002222' });
  const [row] = await rows<{ sealed_key_id: string; id_number_sealed: string }>(
    first.database.db,
    sql`select sealed_key_id, id_number_sealed from persons where id = ${id}`,
  );
  t.match(row, { sealed_key_id: 'b', id_number_sealed: /^b:/ }, 'a change seals the whole row under the current key');
  const third = await setup(t, { database: first.database, env: { SECRETS_KEYS: keyB } });
  t.match(json(await third.call(third.sensitive, 'GET', `/v1/persons/${id}`)), {
    idNumber: head,
    phone: '13700002222',
  });
});

t.test('no log line holds a whole ID number, phone or bank account', async (t) => {
  const log = captureLog();
  const { masked, sensitive, call } = await setup(t, { logStream: log.stream, env: { LOG_LEVEL: 'info' } });
  const bad = household({ members: [{ ...household().members[0], idNumber: withWrongCheck(head) }] });
  t.equal((await call(masked, 'POST', '/v1/households', bad)).statusCode, 400);
  const body = json<Household>(await call(masked, 'POST', '/v1/households', household()));
  t.equal((await call(masked, 'POST', '/v1/households', household())).statusCode, 409);
  await call(sensitive, 'POST', '/v1/persons/search', { idNumber: head });
  await call(sensitive, 'POST', '/v1/persons/search', { phone });
  await call(sensitive, 'GET', `/v1/households/${body.id}`);
  await call(sensitive, 'GET', `/v1/persons/${body.members[0]!.id}`);
  await call(sensitive, 'GET', '/v1/persons');
  await call(masked, 'PATCH', `/v1/persons/${body.members[0]!.id}`, {
    phone: '13912340000',
    bankAccount: { bankName: 'b', holder: 'h', accountNumber: '6222000011112222333' },
  });
  const text = log.text();
  t.ok(text.includes('request completed'), 'the log was captured');
  for (const secret of [...secrets, '13912340000', '6222000011112222333']) {
    t.notOk(text.includes(secret), `${secret.slice(0, 3)}… not in the log`);
  }
});

t.test('no answer to a caller without read_sensitive carried a whole number', async (t) => {
  const maskedAnswers = allAnswers.filter((a) => a.masked);
  t.ok(maskedAnswers.length > 50, `${maskedAnswers.length} answers checked`);
  const leaks = maskedAnswers.filter((a) => secrets.some((s) => a.body.includes(s)));
  t.same(
    leaks.map((a) => `${a.status} ${a.url}`),
    [],
  );
});
