import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { LOAD_LOCK } from '../../../src/modules/matching/load.js';
import { defaultScopes } from '../../../src/platform/scopes.js';
import { json, onPostgres, type TestClient, testApp } from '../../helpers.js';
import { withWrongCheck } from '../registry/people.fixtures.js';
import { createSource, csv, incomeRecords, ndjson, person, type Snapshot, upload } from './sources.fixtures.js';

interface Rejection {
  status: number;
  type: string;
  detail: string;
  snapshot: Snapshot;
}

const asProvider = (c: TestClient) => ({ id: c.id, jurisdiction: c.jurisdiction, scopes: defaultScopes.data_provider });
const actor = (c: TestClient) => ({ clientId: c.id, agency: c.agency, requestId: 'test' });

async function state(app: Awaited<ReturnType<typeof testApp>>['app'], sourceId: string) {
  const [source] = await rows<{ current: string | null }>(
    app.database.db,
    sql`select current_snapshot_id as current from matching_sources where id = ${sourceId}`,
  );
  const snapshots = await rows<{ id: string; status: string; n: number }>(
    app.database.db,
    sql`select s.id, s.status, (select count(*)::int from matching_records r where r.snapshot_id = s.id) as n
        from matching_snapshots s where s.source_id = ${sourceId}`,
  );
  return { current: source!.current, snapshots: new Map(snapshots.map((s) => [s.id, s])) };
}

t.test('a load with bad lines is refused whole, with its report', async (t) => {
  const { app, admin, client } = await testApp(t);
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider);
  const first = json<Snapshot>(await upload(app, provider, sourceId, 'good', ndjson(incomeRecords(100))));
  t.equal(first.status, 'complete');

  const lines = incomeRecords(200, 500).map((r) => JSON.stringify(r));
  lines[9] = JSON.stringify({ ...person(9), idNumber: withWrongCheck(person(9).idNumber), amountFen: 1 });
  lines[19] = JSON.stringify({ ...person(19), amountFen: -5 });
  lines[29] = JSON.stringify({ idNumber: person(29).idNumber, amountFen: 5 });
  lines[39] = '{"idNumber": "' + person(39).idNumber + '", "name": ';
  lines[49] = JSON.stringify({ ...person(49), amountFen: 12.5, ref: '' });
  lines[59] = '[1, 2]';
  const body = lines.join('\n') + '\n';
  const res = await upload(app, provider, sourceId, 'bad', body);
  t.equal(res.statusCode, 422);
  const problem = json<Rejection>(res);
  t.equal(problem.type, '/problems/unprocessable-request');
  t.match(problem.detail, /6 bad lines/);
  t.match(problem.snapshot, { status: 'rejected', lines: 200, records: 0, badLines: 6 });
  t.same(
    problem.snapshot.report.map((p) => [p.line, p.field]),
    [
      [10, 'idNumber'],
      [20, 'amountFen'],
      [30, 'name'],
      [40, ''],
      [50, 'amountFen'],
      [60, ''],
    ],
  );
  t.match(problem.snapshot.report[0]!.reason, /check character/);
  t.match(problem.snapshot.report[1]!.reason, /negative/);
  t.match(problem.snapshot.report[2]!.reason, /required/);
  t.match(problem.snapshot.report[3]!.reason, /not valid JSON/);
  t.notOk(JSON.stringify(problem).includes(person(39).idNumber), 'the report never repeats an ID number');

  const after = await state(app, sourceId);
  t.equal(after.current, first.id, 'the previous snapshot stays current');
  t.equal(after.snapshots.get(problem.snapshot.id)!.n, 0, 'nothing of the refused load is stored');
  t.equal(after.snapshots.get(first.id)!.n, 100);

  // Same key: the same refusal, without reading again.
  const again = await upload(app, provider, sourceId, 'bad', 'ignored');
  t.equal(again.statusCode, 422);
  t.same(json<Rejection>(again).snapshot, problem.snapshot);
  t.equal((await state(app, sourceId)).snapshots.size, 2, 'no second load');

  // The provider learns of it; caseworkers do not.
  await app.services.events.sequence();
  const feed = async (who: TestClient) =>
    json<{ items: { type: string }[] }>(await app.inject({ method: 'GET', url: '/v1/events', headers: who.headers }))
      .items.map((e) => e.type)
      .filter((type) => type.startsWith('matching_snapshot.'));
  t.same(await feed(provider), ['matching_snapshot.rejected']);
  t.same(await feed(await client('civil_affairs')), ['matching_snapshot.completed']);

  // Dates, and more than 1,000 bad lines: the report keeps the first 1,000, the count is whole.
  const deaths = await createSource(app, admin, provider, 'death');
  const many = Array.from({ length: 1_500 }, (_, i) => ({ ...person(i), eventDate: i === 0 ? '2026-02-30' : 'soon' }));
  const refused = json<Rejection>(await upload(app, provider, deaths, 'd', ndjson(many))).snapshot;
  t.equal(refused.badLines, 1_500);
  t.equal(refused.report.length, 1_000);
  t.same(refused.report[0], { line: 1, field: 'eventDate', reason: 'must be a date YYYY-MM-DD' });
  const future = await upload(app, provider, deaths, 'f', ndjson([{ ...person(1), eventDate: '2999-01-01' }]));
  t.match(json<Rejection>(future).snapshot.report, [{ line: 1, field: 'eventDate', reason: /after today/ }]);
  const empty = await upload(app, provider, deaths, 'e', '\n\n');
  t.match(json<Rejection>(empty).snapshot.report, [{ field: '', reason: /no records/ }]);
});

t.test('CSV: header and column count are checked', async (t) => {
  const { app, admin, client } = await testApp(t);
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider, 'vehicle');
  const header = ['idNumber', 'name', 'amountFen', 'plate'];
  const records = Array.from({ length: 50 }, (_, i) => ({ ...person(i), amountFen: 3_000_000, plate: `吉A${i}` }));
  const text = csv(header, records).split('\r\n');
  text[5] = text[5] + ',"extra"';
  text[8] = `"${person(8).idNumber}","unterminated`;
  const res = await upload(app, provider, sourceId, 'v1', text.join('\r\n'), 'text/csv');
  t.equal(res.statusCode, 422);
  const report = json<Rejection>(res).snapshot.report;
  t.match(report[0], { line: 6, field: '', reason: /5 fields; the header names 4/ });
  t.ok(
    report.some((p) => p.line >= 9),
    'the unterminated quote is reported',
  );
  t.equal((await state(app, sourceId)).current, null);

  const badHeader = await upload(
    app,
    provider,
    sourceId,
    'v2',
    csv(['idNumber', 'name', 'value'], records),
    'text/csv',
  );
  t.same(
    json<Rejection>(badHeader).snapshot.report.map((p) => [p.line, p.field]),
    [
      [1, 'value'],
      [1, 'amountFen'],
      [1, 'plate'],
    ],
  );
  const ok = await upload(app, provider, sourceId, 'v3', '\uFEFF' + csv(header, records), 'text/csv');
  t.equal(ok.statusCode, 201, ok.body);
  const stored = await rows<{ attrs: { plate: string } }>(
    app.database.db,
    sql`select attrs from matching_records where snapshot_id = ${json<Snapshot>(ok).id} and line = 2`,
  );
  t.same(stored[0]!.attrs, { plate: '吉A0' });
});

t.test('replacing a snapshot: readers see one whole snapshot; older records are purged a load later', async (t) => {
  const { app, admin, client, database } = await testApp(t);
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider);
  const a = json<Snapshot>(await upload(app, provider, sourceId, 'a', ndjson(incomeRecords(300))));

  let reader: pg.Client | null = null;
  if (onPostgres) {
    // A verification that started before the swap: its transaction keeps seeing snapshot a whole.
    reader = new pg.Client({ connectionString: (database as { url?: string }).url });
    await reader.connect();
    await reader.query('begin isolation level repeatable read');
    const before = await reader.query<{ n: number }>(
      `select count(*)::int as n from matching_records r join matching_sources s on s.current_snapshot_id = r.snapshot_id where s.id = $1`,
      [sourceId],
    );
    t.equal(before.rows[0]!.n, 300);
  }
  const b = json<Snapshot>(await upload(app, provider, sourceId, 'b', ndjson(incomeRecords(120, 300))));
  const c = json<Snapshot>(await upload(app, provider, sourceId, 'c', ndjson(incomeRecords(80, 600))));
  if (reader) {
    const during = await reader.query<{ current: string; n: number }>(
      `select s.current_snapshot_id as current, (select count(*)::int from matching_records r where r.snapshot_id = s.current_snapshot_id) as n
       from matching_sources s where s.id = $1`,
      [sourceId],
    );
    t.same(during.rows[0], { current: a.id, n: 300 }, 'the reader still sees snapshot a, whole');
    await reader.query('commit');
    await reader.end();
  }
  const now = await state(app, sourceId);
  t.equal(now.current, c.id);
  t.equal(now.snapshots.get(c.id)!.n, 80);
  t.same(now.snapshots.get(b.id), { id: b.id, status: 'superseded', n: 120 }, 'the last superseded one is kept whole');
  t.same(now.snapshots.get(a.id), { id: a.id, status: 'superseded', n: 0 }, 'the one before is purged');
});

t.test('a load killed halfway leaves the old snapshot in force', async (t) => {
  const { app, admin, client } = await testApp(t);
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider);
  const sources = app.services.matchingSources;
  const old = json<Snapshot>(await upload(app, provider, sourceId, 'old', ndjson(incomeRecords(50))));

  // The upload breaks off after 3,500 lines (a client gone, a proxy cut).
  async function* breaking() {
    yield Buffer.from(ndjson(incomeRecords(3_500, 100)));
    await sleep(5);
    throw new Error('connection reset');
  }
  await t.rejects(
    sources.load(asProvider(provider), actor(provider), sourceId, {
      uploadKey: 'cut',
      format: 'ndjson',
      body: Readable.from(breaking()),
    }),
    /connection reset/,
  );
  let now = await state(app, sourceId);
  t.equal(now.current, old.id);
  t.equal(now.snapshots.get(old.id)!.n, 50);
  const cut = [...now.snapshots.values()].find((s) => s.id !== old.id)!;
  t.same([cut.status, cut.n], ['failed', 0], 'the broken load wrote nothing');

  // Over HTTP: the client goes away mid-upload.
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const request = http.request({
    method: 'PUT',
    host: '127.0.0.1',
    port,
    path: `/v1/matching/sources/${sourceId}/snapshots/gone`,
    headers: { ...provider.headers, 'content-type': 'application/x-ndjson' },
  });
  request.on('error', () => {});
  request.write(ndjson(incomeRecords(2_000, 100)));
  await sleep(1_000); // the load is under way (PGlite cannot be polled while it runs)
  request.destroy();
  let gone: { status: string; n: number } | undefined;
  for (let i = 0; i < 100 && gone?.status !== 'failed'; i++) {
    await sleep(20);
    gone = [...(await state(app, sourceId)).snapshots.values()].find((s) => s.id !== old.id && s.id !== cut.id);
  }
  t.same([gone?.status, gone?.n], ['failed', 0], 'a client gone mid-upload leaves nothing');
  t.equal((await state(app, sourceId)).current, old.id);

  // A process that died mid-load leaves its snapshot `loading`; the next load marks it failed.
  const [dead] = await rows<{ id: string }>(
    app.database.db,
    sql`insert into matching_snapshots (source_id, status, format, upload_key) values (${sourceId}, 'loading', 'csv', 'dead') returning id`,
  );
  now = await state(app, sourceId);
  t.equal(now.current, old.id, 'a loading snapshot is never current');
  // The broken load is retried with its key and completes.
  const retried = await upload(app, provider, sourceId, 'cut', ndjson(incomeRecords(60, 100)));
  t.equal(retried.statusCode, 201);
  t.equal(json<Snapshot>(retried).id, cut.id, 'the same snapshot, loaded again');
  now = await state(app, sourceId);
  t.equal(now.current, cut.id);
  t.equal(now.snapshots.get(cut.id)!.n, 60);
  t.equal(now.snapshots.get(dead!.id)!.status, 'failed');
});

t.test('a load whose process died is marked failed by the sweep; a running one is left alone', async (t) => {
  const { app, admin, client, database } = await testApp(t);
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider);
  const sources = app.services.matchingSources;
  const old = json<Snapshot>(await upload(app, provider, sourceId, 'old', ndjson(incomeRecords(50))));
  // What a SIGKILLed process leaves: its load's snapshot `loading`, its records rolled back.
  const dead = async (key: string) =>
    (
      await rows<{ id: string }>(
        app.database.db,
        sql`insert into matching_snapshots (source_id, status, format, upload_key) values (${sourceId}, 'loading', 'ndjson', ${key}) returning id`,
      )
    )[0]!.id;
  const statusOf = async (id: string) =>
    json<Snapshot>(
      await app.inject({
        method: 'GET',
        url: `/v1/matching/sources/${sourceId}/snapshots/${id}`,
        headers: provider.headers,
      }),
    ).status;

  if (database.withClient) {
    // A load of the source running in another process holds its lock: the sweep leaves it alone.
    const running = await dead('elsewhere');
    await database.withClient(async (other) => {
      await other.query('select pg_advisory_lock($1, hashtext($2))', [LOAD_LOCK, sourceId]);
      try {
        t.same(await sources.sweepStaleLoads(), [], 'nothing marked while the load runs');
        t.equal(await statusOf(running), 'loading');
      } finally {
        await other.query('select pg_advisory_unlock($1, hashtext($2))', [LOAD_LOCK, sourceId]);
      }
    });
    t.same(await sources.sweepStaleLoads(), [running], 'marked once its process is gone');
    t.equal(await statusOf(running), 'failed');
  }

  const killed = await dead('killed');
  t.same(await sources.sweepStaleLoads(), [killed]);
  t.equal(await statusOf(killed), 'failed', 'the API shows the load failed');
  t.same(await sources.sweepStaleLoads(), [], 'a second sweep finds nothing');
  const now = await state(app, sourceId);
  t.equal(now.current, old.id, 'the snapshot in force stays');
  t.equal(now.snapshots.get(old.id)!.n, 50);
  // Retried with its key, the load completes under the same snapshot.
  const retried = await upload(app, provider, sourceId, 'killed', ndjson(incomeRecords(70, 100)));
  t.equal(retried.statusCode, 201);
  t.match(json<Snapshot>(retried), { id: killed, status: 'complete', records: 70 });
});

// PGlite has one connection, which the load holds until it ends: nothing else runs meanwhile.
t.test(
  'one load of a source at a time; progress while loading',
  { skip: !onPostgres && 'PostgreSQL only' },
  async (t) => {
    const { app, admin, client } = await testApp(t);
    const provider = await client('data_provider');
    const sourceId = await createSource(app, admin, provider);
    const sources = app.services.matchingSources;
    const body = new PassThrough();
    const first = sources.load(asProvider(provider), actor(provider), sourceId, {
      uploadKey: 'slow',
      format: 'ndjson',
      body,
    });
    const records = incomeRecords(25_000);
    for (let i = 0; i < records.length; i += 1_000) {
      if (!body.write(ndjson(records.slice(i, i + 1_000)))) await once(body, 'drain');
    }
    const second = await upload(app, provider, sourceId, 'other', ndjson(incomeRecords(5)));
    t.equal(second.statusCode, 409, 'a second load of the source waits its turn');
    const [begun] = await rows<{ xmin: string }>(
      app.database.db,
      sql`select xmin::text as xmin from matching_snapshots where source_id = ${sourceId} and status = 'loading'`,
    );
    const snapshotXmin = begun!.xmin;
    let loadingId = '';
    let lines = 0;
    for (let i = 0; i < 200 && lines < 20_000; i++) {
      await sleep(25);
      const res = await app.inject({
        method: 'GET',
        url: `/v1/matching/sources/${sourceId}/snapshots?limit=1`,
        headers: provider.headers,
      });
      const latest = json<{ items: Snapshot[] }>(res).items[0]!;
      t.equal(latest.status, 'loading');
      lines = latest.lines;
      loadingId = latest.id;
    }
    t.ok(lines >= 20_000, `progress is visible while loading (${lines} lines)`);
    // Progress goes beside the snapshot's row, never to it: every version of that row left while
    // the load runs would be stepped over by each of the records' foreign key checks.
    const [row] = await rows<{ xmin: string; progress: number }>(
      app.database.db,
      sql`select s.xmin::text as xmin, p.lines as progress from matching_snapshots s
          join matching_load_progress p on p.snapshot_id = s.id where s.id = ${loadingId}`,
    );
    t.equal(row!.xmin, snapshotXmin, 'the snapshot row is as the load began it');
    t.ok(row!.progress >= 20_000);
    body.end();
    const done = await first;
    t.match(done.snapshot, { status: 'complete', records: 25_000 });
    t.equal((await upload(app, provider, sourceId, 'other', ndjson(incomeRecords(5)))).statusCode, 201);
  },
);

t.test('a large load completes (50,000 lines)', { skip: !onPostgres && 'PostgreSQL only' }, async (t) => {
  const { app, admin, client } = await testApp(t);
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider);
  async function* generate() {
    for (let i = 0; i < 50_000; i += 1_000) yield Buffer.from(ndjson(incomeRecords(1_000, i)));
  }
  const res = await upload(app, provider, sourceId, 'big', Readable.from(generate()));
  t.equal(res.statusCode, 201, res.body);
  t.match(json<Snapshot>(res), { status: 'complete', lines: 50_000, records: 50_000 });
  const now = await state(app, sourceId);
  t.equal(now.snapshots.get(now.current!)!.n, 50_000);
});
