// The feed baseline: a bare fastify route selecting a page of events by position through a
// node-postgres pool, no auth, no visibility rule, no validation.
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 20) });
const app = Fastify({ logger: false });
app.get<{ Querystring: { after?: string; limit?: string } }>('/events', async (request) => {
  const { rows } = await pool.query(
    `select id, type, occurred_at as timestamp, subject, subject_seq as "subjectSeq", region, position::float8 as position, data
     from events where position > $1 order by events.position limit $2`,
    [Number(request.query.after ?? 0), Number(request.query.limit ?? 100)],
  );
  return { items: rows, nextCursor: String(rows.at(-1)?.position ?? request.query.after ?? 0) };
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
