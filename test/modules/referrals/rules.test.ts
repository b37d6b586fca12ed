import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';
import { counts, type ProblemBody, type Referral, referralWorld, registerHousehold } from './fixtures.js';

const tomorrow = businessDateOf(new Date(Date.now() + 86_400_000));

t.test('referral rules', async (t) => {
  const test = await testApp(t);
  const { app } = test;
  const w = await referralWorld(test);
  const { nanguanCivil, nanguanHealth, kuanchengCivil } = w;
  const household = await registerHousehold(app, nanguanCivil, '220102', '钱爷爷');
  const neighbour = await registerHousehold(app, nanguanCivil, '220102', '李婆婆');
  const personId = household.members[0]!.id;
  const base = { personId, origin: 'direct', symptoms: ['fever'], locationKind: 'home', reporterName: '刘社工' };
  const pointers = (body: string) => json<ProblemBody>({ body }).errors!.map((e) => [e.pointer, e.detail]);

  t.test('bad input names each field and writes nothing', async (t) => {
    const before = await counts(app);
    const send = async (payload: Record<string, unknown>) => {
      const res = await w.report(nanguanCivil, payload);
      t.equal(res.statusCode, 400, res.body);
      return pointers(res.body);
    };
    t.match(await send({ ...base, origin: 'visit', onsetDate: tomorrow }), [
      ['/visitId', /required when origin is visit/],
      ['/onsetDate', /must not be in the future/],
    ]);
    t.match(await send({ ...base, welfareContactId: personId }), [['/welfareContactId', /only given when origin/]]);
    t.match(await send({ ...base, symptoms: ['fever', 'sneezing'] }), [['/symptoms/1', /.+/]]);
    t.match(await send({ ...base, symptoms: ['fever', 'fever'] }), [['/symptoms', /repeat/]]);
    t.match(await send({ ...base, symptoms: [] }), [['/symptoms', /at least one symptom code, or symptomsText/]]);
    t.match(await send({ ...base, locationKind: 'street', reporterPhone: 'call me' }), [
      ['/locationKind', /.+/],
      ['/reporterPhone', /phone number/],
    ]);
    t.match(await send({ ...base, reporterName: undefined }), [['/reporterName', /.+/]]);
    const elsewhere = await w.report(kuanchengCivil, base);
    t.equal(elsewhere.statusCode, 404, 'a person outside the jurisdiction is not found');
    const contact = await w.post('/v1/welfare-contacts', nanguanCivil, {
      personId: neighbour.members[0]!.id,
      contactedAt: new Date(Date.now() - 60_000).toISOString(),
      channel: 'phone',
      outcome: 'symptoms',
      caseworker: '刘社工',
    });
    const wrongContact = { ...base, origin: 'welfare_contact', welfareContactId: json<{ id: string }>(contact).id };
    t.match(await send(wrongContact), [['/welfareContactId', /another person/]]);
    t.same(await counts(app), before, 'nothing was written');
  });

  t.test(
    'a retry with the same Idempotency-Key reports once; a second report while one is open is a 409',
    async (t) => {
      const headers = { 'idempotency-key': 'referral-qian-1' };
      const first = await w.report(nanguanCivil, base, headers);
      const retry = await w.report(nanguanCivil, base, headers);
      t.equal(first.statusCode, 201, first.body);
      t.equal(retry.statusCode, 201);
      t.equal(retry.headers['idempotent-replayed'], 'true');
      t.equal(json<Referral>(retry).id, json<Referral>(first).id);
      const before = await counts(app);
      t.equal(before.referrals, 1);
      const second = await w.report(nanguanCivil, { ...base, symptoms: ['cough'] });
      t.equal(second.statusCode, 409);
      t.match(json<ProblemBody>(second), { openReferralId: json<Referral>(first).id, openReferralStatus: 'reported' });
      t.same(await counts(app), before);
    },
  );

  t.test('the receivers’ view: the minimum of the person, phones whole, nothing about money', async (t) => {
    const [r] = json<{ items: Referral[] }>(await w.get(`/v1/referrals?personId=${personId}`, nanguanHealth)).items;
    const res = await w.get(`/v1/referrals/${r!.id}`, nanguanHealth);
    t.equal(res.statusCode, 200);
    const seen = json<Referral>(res);
    t.same(Object.keys(seen.person).sort(), [
      'address',
      'age',
      'birthDate',
      'id',
      'idNumber',
      'idNumberMasked',
      'idType',
      'name',
      'phone',
      'phoneMasked',
      'region',
      'sex',
    ]);
    const whole = json<Referral>(await w.get(`/v1/referrals/${r!.id}`, nanguanCivil)).person;
    t.match(seen.person, { name: '钱爷爷', sex: 'male', phone: whole.phone, phoneMasked: false, idNumberMasked: true });
    t.match(seen.person.idNumber, /^220102\*{8}\d{3}[\dX]$/);
    t.equal(whole.idNumberMasked, false, 'civil affairs with registry:read_sensitive sees the ID number whole');
    t.not(seen.person.idNumber, whole.idNumber);
    for (const word of ['bank', 'account', '6228480402564890018', 'payment', 'income', 'enrollment', whole.idNumber]) {
      t.notOk(res.body.toLowerCase().includes(word.toLowerCase()), `the receivers’ view has no ${word}`);
    }
    const [audited] = await rows<{ n: number }>(
      app.database.db,
      sql`select count(*)::int as n from audit_events where operation = 'getReferral'
          and client_id = ${nanguanHealth.id}::uuid and ${personId}::uuid = any(person_ids)`,
    );
    t.equal(audited!.n, 1, 'the read is audited with the person it showed');
    t.equal((await w.get(`/v1/referrals/${r!.id}`, w.kuanchengHealth)).statusCode, 404);
    t.equal((await w.get(`/v1/referrals/${r!.id}`, w.finance)).statusCode, 403);
  });

  t.test('If-Match and the transfer time', async (t) => {
    const [r] = json<{ items: Referral[] }>(await w.get(`/v1/referrals?personId=${personId}`, nanguanHealth)).items;
    const etag = (await w.get(`/v1/referrals/${r!.id}`, nanguanHealth)).headers.etag as string;
    t.equal((await w.act(r!.id, 'acknowledge', nanguanHealth, {}, { 'if-match': etag })).statusCode, 200);
    const stale = await w.act(r!.id, 'transfer', nanguanHealth, { hospital: 'x' }, { 'if-match': etag });
    t.equal(stale.statusCode, 412, 'acting on an old version is refused');
    const early = await w.act(r!.id, 'transfer', nanguanHealth, {
      hospital: '长春市传染病医院',
      transferredAt: new Date(Date.parse(r!.createdAt) - 60_000).toISOString(),
    });
    t.match(pointers(early.body), [['/transferredAt', /before the report/]]);
    const future = await w.act(r!.id, 'transfer', nanguanHealth, {
      hospital: '长春市传染病医院',
      transferredAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    t.match(pointers(future.body), [['/transferredAt', /future/]]);
    const reason = await w.act(r!.id, 'reject', nanguanHealth, {});
    t.match(pointers(reason.body), [['/reason', /.+/]]);
    const still = json<Referral>(await w.get(`/v1/referrals/${r!.id}`, nanguanHealth));
    t.equal(still.status, 'acknowledged', 'refused actions changed nothing');
    t.equal(still.steps!.length, 2);
  });

  t.test('lists filter, page and stay inside the jurisdiction', async (t) => {
    const other = neighbour.members[0]!.id;
    t.equal((await w.report(nanguanCivil, { ...base, personId: other })).statusCode, 201);
    const kuancheng = await registerHousehold(app, kuanchengCivil, '220103', '吴叔叔');
    const kr = await w.report(kuanchengCivil, { ...base, personId: kuancheng.members[0]!.id });
    t.equal(kr.statusCode, 201);
    const list = async (query: string, who = nanguanHealth) => {
      const res = await w.get(`/v1/referrals?${query}`, who);
      t.equal(res.statusCode, 200, res.body);
      return json<{ items: Referral[]; nextCursor: string | null }>(res);
    };
    t.same(
      (await list('')).items.map((r) => r.person.name),
      ['李婆婆', '钱爷爷'],
      'newest first, only Nanguan',
    );
    t.same(
      (await list('status=acknowledged')).items.map((r) => r.person.name),
      ['钱爷爷'],
    );
    t.same((await list('region=220103')).items, [], 'another district filters to nothing');
    t.same((await list('', w.cityCdc)).items.length, 3, 'the city’s disease control sees every district');
    const first = await list('limit=1');
    const second = await list(`limit=1&cursor=${first.nextCursor}`);
    t.same(
      [...first.items, ...second.items].map((r) => r.person.name),
      ['李婆婆', '钱爷爷'],
    );
    t.equal(second.nextCursor, null);
    t.equal((await w.get('/v1/referrals?cursor=nonsense', nanguanHealth)).statusCode, 400);
  });
});
