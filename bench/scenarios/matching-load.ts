/**
 * Loading a big snapshot through the API (`PUT /v1/matching/sources/{id}/snapshots/{key}`, NDJSON
 * streamed from a file, validated line by line, blind-indexed, COPYed, swapped in) against
 * `psql \copy` of the same records, ready-made (blind index computed), into the same table. The
 * server's resident set size is sampled every 250 ms during each load.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, renameSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { matchingSnapshots } from '../../src/modules/matching/tables.js';
import { syntheticResidentId } from '../../src/modules/registry/people.seed.js';
import type { PiiProtector } from '../../src/modules/registry/sensitive.js';
import { mid, type ScenarioResult, start, stop } from '../lib.js';
import { benchClient, benchSource, DATA_DIR, matchingEnv, rssMiB, seedingApp, uploadFile } from '../matching-city.js';

const RECORDS = Number(process.env.BENCH_LOAD_RECORDS ?? 5_000_000);
/** Each load takes minutes at full size: one alternating round by default. */
const ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 1);
const PORT = 3903;
/** Records a person: 5, so the file names RECORDS / 5 distinct persons. */
const PER_PERSON = 5;
/** The snapshot the baseline's rows go under (a fixed id: the CSV carries it). */
const BASELINE_SNAPSHOT = '00000000-0000-4000-8000-00000000b0b0';
const surnames = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
const given = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志';

async function write(stream: WriteStream, text: string) {
  if (!stream.write(text)) await once(stream, 'drain');
}

/**
 * Writes, once (they are kept and reused), N deposit records as NDJSON (for the API) and the same
 * records as matching_records rows in CSV (for psql: snapshot id, line, blind index computed).
 */
async function recordFiles(pii: PiiProtector) {
  mkdirSync(DATA_DIR, { recursive: true });
  const ndjson = join(DATA_DIR, `deposits-${RECORDS}.ndjson`);
  // The rows carry blind indexes: a file made under another BLIND_INDEX_KEY is another file.
  const csv = join(DATA_DIR, `deposits-${RECORDS}.rows-${pii.index('document', 'key').slice(0, 8)}.csv`);
  if (existsSync(ndjson) && existsSync(csv)) return { ndjson, csv, generatedSeconds: null };
  const started = performance.now();
  const [a, b] = [createWriteStream(`${ndjson}.part`), createWriteStream(`${csv}.part`)];
  let json = '';
  let rows = '';
  for (let i = 0; i < RECORDS; i++) {
    const p = Math.floor(i / PER_PERSON);
    const idNumber = syntheticResidentId('220103', 20_000_000 + p);
    const name = surnames[p % surnames.length]! + given[(p * 7) % given.length]! + given[(p * 13) % given.length]!;
    const ref = `DEP-${i + 1}`;
    const amountFen = (p * 7_919 + i * 104_729) % 50_000_000;
    json += `${JSON.stringify({ idNumber, name, ref, amountFen })}\n`;
    rows += `${BASELINE_SNAPSHOT},${i + 1},${pii.index('document', idNumber)},${name},${amountFen},,${ref},\n`;
    if (json.length < 1 << 20) continue;
    await Promise.all([write(a, json), write(b, rows)]);
    [json, rows] = ['', ''];
  }
  await Promise.all([write(a, json), write(b, rows)]);
  await Promise.all([a, b].map((s) => new Promise((done) => s.end(done))));
  renameSync(`${ndjson}.part`, ndjson);
  renameSync(`${csv}.part`, csv);
  return { ndjson, csv, generatedSeconds: (performance.now() - started) / 1000 };
}

function psqlCopy(url: string, file: string): Promise<number> {
  const started = performance.now();
  const columns = 'snapshot_id, line, id_index, name, amount_fen, event_date, ref, attrs';
  const child = spawn(
    'psql',
    [
      url,
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy matching_records (${columns}) from '${file}' with (format csv)`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`psql exited with ${code}`)),
    );
  });
}

interface Memory {
  idleMiB: number;
  minMiB: number;
  maxMiB: number;
  at1MMiB: number | null;
  atEndMiB: number;
  samples: number;
}

export async function scenarioMatchingLoad(url: string): Promise<ScenarioResult> {
  const app = await seedingApp(url);
  const provider = await benchClient(app, 'data_provider', 'bench deposits provider');
  const measuredSource = await benchSource(app, provider.id, 'deposits', '220103');
  const baselineSource = await benchSource(app, provider.id, 'deposits', '220104');
  await app.database.db.insert(matchingSnapshots).values({
    id: BASELINE_SNAPSHOT,
    sourceId: baselineSource,
    status: 'loading',
    format: 'csv',
    uploadKey: 'psql-baseline',
  });
  const files = await recordFiles(app.services.pii);
  await app.close();

  const pool = new pg.Pool({ connectionString: url, max: 1 });
  /**
   * Deletes a round's rows and rewrites the table and its indexes compactly (VACUUM FULL), so every
   * load starts from the table as it was before the first: no free space or emptied index pages
   * left behind for the next one to fill.
   */
  const clear = async (snapshotId: string) => {
    await pool.query('delete from matching_records where snapshot_id = $1', [snapshotId]);
    await pool.query('vacuum full matching_records');
  };
  const server = await start('./servers/doudi.ts', { ...matchingEnv(url), PORT: String(PORT), HOST: '127.0.0.1' }, [
    '--max-semi-space-size=32',
    ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
  ]);
  const pid = server.pid!;
  const baselineSeconds: number[] = [];
  const measuredSeconds: number[] = [];
  const memory: Memory[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      baselineSeconds.push(await psqlCopy(url, files.csv));
      await clear(BASELINE_SNAPSHOT);

      const idle = rssMiB(pid);
      const samples: { sent: number; rss: number }[] = [];
      let sent = 0;
      const sampler = setInterval(() => samples.push({ sent, rss: rssMiB(pid) }), 250);
      const res = await uploadFile(PORT, provider.key, measuredSource, `round-${round}`, files.ndjson, (n) => {
        sent = n;
      });
      clearInterval(sampler);
      samples.push({ sent, rss: rssMiB(pid) });
      if (res.status !== 201) throw new Error(`load answered ${res.status}: ${res.body.slice(0, 2000)}`);
      const snapshot = JSON.parse(res.body) as { id: string; records: number };
      if (snapshot.records !== RECORDS) throw new Error(`loaded ${snapshot.records} records, not ${RECORDS}`);
      measuredSeconds.push(res.seconds);
      const rss = samples.map((s) => s.rss);
      memory.push({
        idleMiB: idle,
        minMiB: Math.min(...rss),
        maxMiB: Math.max(...rss),
        at1MMiB: samples.find((s) => s.sent >= 1_000_000)?.rss ?? null,
        atEndMiB: rss.at(-1)!,
        samples: samples.length,
      });
      if (round < ROUNDS) await clear(snapshot.id);
      console.error(`  round ${round}: psql ${baselineSeconds.at(-1)!.toFixed(1)} s, API ${res.seconds.toFixed(1)} s`);
    }
  } finally {
    await stop(server);
  }
  const [{ count }] = (await pool.query<{ count: number }>('select count(*)::int as count from matching_records'))
    .rows as [{ count: number }];
  await pool.end();

  const rate = (seconds: number) => Math.round(RECORDS / seconds);
  const measuredRate = rate(mid(measuredSeconds));
  const baselineRate = rate(mid(baselineSeconds));
  const ratio = measuredRate / baselineRate;
  const minRss = Math.min(...memory.map((m) => m.minMiB));
  const maxRss = Math.max(...memory.map((m) => m.maxMiB));
  // Flat: from the first million records to the last, RSS grows by less than 64 MiB (a load that
  // held its records would grow by hundreds: four million records are ~500 MiB of NDJSON).
  const growth = Math.max(...memory.map((m) => m.atEndMiB - (m.at1MMiB ?? m.atEndMiB)));
  const flat = growth < 64;
  const perRound = memory
    .map(
      (m, i) =>
        `round ${i + 1}: idle ${m.idleMiB}, min ${m.minMiB}, max ${m.maxMiB}, at 1M ${m.at1MMiB ?? '—'}, at the end (${RECORDS.toLocaleString('en')}) ${m.atEndMiB}`,
    )
    .join('; ');
  return {
    name: 'matching-load',
    title: `Loading ${RECORDS.toLocaleString('en')} source records through the API (PUT /v1/matching/sources/{id}/snapshots/{uploadKey})`,
    baselineTitle: 'psql \\copy of the same records, ready-made, into matching_records',
    notes: [
      `Data: ${RECORDS.toLocaleString('en')} deposit records of ${(RECORDS / PER_PERSON).toLocaleString('en')} synthetic persons (${PER_PERSON} accounts each; valid GB 11643 numbers, Chinese names, a ref, an amount), written once to ${DATA_DIR} as NDJSON (${files.generatedSeconds === null ? 'reused from an earlier run' : `generated in ${files.generatedSeconds.toFixed(0)} s`}).`,
      'Doudi: the server process (as `npm start` runs it) reads the NDJSON body as it streams from the client (a file piped into one PUT), validates every line (ID number with its check character and birth date, name, amount), replaces the ID number by its blind index (HMAC-SHA256), COPYs the rows into matching_records in one transaction on a connection of its own (writing its progress to the snapshot row every 10,000 lines through the pool), then swaps the snapshot in (previous one superseded, event, audit row) and commits. Time from the first byte sent to the 201.',
      `Baseline: \`psql \\copy matching_records (snapshot_id, line, id_index, name, amount_fen, event_date, ref, attrs) from file with (format csv)\`: the same records as a CSV whose rows are ready (snapshot id, line and blind index precomputed by the benchmark, since psql cannot compute the index), into the same table with the same primary key and index. No validation, no hashing, no JSON.`,
      `Method: ${ROUNDS} alternating round${ROUNDS === 1 ? '' : 's'} (psql, then the API); after each load its rows are deleted and the table rewritten (VACUUM FULL), so each load starts from the same table. The table's foreign key to matching_snapshots is checked for every row at the end of each COPY, by both. Figures are the medians. Rounds (s): psql ${baselineSeconds.map((s) => s.toFixed(1)).join(', ')}; API ${measuredSeconds.map((s) => s.toFixed(1)).join(', ')}. The last API load stays in force (${count.toLocaleString('en')} rows left in matching_records).`,
      `Server memory (VmRSS of the server process, MiB, sampled every 250 ms; "at 1M" when the client had sent a million lines — the server is at most a socket buffer behind): ${perRound}. Over all loads: min ${minRss}, max ${maxRss} MiB; growth from 1M records to the end at most ${growth} MiB: ${flat ? 'flat' : 'NOT flat'}.`,
    ],
    records: RECORDS,
    rounds: ROUNDS,
    secondsMeasured: measuredSeconds,
    secondsBaseline: baselineSeconds,
    memory,
    table: {
      columns: ['records/s', 'seconds', 'server RSS min–max MiB'],
      measured: [measuredRate, Number(mid(measuredSeconds).toFixed(1)), `${minRss}–${maxRss}`],
      baseline: [baselineRate, Number(mid(baselineSeconds).toFixed(1)), '—'],
    },
    throughputRatio: Number(ratio.toFixed(3)),
    target: 'at least half the rate of psql \\copy (ratio ≥ 0.5), server memory flat',
    met: ratio >= 0.5 && flat,
  };
}
