import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { createPiiProtector } from '../../../src/modules/registry/sensitive.js';
import { parseSecretsKeys } from '../../../src/platform/secrets.js';
import { json, testApp } from '../../helpers.js';
import { createSource, csv, incomeRecords, ndjson, person, type Snapshot, upload } from './sources.fixtures.js';

interface Source {
  id: string;
  kind: string;
  region: string;
  providerClientId: string;
  currentSnapshot: { id: string; records: number; lines: number; loadedAt: string } | null;
  recordSchema: { kind: string; fields: { name: string; required: boolean; type: string; values?: string[] }[] };
}
interface Problem {
  status: number;
  detail: string;
  errors?: { pointer: string }[];
  snapshot?: Snapshot;
}

t.test('sources: created by admins, read by their provider, caseworkers and admins', async (t) => {
  const { app, admin, client, config } = await testApp(t);
  const provider = await client('data_provider');
  const other = await client('data_provider');
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const elsewhere = await client('civil_affairs', { jurisdiction: '220104' });

  const kinds = await app.inject({ method: 'GET', url: '/v1/matching/source-kinds', headers: provider.headers });
  t.equal(kinds.statusCode, 200);
  const realEstate = json<{ items: Source['recordSchema'][] }>(kinds).items.find((k) => k.kind === 'real_estate')!;
  t.same(
    realEstate.fields.map((f) => [f.name, f.required]),
    [
      ['idNumber', true],
      ['name', true],
      ['ref', false],
      ['amountFen', true],
      ['use', true],
    ],
  );
  t.same(realEstate.fields.find((f) => f.name === 'use')!.values, ['residential', 'commercial']);

  const post = (payload: Record<string, unknown>, headers = admin.headers) =>
    app.inject({ method: 'POST', url: '/v1/matching/sources', headers, payload });
  const bad = await post({ kind: 'lottery', name: '', providerClientId: caseworker.id, region: '9' });
  t.equal(bad.statusCode, 400);
  t.same(
    json<Problem>(bad)
      .errors!.map((e) => e.pointer)
      .sort(),
    ['/kind', '/name', '/region'],
  );
  const notProvider = await post({ kind: 'income', name: 'Wages', providerClientId: caseworker.id, region: '2201' });
  t.equal(notProvider.statusCode, 400, 'the provider must be a data_provider client');
  t.same(
    json<Problem>(notProvider).errors!.map((e) => e.pointer),
    ['/providerClientId'],
  );
  t.equal(
    (await post({ kind: 'income', name: 'W', providerClientId: provider.id, region: '2201' }, caseworker.headers))
      .statusCode,
    403,
  );

  const created = await post({ kind: 'income', name: 'Wages', providerClientId: provider.id, region: '2201' });
  t.equal(created.statusCode, 201);
  const source = json<Source>(created);
  t.equal(source.currentSnapshot, null);
  t.equal(source.recordSchema.kind, 'income');
  const again = await post({ kind: 'income', name: 'Wages again', providerClientId: provider.id, region: '2201' });
  t.equal(again.statusCode, 409, 'one source per provider, kind and region');
  const vehicles = await createSource(app, admin, other, 'vehicle', '220102');

  const list = async (headers: Record<string, string>) => {
    const res = await app.inject({ method: 'GET', url: '/v1/matching/sources', headers });
    return res.statusCode === 200
      ? json<{ items: Source[] }>(res)
          .items.map((s) => s.kind)
          .sort()
      : res.statusCode;
  };
  t.same(await list(provider.headers), ['income'], 'a provider sees its own sources');
  t.same(await list(other.headers), ['vehicle']);
  t.same(await list(caseworker.headers), ['income', 'vehicle'], 'a district caseworker sees the city’s sources');
  t.same(await list(admin.headers), ['income', 'vehicle']);
  t.same(
    await list(elsewhere.headers),
    ['income'],
    'another district’s caseworker sees the city’s, not the district’s',
  );
  const portal = await client('portal');
  t.equal(await list(portal.headers), 403, 'a client with none of the reading scopes');

  const get = (id: string, headers: Record<string, string>) =>
    app.inject({ method: 'GET', url: `/v1/matching/sources/${id}`, headers });
  t.equal((await get(source.id, other.headers)).statusCode, 404, 'another provider’s source does not exist for it');
  t.equal((await get(vehicles, elsewhere.headers)).statusCode, 404);
  t.equal((await get(vehicles, caseworker.headers)).statusCode, 200);

  // A first load makes the source current; the source shows it.
  const records = incomeRecords(300);
  const body = ndjson(records);
  const loaded = await upload(app, provider, source.id, '2026-03-01.1', body);
  t.equal(loaded.statusCode, 201, loaded.body);
  const snapshot = json<Snapshot>(loaded);
  t.match(snapshot, { status: 'complete', format: 'ndjson', lines: 300, records: 300, badLines: 0, report: [] });
  t.equal(snapshot.contentSha256, createHash('sha256').update(body).digest('hex'));
  t.equal(loaded.headers.location, `/v1/matching/sources/${source.id}/snapshots/${snapshot.id}`);
  const read = json<Source>(await get(source.id, caseworker.headers));
  t.match(read.currentSnapshot, { id: snapshot.id, records: 300, lines: 300 });
  t.ok(read.currentSnapshot!.loadedAt);

  // Only the provider loads; a caseworker lacks the scope, another provider finds nothing.
  t.equal((await upload(app, caseworker, source.id, 'k2', body)).statusCode, 403);
  t.equal((await upload(app, other, source.id, 'k2', body)).statusCode, 404);
  t.equal((await upload(app, provider, source.id, 'k2', body, 'text/plain')).statusCode, 415);

  // The ID number itself is stored nowhere; its blind index is.
  const stored = await rows<{ id_index: string; name: string; amount_fen: string }>(
    app.database.db,
    sql`select id_index, name, amount_fen from matching_records where snapshot_id = ${snapshot.id} order by line limit 1`,
  );
  const pii = createPiiProtector({
    keys: parseSecretsKeys(config.SECRETS_KEYS),
    blindIndexKey: Buffer.from(config.BLIND_INDEX_KEY, 'base64'),
  });
  t.equal(stored[0]!.id_index, pii.index('document', records[0]!.idNumber), 'the same index as the registry’s');
  t.not(stored[0]!.id_index, records[0]!.idNumber);
  t.equal(stored[0]!.name, records[0]!.name);
  t.equal(Number(stored[0]!.amount_fen), records[0]!.amountFen);
  const anywhere = await rows<{ n: number }>(
    app.database.db,
    sql`select count(*)::int as n from matching_records r where r::text like ${'%' + records[0]!.idNumber + '%'}`,
  );
  t.equal(anywhere[0]!.n, 0);

  // The same upload key answers the same, without loading again; the history shows one load.
  const replay = await upload(app, provider, source.id, '2026-03-01.1', 'not even read');
  t.equal(replay.statusCode, 201);
  t.equal(replay.headers['idempotent-replayed'], 'true');
  t.same(json<Snapshot>(replay), snapshot);

  // CSV: a second load supersedes the first.
  const header = ['idNumber', 'name', 'amountFen', 'ref'];
  const csvLoad = await upload(
    app,
    provider,
    source.id,
    'csv-1',
    csv(header, incomeRecords(200, 1000)),
    'text/csv; charset=utf-8',
  );
  t.equal(csvLoad.statusCode, 201, csvLoad.body);
  const second = json<Snapshot>(csvLoad);
  t.match(second, { status: 'complete', format: 'csv', lines: 201, records: 200 });
  t.equal(json<Source>(await get(source.id, provider.headers)).currentSnapshot!.id, second.id);
  const lines = await rows<{ line: number }>(
    app.database.db,
    sql`select min(line)::int as line from matching_records where snapshot_id = ${second.id}`,
  );
  t.equal(lines[0]!.line, 2, 'CSV records are numbered by their line in the file, after the header');

  const history = await app.inject({
    method: 'GET',
    url: `/v1/matching/sources/${source.id}/snapshots?limit=1`,
    headers: caseworker.headers,
  });
  const page = json<{ items: Snapshot[]; nextCursor: string | null }>(history);
  t.same(
    page.items.map((s) => [s.id, s.status]),
    [[second.id, 'complete']],
  );
  const rest = await app.inject({
    method: 'GET',
    url: `/v1/matching/sources/${source.id}/snapshots?cursor=${page.nextCursor}`,
    headers: caseworker.headers,
  });
  t.same(
    json<{ items: Snapshot[] }>(rest).items.map((s) => [s.id, s.status]),
    [[snapshot.id, 'superseded']],
  );
  const one = await app.inject({
    method: 'GET',
    url: `/v1/matching/sources/${source.id}/snapshots/${snapshot.id}`,
    headers: provider.headers,
  });
  t.match(json<Snapshot>(one), { status: 'superseded', records: 300 });
  t.ok(json<Snapshot>(one).supersededAt);

  // Events: caseworkers of the source's region learn of completed snapshots.
  await app.services.events.sequence();
  const cityCaseworker = await client('civil_affairs');
  const feed = await app.inject({ method: 'GET', url: '/v1/events', headers: cityCaseworker.headers });
  const types = json<{ items: { type: string; data: { snapshotId: string } }[] }>(feed).items.filter((e) =>
    e.type.startsWith('matching_snapshot.'),
  );
  t.same(
    types.map((e) => [e.type, e.data.snapshotId]),
    [
      ['matching_snapshot.completed', snapshot.id],
      ['matching_snapshot.completed', second.id],
    ],
  );
});

t.test('record schemas of other kinds', async (t) => {
  const { app, admin, client } = await testApp(t);
  const provider = await client('data_provider');
  const death = await createSource(app, admin, provider, 'death');
  const estate = await createSource(app, admin, provider, 'real_estate');
  const ok = await upload(app, provider, death, 'd1', ndjson([{ ...person(1), eventDate: '2026-01-15' }]));
  t.equal(ok.statusCode, 201, ok.body);
  const bad = await upload(
    app,
    provider,
    estate,
    'e1',
    ndjson([
      { ...person(2), amountFen: 90_000_000, use: 'residential' },
      { ...person(3), amountFen: 90_000_000, use: 'farm' },
      { ...person(4), amountFen: 90_000_000, use: 'commercial', colour: 'red' },
    ]),
  );
  t.equal(bad.statusCode, 422);
  t.same(
    json<Problem>(bad).snapshot!.report.map((p) => [p.line, p.field]),
    [
      [2, 'use'],
      [3, 'colour'],
    ],
  );
  const stored = await rows<{ attrs: Record<string, string> | null; event_date: string }>(
    app.database.db,
    sql`select attrs, event_date::text from matching_records r join matching_sources s on s.current_snapshot_id = r.snapshot_id where s.id = ${death}`,
  );
  t.same(stored, [{ attrs: null, event_date: '2026-01-15' }]);
});
