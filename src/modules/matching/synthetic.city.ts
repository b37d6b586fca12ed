import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { AuditActor } from '../../platform/audit/service.js';
import { BULK_MAX } from '../registry/people.schemas.js';
import type { PeopleService } from '../registry/people.service.js';
import { type CityHousehold, type CityOptions, syntheticCity } from './synthetic.js';
import { csvHeader, csvLine, ndjsonLine, type RecordFormat } from './synthetic.lines.js';
import { type SourceKind, sourceKinds } from './tables.js';

export interface CityOutput {
  /** The folder the files go to (made if missing). */
  out: string;
  format: RecordFormat;
  /** Draw a progress bar on stderr (drawn only when stderr is a terminal). */
  progress?: boolean;
}

export interface CitySummary {
  households: number;
  persons: number;
  records: Record<SourceKind, number>;
  files: string[];
  seconds: number;
}

/** Writes a string, waiting for the stream to drain when its buffer is full. */
async function write(stream: WriteStream, text: string) {
  if (text && !stream.write(text)) await once(stream, 'drain');
}

/**
 * Loads a synthetic city's households into the registry through its bulk function (BULK_MAX a
 * call, the path seed-registry takes) and writes, for the same persons, one file of records per
 * source kind (`income.ndjson`, … or `.csv`) and `truth.ndjson`: for each household its registry
 * id and what verification should find. One chunk of households is in memory at a time.
 */
export async function writeSyntheticCity(
  people: Pick<PeopleService, 'registerHouseholdsBulk'>,
  options: CityOptions,
  output: CityOutput,
): Promise<CitySummary> {
  const started = performance.now();
  const city = syntheticCity(options); // checks the options before anything is written
  mkdirSync(output.out, { recursive: true });
  const path = (name: string) => join(output.out, name);
  const streams = new Map(sourceKinds.map((k) => [k, createWriteStream(path(`${k}.${output.format}`))]));
  const truthFile = createWriteStream(path('truth.ndjson'));
  const records = Object.fromEntries(sourceKinds.map((k) => [k, 0])) as Record<SourceKind, number>;
  const line = output.format === 'csv' ? csvLine : ndjsonLine;
  const caller = { jurisdiction: options.region, scopes: [] };
  const actor: AuditActor = { clientId: null, agency: null, requestId: `cli:synthetic-city:${options.seed}` };
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'synthetic city |{bar}| {value}/{total} households | {records} records | {rate} records/s | {eta}s left',
    hideCursor: true,
  });
  let households = 0;
  let persons = 0;
  let written = 0;

  async function flush(batch: CityHousehold[]) {
    const created = await people.registerHouseholdsBulk(
      caller,
      actor,
      batch.map((h) => h.household),
    );
    const lines = new Map<SourceKind, string[]>(sourceKinds.map((k) => [k, []]));
    const truth: string[] = [];
    batch.forEach(({ truth: t, records: rs }, i) => {
      truth.push(`${JSON.stringify({ householdId: created.households[i]!.id, ...t })}\n`);
      for (const r of rs) lines.get(r.kind)!.push(line(r));
      persons += t.members;
    });
    for (const [kind, ls] of lines) {
      records[kind] += ls.length;
      written += ls.length;
      await write(streams.get(kind)!, ls.join(''));
    }
    await write(truthFile, truth.join(''));
    households += batch.length;
    const seconds = (performance.now() - started) / 1000;
    bar.update(households, { records: written, rate: Math.round(written / seconds) });
  }

  try {
    if (output.format === 'csv') for (const [kind, s] of streams) await write(s, csvHeader(kind));
    if (output.progress !== false) bar.start(options.households, 0, { records: 0, rate: 0 });
    let batch: CityHousehold[] = [];
    for (const household of city) {
      batch.push(household);
      if (batch.length < BULK_MAX) continue;
      await flush(batch);
      batch = [];
    }
    if (batch.length > 0) await flush(batch);
  } finally {
    bar.stop();
    await Promise.all([...streams.values(), truthFile].map((s) => new Promise((done) => s.end(done))));
  }
  const files = [...sourceKinds.map((k) => path(`${k}.${output.format}`)), path('truth.ndjson')];
  return { households, persons, records, files, seconds: (performance.now() - started) / 1000 };
}

export interface SyntheticCityArgs {
  city: CityOptions;
  output: CityOutput;
}

/** `synthetic-city`'s command line, checked before the database starts (a typo answers at once). */
export function syntheticCityArgs(
  values: Partial<Record<'households' | 'region' | 'seed' | 'out' | 'shares' | 'format', string>>,
): SyntheticCityArgs {
  const households = Number(values.households);
  const seed = Number(values.seed ?? '1');
  const region = values.region ?? '';
  const format = values.format ?? 'ndjson';
  const shares = (values.shares ?? '0.7,0.25,0.05').split(',').map(Number);
  if (!Number.isSafeInteger(households) || households < 1)
    throw new Error('--households must be a positive whole number');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('--seed must be a whole number, 0 or more');
  if (!/^\d{6}(\d{3}|\d{6})?$/.test(region))
    throw new Error('--region must be a county-level code or below, e.g. 220102');
  if (!values.out) throw new Error('--out must name the folder to write the files to');
  if (format !== 'ndjson' && format !== 'csv') throw new Error('--format must be ndjson or csv');
  const [eligible, ineligible, dirty] = shares;
  if (shares.length !== 3 || !shares.every((s) => s >= 0) || Math.abs(eligible! + ineligible! + dirty! - 1) > 1e-9)
    throw new Error('--shares must be three numbers 0 or more adding up to 1: eligible,ineligible,dirty');
  return {
    city: { households, region, seed, shares: { eligible: eligible!, ineligible: ineligible!, dirty: dirty! } },
    output: { out: values.out, format },
  };
}

/** `synthetic-city`: writes the city, prints what it did and the rate. */
export async function syntheticCityCommand(
  people: Pick<PeopleService, 'registerHouseholdsBulk'>,
  { city, output }: SyntheticCityArgs,
) {
  const summary = await writeSyntheticCity(people, city, output);
  const total = Object.values(summary.records).reduce((a, b) => a + b, 0);
  console.log(
    `loaded ${summary.households} households and ${summary.persons} persons; wrote ${total} records ` +
      `(${Object.entries(summary.records)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}) to ${output.out} in ${summary.seconds.toFixed(1)} s: ` +
      `${Math.round(total / summary.seconds)} records/s`,
  );
}
