import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { openDatabase, rows } from '../../../src/db/client.js';
import { checkResidentId } from '../../../src/modules/registry/identity.js';
import { syntheticHouseholds } from '../../../src/modules/registry/people.seed.js';
import { insertPersons, isDocumentTaken } from '../../../src/modules/registry/people.store.js';
import { json, migratedDataDir, testApp } from '../../helpers.js';
import { countPersons, residentId } from './people.fixtures.js';

interface Problem {
  errors?: { pointer: string; detail: string }[];
  conflicts?: { pointer: string; existingPersonId?: string; registeredElsewhere?: boolean }[];
}

const member = (idNumber: string, relationship = 'head') => ({
  name: '测试',
  relationship,
  idType: 'resident_id',
  idNumber,
});
const id = (n: number) => residentId('220102', '19700101', String(n).padStart(3, '0'));

t.test('bulk registration: all checked at once, inserted together, ids in order', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', {
    jurisdiction: '220102',
    scopes: ['registry:read', 'registry:write'],
  });
  const city = await client('civil_affairs', { jurisdiction: '2201', scopes: ['registry:read', 'registry:write'] });
  const bulk = (households: unknown[], who = caseworker) =>
    app.inject({ method: 'POST', url: '/v1/households/bulk', headers: who.headers, payload: { households } });

  const invalid = await bulk([
    { region: '220102', members: [member(id(1)), member(id(2), 'child')] },
    { region: '220102', members: [member(`${id(3).slice(0, 17)}0`)] },
    { region: '220103', members: [member(id(4)), member(id(2), 'spouse')] },
  ]);
  t.equal(invalid.statusCode, 400);
  const errors = json<Problem>(invalid).errors!;
  t.match(errors, [
    { pointer: '/households/1/members/0/idNumber', detail: /check character/ },
    { pointer: '/households/2/region', detail: /jurisdiction/ },
    { pointer: '/households/2/members/1/idNumber', detail: /same document as \/households\/0\/members\/1\/idNumber/ },
  ]);
  t.equal(errors.length, 3);
  t.equal(await countPersons(app), 0, 'nothing written');

  const households = [
    { region: '220102', address: 'A', members: [member(id(1)), member(id(2), 'child')] },
    { region: '220102001', address: 'B', members: [member(id(3))] },
    { region: '220102', address: 'C', members: [member(id(4)), member(id(5), 'spouse'), member(id(6), 'child')] },
  ];
  const created = await bulk(households);
  t.equal(created.statusCode, 201, created.body);
  const answer = json<{ households: { id: string; memberIds: string[] }[] }>(created);
  t.same(
    answer.households.map((h) => h.memberIds.length),
    [2, 1, 3],
  );
  for (const [i, h] of answer.households.entries()) {
    const read = json<{ address: string; members: { id: string }[] }>(
      await app.inject({ method: 'GET', url: `/v1/households/${h.id}`, headers: caseworker.headers }),
    );
    t.equal(read.address, households[i]!.address, `household ${i} in order`);
    t.same(read.members.map((m) => m.id).sort(), [...h.memberIds].sort());
  }
  const [audit] = await rows<{ person_ids: string[]; resource_ids: string[] }>(
    app.database.db,
    sql`select person_ids, resource_ids from audit_events where operation = 'registerHouseholdsBulk'`,
  );
  t.equal(audit!.person_ids.length, 6);
  t.same(
    audit!.resource_ids,
    answer.households.map((h) => h.id),
  );
  const [events] = await rows<{ n: number }>(
    app.database.db,
    sql`select count(*)::int as n from events where type = 'household.registered'`,
  );
  t.equal(events!.n, 3);

  // A document registered already, inside and outside the caller's jurisdiction: 409, nothing written.
  const elsewhere = await bulk([{ region: '220103', members: [member(id(7))] }], city);
  t.equal(elsewhere.statusCode, 201);
  const before = await countPersons(app);
  const conflicting = await bulk([
    { region: '220102', members: [member(id(8))] },
    { region: '220102', members: [member(id(9)), member(id(5), 'spouse')] },
    { region: '220102', members: [member(id(7))] },
  ]);
  t.equal(conflicting.statusCode, 409);
  const problem = json<Problem>(conflicting);
  t.same(problem.conflicts, [
    {
      pointer: '/households/1/members/1/idNumber',
      existingPersonId: answer.households[2]!.memberIds[1],
      existingHouseholdId: answer.households[2]!.id,
    },
    { pointer: '/households/2/members/0/idNumber', registeredElsewhere: true },
  ]);
  t.equal(await countPersons(app), before, 'nothing written');

  const tooMany = await bulk(Array.from({ length: 1001 }, () => households[1]));
  t.equal(tooMany.statusCode, 400);
  t.match(json<Problem>(tooMany).errors, [{ pointer: '/households' }]);
});

t.test('a full batch of 1000 synthetic households in one request', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220102', scopes: ['registry:write'] });
  const households = syntheticHouseholds({ region: '220102', seed: 11 }, 0, 1000);
  const members = households.reduce((n, h) => n + h.members.length, 0);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/households/bulk',
    headers: caseworker.headers,
    payload: { households },
  });
  t.equal(res.statusCode, 201, res.body.slice(0, 500));
  t.equal(json<{ households: unknown[] }>(res).households.length, 1000);
  t.equal(await countPersons(app), members);
  t.ok(members > 2200 && members < 2800, `about 2.5 members a household (${members})`);
});

t.test('the unique index is recognised as a document conflict on this driver', async (t) => {
  const { app, client } = await testApp(t);
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/persons',
    headers: caseworker.headers,
    payload: { name: '甲', idType: 'resident_id', idNumber: id(1), region: '220102' },
  });
  t.equal(res.statusCode, 201);
  const [row] = await rows<Record<string, unknown>>(app.database.db, sql`select * from persons`);
  const copy = {
    id: '00000000-0000-4000-8000-000000000001',
    pointer: '',
    householdId: null,
    relationship: null,
    name: '乙',
    idType: 'resident_id' as const,
    document: { sealed: String(row!.id_number_sealed), index: String(row!.id_number_index), masked: 'x' },
    birthDate: null,
    sex: null,
    region: '220102',
    address: null,
    hukouRegion: null,
    phone: null,
    bank: null,
    scatteredExtremelyPoor: false,
    livesAlone: false,
    disabled: false,
    selfCare: null,
  };
  const err = await insertPersons(app.database.db, [copy], 'dev', null).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err, 'the second insert fails');
  t.equal(isDocumentTaken(err), true);
  t.equal(isDocumentTaken(new Error('other')), false);
});

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

function cli(args: string[], dataDir: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: projectRoot, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

t.test('seed-registry loads valid, unique, deterministic households', async (t) => {
  t.same(
    syntheticHouseholds({ region: '220102', seed: 5 }, 0, 20),
    syntheticHouseholds({ region: '220102', seed: 5 }, 0, 20),
    'the same seed gives the same households',
  );
  t.notSame(
    syntheticHouseholds({ region: '220102', seed: 5 }, 0, 20),
    syntheticHouseholds({ region: '220102', seed: 6 }, 0, 20),
  );

  // Migrated beforehand: a fresh install's first start is cli.test.ts's subject, loading is this one's.
  const dataDir = await migratedDataDir(t);
  const run = await cli(['seed-registry', '--households', '50', '--region', '220102', '--seed', '5'], dataDir);
  t.equal(run.code, 0, run.err);
  const done = /loaded 50 households and (\d+) persons in [\d.]+ s: \d+ households\/s, \d+ persons\/s/.exec(run.out);
  t.ok(done, run.out);
  const again = await cli(['seed-registry', '--households', '50', '--region', '220102', '--seed', '5'], dataDir);
  t.equal(again.code, 1, 'the same seed again: its documents are registered already');
  t.match(again.err, /registered already/);

  const database = await openDatabase({ dataDir });
  t.teardown(() => database.close());
  const persons = await rows<{ id_number_sealed: string; birth_date: string; region: string }>(
    database.db,
    sql`select id_number_sealed, birth_date::text, region from persons`,
  );
  t.equal(persons.length, Number(done?.[1]));
  t.ok(persons.every((p) => p.region === '220102'));
  const expected = syntheticHouseholds({ region: '220102', seed: 5 }, 0, 50).flatMap((h) => h.members);
  t.ok(
    expected.every((m) => checkResidentId(m.idNumber, '2026-01-01').valid),
    'every number is valid',
  );
  t.equal(new Set(expected.map((m) => m.idNumber)).size, expected.length, 'and unique');
  t.equal(expected.length, persons.length);
  const wrong = await cli(['seed-registry', '--households', '0', '--region', '220102'], dataDir);
  t.equal(wrong.code, 1);
  t.match(wrong.err, /--households must be a positive whole number/);
});
