import t from 'tap';
import { json, testApp } from '../../helpers.js';
import { type Assignment, type Caregiver, careCalls, counts, type ProblemBody } from './fixtures.js';

t.test('care assignments', async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const { post, get, person, caregiver, assign, list } = careCalls(app);

  const liu = await person(nanguan, '220102003', 'Liu Fang');
  const ordinary = await person(nanguan, '220102003', 'Ma Jun', {});
  const elsewhere = await person(chaoyang, '220104001', 'Zhao Min');
  const wang = await caregiver(nanguan, '220102003', 'Wang Li');
  const li = await caregiver(nanguan, '220102003', 'Li Na');
  const zhou = await caregiver(chaoyang, '220104001', 'Zhou Bo');

  let first: Assignment;
  t.test('a key person gets a caregiver; the same again answers the same', async (t) => {
    const res = await post('/v1/care-assignments', nanguan, {
      personId: liu.id,
      caregiverId: wang.id,
      note: 'weekly call',
    });
    t.equal(res.statusCode, 201, res.body);
    first = json<Assignment>(res);
    t.equal(res.headers.location, `/v1/care-assignments/${first.id}`);
    t.match(first, { personId: liu.id, caregiverId: wang.id, active: true, endedAt: null });
    const again = await post('/v1/care-assignments', nanguan, { personId: liu.id, caregiverId: wang.id });
    t.equal(again.statusCode, 200);
    t.equal(json<Assignment>(again).id, first.id);
    t.match(json<Caregiver>(await get(`/v1/caregivers/${wang.id}`, nanguan)), { activeAssignments: 1 });
  });

  t.test('who may be assigned, and to whom', async (t) => {
    const before = await counts(app);
    const notKey = await post('/v1/care-assignments', nanguan, { personId: ordinary.id, caregiverId: li.id });
    t.match(json<ProblemBody>(notKey), { status: 422, type: '/problems/unprocessable-request' });
    t.equal(
      (await post('/v1/care-assignments', nanguan, { personId: elsewhere.id, caregiverId: li.id })).statusCode,
      404,
    );
    t.equal((await post('/v1/care-assignments', nanguan, { personId: liu.id, caregiverId: zhou.id })).statusCode, 404);
    const bad = await post('/v1/care-assignments', nanguan, { personId: 'nobody', caregiverId: li.id, reason: '' });
    t.same(
      json<ProblemBody>(bad)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/personId', '/reason'],
    );
    const noReason = await post('/v1/care-assignments', nanguan, { personId: liu.id, caregiverId: li.id });
    t.match(json<ProblemBody>(noReason), { status: 400, errors: [{ pointer: '/reason' }] });
    t.same(await counts(app), before, 'nothing written');
  });

  t.test('reassignment ends the old one in the same step and keeps history', async (t) => {
    const res = await post('/v1/care-assignments', nanguan, {
      personId: liu.id,
      caregiverId: li.id,
      reason: 'Wang Li is on sick leave',
    });
    t.equal(res.statusCode, 201, res.body);
    const second = json<Assignment>(res);
    const history = await list<Assignment>(nanguan, `/v1/care-assignments?personId=${liu.id}`);
    t.same(
      history.items.map((a) => [a.id, a.active]),
      [
        [second.id, true],
        [first.id, false],
      ],
    );
    t.match(history.items[1], { endReason: 'Wang Li is on sick leave', caregiverId: wang.id });
    t.ok(history.items[1]!.endedAt);
    const active = await list<Assignment>(nanguan, `/v1/care-assignments?caregiverId=${li.id}&active=true`);
    t.same(
      active.items.map((a) => a.id),
      [second.id],
    );
    t.same((await list<Assignment>(chaoyang, `/v1/care-assignments?personId=${liu.id}`)).items, []);
    t.equal((await get(`/v1/care-assignments/${second.id}`, chaoyang)).statusCode, 404);
    await app.services.events.sequence();
    const feed = json<{ items: { type: string; data: Record<string, unknown> }[] }>(
      await get('/v1/events?after=0&types=care_assignment.started,care_assignment.ended', nanguan),
    );
    t.same(
      feed.items.map((e) => e.type),
      ['care_assignment.started', 'care_assignment.ended', 'care_assignment.started'],
    );
    t.match(feed.items[2]!.data, { careAssignmentId: second.id, previousAssignmentId: first.id });
  });

  t.test('a caregiver responsible for someone cannot be deactivated; an inactive one takes nobody', async (t) => {
    const refused = await post(`/v1/caregivers/${li.id}/deactivate`, nanguan, { reason: 'left' });
    t.match(json<ProblemBody>(refused), { status: 409, activeAssignments: 1 });
    t.equal((await post(`/v1/caregivers/${wang.id}/deactivate`, nanguan)).statusCode, 200, 'Wang has nobody now');
    const toInactive = await post('/v1/care-assignments', nanguan, {
      personId: liu.id,
      caregiverId: wang.id,
      reason: 'back',
    });
    t.match(json<ProblemBody>(toInactive), { status: 409, currentState: 'inactive' });
  });

  t.test('ending an assignment leaves the person without a caregiver', async (t) => {
    const [current] = (await list<Assignment>(nanguan, `/v1/care-assignments?personId=${liu.id}&active=true`)).items;
    const missing = await post(`/v1/care-assignments/${current!.id}/end`, nanguan, {});
    t.match(json<ProblemBody>(missing), { status: 400, errors: [{ pointer: '/reason' }] });
    t.equal((await post(`/v1/care-assignments/${current!.id}/end`, chaoyang, { reason: 'x' })).statusCode, 404);
    const ended = await post(`/v1/care-assignments/${current!.id}/end`, nanguan, { reason: 'moved to a care home' });
    t.equal(ended.statusCode, 200, ended.body);
    t.match(json<Assignment>(ended), { active: false, endReason: 'moved to a care home' });
    const twice = await post(`/v1/care-assignments/${current!.id}/end`, nanguan, { reason: 'again' });
    t.match(json<ProblemBody>(twice), { status: 409, currentState: 'ended' });
    t.same((await list<Assignment>(nanguan, `/v1/care-assignments?personId=${liu.id}&active=true`)).items, []);
    t.equal((await list<Assignment>(nanguan, `/v1/care-assignments?personId=${liu.id}&active=false`)).items.length, 2);
    t.equal((await post(`/v1/caregivers/${li.id}/deactivate`, nanguan)).statusCode, 200);
    // A new caregiver after an end needs no reason: there is nobody to replace.
    const next = await caregiver(nanguan, '220102003', 'Sun Qiang');
    t.match(await assign(nanguan, liu.id, next.id), { active: true });
  });
});
