import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { z } from 'zod';
import { rows } from '../../src/db/client.js';
import { defineEvent } from '../../src/platform/events/catalogue.js';
import { freshDatabase, json, onPostgres, testApp, type TestClient } from '../helpers.js';

/** A promise and the function that settles it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits, within a bound, until `check` holds. */
async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface EventBody {
  id: string;
  type: string;
  timestamp: string;
  subject: string;
  subjectSeq: number;
  region: string;
  position: number;
  data: Record<string, unknown>;
}

interface FeedPage {
  items: EventBody[];
  nextCursor: string;
}

interface ProblemBody {
  type: string;
  status: number;
  errors?: { in: string; pointer: string; detail: string }[];
}

interface EventRow {
  id: string;
  type: string;
  subject: string;
  subject_seq: number;
  region: string;
  scope: string;
  audience_client_id: string | null;
  position: number;
}

/** An event type of the tests' own, visible to whoever holds regions:read in its region. */
const noteWritten = defineEvent({
  type: 'test_note.written',
  scope: 'regions:read',
  summary: 'A note the tests write',
  data: z.object({ n: z.number().int() }),
});

class Rollback extends Error {
  override name = 'Rollback';
}
const rolledBack = { name: 'Rollback' };

type Headers = TestClient['headers'];

t.test('events: outbox and pull feed', async (t) => {
  const database = await freshDatabase(t);
  const { app, admin, client } = await testApp(t, { database });
  const db = database.db;
  const { events } = app.services;

  const feedPage = (headers: Headers, query: string, target: FastifyInstance = app) =>
    target.inject({ method: 'GET', url: `/v1/events?${query}`, headers });

  /**
   * Follows the feed from `after` in pages of `limit` until a page is not full, as a receiver
   * polls; returns everything seen and the cursor to go on from.
   */
  async function readFeed(
    headers: Headers,
    options: { after?: string; limit?: number; types?: string; target?: FastifyInstance } = {},
  ) {
    const { limit = 2, types, target = app } = options;
    let cursor = options.after ?? '0';
    const seen: EventBody[] = [];
    for (let pages = 0; pages < 1_000; pages++) {
      const typesQuery = types ? `&types=${encodeURIComponent(types)}` : '';
      const res = await feedPage(headers, `after=${cursor}&limit=${limit}${typesQuery}`, target);
      if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`);
      const body = json<FeedPage>(res);
      if (BigInt(body.nextCursor) < BigInt(cursor)) throw new Error('the cursor went backwards');
      seen.push(...body.items);
      cursor = body.nextCursor;
      if (body.items.length < limit) return { seen, cursor };
    }
    throw new Error('the feed never ended');
  }

  /**
   * What a reader is entitled to, in feed order, by the rule as the issue states it (scope held,
   * region inside the jurisdiction, not meant for another client alone), computed here from the
   * table rather than by the service's own function.
   */
  async function entitled(reader: TestClient & { scopes: string[] }, types?: string[]) {
    const all = await rows<EventRow>(
      db,
      sql`select id, type, subject, subject_seq, region, scope, audience_client_id, position::float8 as position
          from events where position is not null order by position`,
    );
    return all
      .filter(
        (e) =>
          reader.scopes.includes(e.scope) &&
          e.region.startsWith(reader.jurisdiction) &&
          (e.audience_client_id === null || e.audience_client_id === reader.id) &&
          (!types || types.includes(e.type)),
      )
      .map((e) => e.id);
  }

  const scopesOf = async (c: TestClient) => {
    const [row] = await rows<{ scopes: string[] }>(db, sql`select scopes from clients where id = ${c.id}::uuid`);
    return Object.assign(c, { scopes: row!.scopes });
  };

  const note = (subject: string, n: number, region = '220102') =>
    db.transaction((tx) => events.publish(tx, noteWritten, { subject, region, data: { n } }));
  const count = async (query: ReturnType<typeof sql>) => (await rows<{ n: number }>(db, query))[0]!.n;
  const unsequenced = () => count(sql`select count(*)::int as n from events where position is null`);
  const eventCount = () => count(sql`select count(*)::int as n from events`);

  t.test('publish writes in the caller’s transaction: a rollback leaves no event', async (t) => {
    const before = await eventCount();
    await t.rejects(
      db.transaction(async (tx) => {
        await events.publish(tx, noteWritten, { subject: 'note/rolled-back', region: '220102', data: { n: 1 } });
        throw new Rollback('the change fails after publishing');
      }),
      rolledBack,
    );
    t.equal(await eventCount(), before, 'no event row');
    t.equal(
      await count(sql`select count(*)::int as n from event_subjects where subject = 'note/rolled-back'`),
      0,
      'and no counter for the subject either',
    );

    await t.rejects(
      db.transaction((tx) =>
        events.publish(tx, noteWritten, { subject: 'note/bad', region: '220102', data: { n: 'one' as never } }),
      ),
      'data that does not match the type’s schema is refused',
    );
    t.equal(await eventCount(), before);
  });

  t.test('subjectSeq counts 1, 2, 3 per subject without gaps, also across a rollback', async (t) => {
    t.equal((await note('note/a', 1)).subjectSeq, 1);
    t.equal((await note('note/b', 1)).subjectSeq, 1, 'each subject counts on its own');
    await t.rejects(
      db.transaction(async (tx) => {
        const lost = await events.publish(tx, noteWritten, { subject: 'note/a', region: '220102', data: { n: 99 } });
        t.equal(lost.subjectSeq, 2, 'the rolled-back event had taken 2');
        throw new Rollback();
      }),
      rolledBack,
    );
    t.equal((await note('note/a', 2)).subjectSeq, 2, 'and 2 is given again');
    t.equal((await note('note/a', 3)).subjectSeq, 3);
    t.equal((await note('note/b', 2)).subjectSeq, 2);
    await db.transaction(async (tx) => {
      const publish = (n: number) =>
        events.publish(tx, noteWritten, { subject: 'note/b', region: '220102', data: { n } });
      t.equal((await publish(3)).subjectSeq, 3, 'two in one transaction follow each other');
      t.equal((await publish(4)).subjectSeq, 4);
    });
  });

  t.test('events reach the feed only through sequence(), in commit order', async (t) => {
    const reader = await client('portal', { jurisdiction: '220102' });
    const waiting = await unsequenced();
    t.ok(waiting >= 7, 'the committed notes wait for the sequencer');
    const before = await readFeed(reader.headers);
    t.same(before.seen, [], 'the feed shows nothing unsequenced');
    t.equal(before.cursor, '0');

    t.equal(await events.sequence(), waiting, 'sequence() gives every committed event its position');
    t.equal(await unsequenced(), 0);
    t.equal(await events.sequence(), 0, 'nothing left to sequence');

    const after = await readFeed(reader.headers, { after: before.cursor });
    t.same(
      after.seen.filter((e) => e.type === noteWritten.type).map((e) => [e.subject, e.subjectSeq, e.data.n]),
      [
        ['note/a', 1, 1],
        ['note/b', 1, 1],
        ['note/a', 2, 2],
        ['note/a', 3, 3],
        ['note/b', 2, 2],
        ['note/b', 3, 3],
        ['note/b', 4, 4],
      ],
      'each note once, in commit order, subjectSeq without gaps',
    );
    const positions = after.seen.map((e) => e.position);
    t.same(
      positions,
      [...positions].sort((x, y) => x - y),
      'oldest first',
    );
    t.match(after.seen[0], {
      id: /^[0-9a-f-]{36}$/,
      type: noteWritten.type,
      timestamp: /^\d{4}-\d\d-\d\dT/,
      subject: 'note/a',
      subjectSeq: 1,
      region: '220102',
      position: Number,
      data: { n: 1 },
    });
  });

  // Readers of the visibility tests, made before the changes they should or should not see.
  let admin102: TestClient & { scopes: string[] };
  let bank: TestClient & { scopes: string[] };
  let blind: TestClient & { scopes: string[] };
  const inNanguan: string[] = [];
  const inKuancheng: string[] = [];

  t.test('HTTP changes publish events a reader sees exactly once, in order, page by page', async (t) => {
    admin102 = await scopesOf(await client('admin', { jurisdiction: '220102' }));
    bank = await scopesOf(await client('bank', { jurisdiction: '2201' }));
    blind = await scopesOf(await client('portal', { jurisdiction: '2201', scopes: ['events:read'] }));

    const create = async (name: string, jurisdiction: string) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/clients',
        headers: admin.headers,
        payload: { name, agency: 'health', jurisdiction },
      });
      t.equal(res.statusCode, 201);
      return json<{ client: { id: string } }>(res).client.id;
    };
    for (let i = 0; i < 3; i++) inNanguan.push(await create(`Nanguan ${i}`, '220102'));
    for (let i = 0; i < 2; i++) inKuancheng.push(await create(`Kuancheng ${i}`, '220103'));
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${inNanguan[0]}`,
      headers: admin.headers,
      payload: { name: 'Nanguan hospital' },
    });
    t.equal(patched.statusCode, 200);
    const issued = await app.inject({
      method: 'POST',
      url: `/v1/clients/${inKuancheng[0]}/keys`,
      headers: admin.headers,
      payload: {},
    });
    t.equal(issued.statusCode, 201);
    t.ok((await events.sequence()) >= 7);

    const { seen } = await readFeed(admin102.headers, { limit: 2 });
    t.same(
      seen.map((e) => e.id),
      await entitled(admin102),
      'every event it may see, in order',
    );
    t.equal(new Set(seen.map((e) => e.id)).size, seen.length, 'none twice');
    const created = seen.filter((e) => e.type === 'client.created').map((e) => e.data.clientId);
    for (const id of inNanguan) t.ok(created.includes(id), 'sees client.created of its own district');
    for (const id of inKuancheng) t.notOk(created.includes(id), 'not of another district');
    t.ok(
      seen.some((e) => e.type === 'client.updated' && e.data.clientId === inNanguan[0]),
      'sees the update in its district',
    );
    t.notOk(
      seen.some((e) => e.type === 'api_key.issued'),
      'not the key issued in another district',
    );
    t.notOk(
      seen.some((e) => e.region === '2201' || e.region.startsWith('220103')),
      'nothing of the city level or another district',
    );

    // Other page sizes give the same sequence.
    t.same(
      (await readFeed(admin102.headers, { limit: 1 })).seen.map((e) => e.id),
      seen.map((e) => e.id),
    );
    t.same(
      (await readFeed(admin102.headers, { limit: 500 })).seen.map((e) => e.id),
      seen.map((e) => e.id),
    );

    // The city admin sees both districts.
    const city = await readFeed(admin.headers, { limit: 3 });
    const cityIds = new Set(city.seen.map((e) => e.data.clientId));
    for (const id of [...inNanguan, ...inKuancheng]) t.ok(cityIds.has(id));
    t.same(
      city.seen.map((e) => e.id),
      await entitled(await scopesOf(admin)),
    );
  });

  t.test('types filters the feed', async (t) => {
    const updates = await readFeed(admin.headers, { types: 'client.updated' });
    t.ok(updates.seen.length >= 1);
    t.ok(updates.seen.every((e) => e.type === 'client.updated'));
    t.same(
      updates.seen.map((e) => e.id),
      await entitled(await scopesOf(admin), ['client.updated']),
    );

    const two = await readFeed(admin.headers, { types: 'api_key.issued, client.updated' });
    t.same(
      two.seen.map((e) => e.id),
      await entitled(await scopesOf(admin), ['api_key.issued', 'client.updated']),
    );
    t.ok(two.seen.some((e) => e.type === 'api_key.issued'));

    const none = await readFeed(bank.headers, { types: 'job.finished' });
    t.same(none.seen, [], 'the bank started no job');
    t.ok(Number(none.cursor) > 0, 'the cursor still moves on');

    const unknown = await feedPage(admin.headers, 'after=0&types=client.updated,no_such.thing');
    t.equal(unknown.statusCode, 400);
    t.match(json(unknown), { errors: [{ in: 'query', pointer: '/types', detail: /no_such\.thing/ }] });
  });

  t.test('a reader without the scope sees none of those events', async (t) => {
    t.notOk(bank.scopes.includes('clients:read'), 'the bank does not hold clients:read');
    const { seen } = await readFeed(bank.headers);
    t.notOk(
      seen.some((e) => e.type.startsWith('client.') || e.type.startsWith('api_key.')),
      'no client.* or api_key.* event',
    );
    t.same(
      seen.map((e) => e.id),
      await entitled(bank),
      'only what it holds the scope for (the tests’ notes, through regions:read)',
    );
  });

  t.test('when nothing visible is found, nextCursor still moves forward', async (t) => {
    const head = await count(sql`select last_position::int as n from event_feed_head`);
    t.ok(head > 0);
    const res = await feedPage(blind.headers, 'after=0&limit=10');
    t.equal(res.statusCode, 200);
    t.same(json<FeedPage>(res), { items: [], nextCursor: String(head) }, 'past everything sequenced');
    const again = await feedPage(blind.headers, `after=${head}`);
    t.same(json<FeedPage>(again), { items: [], nextCursor: String(head) }, 'and stays there until more comes');

    await note('note/c', 1);
    await events.sequence();
    const later = await feedPage(blind.headers, `after=${head}`);
    t.same(json<FeedPage>(later), { items: [], nextCursor: String(head + 1) });

    const past = await feedPage(blind.headers, `after=${head + 100}`);
    t.same(json<FeedPage>(past), { items: [], nextCursor: String(head + 100) }, 'never backwards');
  });

  t.test('job.finished goes only to the client that started the job', async (t) => {
    const starter = await client('admin');
    const other = await client('admin');
    const { cursor: starterFrom } = await readFeed(starter.headers);
    const { cursor: otherFrom } = await readFeed(other.headers);
    const { cursor: adminFrom } = await readFeed(admin.headers);

    const started = await app.inject({
      method: 'POST',
      url: '/v1/audit-events/verifications',
      headers: starter.headers,
    });
    t.equal(started.statusCode, 202);
    const jobId = json<{ id: string }>(started).id;
    t.equal(await app.services.jobs.drain(), 1);
    t.ok((await events.sequence()) >= 1);

    const mine = await readFeed(starter.headers, { after: starterFrom });
    t.match(
      mine.seen.filter((e) => e.type === 'job.finished'),
      [{ subject: `job/${jobId}`, subjectSeq: 1, data: { jobId, jobType: 'audit.verify', status: 'succeeded' } }],
    );
    const theirs = await readFeed(other.headers, { after: otherFrom });
    t.notOk(
      theirs.seen.some((e) => e.type === 'job.finished'),
      'another admin of the same jurisdiction does not see it',
    );
    const adminsView = await readFeed(admin.headers, { after: adminFrom });
    t.notOk(adminsView.seen.some((e) => e.type === 'job.finished'));
    t.same(
      (await readFeed(other.headers)).seen.map((e) => e.id),
      await entitled(await scopesOf(other)),
    );
  });

  t.test('a bad cursor or limit is a 400 naming the parameter', async (t) => {
    for (const after of ['abc', '-1', '1.5', '', '1e3', '12345678901234567890']) {
      const res = await feedPage(admin.headers, `after=${encodeURIComponent(after)}`);
      t.equal(res.statusCode, 400, `after=${after}`);
      t.match(json<ProblemBody>(res).errors, [{ in: 'query', pointer: '/after' }]);
    }
    for (const limit of ['0', '501', 'x']) {
      const res = await feedPage(admin.headers, `limit=${limit}`);
      t.equal(res.statusCode, 400, `limit=${limit}`);
      t.match(json<ProblemBody>(res).errors, [{ in: 'query', pointer: '/limit' }]);
    }
  });

  t.test('the feed needs events:read', async (t) => {
    const noFeed = await client('bank', { scopes: ['regions:read'] });
    const res = await feedPage(noFeed.headers, 'after=0');
    t.equal(res.statusCode, 403);
    t.equal((await app.inject({ method: 'GET', url: '/v1/events' })).statusCode, 401);
  });

  t.test('the cursor survives a restart: a new instance on the same database goes on from it', async (t) => {
    const before = await readFeed(admin102.headers);
    const fromHere = before.cursor;

    const restarted = await testApp(t, { database });
    await restarted.app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: admin.headers,
      payload: { name: 'After the restart', agency: 'cdc', jurisdiction: '220102' },
    });
    await db.transaction((tx) =>
      restarted.app.services.events.publish(tx, noteWritten, { subject: 'note/a', region: '220102', data: { n: 4 } }),
    );
    t.ok((await restarted.app.services.events.sequence()) >= 2);

    const after = await readFeed(admin102.headers, { after: fromHere, target: restarted.app });
    t.same(
      after.seen.map((e) => [e.type, e.subject.split('/')[0], e.subjectSeq]),
      [
        ['client.created', 'client', 1],
        ['test_note.written', 'note', 4],
      ],
      'exactly what came after the cursor',
    );
    t.same(
      [...before.seen, ...after.seen].map((e) => e.id),
      await entitled(admin102),
      'and together with what came before, everything once',
    );
  });

  t.test('PostgreSQL: concurrent publishers and sequencers', { skip: !onPostgres && 'needs PostgreSQL' }, async (t) => {
    const lockWaiters = () =>
      count(
        sql`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`,
      );

    /** A transaction that publishes and then waits for the test to say how it ends. */
    function heldPublish(subject: string, n: number) {
      const published = deferred<number>();
      const end = deferred<'commit' | 'rollback'>();
      const done = db.transaction(async (tx) => {
        const e = await events.publish(tx, noteWritten, { subject, region: '220102', data: { n } });
        published.resolve(e.subjectSeq);
        if ((await end.promise) === 'rollback') throw new Rollback();
        return e.subjectSeq;
      });
      return { published: published.promise, end: end.resolve, done };
    }

    t.test('a publisher waits for the subject’s earlier publisher; numbers stay gap-free', async (t) => {
      // A new subject: the first publisher rolls back, the waiting one gets 1.
      const first = heldPublish('note/race', 1);
      t.equal(await first.published, 1);
      const second = note('note/race', 2);
      await waitFor('the second publisher waits for the subject', async () => (await lockWaiters()) > 0);
      first.end('rollback');
      await t.rejects(first.done, rolledBack);
      t.equal((await second).subjectSeq, 1, 'the rolled-back number is taken by the next');

      // An existing subject: the first commits, the waiting one comes after it.
      const third = heldPublish('note/race', 3);
      t.equal(await third.published, 2);
      const fourth = note('note/race', 4);
      await waitFor('the fourth publisher waits for the subject', async () => (await lockWaiters()) > 0);
      third.end('commit');
      t.equal(await third.done, 2);
      t.equal((await fourth).subjectSeq, 3);

      await events.sequence();
      const { seen } = await readFeed(admin102.headers, { types: noteWritten.type });
      t.same(
        seen.filter((e) => e.subject === 'note/race').map((e) => [e.subjectSeq, e.data.n]),
        [
          [1, 2],
          [2, 3],
          [3, 4],
        ],
      );
    });

    t.test('an event that commits late is not skipped by a reader already past its neighbours', async (t) => {
      const { cursor: start } = await readFeed(admin102.headers);
      const late = heldPublish('note/late', 1); // inserted first, committed last
      await late.published;
      await note('note/early', 1);
      t.equal(await events.sequence(), 1, 'only the committed event gets a position');
      const first = await readFeed(admin102.headers, { after: start });
      t.same(
        first.seen.map((e) => e.subject),
        ['note/early'],
      );

      late.end('commit');
      await late.done;
      t.equal(await events.sequence(), 1);
      const second = await readFeed(admin102.headers, { after: first.cursor });
      t.same(
        second.seen.map((e) => e.subject),
        ['note/late'],
        'the reader gets it after its cursor',
      );
    });

    t.test('two instances sequencing at once give every event one position, none skipped', async (t) => {
      const other = await testApp(t, { database });
      const { cursor: start } = await readFeed(admin102.headers);
      const published: string[] = [];
      const publishers = Array.from({ length: 8 }, async (_, p) => {
        for (let i = 0; i < 25; i++) published.push((await note(`note/many-${p}`, i)).id);
      });
      let publishing = true;
      const sequencers = [app, other.app].map(async (instance) => {
        while (publishing) await instance.services.events.sequence(7);
      });
      await Promise.all(publishers);
      publishing = false;
      await Promise.all(sequencers);
      await events.sequence();
      t.equal(await unsequenced(), 0);

      const positions = await rows<{ position: number }>(
        db,
        sql`select position::float8 as position from events order by position`,
      );
      t.same(
        positions.map((p) => p.position),
        positions.map((_, i) => i + 1),
        'positions 1…n, each once',
      );
      const { seen } = await readFeed(admin102.headers, { after: start, limit: 50 });
      const notes = seen.filter((e) => e.subject.startsWith('note/many-'));
      t.same(new Set(notes.map((e) => e.id)), new Set(published), 'the reader sees every one');
      t.equal(notes.length, published.length, 'once');
      for (let p = 0; p < 8; p++) {
        t.same(
          notes.filter((e) => e.subject === `note/many-${p}`).map((e) => e.subjectSeq),
          Array.from({ length: 25 }, (_, i) => i + 1),
          `note/many-${p} in order`,
        );
      }
    });
  });
});
