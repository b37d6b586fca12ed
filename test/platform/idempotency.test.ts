import { count, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { clients } from '../../src/platform/clients/tables.js';
import { idempotencyKeys } from '../../src/platform/idempotency/tables.js';
import { freshDatabase, json, onPostgres, testApp } from '../helpers.js';

/** A promise and the function that settles it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('Idempotency-Key on POST', async (t) => {
  // Test routes with effects the tests control.
  let slowCalls = 0;
  let slowEntered = deferred();
  let slowGate = deferred();
  let flakyCalls = 0;
  const testRoutes = (app: FastifyInstance) => {
    app.post('/v1/test/slow', async (_request, reply) => {
      slowCalls++;
      slowEntered.resolve();
      await slowGate.promise;
      return reply.code(201).send({ call: slowCalls });
    });
    app.post('/v1/test/flaky', async (_request, reply) => {
      flakyCalls++;
      if (flakyCalls === 1) throw new Error('the first attempt fails');
      return reply.code(201).send({ call: flakyCalls });
    });
  };

  // Two instances on one database: keys live in the database, not in a process. The first answers
  // 409 at once for a key in flight; the second (`patient`) waits for the first request's answer.
  const database = await freshDatabase(t);
  const { app, admin, client } = await testApp(t, {
    database,
    env: { IDEMPOTENCY_WAIT_MS: '0' },
    beforeReady: testRoutes,
  });
  const patient = await testApp(t, { database, env: { IDEMPOTENCY_WAIT_MS: '60000' } });
  const db = app.database.db;

  const clientsNamed = async (name: string) => {
    const [row] = await db.select({ n: count() }).from(clients).where(eq(clients.name, name));
    return row?.n ?? 0;
  };
  const createClient = (name: string, key: string | undefined, headers = admin.headers, target = app) =>
    target.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: { ...headers, ...(key !== undefined && { 'idempotency-key': key }) },
      payload: { name, agency: 'bank', jurisdiction: '220102' },
    });

  t.test('without a key, each POST creates (the effect the other tests count)', async (t) => {
    t.equal((await createClient('no key', undefined)).statusCode, 201);
    t.equal((await createClient('no key', undefined)).statusCode, 201);
    t.equal(await clientsNamed('no key'), 2);
  });

  t.test('same key, same body: the stored answer is replayed byte for byte, one client exists', async (t) => {
    const first = await createClient('replayed', 'key-replay-1');
    t.equal(first.statusCode, 201);
    t.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay');
    const again = await createClient('replayed', 'key-replay-1');
    t.equal(again.statusCode, 201);
    t.equal(again.headers['idempotent-replayed'], 'true');
    t.equal(again.body, first.body, 'same bytes, including the one-time API key');
    t.equal(again.headers['content-type'], first.headers['content-type']);
    t.equal(again.headers.location, first.headers.location);
    t.equal(again.headers.etag, first.headers.etag);
    t.match(json(again), { client: { name: 'replayed' }, apiKey: { key: String } });
    t.equal(await clientsNamed('replayed'), 1);

    const onOtherInstance = await createClient('replayed', 'key-replay-1', admin.headers, patient.app);
    t.equal(onOtherInstance.headers['idempotent-replayed'], 'true', 'another instance replays it too');
    t.equal(onOtherInstance.body, first.body);
    t.equal(await clientsNamed('replayed'), 1);
  });

  t.test('same key, different body: 422 idempotency-key-reused, nothing created', async (t) => {
    const first = await createClient('original', 'key-reused-1');
    t.equal(first.statusCode, 201);
    const other = await createClient('different', 'key-reused-1');
    t.equal(other.statusCode, 422);
    t.equal(other.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(json(other), { type: '/problems/idempotency-key-reused', status: 422 });
    t.equal(other.headers['idempotent-replayed'], undefined);
    t.equal(await clientsNamed('different'), 0);
    t.equal(await clientsNamed('original'), 1);

    const replay = await createClient('original', 'key-reused-1');
    t.equal(replay.headers['idempotent-replayed'], 'true', 'the refusal did not disturb the stored answer');
    t.equal(replay.body, first.body);
  });

  t.test('keys are per client: two admins use the same key string independently', async (t) => {
    const otherAdmin = await client('admin');
    const mine = await createClient('scoped', 'shared-key');
    const theirs = await createClient('scoped', 'shared-key', otherAdmin.headers);
    t.equal(mine.statusCode, 201);
    t.equal(theirs.statusCode, 201);
    t.equal(theirs.headers['idempotent-replayed'], undefined, 'not a replay of another client’s answer');
    t.not(json<{ client: { id: string } }>(theirs).client.id, json<{ client: { id: string } }>(mine).client.id);
    t.equal(await clientsNamed('scoped'), 2);

    const theirsAgain = await createClient('scoped', 'shared-key', otherAdmin.headers);
    t.equal(theirsAgain.headers['idempotent-replayed'], 'true');
    t.equal(theirsAgain.body, theirs.body, 'each client gets its own stored answer');
    t.equal(await clientsNamed('scoped'), 2);
  });

  t.test('an invalid key is a 400 naming the header, and nothing runs', async (t) => {
    for (const key of ['k'.repeat(300), 'has space']) {
      const res = await createClient('bad key', key);
      t.equal(res.statusCode, 400);
      t.match(json(res), {
        type: '/problems/validation-error',
        errors: [{ in: 'header', pointer: '/idempotency-key' }],
      });
    }
    t.equal((await createClient('bad key', 'k'.repeat(255))).statusCode, 201, '255 characters are allowed');
    t.equal(await clientsNamed('bad key'), 1);
  });

  t.test('a repeat while the first is in flight: 409 idempotency-key-in-flight', async (t) => {
    slowCalls = 0;
    slowEntered = deferred();
    slowGate = deferred();
    const request = { method: 'POST' as const, url: '/v1/test/slow', payload: { n: 1 } };
    const headers = { ...admin.headers, 'idempotency-key': 'slow-1' };
    const first = app.inject({ ...request, headers });
    await slowEntered.promise;

    const repeat = await app.inject({ ...request, headers });
    t.equal(repeat.statusCode, 409);
    t.match(json(repeat), { type: '/problems/idempotency-key-in-flight', status: 409 });
    t.equal(repeat.headers['retry-after'], '1');
    t.equal(slowCalls, 1, 'the repeat did not run the handler');

    slowGate.resolve();
    const done = await first;
    t.equal(done.statusCode, 201);
    t.same(json(done), { call: 1 });

    const later = await app.inject({ ...request, headers });
    t.equal(later.statusCode, 201);
    t.equal(later.headers['idempotent-replayed'], 'true');
    t.equal(later.body, done.body);
    t.equal(slowCalls, 1);
  });

  t.test('the store holds neither the keys nor readable answers (an issued API key stays secret)', async (t) => {
    const res = await createClient('stored secretly', 'secret-answer-1');
    t.equal(res.statusCode, 201);
    const apiKey = json<{ apiKey: { key: string } }>(res).apiKey.key;
    const stored = await db.select().from(idempotencyKeys);
    const text = JSON.stringify(stored);
    t.ok(stored.length > 0);
    t.notOk(text.includes('secret-answer-1'), 'the Idempotency-Key is not stored');
    t.notOk(text.includes(apiKey), 'the API key in the answer is not readable');
    t.notOk(text.includes('stored secretly'), 'nor anything else of the answer');
    const replay = await createClient('stored secretly', 'secret-answer-1');
    t.equal(replay.body, res.body, 'yet the key’s holder gets the answer back');
  });

  t.test('a key whose request died with its process can be used again after a while', async (t) => {
    slowCalls = 0;
    slowEntered = deferred();
    slowGate = deferred();
    const request = { method: 'POST' as const, url: '/v1/test/slow', payload: { n: 2 } };
    const headers = { ...admin.headers, 'idempotency-key': 'abandoned-1' };
    const first = app.inject({ ...request, headers });
    await slowEntered.promise;
    t.equal((await app.inject({ ...request, headers })).statusCode, 409, 'in flight: refused');
    // As if the process running it had died long ago.
    await db.update(idempotencyKeys).set({ inFlightUntil: sql`now() - interval '1 second'` });
    slowEntered = deferred();
    const retrying = app.inject({ ...request, headers });
    await slowEntered.promise;
    t.equal(slowCalls, 2, 'the retry runs the handler');
    slowGate.resolve();
    const [retry] = await Promise.all([retrying, first]);
    t.equal(retry.statusCode, 201);
  });

  t.test('a 5xx answer releases the key: a retry runs again, and its answer is kept', async (t) => {
    const request = { method: 'POST' as const, url: '/v1/test/flaky', payload: { n: 1 } };
    const headers = { ...admin.headers, 'idempotency-key': 'flaky-1' };
    const failed = await app.inject({ ...request, headers });
    t.equal(failed.statusCode, 500);
    t.match(json(failed), { type: '/problems/internal-error' });

    const retried = await app.inject({ ...request, headers });
    t.equal(retried.statusCode, 201);
    t.equal(retried.headers['idempotent-replayed'], undefined, 'the retry ran, it was not a replay of the 500');
    t.same(json(retried), { call: 2 });
    t.equal(flakyCalls, 2);

    const replayed = await app.inject({ ...request, headers });
    t.equal(replayed.statusCode, 201);
    t.equal(replayed.headers['idempotent-replayed'], 'true');
    t.equal(replayed.body, retried.body);
    t.equal(flakyCalls, 2);
  });

  const needsPostgres = onPostgres
    ? false
    : 'needs real PostgreSQL (set DATABASE_URL): PGlite runs one query at a time';
  t.test(
    '50 concurrent POSTs with one key and one body: one client, 50 identical answers',
    { skip: needsPostgres },
    async (t) => {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => createClient('concurrent', 'concurrent-1', admin.headers, patient.app)),
      );
      t.same(
        answers.map((a) => a.statusCode),
        Array(50).fill(201),
      );
      const first = answers[0]!;
      t.equal(answers.filter((a) => a.body === first.body).length, 50, 'every body is the same');
      t.equal(
        answers.filter((a) => a.headers['idempotent-replayed'] === 'true').length,
        49,
        'one ran, 49 were replays',
      );
      t.equal(await clientsNamed('concurrent'), 1);
    },
  );
});
