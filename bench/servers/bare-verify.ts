// The verification baseline: a bare fastify route running verification's read statement (the SQL
// `readHousehold` in verify.sql.ts builds, taken from it at start-up) for the household in the
// body, through a node-postgres pool. No auth, no rules, no standard, no insert, no event, no audit.
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import Fastify from 'fastify';
import pg from 'pg';
import type { Executor } from '../../src/db/client.js';
import { readHousehold } from '../../src/modules/matching/verify.sql.js';

const placeholder = '00000000-0000-4000-8000-000000000000';
const dialect = new PgDialect();
let statement = { sql: '', params: [] as unknown[] };
const capture = {
  execute: (query: SQL) => {
    statement = dialect.sqlToQuery(query);
    return Promise.resolve({ rows: [{}] });
  },
};
await readHousehold(capture as unknown as Executor, placeholder, process.env.BARE_JURISDICTION_PATTERN ?? '2201%');

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 20) });
const app = Fastify({ logger: false });
app.post<{ Body: { householdId: string } }>('/verify', async (request, reply) => {
  const params = statement.params.map((p) => (p === placeholder ? request.body.householdId : p));
  const { rows } = await pool.query<{ region: string | null }>(statement.sql, params);
  if (!rows[0]?.region) return reply.code(404).send({ status: 404 });
  return reply.code(201).send(rows[0]);
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.send?.('ready');
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0)),
);
