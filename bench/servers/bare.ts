// The baseline: bare fastify routes each doing one primary-key SELECT through a node-postgres
// pool, no auth, no audit, no unsealing, no validation. What the real endpoints are measured against.
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 20) });
const app = Fastify({ logger: false });
for (const table of ['clients', 'persons']) {
  app.get<{ Params: { id: string } }>(`/${table}/:id`, async (request, reply) => {
    const { rows } = await pool.query(`select * from ${table} where id = $1`, [request.params.id]);
    if (!rows[0]) return reply.code(404).send({ status: 404 });
    return rows[0];
  });
}
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
