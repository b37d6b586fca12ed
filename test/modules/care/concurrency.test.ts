import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { json, onPostgres, testApp } from '../../helpers.js';
import { type Assignment, careCalls } from './fixtures.js';

// PGlite is one connection: requests there run one after another. Races need real PostgreSQL.
t.test('care under concurrent requests', { skip: !onPostgres && 'needs PostgreSQL' }, async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const { post, person, caregiver } = careCalls(app);
  const db = app.database.db;
  const carers = await Promise.all(Array.from({ length: 8 }, (_, i) => caregiver(nanguan, '220102003', `Carer ${i}`)));
  const active = async (personId: string) =>
    (
      await rows<{ n: number }>(
        db,
        sql`select count(*)::int as n from care_assignments where person_id = ${personId} and ended_at is null`,
      )
    )[0]!.n;

  t.test(
    'eight first assignments at once to different caregivers: one wins, the others must give a reason',
    async (t) => {
      const liu = await person(nanguan, '220102003', 'Liu Fang');
      const answers = await Promise.all(
        carers.map((c) => post('/v1/care-assignments', nanguan, { personId: liu.id, caregiverId: c.id })),
      );
      const statuses = answers.map((r) => r.statusCode).sort();
      t.same(statuses, [201, 400, 400, 400, 400, 400, 400, 400], answers.map((r) => r.body).join('\n'));
      t.equal(await active(liu.id), 1);
    },
  );

  t.test('eight reassignments at once: one active at the end, the rest history', async (t) => {
    const ma = await person(nanguan, '220102003', 'Ma Jun');
    const answers = await Promise.all(
      carers.map((c) =>
        post('/v1/care-assignments', nanguan, { personId: ma.id, caregiverId: c.id, reason: `handed to ${c.name}` }),
      ),
    );
    t.same(
      answers.map((r) => r.statusCode),
      carers.map(() => 201),
      answers.find((r) => r.statusCode !== 201)?.body ?? '',
    );
    t.equal(await active(ma.id), 1);
    const [counted] = await rows<{ all: number; ended: number }>(
      db,
      sql`select count(*)::int as all, count(ended_at)::int as ended from care_assignments where person_id = ${ma.id}`,
    );
    t.same(counted, { all: 8, ended: 7 });
  });

  t.test('the same assignment ten times at once: one created, nine answered with it', async (t) => {
    const sun = await person(nanguan, '220102003', 'Sun Li');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        post('/v1/care-assignments', nanguan, { personId: sun.id, caregiverId: carers[0]!.id }),
      ),
    );
    t.same(answers.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    t.equal(new Set(answers.map((r) => json<Assignment>(r).id)).size, 1);
  });

  t.test('task generation run five times at once creates each task once', async (t) => {
    for (let i = 0; i < 20; i++) await person(nanguan, '220102005', `Key ${i}`, { disabled: true });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => post('/v1/visit-tasks/generate', nanguan, { region: '220102' })),
    );
    t.same(
      answers.map((r) => r.statusCode),
      [200, 200, 200, 200, 200],
    );
    const created = answers.map((r) => json<{ created: number; keyPersons: number }>(r));
    t.equal(
      created.reduce((n, c) => n + c.created, 0),
      23,
    );
    const [open] = await rows<{ n: number; persons: number }>(
      db,
      sql`select count(*)::int as n, count(distinct person_id)::int as persons from visit_tasks where status = 'open'`,
    );
    t.same(open, { n: 23, persons: 23 });
  });
});
