/**
 * Fault: the service is SIGKILLed in the middle of a snapshot load (a data provider streaming a
 * big NDJSON file into `PUT /v1/matching/sources/{id}/snapshots/{key}`), then started again.
 * Passes when the snapshot in force stays whole and in use throughout (verification reads it), the
 * killed load shows nothing of its records and is marked failed soon after the restart (never left
 * `loading`), and the load retried with its key completes whole under the same snapshot, which
 * verification then reads; a repeat of the key answers the same snapshot.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/faults/matching-load-sigkill.ts
 *
 * Uses a fresh database `doudi_fault_matching_load` on that server (dropped after a pass, kept
 * after a failure) and loopback addresses only. Gives up, failing, after FAULT_TIMEOUT_S (180)
 * seconds. Knobs: FAULT_RECORDS (1000000: the killed load's records; the snapshot in force has a
 * tenth of them), FAULT_FAILED_WITHIN_S (20: how soon after the restart the killed load must show
 * failed).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { benchClient, benchSource, seedingApp, syntheticDibaoStandard, uploadFile } from '../../bench/matching-city.js';
import { syntheticHouseholds, syntheticResidentId } from '../../src/modules/registry/people.seed.js';
import { bulkServiceEnv, type Fault, knob, runFault } from './lib.js';

const RECORDS = knob('FAULT_RECORDS', 1_000_000);
const TIMEOUT_S = knob('FAULT_TIMEOUT_S', 180);
const FAILED_WITHIN_S = knob('FAULT_FAILED_WITHIN_S', 20);
const REGION = '220103';
const PER_PERSON = 5;
const surnames = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
const given = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志';

interface Snapshot {
  id: string;
  status: string;
  lines: number;
  records: number;
}
interface Verification {
  financialAssetsFen: number;
  snapshots: Record<string, string>;
}

await runFault(
  {
    name: 'matching_load',
    timeoutS: TIMEOUT_S,
    serviceEnv: bulkServiceEnv,
  },
  async (fault) => {
    const { log, check, query } = fault;
    fault.stage = 'setting up the source and a household';
    const app = await seedingApp(fault.url);
    const provider = await benchClient(app, 'data_provider', 'fault deposits provider');
    const caseworker = await benchClient(app, 'civil_affairs', 'fault caseworker');
    const sourceId = await benchSource(app, provider.id, 'deposits', '2201');
    await app.services.programs.createStandard(
      { jurisdiction: '22' },
      { clientId: null, agency: null, requestId: 'fault' },
      'dibao',
      { ...syntheticDibaoStandard, label: 'fault' },
    );
    // One household whose members' deposits are in both files: verification shows which snapshot it read.
    const household = syntheticHouseholds({ region: REGION, seed: 3 }, 0, 1)[0]!;
    const [registered] = (
      await app.services.people.registerHouseholdsBulk(
        { jurisdiction: REGION, scopes: [] },
        { clientId: null, agency: null, requestId: 'fault' },
        [household],
      )
    ).households;
    await app.close();
    const members = household.members.map((m) => ({ idNumber: m.idNumber!, name: m.name }));

    fault.stage = 'writing the files';
    const oldFile = await depositsFile(fault, 'old.ndjson', Math.round(RECORDS / 10), 100_000, members);
    const newFile = await depositsFile(fault, 'new.ndjson', RECORDS, 200_000, members);
    log(
      `files: ${oldFile.lines} records (the snapshot in force), ${newFile.lines} records (the load to kill); the household's members hold ${oldFile.householdFen} and ${newFile.householdFen} fen`,
    );

    fault.stage = 'starting the service';
    await fault.start();
    const verify = () =>
      fault.api<Verification>(caseworker.key, 'POST', '/v1/matching/verifications', {
        householdId: registered!.id,
        program: 'dibao',
      });
    const first = await uploadFile(fault.port, provider.key, sourceId, 'old', oldFile.path);
    const old = JSON.parse(first.body) as Snapshot;
    check(
      first.status === 201 && old.status === 'complete',
      `the first load answered ${first.status}: ${first.body.slice(0, 300)}`,
    );
    log(`snapshot in force: ${old.id}, ${old.records} records, loaded in ${first.seconds.toFixed(1)} s`);
    const before = await verify();
    check(
      before.status === 201 &&
        before.body.snapshots[sourceId] === old.id &&
        before.body.financialAssetsFen === oldFile.householdFen,
      `verification before the kill answered ${before.status}: ${before.text.slice(0, 300)}`,
    );

    // The load to kill: once the service has read a good part of it, and the client is still sending.
    fault.stage = 'loading the big snapshot';
    let sent = 0;
    const killedStart = fault.generation;
    const loadStarted = Date.now();
    let cutAnswered = false;
    const cut = uploadFile(fault.port, provider.key, sourceId, 'new', newFile.path, (n) => (sent = n)).catch(
      (err: unknown) => err as Error,
    );
    void cut.then(() => (cutAnswered = true));
    const progress = await fault.waitFor(
      'the load to be a third in',
      async () => {
        if (cutAnswered) throw new Error(`the load ended before it could be killed: ${JSON.stringify(await cut)}`);
        const [row] = await query<{ id: string; lines: number }>(
          `select s.id, p.lines from matching_snapshots s join matching_load_progress p on p.snapshot_id = s.id
           where s.source_id = $1 and s.upload_key = 'new' and s.status = 'loading'`,
          [sourceId],
        );
        return row && row.lines >= RECORDS / 3 && sent < RECORDS ? row : null;
      },
      10,
    );
    await fault.kill();
    const answered = await cut;
    log(
      `SIGKILL ${((Date.now() - loadStarted) / 1000).toFixed(1)} s into the load: the service had read ${progress.lines} lines, the client sent ${sent} of ${RECORDS}; the upload got ${answered instanceof Error ? `no answer (${answered.message})` : answered.status}`,
    );
    check(answered instanceof Error, 'the killed load answered');
    check(sent < RECORDS, 'the client had sent the whole file before the kill');

    // Service down: the snapshot in force is whole; the killed load's records are nowhere.
    await wholeState(fault, sourceId, old.id, oldFile.lines, 'just after the kill');
    const orphanS = await fault.orphansGone(killedStart);
    const [dead] = await query<{ status: string; records: number }>(
      `select status, (select count(*)::int from matching_records r where r.snapshot_id = s.id) as records
       from matching_snapshots s where s.id = $1`,
      [progress.id],
    );
    check(dead!.records === 0, `the killed load left ${dead!.records} records`);
    log(
      `the killed load's connection closed ${orphanS.toFixed(1)} s after; its snapshot says ${dead!.status}, holding ${dead!.records} records`,
    );

    // Started again: the API shows the old snapshot in force, usable, and the killed load failed.
    fault.stage = 'starting the service again';
    await fault.start();
    const restarted = Date.now();
    const source = await fault.api<{ currentSnapshot: { id: string; records: number } | null }>(
      provider.key,
      'GET',
      `/v1/matching/sources/${sourceId}`,
    );
    check(
      source.body.currentSnapshot?.id === old.id && source.body.currentSnapshot.records === oldFile.lines,
      `after the restart the source shows ${JSON.stringify(source.body.currentSnapshot)} in force, expected ${old.id} with ${oldFile.lines} records`,
    );
    const during = await verify();
    check(
      during.status === 201 &&
        during.body.snapshots[sourceId] === old.id &&
        during.body.financialAssetsFen === oldFile.householdFen,
      `verification after the restart answered ${during.status}: ${during.text.slice(0, 300)}`,
    );
    const failedAfter = await fault.waitFor(
      'the killed load to show failed',
      async () => {
        const read = await fault.api<Snapshot>(
          provider.key,
          'GET',
          `/v1/matching/sources/${sourceId}/snapshots/${progress.id}`,
        );
        if (read.body.status !== 'loading') return { status: read.body.status, s: (Date.now() - restarted) / 1000 };
        if (Date.now() - restarted > FAILED_WITHIN_S * 1000) return { status: 'loading', s: FAILED_WITHIN_S };
        return null;
      },
      250,
    );
    check(
      failedAfter.status === 'failed',
      `the killed load's snapshot still says ${failedAfter.status} ${failedAfter.s.toFixed(1)} s after the restart (expected failed)`,
    );
    log(`the killed load shows ${failedAfter.status} ${failedAfter.s.toFixed(1)} s after the restart`);

    // Retried with its key: the same snapshot, complete and whole; a repeat answers it again.
    fault.stage = 'retrying the load';
    const retried = await uploadFile(fault.port, provider.key, sourceId, 'new', newFile.path);
    const loaded = JSON.parse(retried.body) as Snapshot;
    check(
      retried.status === 201 && loaded.id === progress.id && loaded.status === 'complete' && loaded.records === RECORDS,
      `the retried load answered ${retried.status}: ${retried.body.slice(0, 300)} (expected snapshot ${progress.id}, complete, ${RECORDS} records)`,
    );
    log(`retried with its key: ${loaded.status}, ${loaded.records} records in ${retried.seconds.toFixed(1)} s`);
    await wholeState(fault, sourceId, progress.id, RECORDS, 'after the retry');
    const [kept] = await query<{ status: string; records: number }>(
      `select status, (select count(*)::int from matching_records r where r.snapshot_id = s.id) as records
       from matching_snapshots s where s.id = $1`,
      [old.id],
    );
    check(
      kept!.status === 'superseded' && kept!.records === oldFile.lines,
      `the previous snapshot is ${kept!.status} with ${kept!.records} records, expected superseded and whole (${oldFile.lines})`,
    );
    const after = await verify();
    check(
      after.status === 201 &&
        after.body.snapshots[sourceId] === progress.id &&
        after.body.financialAssetsFen === newFile.householdFen,
      `verification after the retry answered ${after.status}: ${after.text.slice(0, 300)} (expected ${newFile.householdFen} fen from ${progress.id})`,
    );
    const repeat = await fault.api<Snapshot>(
      provider.key,
      'PUT',
      `/v1/matching/sources/${sourceId}/snapshots/new`,
      undefined,
      {
        'content-type': 'application/x-ndjson',
      },
    );
    check(
      repeat.status === 201 && repeat.body.id === progress.id && repeat.headers.get('idempotent-replayed') === 'true',
      `a repeat of the key answered ${repeat.status} (${repeat.headers.get('idempotent-replayed')}): ${repeat.text.slice(0, 200)}`,
    );
    const [events] = await query<{ completed: number; rejected: number }>(
      `select count(*) filter (where type = 'matching_snapshot.completed')::int as completed,
              count(*) filter (where type = 'matching_snapshot.rejected')::int as rejected from events`,
    );
    check(
      events!.completed === 2 && events!.rejected === 0,
      `events: ${events!.completed} matching_snapshot.completed, ${events!.rejected} rejected; expected 2 and 0`,
    );
    return `the snapshot in force whole and read by verification before, during and after (${oldFile.lines} records); nothing of the killed load visible, its snapshot failed ${failedAfter.s.toFixed(1)} s after the restart; retried with its key, the same snapshot complete with all ${RECORDS} records and read by verification; a repeat of the key answered from it; one completed event per load`;
  },
);

/** Deposit records, five a person; the household's members first, under their names. */
async function depositsFile(
  fault: Fault,
  name: string,
  lines: number,
  base: number,
  members: { idNumber: string; name: string }[],
) {
  const path = join(fault.dir, name);
  const out = createWriteStream(path);
  let text = '';
  let householdFen = 0;
  for (let i = 0; i < lines; i++) {
    const p = Math.floor(i / PER_PERSON);
    const member = members[p];
    const idNumber = member?.idNumber ?? syntheticResidentId(REGION, 30_000_000 + p);
    const person =
      member?.name ?? surnames[p % surnames.length]! + given[(p * 7) % given.length]! + given[(p * 13) % given.length]!;
    const amountFen = base + i;
    if (member) householdFen += amountFen;
    text += `${JSON.stringify({ idNumber, name: person, ref: `DEP-${i + 1}`, amountFen })}\n`;
    if (text.length < 1 << 20) continue;
    if (!out.write(text)) await once(out, 'drain');
    text = '';
  }
  out.end(text);
  await once(out, 'finish');
  return { path, lines, householdFen };
}

/** The source's snapshot in force is `snapshotId`, complete, with exactly its `lines` records, each line once. */
async function wholeState(fault: Fault, sourceId: string, snapshotId: string, lines: number, when: string) {
  const [s] = await fault.query<{
    current: string;
    status: string;
    records: number;
    n: number;
    distinct: number;
    max: number;
  }>(
    `select src.current_snapshot_id as current, s.status, s.records,
            (select count(*)::int from matching_records r where r.snapshot_id = s.id) as n,
            (select count(distinct line)::int from matching_records r where r.snapshot_id = s.id) as distinct,
            (select coalesce(max(line), 0)::int from matching_records r where r.snapshot_id = s.id) as max
     from matching_sources src join matching_snapshots s on s.id = $2 where src.id = $1`,
    [sourceId, snapshotId],
  );
  fault.check(
    s!.current === snapshotId &&
      s!.status === 'complete' &&
      s!.records === lines &&
      s!.n === lines &&
      s!.distinct === lines &&
      s!.max === lines,
    `${when}: the snapshot in force is ${s!.current} (${s!.status}, ${s!.records} declared, ${s!.n} records, lines 1…${s!.max} ${s!.distinct} distinct); expected ${snapshotId}, complete, ${lines}`,
  );
  const [stray] = await fault.query<{ n: number }>(
    `select count(*)::int as n from matching_records r join matching_snapshots s on s.id = r.snapshot_id
     where s.status not in ('complete','superseded')`,
  );
  fault.check(stray!.n === 0, `${when}: ${stray!.n} records under snapshots neither complete nor superseded`);
}
