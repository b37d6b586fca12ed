import { eq, inArray, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { ProblemError } from '../../src/platform/errors.js';
import { jobs } from '../../src/platform/jobs/tables.js';
import { freshDatabase, json, onPostgres, testApp } from '../helpers.js';

/** A promise and the function that settles it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

interface JobBody {
  id: string;
  type: string;
  status: string;
  progress: { done: number; total: number | null };
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  result: Record<string, unknown> | null;
  problem: Record<string, unknown> | null;
}

t.test('jobs', async (t) => {
  /** Every handler invocation of the test job types: which job, on which instance. */
  const runs: { id: string; worker: string }[] = [];
  const runsOf = (id: string) => runs.filter((r) => r.id === id);
  /** The first run of a gated job waits here until the test lets it finish. */
  const gates = new Map<string, { entered: () => void; gate: Promise<void> }>();

  const testJobs = (worker: string) => (app: FastifyInstance) => {
    const { jobs: service } = app.services;
    service.register('test.count', async ({ job, progress }) => {
      runs.push({ id: job.id, worker });
      await progress(1, 1);
      return { worker };
    });
    service.register('test.fail', async ({ job }) => {
      runs.push({ id: job.id, worker });
      throw new Error('secret internals: boom');
    });
    service.register('test.problem', async ({ job }) => {
      runs.push({ id: job.id, worker });
      throw new ProblemError(422, 'unprocessable-request', 'The payload names no region.');
    });
    service.register('test.gated', async ({ job }) => {
      runs.push({ id: job.id, worker });
      // The first run of a gated job waits at its gate; later runs go straight through.
      const gated = gates.get(job.id);
      gates.delete(job.id);
      if (gated) {
        gated.entered();
        await gated.gate;
      }
      return { worker };
    });
  };

  // Two instances on one database, as after a restart or with several replicas. Instance A's lease
  // is long, so its heartbeat stays quiet while a test plays with lease_until by hand.
  const database = await freshDatabase(t);
  const a = await testApp(t, { database, env: { JOBS_LEASE_MS: '3600000' }, beforeReady: testJobs('A') });
  const b = await testApp(t, { database, beforeReady: testJobs('B') });
  const { app, admin } = a;
  const db = database.db;

  const getJob = (id: string, headers = admin.headers, target = app) =>
    target.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers });
  const enqueue = (type: string, maxAttempts?: number) =>
    app.services.jobs.enqueue(db, {
      type,
      payload: {},
      clientId: admin.id,
      region: admin.jurisdiction,
      ...(maxAttempts !== undefined && { maxAttempts }),
    });
  /** What a worker that died mid-job leaves behind: running, attempts used, its lease run out. */
  const abandon = (id: string, attempts: number) =>
    db
      .update(jobs)
      .set({
        status: 'running',
        attempts,
        workerId: 'a-worker-that-died',
        startedAt: sql`now() - interval '1 hour'`,
        leaseUntil: sql`now() - interval '1 second'`,
      })
      .where(eq(jobs.id, id));

  let verificationId = '';

  t.test('POST /v1/audit-events/verifications answers 202 with a queued job at Location', async (t) => {
    const res = await app.inject({ method: 'POST', url: '/v1/audit-events/verifications', headers: admin.headers });
    t.equal(res.statusCode, 202);
    const job = json<JobBody>(res);
    t.match(job, { type: 'audit.verify', status: 'queued', attempts: 0, result: null, problem: null, startedAt: null });
    t.equal(res.headers.location, `/v1/jobs/${job.id}`);
    verificationId = job.id;

    const polled = await app.inject({ method: 'GET', url: res.headers.location as string, headers: admin.headers });
    t.equal(polled.statusCode, 200);
    t.match(json(polled), { id: job.id, status: 'queued' });
  });

  t.test('after drain() the job has succeeded, with progress and the verification report', async (t) => {
    t.equal(await app.services.jobs.drain(), 1);
    const res = await getJob(verificationId);
    t.equal(res.statusCode, 200);
    const job = json<JobBody>(res);
    t.equal(job.status, 'succeeded');
    t.equal(job.attempts, 1);
    t.ok(job.startedAt && job.finishedAt, 'has its timings');
    t.ok(job.progress.total !== null && job.progress.total > 0, 'knows how much there was to check');
    t.equal(job.progress.done, job.progress.total, 'and checked all of it');
    t.match(job.result, { ok: true, checked: job.progress.total, firstBroken: null });
    t.equal(job.problem, null);
    t.equal(await app.services.jobs.drain(), 0, 'nothing left to run');
  });

  t.test('another client cannot see the job: 404', async (t) => {
    const bank = await a.client('bank');
    const res = await getJob(verificationId, bank.headers);
    t.equal(res.statusCode, 404);
    t.match(json(res), { type: '/problems/not-found' });
  });

  t.test('GET /v1/jobs lists the client’s own jobs', async (t) => {
    const mine = await app.inject({ method: 'GET', url: '/v1/jobs', headers: admin.headers });
    t.equal(mine.statusCode, 200);
    t.ok(json<{ items: JobBody[] }>(mine).items.some((j) => j.id === verificationId));
    const succeeded = await app.inject({ method: 'GET', url: '/v1/jobs?status=succeeded', headers: admin.headers });
    t.ok(json<{ items: JobBody[] }>(succeeded).items.some((j) => j.id === verificationId));
    const failed = await app.inject({ method: 'GET', url: '/v1/jobs?status=failed', headers: admin.headers });
    t.notOk(json<{ items: JobBody[] }>(failed).items.some((j) => j.id === verificationId));

    const bank = await a.client('bank');
    const theirs = await app.inject({ method: 'GET', url: '/v1/jobs', headers: bank.headers });
    t.equal(theirs.statusCode, 200);
    t.same(json(theirs), { items: [], nextCursor: null });
  });

  t.test('GET /v1/jobs pages through every job once, even jobs queued in one transaction', async (t) => {
    const owner = await a.client('admin');
    // Jobs queued by one request share its transaction's created_at.
    const queued = await db.transaction(async (tx) => {
      const made = [];
      for (let i = 0; i < 5; i++) {
        made.push(
          await app.services.jobs.enqueue(tx, {
            type: 'test.count',
            payload: { i },
            clientId: owner.id,
            region: owner.jurisdiction,
          }),
        );
      }
      return made;
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const url: string = `/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ method: 'GET', url, headers: owner.headers });
      t.equal(res.statusCode, 200);
      const body = json<{ items: JobBody[]; nextCursor: string | null }>(res);
      seen.push(...body.items.map((j) => j.id));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    t.same([...seen].sort(), queued.map((j) => j.id).sort(), 'each job exactly once');
    t.equal(await app.services.jobs.drain(), 5);
  });

  t.test('a handler that throws ends the job failed, with a problem+json object', async (t) => {
    const crashed = await enqueue('test.fail');
    const refused = await enqueue('test.problem');
    t.equal(await app.services.jobs.drain(), 2);
    t.equal(runsOf(crashed.id).length, 1, 'a failure is not retried');
    t.equal(runsOf(refused.id).length, 1);

    const crash = json<JobBody>(await getJob(crashed.id));
    t.equal(crash.status, 'failed');
    t.equal(crash.result, null);
    t.ok(crash.finishedAt);
    t.match(crash.problem, { type: '/problems/internal-error', title: String, status: 500, detail: String });
    t.notMatch(JSON.stringify(crash.problem), /secret internals/, 'the error’s message stays in the log');

    const refusal = json<JobBody>(await getJob(refused.id));
    t.equal(refusal.status, 'failed');
    t.match(refusal.problem, {
      type: '/problems/unprocessable-request',
      status: 422,
      detail: 'The payload names no region.',
      instance: `/v1/jobs/${refused.id}`,
    });
  });

  t.test('survives a restart: a job whose worker died is picked up by another instance', async (t) => {
    const job = await enqueue('test.gated');
    const entered = deferred();
    const release = deferred();
    gates.set(job.id, { entered: entered.resolve, gate: release.promise });

    // Instance A claims the job and hangs in it...
    const hung = a.app.services.jobs.drain();
    await entered.promise;
    const running = json<JobBody>(await getJob(job.id));
    t.match(running, { status: 'running', attempts: 1 });
    t.equal(await b.app.services.jobs.drain(), 0, 'a job under a live lease is not taken');

    // ...then dies: its lease runs out without being renewed.
    await db
      .update(jobs)
      .set({ leaseUntil: sql`now() - interval '1 second'` })
      .where(eq(jobs.id, job.id));
    t.equal(await b.app.services.jobs.drain(), 1, 'instance B takes the job over');
    const done = json<JobBody>(await getJob(job.id, admin.headers, b.app));
    t.match(done, { status: 'succeeded', attempts: 2, result: { worker: 'B' }, problem: null });
    t.same(
      runsOf(job.id).map((r) => r.worker),
      ['A', 'B'],
    );

    // The stale worker coming back to life does not overwrite the outcome.
    release.resolve();
    await hung;
    t.match(json<JobBody>(await getJob(job.id)), { status: 'succeeded', attempts: 2, result: { worker: 'B' } });
  });

  t.test('a job abandoned by a dead worker is run again by drain() within its attempts', async (t) => {
    const job = await enqueue('test.count', 3);
    await abandon(job.id, 1);
    t.equal(await b.app.services.jobs.drain(), 1);
    t.match(json<JobBody>(await getJob(job.id)), { status: 'succeeded', attempts: 2, result: { worker: 'B' } });
    t.equal(runsOf(job.id).length, 1);
  });

  t.test('a job that used up its attempts ends failed, visibly, without running again', async (t) => {
    const job = await enqueue('test.count', 2);
    await abandon(job.id, 2);
    t.equal(await b.app.services.jobs.drain(), 1);
    t.equal(runsOf(job.id).length, 0, 'the handler did not run a third time');
    const failed = json<JobBody>(await getJob(job.id));
    t.equal(failed.status, 'failed');
    t.ok(failed.finishedAt);
    t.match(failed.problem, { type: '/problems/internal-error', status: 500, detail: /2 attempts/ });
    const listed = await app.inject({ method: 'GET', url: '/v1/jobs?status=failed', headers: admin.headers });
    t.ok(
      json<{ items: JobBody[] }>(listed).items.some((j) => j.id === job.id),
      'listed among the failed',
    );
    t.equal(await b.app.services.jobs.drain(), 0, 'and it stays failed');

    // The audit verification runs at most once: a crash in it is not retried.
    const verification = await app.inject({
      method: 'POST',
      url: '/v1/audit-events/verifications',
      headers: admin.headers,
    });
    const id = json<JobBody>(verification).id;
    await abandon(id, 1);
    t.equal(await b.app.services.jobs.drain(), 1);
    t.match(json<JobBody>(await getJob(id)), { status: 'failed', attempts: 2, result: null, problem: { status: 500 } });
  });

  t.test('stop() lets the job in hand finish but takes no new one', async (t) => {
    const c = await testApp(t, { database, beforeReady: testJobs('C') });
    const worker = c.app.services.jobs;
    const inHand = await enqueue('test.gated');
    const entered = deferred();
    const release = deferred();
    gates.set(inHand.id, { entered: entered.resolve, gate: release.promise });
    worker.start();
    await entered.promise;

    const waiting = [await enqueue('test.count'), await enqueue('test.count')];
    const stopped = worker.stop();
    release.resolve();
    await stopped;
    t.match(json<JobBody>(await getJob(inHand.id)), { status: 'succeeded', result: { worker: 'C' } });
    for (const job of waiting) {
      t.equal(runsOf(job.id).length, 0, 'a queued job was not started during shutdown');
      t.match(json<JobBody>(await getJob(job.id)), { status: 'queued', attempts: 0 });
    }
    t.equal(await b.app.services.jobs.drain(), 2, 'another instance runs them');
  });

  const needsPostgres = onPostgres
    ? false
    : 'needs real PostgreSQL (set DATABASE_URL): PGlite runs one query at a time';
  t.test('two instances draining 20 jobs concurrently run each exactly once', { skip: needsPostgres }, async (t) => {
    const queued = await Promise.all(Array.from({ length: 20 }, () => enqueue('test.count')));
    const ids = queued.map((j) => j.id);
    const [byA, byB] = await Promise.all([a.app.services.jobs.drain(), b.app.services.jobs.drain()]);
    t.equal(byA + byB, 20, 'twenty jobs ran between them');
    t.comment(`instance A ran ${byA}, instance B ran ${byB}`);
    t.same(
      ids.map((id) => runsOf(id).length),
      Array(20).fill(1),
      'every job ran exactly once',
    );
    const finished = await db
      .select({ status: jobs.status, attempts: jobs.attempts })
      .from(jobs)
      .where(inArray(jobs.id, ids));
    t.equal(finished.length, 20);
    t.ok(
      finished.every((j) => j.status === 'succeeded' && j.attempts === 1),
      'all succeeded on their first attempt',
    );
  });
});
