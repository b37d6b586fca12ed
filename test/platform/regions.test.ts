import t from 'tap';
import { json, testApp } from '../helpers.js';

t.test('regions', async (t) => {
  const { app, admin, client } = await testApp(t);

  t.test('lists the city and its 11 county-level divisions', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/regions', headers: admin.headers });
    t.equal(res.statusCode, 200);
    const body = json<{ items: { code: string; level: string }[] }>(res);
    t.equal(body.items.length, 12);
    t.equal(body.items.filter((r) => r.level === 'county').length, 11);
    t.ok(body.items.some((r) => r.code === '220102'));
  });

  t.test('filters by parent', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/regions?parent=2201', headers: admin.headers });
    t.equal(json<{ items: unknown[] }>(res).items.length, 11);
  });

  t.test('any agency with regions:read reads one region', async (t) => {
    const bank = await client('bank');
    const res = await app.inject({ method: 'GET', url: '/v1/regions/220102', headers: bank.headers });
    t.equal(res.statusCode, 200);
    t.match(json(res), { code: '220102', nameZh: '南关区', level: 'county', parentCode: '2201' });
  });

  t.test('an unknown code is a 404 problem; a malformed one a 400 naming the parameter', async (t) => {
    const missing = await app.inject({ method: 'GET', url: '/v1/regions/229999', headers: admin.headers });
    t.equal(missing.statusCode, 404);
    t.equal(missing.headers['content-type'], 'application/problem+json; charset=utf-8');
    const bad = await app.inject({ method: 'GET', url: '/v1/regions/abc', headers: admin.headers });
    t.equal(bad.statusCode, 400);
    t.match(json(bad), { type: '/problems/validation-error', errors: [{ in: 'path', pointer: '/code' }] });
  });
});
