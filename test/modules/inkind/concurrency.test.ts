import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { json, onPostgres, testApp } from '../../helpers.js';
import { type Distribution, inKindCalls, personFixture, type ProblemBody } from './fixtures.js';

// PGlite is one connection: requests there run one after another. Races need real PostgreSQL.
t.test('in-kind stock under concurrent requests', { skip: !onPostgres && 'needs PostgreSQL' }, async (t) => {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const { post, receive, distribute, stock } = inKindCalls(app);
  for (const item of [
    { code: 'surgical_mask', name: 'Surgical mask', unit: 'piece' },
    { code: 'food_parcel', name: 'Food parcel', unit: 'parcel' },
  ]) {
    t.equal((await post('/v1/in-kind/items', admin, item)).statusCode, 201);
  }
  const people = await Promise.all(
    [0, 1, 2, 3, 4].map((i) => personFixture(app, { region: '220102003', hukouRegion: '220102', name: `P${i}` })),
  );
  const handedOut = async (itemCode: string) =>
    Number(
      (
        await rows<{ n: string }>(
          app.database.db,
          sql`select coalesce(sum(l.quantity), 0) as n from inkind_distribution_lines l
              join inkind_items i on i.id = l.item_id where i.code = ${itemCode}`,
        )
      )[0]!.n,
    );
  const masks = async () => (await stock(nanguan)).get('220102/surgical_mask')!;

  t.test('ten retries of one delivery at once add it once', async (t) => {
    const delivery = {
      region: '220102',
      source: 'donation',
      reference: 'WB-778',
      lines: [
        { itemCode: 'surgical_mask', quantity: 50 },
        { itemCode: 'food_parcel', quantity: 30 },
      ],
    };
    const answers = await Promise.all(Array.from({ length: 10 }, () => receive(nanguan, delivery)));
    t.same(
      answers.map((r) => r.statusCode).sort(),
      [200, 200, 200, 200, 200, 200, 200, 200, 200, 201],
      answers.map((r) => r.body).join('\n'),
    );
    t.equal(new Set(answers.map((r) => json<{ id: string }>(r).id)).size, 1, 'one receipt');
    t.match(await masks(), { quantity: 50, received: 50 });
  });

  t.test('forty distributions of 3 masks from 50: sixteen go, the rest are refused', async (t) => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        distribute(nanguan, {
          region: '220102',
          personId: people[i % people.length]!.id,
          lines: [{ itemCode: 'surgical_mask', quantity: 3 }],
          distributedBy: `Volunteer ${i}`,
        }),
      ),
    );
    const statuses = answers.map((r) => r.statusCode);
    t.equal(statuses.filter((s) => s === 201).length, 16, answers.find((r) => r.statusCode >= 500)?.body ?? 'no 5xx');
    t.equal(statuses.filter((s) => s === 409).length, 24);
    for (const refused of answers.filter((r) => r.statusCode === 409)) {
      t.match(json<ProblemBody>(refused).errors, [{ pointer: '/lines/0/quantity' }]);
    }
    t.match(await masks(), { quantity: 2, received: 50, distributed: 48 });
    t.equal(await handedOut('surgical_mask'), 48, 'what the distributions hold is what left the stock');
  });

  t.test('two items taken in either order by thirty requests at once: no deadlock, no overdraw', async (t) => {
    t.equal(
      (
        await receive(nanguan, {
          region: '220102',
          source: 'procurement',
          reference: 'WB-779',
          lines: [{ itemCode: 'surgical_mask', quantity: 20 }],
        })
      ).statusCode,
      201,
    );
    const both = [
      { itemCode: 'surgical_mask', quantity: 1 },
      { itemCode: 'food_parcel', quantity: 1 },
    ];
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        distribute(nanguan, {
          region: '220102',
          personId: people[i % people.length]!.id,
          lines: i % 2 === 0 ? both : [...both].reverse(),
          distributedBy: `Volunteer ${i}`,
        }),
      ),
    );
    const statuses = answers.map((r) => r.statusCode);
    t.equal(statuses.filter((s) => s === 201).length, 22, answers.find((r) => r.statusCode >= 500)?.body ?? 'no 5xx');
    t.equal(statuses.filter((s) => s === 409).length, 8);
    const held = await stock(nanguan);
    t.match(held.get('220102/surgical_mask'), { quantity: 0, received: 70, distributed: 70 });
    t.match(held.get('220102/food_parcel'), { quantity: 8, received: 30, distributed: 22 });
    t.equal(await handedOut('surgical_mask'), 70);
    t.equal(await handedOut('food_parcel'), 22, 'a refused distribution took neither item');
    for (const d of answers.filter((r) => r.statusCode === 201).map((r) => json<Distribution>(r))) {
      t.equal(d.lines.length, 2);
    }
  });
});
