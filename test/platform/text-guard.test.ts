/**
 * What the service refuses before any route runs: text PostgreSQL cannot store (NUL, unpaired
 * surrogates) anywhere a caller sends it, and URLs the router cannot read. Each is a 400
 * problem naming the place, never a 500 from deep inside a query.
 */
import t from 'tap';
import { storable, unstorable } from '../../src/platform/text-guard.js';
import { json, testApp } from '../helpers.js';
import { residentId } from '../modules/registry/people.fixtures.js';

interface Problem {
  type: string;
  status: number;
  errors?: { in: string; pointer: string; detail: string }[];
}

t.test('unstorable text', async (t) => {
  t.ok(unstorable('a\u0000b'), 'NUL');
  t.ok(unstorable('a\ud800'), 'a high surrogate alone');
  t.ok(unstorable('\udc00a'), 'a low surrogate alone');
  t.ok(unstorable('\udc00\ud800'), 'a pair the wrong way round');
  t.notOk(unstorable('張三 😀 \u0001\t\n'), 'CJK, a real pair, other control characters');
  t.equal(storable('a\u0000b\ud800c😀'), 'a\ufffdb\ufffdc😀');
});

t.test('the guard', async (t) => {
  const { app, client } = await testApp(t);
  const civil = await client('civil_affairs');
  const household = (address: string, name = 'Zhao Lei') => ({
    region: '220102',
    address,
    members: [{ relationship: 'head', name, idType: 'resident_id', idNumber: residentId('220102', '19800101', '031') }],
  });
  const persons = async () =>
    json<{ items: unknown[] }>(await app.inject({ method: 'GET', url: '/v1/persons', headers: civil.headers })).items
      .length;

  t.test('refuses NUL and unpaired surrogates in a body, naming each place, and writes nothing', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/households',
      headers: civil.headers,
      payload: household('Street\u0000 1', 'Zhao\ud800'),
    });
    t.equal(res.statusCode, 400);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    const body = json<Problem>(res);
    t.equal(body.type, '/problems/validation-error');
    t.same(
      body.errors?.map((e) => `${e.in} ${e.pointer}`).sort(),
      ['body /address', 'body /members/0/name'],
      'both places named',
    );
    t.equal(await persons(), 0, 'nothing was written');
  });

  t.test('in a key, a query parameter and a path parameter', async (t) => {
    const key = await app.inject({
      method: 'POST',
      url: '/v1/households',
      headers: { ...civil.headers, 'content-type': 'application/json' },
      payload: '{"region":"220102","a/b\\u0000":1}',
    });
    t.match(json<Problem>(key).errors, [{ in: 'body', pointer: '/a~1b\u0000' }], 'the key, escaped as a JSON pointer');
    const query = await app.inject({ method: 'GET', url: '/v1/persons?cursor=x%00', headers: civil.headers });
    t.match(json<Problem>(query), { status: 400, errors: [{ in: 'query', pointer: '/cursor' }] });
    const path = await app.inject({ method: 'GET', url: '/v1/persons/%00', headers: civil.headers });
    t.match(json<Problem>(path), { status: 400, errors: [{ in: 'path', pointer: '/id' }] });
  });

  t.test('takes the same text well formed', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/households',
      headers: civil.headers,
      payload: household('Street 1 😀 \u0001', 'Zhao Lei'),
    });
    t.equal(res.statusCode, 201);
  });

  t.test('walks deep input without overflowing the stack', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/households',
      headers: { ...civil.headers, 'content-type': 'application/json' },
      payload: `{"region":"220102","deep":${'['.repeat(50_000)}"\\u0000"${']'.repeat(50_000)}}`,
    });
    t.equal(res.statusCode, 400);
    t.match(json<Problem>(res), { type: '/problems/validation-error' });
  });

  t.test('answers what the router refuses as problem+json', async (t) => {
    for (const [url, detail] of [
      ['/v1/persons/%E0%A4%A', /percent-encoded/],
      ['/v1/persons/%ZZ', /percent-encoded/],
      [`/v1/persons/${'a'.repeat(201)}`, /longer than 200/],
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers: civil.headers });
      t.equal(res.statusCode, 400, url.slice(0, 40));
      t.match(res.headers['content-type'], /^application\/problem\+json/);
      t.match(json(res), { type: '/problems/validation-error', status: 400, errors: [{ in: 'path', detail }] });
      t.ok(res.headers['x-request-id'], 'with its request id');
    }
  });
});
