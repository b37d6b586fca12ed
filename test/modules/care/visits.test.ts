import t from 'tap';
import { addDays, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, type TestClient, testApp } from '../../helpers.js';
import { careCalls, type CoveragePerson, counts, daysAgo, type ProblemBody } from './fixtures.js';

interface Visit {
  id: string;
  personId: string;
  caregiverId: string | null;
  visitorName: string | null;
  visitorPhone: string | null;
  visitorPhoneMasked: boolean;
  symptoms: string[];
  taskId: string | null;
}

const today = businessDateOf(new Date());

t.test('visits', async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const masked = await client('civil_affairs', { jurisdiction: '2201', scopes: ['care:read', 'events:read'] });
  const health = await client('health');
  const { post, get, person, caregiver, visit, list } = careCalls(app);

  const liu = await person(nanguan, '220102003', 'Liu Fang');
  const ordinary = await person(nanguan, '220102003', 'Ma Jun', {});
  const zhao = await person(chaoyang, '220104001', 'Zhao Min', { disabled: true });
  const wang = await caregiver(nanguan, '220102003', 'Wang Li');
  const zhou = await caregiver(chaoyang, '220104001', 'Zhou Bo');

  const feed = async (who: TestClient, types: string) => {
    await app.services.events.sequence();
    const res = await get(`/v1/events?after=0&types=${types}&limit=500`, who);
    if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`);
    return json<{ items: { type: string; subject: string; data: Record<string, unknown> }[] }>(res).items;
  };

  t.test('bad input names every field and writes nothing', async (t) => {
    const before = await counts(app);
    const res = await post('/v1/visits', nanguan, {
      personId: liu.id,
      channel: 'telegram',
      visitedAt: new Date(Date.now() + 3_600_000).toISOString(),
      healthStatus: 'well',
      symptoms: ['fever', 'sneezing'],
      mood: 'fine',
    });
    t.equal(res.statusCode, 400);
    t.same(
      json<ProblemBody>(res)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/channel', '/mood', '/symptoms/1'],
    );
    const rules = await post('/v1/visits', nanguan, {
      personId: liu.id,
      channel: 'phone',
      visitedAt: new Date(Date.now() + 3_600_000).toISOString(),
      healthStatus: 'well',
      symptoms: ['cough', 'cough'],
      visitorPhone: '13800001111',
      followUpDate: addDays(today, -3),
    });
    t.same(
      json<ProblemBody>(rules)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/caregiverId', '/followUpDate', '/symptoms/1', '/visitedAt', '/visitorPhone'],
    );
    const both = await post('/v1/visits', nanguan, {
      personId: liu.id,
      caregiverId: wang.id,
      visitorName: 'Someone',
      channel: 'phone',
      visitedAt: daysAgo(1),
      healthStatus: 'well',
    });
    t.match(json<ProblemBody>(both), { status: 400, errors: [{ pointer: '/visitorName' }] });
    const base = { channel: 'phone', visitedAt: daysAgo(1), healthStatus: 'well' };
    t.equal((await post('/v1/visits', nanguan, { ...base, personId: zhao.id, visitorName: 'X' })).statusCode, 404);
    t.equal((await post('/v1/visits', nanguan, { ...base, personId: liu.id, caregiverId: zhou.id })).statusCode, 404);
    const notKey = await post('/v1/visits', nanguan, { ...base, personId: ordinary.id, visitorName: 'X' });
    t.match(json<ProblemBody>(notKey), { status: 422 });
    t.same(await counts(app), before);
  });

  let fever: Visit;
  t.test('a visit that finds fever is announced for a referral, to those who refer', async (t) => {
    const payload = {
      personId: liu.id,
      caregiverId: wang.id,
      channel: 'wechat_video',
      visitedAt: daysAgo(2),
      healthStatus: 'unwell',
      symptoms: ['fever', 'cough'],
      symptomsText: '38.5 since yesterday',
      needs: ['medicine'],
      followUpDate: today,
    };
    const res = await post('/v1/visits', nanguan, payload, { 'idempotency-key': 'visit-1' });
    t.equal(res.statusCode, 201, res.body);
    fever = json<Visit>(res);
    t.equal(res.headers.location, `/v1/visits/${fever.id}`);
    const retry = await post('/v1/visits', nanguan, payload, { 'idempotency-key': 'visit-1' });
    t.equal(json<Visit>(retry).id, fever.id, 'a retry records it once');
    t.equal((await counts(app)).visits, 1);
    const reported = await feed(nanguan, 'visit.symptoms_reported');
    t.same(
      reported.map((e) => e.subject),
      [`visit/${fever.id}`],
    );
    t.match(reported[0]!.data, { personId: liu.id, symptoms: ['fever', 'cough'], healthStatus: 'unwell' });
    t.notOk('symptomsText' in reported[0]!.data, 'no free text in events');
    t.same(await feed(masked, 'visit.symptoms_reported'), [], 'needs referrals:create');
    t.same(await feed(health, 'visit.symptoms_reported,visit.recorded'), [], 'health hears of referrals, not visits');
    t.same(await feed(chaoyang, 'visit.recorded'), [], 'nor another district');
    await visit(nanguan, {
      personId: liu.id,
      visitorName: 'Dr Sun',
      visitedAt: daysAgo(1.5),
      healthStatus: 'symptomatic',
    });
    await visit(nanguan, { personId: liu.id, caregiverId: wang.id, visitedAt: daysAgo(1) });
    t.same(
      (await feed(nanguan, 'visit.symptoms_reported')).length,
      2,
      'symptomatic without coded symptoms counts; a well visit does not',
    );
    t.equal((await feed(nanguan, 'visit.recorded')).length, 3);
  });

  t.test('the last visit is the latest, whatever order they are recorded in', async (t) => {
    const newest = await visit(nanguan, { personId: liu.id, caregiverId: wang.id, visitedAt: daysAgo(0.5) });
    await visit(nanguan, { personId: liu.id, caregiverId: wang.id, visitedAt: daysAgo(20), healthStatus: 'unwell' });
    const later = await list<CoveragePerson & { lastVisitId: string }>(
      nanguan,
      `/v1/coverage/overdue?date=${addDays(today, 90)}`,
    );
    t.match(later.items, [{ personId: liu.id, lastVisitId: newest.id }]);
  });

  t.test('a visitor’s phone is sealed and masked like a person’s', async (t) => {
    const v = await visit(nanguan, {
      personId: liu.id,
      visitorName: 'Neighbour Li',
      visitorPhone: '139-0000-1234',
      visitedAt: daysAgo(3),
    });
    t.match(json<Visit>(await get(`/v1/visits/${v.id}`, nanguan)), {
      visitorPhone: '13900001234',
      visitorPhoneMasked: false,
    });
    t.match(json<Visit>(await get(`/v1/visits/${v.id}`, masked)), {
      visitorPhone: '139****1234',
      visitorPhoneMasked: true,
    });
    t.equal((await get(`/v1/visits/${v.id}`, chaoyang)).statusCode, 404);
  });

  t.test('lists filter by person, caregiver and days', async (t) => {
    const all = await list<Visit>(nanguan, `/v1/visits?personId=${liu.id}`);
    t.equal(all.items.length, 6);
    const byWang = await list<Visit>(nanguan, `/v1/visits?caregiverId=${wang.id}`);
    t.ok(byWang.items.every((v) => v.caregiverId === wang.id));
    t.equal(byWang.items.length, 4);
    const twoDaysAgo = businessDateOf(new Date(daysAgo(2)));
    const window = await list<Visit>(nanguan, `/v1/visits?from=${twoDaysAgo}&to=${twoDaysAgo}`);
    t.ok(window.items.some((v) => v.id === fever.id));
    const page = await list<Visit>(nanguan, '/v1/visits?limit=4');
    const rest = await list<Visit>(nanguan, `/v1/visits?limit=4&cursor=${page.nextCursor}`);
    t.equal(new Set([...page.items, ...rest.items].map((v) => v.id)).size, 6);
    t.same((await list<Visit>(chaoyang, '/v1/visits')).items, []);
    const backwards = await get(`/v1/visits?from=${today}&to=${addDays(today, -1)}`, nanguan);
    t.match(json<ProblemBody>(backwards), { status: 400, errors: [{ pointer: '/to' }] });
  });
});
