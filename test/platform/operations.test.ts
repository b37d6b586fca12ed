import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { parse } from 'yaml';
import { json, testApp } from '../helpers.js';

t.test('operations endpoints', async (t) => {
  const { app, admin, database } = await testApp(t);

  t.test('/healthz answers while the process is up', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    t.equal(res.statusCode, 200);
    t.same(json(res), { status: 'ok' });
  });

  t.test('/readyz checks the database and the migrations', async (t) => {
    const ok = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(ok.statusCode, 200);
    t.same(json(ok), { status: 'ok', checks: { database: 'ok', migrations: 'ok' } });

    // Pretend the last migration was never applied.
    await database.db.execute(sql`alter table drizzle.__drizzle_migrations rename to __drizzle_migrations_hidden`);
    await database.db.execute(
      sql`create table drizzle.__drizzle_migrations as select * from drizzle.__drizzle_migrations_hidden limit 1`,
    );
    const pending = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(pending.statusCode, 503);
    t.match(json(pending), { status: 'unavailable', checks: { migrations: /pending/ } });
    await database.db.execute(sql`drop table drizzle.__drizzle_migrations`);
    await database.db.execute(sql`alter table drizzle.__drizzle_migrations_hidden rename to __drizzle_migrations`);
  });

  t.test('/metrics exposes request counts, latencies per route and pool usage', async (t) => {
    await app.inject({ method: 'GET', url: '/v1/regions', headers: admin.headers });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /text\/plain/);
    t.match(
      res.body,
      /doudi_http_request_duration_seconds_count\{method="GET",route="\/v1\/regions",status_code="200"\} 1/,
    );
    t.match(res.body, /doudi_db_pool_connections\{state="total"\}/);
  });

  t.test('problem types are documented at their URI', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/problems/validation-error' });
    t.equal(res.statusCode, 200);
    t.match(json(res), { type: '/problems/validation-error', description: /JSON pointer/ });
    t.equal((await app.inject({ method: 'GET', url: '/problems/no-such-kind' })).statusCode, 404);
  });
});

t.test('docker-compose.yml runs PostgreSQL 15 and the service, with health checks and a volume', async (t) => {
  const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
    services: Record<
      string,
      {
        image?: string;
        build?: unknown;
        healthcheck?: unknown;
        environment?: Record<string, string>;
        depends_on?: unknown;
      }
    >;
    volumes?: Record<string, unknown>;
  };
  const services = compose.services;
  t.ok(services.postgres, 'a postgres service');
  t.match(services.postgres?.image, /^postgres:15/);
  t.ok(services.postgres?.healthcheck, 'postgres has a health check');
  t.ok(services.doudi, 'a doudi service');
  t.ok(services.doudi?.build, 'doudi is built from the Dockerfile');
  t.ok(services.doudi?.healthcheck, 'doudi has a health check');
  t.match(services.doudi?.environment?.DATABASE_URL, /@postgres:5432\//);
  t.ok(compose.volumes && Object.keys(compose.volumes).length > 0, 'a named volume keeps the data');
});
