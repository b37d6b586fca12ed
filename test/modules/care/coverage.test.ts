import t from 'tap';
import { addDays, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';
import { careCalls, type CoveragePerson, daysAgo, earlierToday, type ProblemBody } from './fixtures.js';

const today = businessDateOf(new Date());

t.test('coverage: no blind spots', async (t) => {
  const { app, admin, client } = await testApp(t);
  const city = await client('civil_affairs', { jurisdiction: '2201' });
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const { get, person, caregiver, assign, visit, coverage, list } = careCalls(app);

  const liu = await person(nanguan, '220102003', 'Liu Fang');
  const ma = await person(nanguan, '220102005', 'Ma Jun', { livesAlone: true });
  await person(nanguan, '220102005', 'Not Key', {});
  const zhao = await person(chaoyang, '220104001', 'Zhao Min', { disabled: true });
  const wang = await caregiver(nanguan, '220102003', 'Wang Li');

  const ids = (page: { items: CoveragePerson[] }) => page.items.map((p) => p.personId);

  t.test('a key person without a caregiver shows, and goes once assigned', async (t) => {
    const before = await coverage(nanguan);
    t.match(before, { region: '220102', date: today });
    t.match(before.total, { keyPersons: 2, withCaregiver: 0, withoutCaregiver: 2, neverVisited: 2, overdue: 2 });
    t.same(
      before.regions.map((r) => [r.region, r.keyPersons, r.withoutCaregiver]),
      [
        ['220102003', 1, 1],
        ['220102005', 1, 1],
      ],
    );
    t.same(ids(await list(nanguan, '/v1/coverage/unassigned')), [liu.id, ma.id]);
    await assign(nanguan, liu.id, wang.id);
    const after = await coverage(nanguan);
    t.match(after.total, { keyPersons: 2, withCaregiver: 1, withoutCaregiver: 1 });
    t.same(ids(await list(nanguan, '/v1/coverage/unassigned')), [ma.id]);
    t.match(after.caregivers, [{ caregiverId: wang.id, name: 'Wang Li', keyPersons: 1, overdue: 1 }]);
  });

  t.test('an overdue visit shows with how long, and clears after a visit', async (t) => {
    await visit(nanguan, { personId: liu.id, caregiverId: wang.id, visitedAt: daysAgo(40) });
    const overdue = await list<CoveragePerson>(nanguan, '/v1/coverage/overdue');
    t.same(ids(overdue), [ma.id, liu.id], 'never visited first');
    t.match(overdue.items[1], { caregiverId: wang.id, intervalDays: 30, overdue: true, daysOverdue: 10 });
    t.equal(overdue.items[1]!.dueDate, addDays(businessDateOf(new Date(daysAgo(40))), 30));
    t.match(overdue.items[0], { lastVisitAt: null, daysOverdue: null, caregiverId: null });
    await visit(nanguan, { personId: liu.id, visitorName: 'Community doctor', visitedAt: earlierToday(0.01) });
    t.same(ids(await list(nanguan, '/v1/coverage/overdue')), [ma.id]);
    const after = await coverage(nanguan);
    t.match(after.total, { visitedWithinInterval: 1, overdue: 1, neverVisited: 1, shareVisited: 0.5 });
    t.match(after.caregivers, [{ caregiverId: wang.id, visitedWithinInterval: 1, overdue: 0, shareVisited: 1 }]);
  });

  t.test('a past day counts the visits made by then', async (t) => {
    const past = await coverage(nanguan, `date=${addDays(today, -5)}`);
    t.match(past.total, { keyPersons: 2, visitedWithinInterval: 0, neverVisited: 1 });
    const longAgo = await coverage(nanguan, `date=${addDays(today, -50)}`);
    t.match(longAgo.total, { visitedWithinInterval: 0, neverVisited: 2 });
    const overdueThen = await list<CoveragePerson>(nanguan, `/v1/coverage/overdue?date=${addDays(today, -5)}`);
    t.match(overdueThen.items[1], { personId: liu.id, daysOverdue: 5 });
  });

  t.test('the policy in force sets the interval, a district’s over the city’s', async (t) => {
    const declare = (body: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/policies', headers: admin.headers, payload: body });
    const from = addDays(today, -60);
    t.equal(
      (await declare({ name: 'City', region: '2201', effectiveFrom: from, visitIntervalDays: 20 })).statusCode,
      201,
    );
    t.equal(
      (await declare({ name: 'Nanguan', region: '220102', effectiveFrom: from, visitIntervalDays: 7 })).statusCode,
      201,
    );
    await visit(chaoyang, { personId: zhao.id, visitorName: 'Caseworker', visitedAt: daysAgo(10) });
    // Liu was visited just now; 10 days ago is within Chaoyang's 20 (the city's) but not Nanguan's 7.
    const cityView = await coverage(city);
    t.same(
      cityView.regions.map((r) => [r.region, r.keyPersons, r.visitedWithinInterval]),
      [
        ['220102', 2, 1],
        ['220104', 1, 1],
      ],
    );
    t.same(ids(await list(city, '/v1/coverage/overdue')), [ma.id]);
    const later = await list<CoveragePerson>(city, `/v1/coverage/overdue?date=${addDays(today, 8)}`);
    t.same(ids(later), [ma.id, liu.id], 'Nanguan’s 7 days have passed for Liu; Zhao still has until day 20');
    t.match(later.items[1], { intervalDays: 7, daysOverdue: 1 });
  });

  t.test('everything stays inside the jurisdiction', async (t) => {
    const mine = await coverage(chaoyang);
    t.match(mine.total, { keyPersons: 1 });
    const narrowed = await coverage(chaoyang, 'region=2201');
    t.equal(narrowed.region, '220104', 'a wider region is narrowed to the jurisdiction');
    const outside = await get('/v1/coverage?region=220102', chaoyang);
    t.equal(outside.statusCode, 404);
    t.equal((await get('/v1/coverage/overdue?region=220102003', chaoyang)).statusCode, 404);
    t.equal((await get('/v1/coverage/unassigned?region=220102', chaoyang)).statusCode, 404);
    t.same(ids(await list(chaoyang, '/v1/coverage/unassigned')), [zhao.id]);
  });

  t.test('bad queries name the field', async (t) => {
    const bad = await get('/v1/coverage?region=22x&date=tomorrow', nanguan);
    t.same(
      json<ProblemBody>(bad)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/date', '/region'],
    );
    t.match(json<ProblemBody>(await get('/v1/coverage?region=990102', nanguan)), {
      status: 400,
      errors: [{ pointer: '/region' }],
    });
    t.match(json<ProblemBody>(await get('/v1/coverage/overdue?cursor=abc', nanguan)), {
      status: 400,
      errors: [{ pointer: '/cursor' }],
    });
  });

  t.test('lists page', async (t) => {
    const first = await list<CoveragePerson>(city, '/v1/coverage/unassigned?limit=1');
    t.equal(first.items.length, 1);
    t.ok(first.nextCursor);
    const second = await list<CoveragePerson>(city, `/v1/coverage/unassigned?limit=1&cursor=${first.nextCursor}`);
    t.same(ids({ items: [...first.items, ...second.items] }), [ma.id, zhao.id]);
    t.equal(second.nextCursor, null);
    const later = `date=${addDays(today, 25)}`;
    const o1 = await list<CoveragePerson>(city, `/v1/coverage/overdue?limit=2&${later}`);
    const o2 = await list<CoveragePerson>(city, `/v1/coverage/overdue?limit=2&${later}&cursor=${o1.nextCursor}`);
    t.same(
      [...ids(o1), ...ids(o2)],
      [ma.id, liu.id, zhao.id],
      'never visited, then the longest overdue (7 days vs 20)',
    );
    t.equal(o2.nextCursor, null);
  });
});
