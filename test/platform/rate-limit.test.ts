/**
 * Per-client rate limits (issue 10, item 2): past RATE_LIMIT_PER_MINUTE a client gets 429
 * problem+json with Retry-After, whatever it sends — reads, writes, and requests that would fail
 * anyway — and a refused write writes nothing. Other clients are not affected.
 */
import t from 'tap';
import { freshDatabase, json, testApp } from '../helpers.js';

const LIMIT = 5;

t.test('a client past its rate limit', async (t) => {
  const database = await freshDatabase(t);
  const { app, client } = await testApp(t, { database, env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  const caregiver = (n: number) => ({ name: `Helper ${n}`, kind: 'volunteer', region: '220102' });
  const countCaregivers = async (headers: Record<string, string>) =>
    json<{ items: unknown[] }>(await app.inject({ method: 'GET', url: '/v1/caregivers?limit=500', headers })).items
      .length;

  t.test('gets 429 problem+json with Retry-After, on any operation, and its write is not made', async (t) => {
    const civil = await client('civil_affairs');
    const answers: number[] = [];
    for (let i = 0; i < LIMIT - 1; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/caregivers',
        headers: civil.headers,
        payload: caregiver(i),
      });
      answers.push(res.statusCode);
      t.equal(res.headers['x-ratelimit-limit'], String(LIMIT), 'the limit is announced');
      t.equal(res.headers['x-ratelimit-remaining'], String(LIMIT - 1 - i), 'and what is left of it');
    }
    t.same(answers, Array(LIMIT - 1).fill(201), `${LIMIT - 1} writes pass`);
    const lastRead = await app.inject({ method: 'GET', url: '/v1/caregivers?limit=500', headers: civil.headers });
    t.equal(lastRead.statusCode, 200, `request ${LIMIT} passes`);
    t.equal(json<{ items: unknown[] }>(lastRead).items.length, LIMIT - 1);

    const refused = await app.inject({
      method: 'POST',
      url: '/v1/caregivers',
      headers: civil.headers,
      payload: caregiver(99),
    });
    t.equal(refused.statusCode, 429);
    t.match(refused.headers['content-type'], /^application\/problem\+json/);
    t.match(json(refused), { type: '/problems/rate-limited', title: 'Too Many Requests', status: 429 });
    t.match(refused.headers['retry-after'], /^\d+$/, 'Retry-After in seconds');
    const after = Number(refused.headers['retry-after']);
    t.ok(after > 0 && after <= 60, `retry within the minute (${after} s)`);

    for (const [method, url] of [
      ['GET', '/v1/caregivers'],
      ['GET', '/v1/persons?region=220102'],
      ['POST', '/v1/referrals'],
    ] as const) {
      const res = await app.inject({ method, url, headers: civil.headers, ...(method === 'POST' && { payload: {} }) });
      t.equal(res.statusCode, 429, `${method} ${url}: 429 too`);
    }
    const other = await client('civil_affairs');
    t.equal(await countCaregivers(other.headers), LIMIT - 1, 'the refused write made nothing');
  });

  t.test('counts requests that fail anyway, before their bodies are read', async (t) => {
    const civil = await client('civil_affairs');
    for (let i = 0; i < LIMIT; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/caregivers',
        headers: civil.headers,
        payload: { name: 1 },
      });
      t.equal(res.statusCode, 400, `invalid request ${i + 1} is a 400`);
    }
    // A hostile client cannot go on making the service parse and validate bodies by sending bad ones.
    const res = await app.inject({
      method: 'POST',
      url: '/v1/caregivers',
      headers: { ...civil.headers, 'content-type': 'application/json' },
      payload: `{"name":"${'x'.repeat(512 * 1024)}"`,
    });
    t.equal(res.statusCode, 429, 'the next one is refused unread');
    t.match(json(res), { type: '/problems/rate-limited' });
  });

  t.test('is counted per client', async (t) => {
    const first = await client('civil_affairs');
    const second = await client('civil_affairs');
    for (let i = 0; i < LIMIT; i++) await app.inject({ method: 'GET', url: '/v1/caregivers', headers: first.headers });
    t.equal((await app.inject({ method: 'GET', url: '/v1/caregivers', headers: first.headers })).statusCode, 429);
    t.equal((await app.inject({ method: 'GET', url: '/v1/caregivers', headers: second.headers })).statusCode, 200);
  });
});
