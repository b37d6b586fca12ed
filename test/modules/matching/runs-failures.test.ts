import { sql } from 'drizzle-orm';
import t from 'tap';
import type { Test } from 'tap';
import { rows } from '../../../src/db/client.js';
import { syntheticCity } from '../../../src/modules/matching/synthetic.js';
import { json, testApp } from '../../helpers.js';
import { createSource, incomeRecords, ndjson, upload } from './sources.fixtures.js';

interface Run {
  id: string;
  status: string;
  counts: { households: number; failing: number; deceasedPaid: number; dataErrors: number; skipped: number };
  job: { id: string; status: string } | null;
}

const asOf = '2026-01-01';

/** A small city in 220102 enrolled in dibao (every household) and tekun (the first `tekun` heads). */
async function setUp(t: Test, options: { households: number; tekun: number }) {
  const harness = await testApp(t);
  const { app, admin, client } = harness;
  const db = app.database.db;
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const provider = await client('data_provider');
  const res = await app.inject({
    method: 'POST',
    url: '/v1/programs/dibao/standards',
    headers: admin.headers,
    payload: { region: '2201', effectiveFrom: '2020-01-01', monthlyStandardFen: 72_000, assetMultiple: 24 },
  });
  t.equal(res.statusCode, 201, res.body);
  const households = [...syntheticCity({ region: '220102', seed: 5, households: options.households })];
  const created = await app.services.people.registerHouseholdsBulk(
    { jurisdiction: '220102', scopes: [] },
    { clientId: null, agency: null, requestId: 'test' },
    households.map((h) => h.household),
  );
  const ids = created.households.map((h) => h.id);
  const heads = created.households.map((h) => h.memberIds[0]!);
  await db.execute(sql`
    insert into enrollments (program_code, household_id, person_id, region, status, monthly_benefit_fen, benefit_basis, start_date)
    select p.program, h.id, case when p.program = 'tekun' then h.head end, '220102', 'active', 50000, '{}', '2025-01-01'
    from unnest(${sql.param(ids)}::uuid[], ${sql.param(heads)}::uuid[]) with ordinality as h(id, head, n)
    cross join (values ('dibao'), ('tekun')) as p(program)
    where p.program = 'dibao' or h.n <= ${options.tekun}`);
  const start = () =>
    app.inject({
      method: 'POST',
      url: '/v1/matching/runs',
      headers: caseworker.headers,
      payload: { region: '220102', asOf },
    });
  const read = async (id: string) =>
    json<Run>(await app.inject({ method: 'GET', url: `/v1/matching/runs/${id}`, headers: caseworker.headers }));
  return { ...harness, db, caseworker, provider, start, read };
}

t.test('households a run cannot verify are counted as skipped, not lost', async (t) => {
  // No tekun standard is in force: the tekun enrollments cannot be verified.
  const { app, db, start, read } = await setUp(t, { households: 6, tekun: 2 });
  const started = await start();
  t.equal(started.statusCode, 202, started.body);
  t.equal(await app.services.jobs.drain(), 1);
  const run = await read(json<Run>(started).id);
  t.equal(run.status, 'complete');
  t.match(run.counts, { households: 6, skipped: 2 }, 'six households verified for dibao, two tekun pairs skipped');
  const published = await rows<{ data: Record<string, unknown> }>(
    db,
    sql`select data from events where type = 'matching_run.completed'`,
  );
  t.match(published, [{ data: { households: 6, skipped: 2 } }]);
});

t.test('a run whose job is given up fails visibly', async (t) => {
  const { app, db, start, read } = await setUp(t, { households: 2, tekun: 0 });
  const run = json<Run>(await start());
  // Its workers kept dying: every attempt used, the last lease run out.
  await db.execute(sql`update jobs set status = 'running', attempts = max_attempts,
      lease_until = now() - interval '1 second', worker_id = gen_random_uuid() where id = ${run.job!.id}`);
  await db.execute(sql`update matching_runs set status = 'running' where id = ${run.id}`);
  t.equal(await app.services.jobs.drain(), 1);
  const after = await read(run.id);
  t.equal(after.status, 'failed', 'the run says so');
  t.equal(after.job!.status, 'failed', 'and its job');
  const verifications = await rows<{ n: number }>(
    db,
    sql`select count(*)::int as n from matching_verifications where run_id = ${run.id}`,
  );
  t.equal(verifications[0]!.n, 0, 'nothing verified');
});

t.test('a source loaded twice while a run goes fails the run, which can be started again', async (t) => {
  const { app, admin, db, provider, start, read } = await setUp(t, { households: 30, tekun: 0 });
  const source = await createSource(app, admin, provider, 'income');
  t.equal((await upload(app, provider, source, 'one', ndjson(incomeRecords(3)))).statusCode, 201);
  const run = json<Run>(await start());
  const [job] = await rows<Record<string, unknown>>(db, sql`select * from jobs where id = ${run.job!.id}`);
  type Job = Parameters<typeof app.services.matchingRuns.perform>[0]['job'];
  let loads = 0;
  const failure = await app.services.matchingRuns
    .perform({
      job: { ...(job as unknown as Job), payload: { runId: run.id, chunkHouseholds: 10 } },
      async progress(done) {
        if (done !== 10) return;
        // The snapshot the run started with is superseded, then deleted by the load after.
        for (const key of ['two', 'three']) {
          const res = await upload(app, provider, source, key, ndjson(incomeRecords(3, loads * 10)));
          t.equal(res.statusCode, 201, res.body);
          loads++;
        }
      },
    })
    .then(
      () => null,
      (err: unknown) => err,
    );
  t.match(failure, { status: 409, message: /loaded twice/ }, 'the run stops: its snapshot is gone');
  await app.services.jobs.drain();
  const again = await read(run.id);
  t.equal(again.status, 'complete', 'the queued job runs it again from the start, with the snapshots current now');
  t.equal(again.counts.households, 30);
});
