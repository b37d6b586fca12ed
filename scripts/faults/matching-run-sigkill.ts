/**
 * Fault: the service is SIGKILLed in the middle of a bulk re-verification (a matching run, a job
 * that verifies a region's households a chunk at a time), then started again; and a second run is
 * killed each time it is taken up, until its attempts run out. Passes when the killed run is taken
 * up again once its lease has ended and completes with every household verified exactly once and
 * the same outcomes as a run that was never killed, and the run killed on every attempt ends
 * `failed` (job and run alike, announced by job.finished) instead of staying `running`.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/faults/matching-run-sigkill.ts
 *
 * Uses a fresh database `doudi_fault_matching_run` on that server (dropped after a pass, kept after
 * a failure) and loopback addresses only. Gives up, failing, after FAULT_TIMEOUT_S (300) seconds.
 * Knobs: FAULT_HOUSEHOLDS (10000: a synthetic city, every household on dibao), FAULT_CHUNK (2500:
 * households a chunk of the killed runs, which are queued through the run service with it; the
 * clean run goes through the API with the service's own chunks), FAULT_LEASE_MS (5000: the job
 * lease of the service).
 */
import { join } from 'node:path';
import { benchClient, benchSource, seedingApp, syntheticDibaoStandard, uploadFile } from '../../bench/matching-city.js';
import { createRunService } from '../../src/modules/matching/runs.service.js';
import { writeSyntheticCity } from '../../src/modules/matching/synthetic.city.js';
import { sourceKinds } from '../../src/modules/matching/tables.js';
import { bulkServiceEnv, type Fault, knob, runFault, sleep } from './lib.js';

const HOUSEHOLDS = knob('FAULT_HOUSEHOLDS', 10_000);
const CHUNK = knob('FAULT_CHUNK', 2_500);
const TIMEOUT_S = knob('FAULT_TIMEOUT_S', 300);
const LEASE_MS = knob('FAULT_LEASE_MS', 5_000);
const REGION = '220102';
const AS_OF = '2026-01-01';
const actor = { clientId: null, agency: null, requestId: 'fault' };

interface Job {
  id: string;
  status: string;
  attempts: number;
  progress_done: number;
  progress_total: number | null;
  problem: { title?: string; detail?: string } | null;
}
interface RunAnswer {
  id: string;
  status: string;
  counts: { households: number; failing: number; deceasedPaid: number; dataErrors: number; skipped: number };
  job: { id: string; status: string } | null;
}

await runFault(
  {
    name: 'matching_run',
    timeoutS: TIMEOUT_S,
    serviceEnv: { ...bulkServiceEnv, JOBS_LEASE_MS: String(LEASE_MS) },
  },
  async (fault) => {
    const { log, check, query } = fault;
    fault.stage = 'registering the city';
    const app = await seedingApp(fault.url);
    fault.onClose(() => app.close());
    const provider = await benchClient(app, 'data_provider', 'fault provider');
    const caseworker = await benchClient(app, 'civil_affairs', 'fault caseworker');
    await app.services.programs.createStandard({ jurisdiction: '22' }, actor, 'dibao', {
      ...syntheticDibaoStandard,
      label: 'fault',
    });
    const city = await writeSyntheticCity(
      app.services.people,
      { region: REGION, seed: 1, households: HOUSEHOLDS },
      { out: join(fault.dir, 'city'), format: 'ndjson', progress: false },
    );
    await query(`insert into enrollments (program_code, household_id, region, status, monthly_benefit_fen, benefit_basis, start_date)
                 select 'dibao', id, region, 'active', 50000, '{}', '2025-01-01' from households`);
    const records = Object.values(city.records).reduce((a, b) => a + b, 0);
    log(
      `city: ${city.households} households, ${city.persons} persons, ${records} source records, in ${city.seconds.toFixed(1)} s`,
    );

    fault.stage = 'loading the sources';
    await fault.start();
    for (const kind of sourceKinds) {
      if (city.records[kind] === 0) continue;
      const sourceId = await benchSource(app, provider.id, kind, '2201');
      const loaded = await uploadFile(
        fault.port,
        provider.key,
        sourceId,
        'city',
        join(fault.dir, 'city', `${kind}.ndjson`),
      );
      if (loaded.status !== 201)
        throw new Error(`loading ${kind} answered ${loaded.status}: ${loaded.body.slice(0, 300)}`);
    }
    await query('analyze');
    const caller = { id: caseworker.id, agency: 'civil_affairs', jurisdiction: '2201' };
    const { audit, events, jobs, regions, programs } = app.services;
    const chunked = createRunService({
      db: app.database.db,
      audit,
      events,
      jobs,
      regions,
      programs,
      chunkHouseholds: CHUNK,
    });
    const jobOf = async (runId: string) =>
      (
        await query<Job>(
          `select j.id, j.status, j.attempts, j.progress_done::int, j.progress_total::int, j.problem
           from jobs j join matching_runs r on r.job_id = j.id where r.id = $1`,
          [runId],
        )
      )[0]!;
    const ended = (runId: string, what: string) =>
      fault.waitFor(
        what,
        async () => {
          const job = await jobOf(runId);
          return job.status === 'succeeded' || job.status === 'failed' ? job : null;
        },
        100,
      );
    const runOf = (id: string) => fault.api<RunAnswer>(caseworker.key, 'GET', `/v1/matching/runs/${id}`);

    // 1. Kill once a chunk has been verified and committed, before the last.
    fault.stage = 'running the run to kill';
    const killedRun = await chunked.create(caller, actor, { region: REGION, asOf: AS_OF });
    const runStart = Date.now();
    const killedStart = fault.generation;
    const cut = await fault.waitFor(
      'the run to commit a chunk',
      async () => {
        const job = await jobOf(killedRun.id);
        return job.status === 'running' && job.progress_done >= CHUNK && job.progress_done < (job.progress_total ?? 0)
          ? job
          : null;
      },
      20,
    );
    await fault.kill();
    log(
      `SIGKILL ${((Date.now() - runStart) / 1000).toFixed(1)} s into the run, ${cut.progress_done} of ${cut.progress_total} households verified (attempt ${cut.attempts})`,
    );
    await fault.orphansGone(killedStart);
    const [atKill] = await query<{ n: number; status: string }>(
      `select (select count(*)::int from matching_verifications where run_id = $1) as n,
              (select status from matching_runs where id = $1) as status`,
      [killedRun.id],
    );
    log(
      `after the kill: run ${atKill!.status}, ${atKill!.n} verifications committed; the job row says ${(await jobOf(killedRun.id)).status} until its lease ends`,
    );

    fault.stage = 'starting the service again';
    await fault.start();
    const restarted = Date.now();
    const resumed = await ended(killedRun.id, 'the killed run to end after the restart');
    log(
      `the killed run's job ${resumed.status} on attempt ${resumed.attempts}, ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`,
    );
    check(
      resumed.status === 'succeeded',
      `the killed run's job ended ${resumed.status}: ${JSON.stringify(resumed.problem)}`,
    );
    check(resumed.attempts === 2, `the killed run took ${resumed.attempts} attempts, expected 2`);
    const afterKill = await runOf(killedRun.id);
    check(
      afterKill.body.status === 'complete' &&
        afterKill.body.counts.households === HOUSEHOLDS &&
        afterKill.body.job?.status === 'succeeded',
      `the killed run reads ${afterKill.status}: ${afterKill.text.slice(0, 300)} (expected complete, ${HOUSEHOLDS} households)`,
    );
    await onceEach(fault, killedRun.id, 'the run killed once');

    // 2. A run never killed, through the API: the same outcomes, household by household.
    fault.stage = 'running a clean run';
    const clean = await fault.api<RunAnswer>(caseworker.key, 'POST', '/v1/matching/runs', {
      region: REGION,
      asOf: AS_OF,
    });
    check(clean.status === 202, `starting a run answered ${clean.status}: ${clean.text.slice(0, 300)}`);
    const cleanJob = await ended(clean.body.id, 'the clean run to end');
    check(cleanJob.status === 'succeeded', `the clean run's job ended ${cleanJob.status}`);
    const cleanRead = await runOf(clean.body.id);
    await onceEach(fault, clean.body.id, 'the clean run');
    const figures = ({ counts: c }: RunAnswer) =>
      [c.households, c.failing, c.deceasedPaid, c.dataErrors, c.skipped].join('/');
    check(
      figures(afterKill.body) === figures(cleanRead.body),
      `households/failing/deceasedPaid/dataErrors/skipped: ${figures(afterKill.body)} after the kill, ${figures(cleanRead.body)} in the clean run`,
    );
    const [diff] = await query<{ only_killed: number; only_clean: number }>(
      `with a as (select household_id, program, passed, members, monthly_income_fen, financial_assets_fen, rules, flags, snapshots
                  from matching_verifications where run_id = $1),
            b as (select household_id, program, passed, members, monthly_income_fen, financial_assets_fen, rules, flags, snapshots
                  from matching_verifications where run_id = $2)
       select (select count(*)::int from (select * from a except all select * from b) x) as only_killed,
              (select count(*)::int from (select * from b except all select * from a) y) as only_clean`,
      [killedRun.id, clean.body.id],
    );
    check(
      diff!.only_killed === 0 && diff!.only_clean === 0,
      `the run killed once and the clean run differ: ${diff!.only_killed} verifications only in the first, ${diff!.only_clean} only in the second`,
    );
    log(
      `clean run: ${figures(cleanRead.body)} (households/failing/deceasedPaid/dataErrors/skipped), the same verifications as the run killed once`,
    );

    // 3. A run killed on every attempt: given up after its attempts, failed visibly.
    fault.stage = 'killing a run on every attempt';
    const doomed = await chunked.create(caller, actor, { region: REGION, asOf: AS_OF });
    const [{ max_attempts: maxAttempts }] = (await query<{ max_attempts: number }>(
      `select max_attempts from jobs where id = $1`,
      [doomed.jobId],
    )) as [{ max_attempts: number }];
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const start = fault.generation;
      await fault.waitFor(`attempt ${attempt} of the doomed run to be under way`, async () => {
        const job = await jobOf(doomed.id);
        return job.status === 'running' && job.attempts === attempt && job.progress_total !== null ? job : null;
      });
      await sleep(300);
      await fault.kill();
      await fault.orphansGone(start);
      log(`SIGKILL during attempt ${attempt} of ${maxAttempts} of the second run`);
      await fault.start();
    }
    const givenUp = await ended(doomed.id, 'the doomed run to be given up');
    const doomedRead = await runOf(doomed.id);
    const [announced] = await query<{ status: string }>(
      `select data->>'status' as status from events where type = 'job.finished' and data->>'jobId' = $1`,
      [doomed.jobId],
    );
    check(
      givenUp.status === 'failed' && givenUp.problem?.title === 'Job abandoned' && givenUp.attempts === maxAttempts + 1,
      `the run killed on every attempt: job ${givenUp.status} after ${givenUp.attempts} claims (${JSON.stringify(givenUp.problem)}), expected failed, "Job abandoned"`,
    );
    check(
      doomedRead.body.status === 'failed' && doomedRead.body.job?.status === 'failed',
      `the run killed on every attempt reads ${doomedRead.text.slice(0, 300)}, expected the run and its job failed`,
    );
    check(announced?.status === 'failed', `job.finished for the given-up job: ${JSON.stringify(announced ?? null)}`);
    const [partial] = await query<{ n: number }>(
      `select count(*)::int as n from matching_verifications where run_id = $1`,
      [doomed.id],
    );
    log(
      `the run killed on every attempt: job failed ("${givenUp.problem?.detail}"), run failed, job.finished published; ${partial!.n} verifications kept under the failed run (chunks its last attempt committed)`,
    );
    const [stuck] = await query<{ n: number }>(
      `select count(*)::int as n from jobs where status in ('queued','running')`,
    );
    check(stuck!.n === 0, `${stuck!.n} jobs still queued or running at the end`);
    return `the run killed after ${cut.progress_done} of ${cut.progress_total} households taken up again after its lease and complete on attempt 2 with every household verified once and the same ${HOUSEHOLDS} outcomes as a run never killed; the run killed on all ${maxAttempts} attempts failed visibly (job "Job abandoned", run failed, job.finished); no job left running`;
  },
);

/** Every household of the city verified exactly once by the run. */
async function onceEach(fault: Fault, runId: string, which: string) {
  const [s] = await fault.query<{ n: number; households: number; twice: number }>(
    `select count(*)::int as n, count(distinct household_id)::int as households,
            (select count(*)::int from (select 1 from matching_verifications where run_id = $1
               group by household_id, program having count(*) > 1) d) as twice
     from matching_verifications where run_id = $1`,
    [runId],
  );
  fault.check(
    s!.n === HOUSEHOLDS && s!.households === HOUSEHOLDS && s!.twice === 0,
    `${which}: ${s!.n} verifications of ${s!.households} households (${s!.twice} twice), expected ${HOUSEHOLDS} once each`,
  );
}
