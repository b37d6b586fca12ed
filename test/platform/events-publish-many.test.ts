import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../src/db/client.js';
import { clientCreated } from '../../src/platform/events/catalogue.js';
import { testApp } from '../helpers.js';

t.test('publishMany numbers each subject’s events on from its counter, like publish', async (t) => {
  const { app, database } = await testApp(t);
  const { events } = app.services;
  const data = (name: string) => ({
    clientId: '00000000-0000-4000-8000-000000000001',
    name,
    agency: 'admin',
    jurisdiction: '2201',
  });
  await database.db.transaction(async (tx) => {
    await events.publish(tx, clientCreated, { subject: 'bulk/a', region: '2201', data: data('a1') });
    await events.publishMany(tx, clientCreated, [
      { subject: 'bulk/b', region: '220102', data: data('b1') },
      { subject: 'bulk/a', region: '2201', data: data('a2') },
      { subject: 'bulk/b', region: '220102', data: data('b2') },
      { subject: 'bulk/a', region: '2201', data: data('a3') },
    ]);
    await events.publish(tx, clientCreated, { subject: 'bulk/b', region: '220102', data: data('b3') });
  });
  const found = await rows<{ subject: string; subject_seq: number; name: string; region: string }>(
    database.db,
    sql`select subject, subject_seq, data->>'name' as name, region from events where subject like 'bulk/%' order by subject, subject_seq`,
  );
  t.same(
    found.map((r) => [r.subject, Number(r.subject_seq), r.name, r.region]),
    [
      ['bulk/a', 1, 'a1', '2201'],
      ['bulk/a', 2, 'a2', '2201'],
      ['bulk/a', 3, 'a3', '2201'],
      ['bulk/b', 1, 'b1', '220102'],
      ['bulk/b', 2, 'b2', '220102'],
      ['bulk/b', 3, 'b3', '220102'],
    ],
    'no gaps, in the order given',
  );
  await t.rejects(
    database.db.transaction((tx) =>
      events.publishMany(tx, clientCreated, [{ subject: 'bulk/c', region: '2201', data: { name: 1 } as never }]),
    ),
    'data is checked against the event’s schema',
  );
  const [c] = await rows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from events where subject = 'bulk/c'`,
  );
  t.equal(c!.n, 0);
});
