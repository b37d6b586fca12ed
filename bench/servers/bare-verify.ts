// The verification baseline: a bare fastify route running verification's read statement (the SQL
// `householdRead` in verify.sql.ts builds, taken from it at start-up) for the household in the
// body, through a node-postgres pool, as a named prepared statement like the service's. No auth,
// no rules, no insert, no event, no audit.
import { Placeholder } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import Fastify from 'fastify';
import pg from 'pg';
import type { Db } from '../../src/db/client.js';
import { householdRead, type HouseholdQuery } from '../../src/modules/matching/verify.sql.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 20) });
const statement = householdRead(drizzle(pool) as unknown as Db).toSQL();
const fixed: Omit<HouseholdQuery, 'householdId'> = {
  pattern: process.env.BARE_JURISDICTION_PATTERN ?? '2201%',
  program: 'dibao',
  date: new Date().toISOString().slice(0, 10),
};

const app = Fastify({ logger: false });
app.post<{ Body: { householdId: string } }>('/verify', async (request, reply) => {
  const values: Record<string, unknown> = { ...fixed, householdId: request.body.householdId };
  const params = statement.params.map((p) => (p instanceof Placeholder ? values[p.name] : p));
  const { rows } = await pool.query<{ region: string | null }>({
    name: 'bare_verify',
    text: statement.sql,
    values: params,
  });
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
