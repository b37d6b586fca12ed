import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { sameName } from '../../../src/modules/matching/names.js';
import { checkRecord, recordSchemaOf } from '../../../src/modules/matching/records.js';
import { type CityOptions, cityTruth, syntheticCity } from '../../../src/modules/matching/synthetic.js';
import { writeSyntheticCity } from '../../../src/modules/matching/synthetic.city.js';
import { sourceLines, sourceStream } from '../../../src/modules/matching/synthetic.lines.js';
import { type SourceKind, sourceKinds } from '../../../src/modules/matching/tables.js';
import { evaluate, type MatchedRecord } from '../../../src/modules/matching/verify.rules.js';
import { checkResidentId } from '../../../src/modules/registry/identity.js';
import type { ProgramStandard } from '../../../src/modules/registry/programs.service.js';
import { migratedDataDir, testApp } from '../../helpers.js';

const today = '2026-01-01';
const small: CityOptions = { region: '220102', seed: 3, households: 200 };
const text = (options: CityOptions, kind: SourceKind, format: 'ndjson' | 'csv') =>
  [...sourceLines(options, kind, format)].join('');

t.test('the same options give the same bytes; another seed other ones', async (t) => {
  for (const kind of sourceKinds) {
    for (const format of ['ndjson', 'csv'] as const) {
      const once = text(small, kind, format);
      t.ok(once.split('\n').length > (format === 'csv' ? 2 : 1), `${kind} ${format} has records`);
      t.equal(text(small, kind, format), once, `${kind} ${format} again`);
      t.not(text({ ...small, seed: 4 }, kind, format), once, `${kind} ${format} of another seed`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of sourceStream({ ...small, households: 3000 }, 'deposits', 'ndjson')) chunks.push(chunk);
  t.ok(chunks.length > 1, 'the stream comes in chunks');
  t.equal(Buffer.concat(chunks).toString(), text({ ...small, households: 3000 }, 'deposits', 'ndjson'));
  t.throws(() => [...syntheticCity({ ...small, shares: { eligible: 0.7, ineligible: 0.2, dirty: 0.2 } })], {
    message: /add up to 1/,
  });
});

t.test('every ID number is valid; NDJSON and CSV carry the same records, each valid for its kind', async (t) => {
  const city = [...syntheticCity(small)];
  const members = city.flatMap((h) => h.household.members);
  t.ok(
    members.every((m) => checkResidentId(m.idNumber, today).valid),
    `${members.length} members`,
  );
  const records = city.flatMap((h) => h.records);
  t.ok(
    records.every((r) => checkResidentId(r.idNumber, today).valid),
    `${records.length} records`,
  );
  for (const kind of sourceKinds) {
    const schema = recordSchemaOf(kind);
    const fromJson = text(small, kind, 'ndjson')
      .trimEnd()
      .split('\n')
      .map((line) => checkRecord(schema, JSON.parse(line) as Record<string, unknown>, today));
    const fromCsv = (parse(text(small, kind, 'csv'), { columns: true }) as Record<string, string>[]).map((row) =>
      checkRecord(schema, row, today),
    );
    t.equal(fromJson.length, records.filter((r) => r.kind === kind).length, `${kind}: one line a record`);
    t.ok(
      fromJson.every((c) => 'record' in c),
      `${kind}: every line passes the loader's check`,
    );
    t.same(fromCsv, fromJson, `${kind}: CSV rows are the NDJSON lines`);
  }
});

const standard = {
  monthlyStandardFen: 72_000,
  assetMultiple: 24,
  propertyLimit: 1,
  vehicleValueLimitFen: 10_000_000,
  businessCapitalLimitFen: 0,
} as ProgramStandard;
const ruleOf = {
  income: 'per_capita_income_below_standard',
  assets: 'financial_assets_within_limit',
  property: 'property_within_limit',
  vehicle: 'vehicle_within_limit',
  business: 'no_registered_business',
};

t.test('shares are kept, 1% die, and the truth is what verification finds', async (t) => {
  const options = { region: '220102', seed: 9, households: 2000 };
  const counts = { eligible: 0, ineligible: 0, dirty: 0 };
  let [persons, deceased] = [0, 0];
  const variants = new Set<string>();
  const problems: string[] = [];
  const registered = new Map<string, string>();
  for (const { household } of syntheticCity(options))
    for (const m of household.members) registered.set(m.idNumber, m.name);
  for (const { household, truth, records } of syntheticCity(options)) {
    counts[truth.class]++;
    persons += truth.members;
    deceased += truth.deceased;
    const ids = new Set(household.members.map((m) => m.idNumber));
    const matched: MatchedRecord[] = records
      .filter((r) => ids.has(r.idNumber))
      .map((r, line) => ({
        personId: r.idNumber,
        sourceId: r.kind,
        kind: r.kind,
        snapshotId: r.kind,
        line,
        ref: r.ref,
        name: r.name,
        amountFen: r.amountFen ?? null,
        eventDate: r.eventDate ?? null,
        attrs: r.use ? { use: r.use } : r.status ? { status: r.status } : null,
      }));
    const members = household.members.map((m) => ({ id: m.idNumber, name: m.name }));
    const result = evaluate({ members, records: matched, standard, date: today });
    const at = `household ${truth.index} (${truth.class} ${truth.reasons.join(' ')} ${truth.dirty?.variant ?? ''})`;
    if (result.passed !== truth.passes) problems.push(`${at}: verification ${result.passed ? 'passes' : 'fails'} it`);
    for (const reason of truth.reasons) {
      if (result.rules.find((r) => r.rule === ruleOf[reason])?.outcome !== 'fail')
        problems.push(`${at}: ${reason} passes`);
    }
    const mismatches = result.flags.filter((f) => f.rule === 'name_mismatch').length;
    if (mismatches !== (truth.dirty?.variant === 'typo' ? 1 : 0)) problems.push(`${at}: ${mismatches} name mismatches`);
    // Names differ from the registered ones exactly on the dirty record.
    const misnamed = records.filter((r) => registered.get(r.idNumber) !== r.name);
    if (misnamed.map((r) => r.ref).join() !== (truth.dirty?.ref ?? '')) problems.push(`${at}: misnamed records`);
    if (!truth.dirty) continue;
    variants.add(truth.dirty.variant);
    const record = misnamed[0]!;
    if (truth.dirty.variant === 'unknown_id') {
      t.ok(checkResidentId(record.idNumber, today).valid && !registered.has(record.idNumber), 'an ID in no household');
      t.ok(
        household.members.some((m) => m.name === record.name),
        'under a member’s name',
      );
    } else {
      const name = registered.get(record.idNumber)!;
      t.not(record.name, name);
      t.equal(sameName(record.name, name), truth.dirty.variant !== 'typo', `${truth.dirty.variant}: ${record.name}`);
    }
  }
  t.same(problems, [], 'verification finds what the truth says, on every household');
  t.same([...variants].sort(), ['fullwidth', 'traditional', 'typo', 'unknown_id']);
  t.ok(Math.abs(counts.eligible / 2000 - 0.7) < 0.03, `eligible ${counts.eligible}`);
  t.ok(Math.abs(counts.ineligible / 2000 - 0.25) < 0.03, `ineligible ${counts.ineligible}`);
  t.ok(Math.abs(counts.dirty / 2000 - 0.05) < 0.015, `dirty ${counts.dirty}`);
  t.ok(Math.abs(deceased / persons - 0.01) < 0.004, `${deceased} of ${persons} persons dead`);

  const other = { eligible: 0, ineligible: 0, dirty: 0 };
  for (const truth of cityTruth({ ...options, shares: { eligible: 0.2, ineligible: 0.3, dirty: 0.5 } }))
    other[truth.class]++;
  t.ok(Math.abs(other.eligible / 2000 - 0.2) < 0.03 && Math.abs(other.dirty / 2000 - 0.5) < 0.03, 'other shares');
});

t.test('the city is loaded into the registry and written to files', async (t) => {
  const { app, database } = await testApp(t);
  const out = mkdtempSync(join(tmpdir(), 'doudi-city-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const people = app.services.people;
  const summary = await writeSyntheticCity(people, small, { out: join(out, 'a'), format: 'ndjson', progress: false });
  const truth = [...cityTruth(small)];
  t.match(summary, { households: 200, persons: truth.reduce((n, h) => n + h.members, 0) });
  for (const kind of sourceKinds) {
    t.equal(readFileSync(join(out, 'a', `${kind}.ndjson`), 'utf8'), text(small, kind, 'ndjson'), kind);
  }
  const written = readFileSync(join(out, 'a', 'truth.ndjson'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { householdId: string });
  t.same(
    written.map(({ householdId: _, ...rest }) => rest),
    truth,
  );
  const loaded = await rows<{ id: string; members: number }>(
    database.db,
    sql`select h.id, count(p.id)::int as members from households h join persons p on p.household_id = h.id group by h.id`,
  );
  const membersOf = new Map(loaded.map((h) => [h.id, h.members]));
  t.equal(loaded.length, 200);
  t.ok(
    truth.every((h, i) => membersOf.get(written[i]!.householdId) === h.members),
    'each truth line names its household',
  );

  const csv = { ...small, seed: 5, households: 40 };
  await writeSyntheticCity(people, csv, { out: join(out, 'b'), format: 'csv', progress: false });
  for (const kind of sourceKinds) t.equal(readFileSync(join(out, 'b', `${kind}.csv`), 'utf8'), text(csv, kind, 'csv'));
  await t.rejects(writeSyntheticCity(people, small, { out: join(out, 'c'), format: 'ndjson', progress: false }), {
    message: /registered already/,
  });
});

t.test('synthetic-city on the command line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doudi-city-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Migrated beforehand: a fresh install's first start is cli.test.ts's subject.
  const dataDir = await migratedDataDir(t);
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
      delete env.DATABASE_URL;
      const cwd = fileURLToPath(new URL('../../../', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'synthetic-city', ...args], { cwd, env });
      let [out, err] = ['', ''];
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => resolve({ code, out, err }));
    });
  const args = ['--households', '30', '--region', '220102', '--seed', '6', '--out', join(dir, 'out')];
  const run = await cli([...args, '--format', 'csv', '--shares', '0.5,0.3,0.2']);
  t.equal(run.code, 0, run.err);
  t.match(run.out, /loaded 30 households and \d+ persons; wrote \d+ records \(income \d+, .*\) to .* records\/s/);
  t.ok(existsSync(join(dir, 'out', 'death.csv')) && existsSync(join(dir, 'out', 'truth.ndjson')));
  const options = { region: '220102', seed: 6, households: 30, shares: { eligible: 0.5, ineligible: 0.3, dirty: 0.2 } };
  t.equal(readFileSync(join(dir, 'out', 'income.csv'), 'utf8'), text(options, 'income', 'csv'));
  const wrong = await cli([...args, '--shares', '0.5,0.5,0.5']);
  t.equal(wrong.code, 1);
  t.match(wrong.err, /--shares must be three numbers/);
});
