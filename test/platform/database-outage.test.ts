import { createServer, type AddressInfo, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { newApiKey } from '../../src/platform/clients/keys.js';
import { isDatabaseUnavailable } from '../../src/platform/database-unavailable.js';
import { freshDatabase, json, onPostgres, testApp } from '../helpers.js';
import { divertViolations } from '../privacy.js';
import { onServer } from '../templates.js';

/** A person registered on their own; `n` makes the document number unique. */
const person = (n: number) => ({
  name: `Outage ${n}`,
  idType: 'passport',
  idNumber: `E9${String(n).padStart(7, '0')}`,
  birthDate: '1970-05-06',
  sex: 'male',
  region: '220102',
});

/** The answer a caller gets while the database is away: 503 problem+json telling it when to retry. */
function unavailable(t: Test, res: LightMyRequestResponse, instance: string) {
  t.equal(res.statusCode, 503, `503 (${res.body})`);
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(res.headers['retry-after'], '2', 'Retry-After in seconds');
  t.match(json(res), {
    type: '/problems/service-unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail: /database/,
    instance,
    requestId: res.headers['x-request-id'],
  });
  t.notMatch(res.body, /ECONNREFUSED|terminated|select|insert/i, 'no driver detail in the answer');
}

/** The whole service on a database that is not there; its audit chain cannot be verified on close. */
async function appOn(t: Test, database: Database): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JOBS_ENABLED: 'false' }), {
    database,
    background: false,
  });
  divertViolations(app);
  await app.ready();
  t.teardown(async () => {
    await app.close();
    await database.close();
  });
  return app;
}

async function checkAway(t: Test, app: FastifyInstance) {
  const headers = { authorization: `Bearer ${newApiKey().key}` };
  unavailable(t, await app.inject({ method: 'POST', url: '/v1/persons', headers, payload: person(1) }), '/v1/persons');
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.same(json(ready), { status: 'unavailable', checks: { database: 'unreachable' } });
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process itself is live');
}

const unusedPort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

t.test('a database that refuses connections: 503 with Retry-After, /readyz 503, /healthz 200', async (t) => {
  const port = await unusedPort();
  const database = await openDatabase({
    databaseUrl: `postgres://postgres@127.0.0.1:${port}/doudi`,
    dataDir: 'memory://',
    poolMax: 2,
  });
  await checkAway(t, await appOn(t, database));
});

t.test('a database server that hangs up as soon as it is reached: the same', async (t) => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const database = await openDatabase({
    databaseUrl: `postgres://postgres@127.0.0.1:${port}/doudi`,
    dataDir: 'memory://',
    poolMax: 2,
  });
  await checkAway(t, await appOn(t, database));
});

t.test('what counts as the database being away', async (t) => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  const wrapped = (cause: unknown) => new DrizzleQueryError('insert into persons …', [], cause as Error);
  t.ok(isDatabaseUnavailable(wrapped(withCode('57P01', 'terminating connection due to administrator command'))));
  t.ok(isDatabaseUnavailable(wrapped(withCode('57P03', 'the database system is starting up'))));
  t.ok(isDatabaseUnavailable(withCode('08006')), 'connection failure');
  t.ok(isDatabaseUnavailable(new AggregateError([withCode('ECONNREFUSED')], 'connect failed')));
  t.ok(isDatabaseUnavailable(wrapped(new Error('Connection terminated unexpectedly'))));
  t.ok(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect')));
  t.notOk(isDatabaseUnavailable(wrapped(withCode('23505', 'duplicate key'))), 'a unique violation is not');
  t.notOk(isDatabaseUnavailable(wrapped(withCode('57014', 'canceling statement'))), 'a cancelled statement is not');
  t.notOk(isDatabaseUnavailable(new Error('secret SQL select * from x')), 'a bug is not');
  t.notOk(isDatabaseUnavailable(withCode('ENOENT')), 'a missing file is not');
});

/** A TCP relay in front of the real server, which the test can cut and restore on the same port. */
async function relay(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  async function open() {
    const listening = createServer((inbound) => {
      const outbound = connect(Number(target.port || 5432), target.hostname);
      const drop = () => {
        for (const s of [inbound, outbound]) {
          s.destroy();
          sockets.delete(s);
        }
      };
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('error', drop).on('close', drop);
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
    port = (listening.address() as AddressInfo).port;
    server = listening;
  }
  async function cut() {
    const closing = server;
    server = null;
    for (const s of sockets) s.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  }
  await open();
  return { open, cut, url: () => `postgres://${target.username}@127.0.0.1:${port}${target.pathname}` };
}

t.test(
  'on PostgreSQL',
  { skip: !onPostgres && 'needs DATABASE_URL (a server whose connections can be cut)' },
  async (t) => {
    const real = await freshDatabase(t);

    t.test('the connections cut under the service and restored: it recovers by itself', async (t) => {
      const link = await relay(new URL(real.url!));
      const database = await openDatabase({ databaseUrl: link.url(), dataDir: 'memory://', poolMax: 4 });
      t.teardown(async () => {
        await link.cut();
        await database.close();
      });
      const { app, client } = await testApp(t, { database });
      const clerk = await client('civil_affairs');
      const before = await app.inject({
        method: 'POST',
        url: '/v1/persons',
        headers: clerk.headers,
        payload: person(2),
      });
      t.equal(before.statusCode, 201, before.body);
      const id = json<{ id: string }>(before).id;

      await link.cut();
      // The pool hears its connections end and lets them go.
      for (let i = 0; i < 100 && database.poolStats().total > 0; i++) await sleep(20);
      t.equal(database.poolStats().total, 0, 'no connection left');
      const post = { method: 'POST' as const, url: '/v1/persons', headers: clerk.headers, payload: person(3) };
      unavailable(t, await app.inject(post), '/v1/persons');
      unavailable(
        t,
        await app.inject({ method: 'GET', url: `/v1/persons/${id}`, headers: clerk.headers }),
        `/v1/persons/${id}`,
      );
      t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
      t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

      await link.open();
      t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready again, same process');
      const after = await app.inject(post);
      t.equal(after.statusCode, 201, after.body);
      const read = await app.inject({ method: 'GET', url: `/v1/persons/${id}`, headers: clerk.headers });
      t.same(json(read), json(before), 'what was written before is there, unchanged');
    });

    t.test(
      'a connection the server ends while a request holds it: its query fails, the process lives on',
      async (t) => {
        const failed = real.withClient!(async (client) => {
          const [{ pid }] = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows as [
            { pid: number },
          ];
          const ended = new Promise((resolve) => client.once('end', resolve));
          // 57P01 admin_shutdown, as a fast restart sends every backend, arriving while no query runs.
          await onServer(process.env.DATABASE_URL!, (admin) => admin.query('select pg_terminate_backend($1)', [pid]));
          await ended;
          await client.query('select 1');
        });
        const err = await failed.then(
          () => null,
          (e: unknown) => e,
        );
        t.ok(err, 'the query on the lost connection fails');
        t.ok(isDatabaseUnavailable(err), `answered as the database being away: ${String(err)}`);
        await real.ping();
        t.pass('the pool serves again');
      },
    );
  },
);
