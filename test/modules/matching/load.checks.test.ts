import { createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { checkRecord, recordSchemaOf } from '../../../src/modules/matching/records.js';
import { checkResidentId } from '../../../src/modules/registry/identity.js';
import { createPiiProtector, normalise, type SensitiveKind } from '../../../src/modules/registry/sensitive.js';
import { defaultScopes } from '../../../src/platform/scopes.js';
import { testApp } from '../../helpers.js';
import { residentId, withWrongCheck } from '../registry/people.fixtures.js';
import { createSource } from './sources.fixtures.js';

/**
 * The shortcuts a load takes on its hot path (the blind index computed without node:crypto's
 * per-call setup, ID numbers checked without allocating, NDJSON read a chunk at a time) must give
 * exactly what the general code gives.
 */

t.test('the blind index a load computes is the one the registry computes', async (t) => {
  const blindIndexKey = randomBytes(32);
  const pii = createPiiProtector({ keys: [{ id: 'k', key: randomBytes(32) }], blindIndexKey });
  const alphabets = ['0123456789X', '0123456789 -+', 'abcXYZ 居民王李张', 'é€😀\u0000\u007f\u0080'];
  let checked = 0;
  let differing = 0;
  // Every length up to three SHA-256 blocks (the padding's edge cases at 55/56/64 bytes included).
  for (let length = 0; length <= 200; length++) {
    for (const alphabet of alphabets) {
      const chars = [...alphabet];
      const value = Array.from({ length }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
      for (const kind of ['document', 'phone', 'bank_account'] as SensitiveKind[]) {
        const plain = normalise(kind, value);
        const expected = createHmac('sha256', blindIndexKey).update(`${kind}:${plain}`).digest('base64url');
        checked++;
        if (pii.indexNormalised(kind, plain) !== expected || pii.index(kind, value) !== expected) differing++;
      }
    }
  }
  t.equal(differing, 0, `${checked} values: the same HMAC-SHA256 as node:crypto`);
  const id = residentId('220102', '19800101', '123');
  t.equal(pii.indexNormalised('document', id), pii.index('document', ` ${id.toLowerCase()} `));
});

t.test('ID numbers: the quick check agrees with GB 11643 as checkResidentId reads it', async (t) => {
  const schema = recordSchemaOf('income');
  const today = '2026-03-15';
  const candidates = new Set<string>();
  const add = (birth: string, sequence = '123', region = '220102') => {
    const id = residentId(region, birth, sequence);
    candidates.add(id);
    candidates.add(withWrongCheck(id));
  };
  for (const birth of [
    '18800101',
    '18791231',
    '19000228',
    '19000229',
    '20000229',
    '19990229',
    '20240229',
    '19801301',
    '19800001',
    '19800100',
    '19800132',
    '19800431',
    '19800430',
    '19801231',
    '20260315',
    '20260316',
    '20270101',
    '99991231',
  ]) {
    add(birth);
  }
  add('19800101', '123', '020102'); // a region code cannot start with 0
  add('19800101', '00X'); // a letter among the digits
  const base = residentId('220102', '19751120', '456');
  for (let i = 0; i < 18; i++) {
    for (const c of ['0', '5', '9', 'X', 'x', 'a', ' ']) candidates.add(base.slice(0, i) + c + base.slice(i + 1));
  }
  candidates.add(base.slice(0, 17));
  candidates.add(base + '1');
  candidates.add(` ${base} `);
  candidates.add(base.slice(0, 6) + ' ' + base.slice(6));
  candidates.add(residentId('110101', '19900307', '00').slice(0, 17) + 'x');
  for (let i = 0; i < 2_000; i++) {
    const year = 1870 + Math.floor(Math.random() * 170);
    const birth = `${year}${String(Math.floor(Math.random() * 14)).padStart(2, '0')}${String(Math.floor(Math.random() * 33)).padStart(2, '0')}`;
    add(birth, String(Math.floor(Math.random() * 1000)).padStart(3, '0'));
  }
  let disagreements = 0;
  for (const idNumber of candidates) {
    const got = checkRecord(schema, { idNumber, name: '王伟', amountFen: 100 }, today);
    const want = checkResidentId(idNumber, today);
    const same = want.valid
      ? 'record' in got && got.record.idNumber === want.number
      : 'problems' in got && got.problems.length === 1 && got.problems[0]!.reason === want.reason;
    if (!same) {
      disagreements++;
      t.fail(`${JSON.stringify(idNumber)}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    }
  }
  t.equal(disagreements, 0, `${candidates.size} candidates`);
});

t.test('amounts: integers from 0 to 10^13 fen, as numbers or digits', async (t) => {
  const schema = recordSchemaOf('income');
  const check = (amountFen: unknown) =>
    checkRecord(schema, { idNumber: residentId('220102', '19800101', '123'), name: '王伟', amountFen }, '2026-03-15');
  for (const [value, stored] of [
    [0, 0],
    [12, 12],
    ['12', 12],
    [' 12 ', 12],
    [10_000_000_000_000, 10_000_000_000_000],
  ] as const) {
    t.match(check(value), { record: { amountFen: stored } }, `${JSON.stringify(value)} is ${stored}`);
  }
  for (const [value, reason] of [
    [-1, /negative/],
    [1.5, /integer/],
    ['1.5', /integer/],
    ['1e3', /integer/],
    [10_000_000_000_001, /at most/],
    [true, /integer/],
  ] as const) {
    t.match(check(value), { problems: [{ field: 'amountFen', reason }] }, `${JSON.stringify(value)} is refused`);
  }
});

t.test('NDJSON split anywhere (inside a character, a CRLF, the BOM) reads the same', async (t) => {
  const { app, admin, client } = await testApp(t);
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider);
  const records = Array.from({ length: 300 }, (_, i) => ({
    idNumber: residentId('220102', '19700101', String(i).padStart(3, '0')),
    name: `居民\t王${i}\\李`,
    amountFen: i * 13,
    ref: `R-${i}\r\n`,
  }));
  const text = '\uFEFF' + records.map((r, i) => JSON.stringify(r) + (i % 3 === 0 ? '\r\n' : '\n\n')).join('');
  const bytes = Buffer.from(text);
  // Chunks of 1 to 97 bytes: boundaries fall inside three-byte characters, between \r and \n, …
  const chunks: Buffer[] = [];
  for (let at = 0, size = 1; at < bytes.length; at += size, size = (size * 7 + 3) % 97 || 1) {
    chunks.push(bytes.subarray(at, at + size));
  }
  const { snapshot } = await app.services.matchingSources.load(
    { id: provider.id, jurisdiction: provider.jurisdiction, scopes: defaultScopes.data_provider },
    { clientId: provider.id, agency: provider.agency, requestId: 'test' },
    sourceId,
    { uploadKey: 'split', format: 'ndjson', body: Readable.from(chunks) },
  );
  t.match(snapshot, { status: 'complete', records: 300, lines: 300 + 300 - 100 });
  const stored = await rows<{ line: number; id_index: string; name: string; amount_fen: number; ref: string }>(
    app.database.db,
    sql`select line, id_index, name, amount_fen::int as amount_fen, ref from matching_records
        where snapshot_id = ${snapshot.id} order by line`,
  );
  const lineOf = (i: number) => 1 + i * 2 - Math.ceil(i / 3);
  t.same(
    stored,
    records.map((r, i) => ({
      line: lineOf(i),
      id_index: app.services.pii.index('document', r.idNumber),
      name: r.name,
      amount_fen: r.amountFen,
      ref: r.ref.trim(),
    })),
  );
});
