import t from 'tap';
import { json, testApp } from '../../helpers.js';
import { type Caregiver, careCalls, counts, type ProblemBody } from './fixtures.js';

t.test('caregivers', async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const masked = await client('civil_affairs', { jurisdiction: '2201', scopes: ['care:read', 'care:write'] });
  const health = await client('health');
  const { post, patch, get, caregiver, list } = careCalls(app);

  let wang: Caregiver;
  t.test('registered with a sealed phone, shown whole only with registry:read_sensitive', async (t) => {
    const res = await post('/v1/caregivers', nanguan, {
      name: 'Wang Li',
      kind: 'social_worker',
      region: '220102003',
      organisation: 'Ziqiang community committee',
      phone: '138 1234 5678',
    });
    t.equal(res.statusCode, 201, res.body);
    wang = json<Caregiver>(res);
    t.equal(res.headers.location, `/v1/caregivers/${wang.id}`);
    t.equal(res.headers.etag, `"${wang.id}.1"`);
    t.match(wang, { name: 'Wang Li', phone: '13812345678', phoneMasked: false, active: true, activeAssignments: 0 });
    const seen = json<Caregiver>(await get(`/v1/caregivers/${wang.id}`, masked));
    t.match(seen, { phone: '138****5678', phoneMasked: true });
    const stored = await app.database.db.query.caregivers.findFirst();
    t.notMatch(stored!.phoneSealed, /5678/, 'sealed at rest');
    t.ok(stored!.phoneIndex, 'blind index kept');
  });

  t.test('bad input names every field and writes nothing', async (t) => {
    const before = await counts(app);
    const bad = await post('/v1/caregivers', nanguan, { name: '', kind: 'angel', region: '2201x', phone: 'x', hat: 1 });
    t.equal(bad.statusCode, 400);
    t.same(
      json<ProblemBody>(bad)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/hat', '/kind', '/name', '/phone', '/region'],
    );
    const outside = await post('/v1/caregivers', nanguan, { name: 'Zhao', kind: 'volunteer', region: '220104001' });
    t.match(json<ProblemBody>(outside), { status: 400, errors: [{ pointer: '/region' }] });
    const unknownPerson = await post('/v1/caregivers', nanguan, {
      name: 'Zhao',
      kind: 'relative',
      region: '220102003',
      personId: '00000000-0000-4000-8000-000000000000',
    });
    t.equal(unknownPerson.statusCode, 404);
    t.same(await counts(app), before);
  });

  t.test('outside the jurisdiction a caregiver does not exist', async (t) => {
    t.equal((await get(`/v1/caregivers/${wang.id}`, chaoyang)).statusCode, 404);
    const listed = await list<Caregiver>(chaoyang, '/v1/caregivers');
    t.same(listed.items, []);
    t.equal((await patch(`/v1/caregivers/${wang.id}`, chaoyang, { name: 'X' })).statusCode, 404);
  });

  t.test('lists page by region and filter by active', async (t) => {
    const second = await caregiver(nanguan, '220102001', 'Li Na');
    const third = await caregiver(nanguan, '220102005', 'Sun Qiang');
    const first = await list<Caregiver>(nanguan, '/v1/caregivers?limit=2');
    t.same(
      first.items.map((c) => c.id),
      [second.id, wang.id],
    );
    t.ok(first.nextCursor);
    const rest = await list<Caregiver>(nanguan, `/v1/caregivers?limit=2&cursor=${first.nextCursor}`);
    t.same(
      rest.items.map((c) => c.id),
      [third.id],
    );
    t.equal(rest.nextCursor, null);
    t.same(
      (await list<Caregiver>(nanguan, '/v1/caregivers?region=220102005')).items.map((c) => c.id),
      [third.id],
    );
    t.equal((await post(`/v1/caregivers/${third.id}/deactivate`, nanguan, { reason: 'moved away' })).statusCode, 200);
    t.same(
      (await list<Caregiver>(nanguan, '/v1/caregivers?active=false')).items.map((c) => c.id),
      [third.id],
    );
    const again = await post(`/v1/caregivers/${third.id}/deactivate`, nanguan);
    t.match(json<ProblemBody>(again), { status: 409, currentState: 'inactive' });
    t.match(json<Caregiver>(await post(`/v1/caregivers/${third.id}/reactivate`, nanguan)), { active: true });
  });

  t.test('changes are conditional on If-Match', async (t) => {
    const stale = await patch(`/v1/caregivers/${wang.id}`, nanguan, { phone: null }, { 'if-match': `"${wang.id}.0"` });
    t.equal(stale.statusCode, 412);
    const res = await patch(
      `/v1/caregivers/${wang.id}`,
      nanguan,
      { phone: null, organisation: 'Nanguan social work station' },
      { 'if-match': `"${wang.id}.1"` },
    );
    t.equal(res.statusCode, 200, res.body);
    t.equal(res.headers.etag, `"${wang.id}.2"`);
    t.match(json<Caregiver>(res), { phone: null, phoneMasked: false, organisation: 'Nanguan social work station' });
  });

  t.test('a health client may not touch care', async (t) => {
    t.equal((await get('/v1/caregivers', health)).statusCode, 403);
    t.equal((await get(`/v1/caregivers/${wang.id}`, health)).statusCode, 403);
    t.equal((await post('/v1/caregivers', health, { name: 'X', kind: 'other', region: '2201' })).statusCode, 403);
    for (const url of [
      '/v1/coverage',
      '/v1/coverage/overdue',
      '/v1/coverage/unassigned',
      '/v1/visits',
      '/v1/visit-tasks',
      '/v1/care-assignments',
    ]) {
      t.equal((await get(url, health)).statusCode, 403, url);
    }
    t.equal((await post('/v1/visits', health, {})).statusCode, 403);
    t.equal((await post('/v1/visit-tasks/generate', health, { region: '2201' })).statusCode, 403);
  });
});
