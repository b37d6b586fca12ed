import { randomUUID } from 'node:crypto';
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { type Db, type Executor, rows } from '../../db/client.js';
import { jurisdictionCondition, type Jurisdictional } from '../jurisdiction.js';
import { notFound, ProblemError } from '../errors.js';
import { jobFinished } from '../events/catalogue.js';
import type { EventService } from '../events/service.js';
import { jobs } from './tables.js';

export type JobRow = typeof jobs.$inferSelect;

/** What a job handler gets: its payload, and a way to report progress (which also renews its lease). */
export interface JobContext {
  job: JobRow;
  progress(done: number, total?: number): Promise<void>;
  signal: AbortSignal;
}

export type JobHandler = (ctx: JobContext) => Promise<Record<string, unknown>>;

export interface JobTypeOptions {
  /**
   * Called in the transaction that records the job failed: by its handler's error, or given up
   * after its attempts ran out (its workers kept dying), so that what the job works on never stays
   * "running" behind a failed job.
   */
  onFailure?(tx: Executor, job: JobRow): Promise<void>;
}

export interface EnqueueOptions {
  type: string;
  payload: Record<string, unknown>;
  clientId: string | null;
  region: string | null;
  maxAttempts?: number;
}

interface Deps {
  db: Db;
  events: EventService;
  log: FastifyBaseLogger;
  leaseMs: number;
  pollMs: number;
}

/**
 * Long work in the database, so it outlives a restart and works on PostgreSQL and PGlite alike. A
 * worker claims a job with FOR UPDATE SKIP LOCKED and holds it by a lease it renews while running;
 * a job whose lease ran out (its worker died) is claimed again, up to max_attempts.
 */
export function createJobService({ db, events, log, leaseMs, pollMs }: Deps) {
  const handlers = new Map<string, JobHandler>();
  const typeOptions = new Map<string, JobTypeOptions>();
  const workerId = randomUUID();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const abort = new AbortController();

  function register(type: string, handler: JobHandler, options: JobTypeOptions = {}) {
    if (handlers.has(type)) throw new Error(`job type ${type} registered twice`);
    handlers.set(type, handler);
    typeOptions.set(type, options);
  }

  /** Queues a job in the caller's transaction: it exists exactly when the request's change does. */
  async function enqueue(tx: Executor, options: EnqueueOptions): Promise<JobRow> {
    if (!handlers.has(options.type)) throw new Error(`no handler for job type ${options.type}`);
    const [job] = await tx
      .insert(jobs)
      .values({
        type: options.type,
        payload: options.payload,
        clientId: options.clientId,
        region: options.region,
        maxAttempts: options.maxAttempts ?? 3,
      })
      .returning();
    return job!;
  }

  /** A job the caller may see: its own, or (with a jurisdiction wide enough) one of its region. */
  async function get(caller: Jurisdictional & { id: string; agency: string }, id: string): Promise<JobRow> {
    const visible =
      caller.agency === 'admin'
        ? sql`(${jobs.clientId} = ${caller.id} or ${jurisdictionCondition(caller, jobs.region)})`
        : eq(jobs.clientId, caller.id);
    const [job] = await db
      .select()
      .from(jobs)
      .where(and(eq(jobs.id, id), visible));
    if (!job) throw notFound('job');
    return job;
  }

  /**
   * Newest first, keyed on (created_at, id) after the cursor's job: jobs queued in one transaction
   * share created_at, and a JavaScript Date would drop its microseconds.
   */
  async function list(
    caller: { id: string },
    filter: { status?: string | undefined; afterId?: string | undefined; limit: number },
  ) {
    const conditions: SQL[] = [eq(jobs.clientId, caller.id)];
    if (filter.status) conditions.push(eq(jobs.status, filter.status));
    if (filter.afterId) {
      conditions.push(
        sql`(${jobs.createdAt}, ${jobs.id}) < (select c.created_at, c.id from jobs c where c.id = ${filter.afterId})`,
      );
    }
    const found = await db
      .select()
      .from(jobs)
      .where(and(...conditions))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  async function claim(): Promise<JobRow | null> {
    const types = [...handlers.keys()];
    if (types.length === 0) return null;
    const claimed = await rows<{ id: string }>(
      db,
      sql`update jobs set status = 'running', attempts = attempts + 1, worker_id = ${workerId},
             lease_until = now() + make_interval(secs => ${leaseMs / 1000}),
             started_at = coalesce(started_at, now())
          where id = (
            select id from jobs
            where type in (${sql.join(
              types.map((t) => sql`${t}`),
              sql`, `,
            )})
              and ((status = 'queued' and run_at <= now()) or (status = 'running' and lease_until < now()))
            order by run_at
            for update skip locked
            limit 1)
          returning id`,
    );
    if (!claimed[0]) return null;
    const [job] = await db.select().from(jobs).where(eq(jobs.id, claimed[0].id));
    return job ?? null;
  }

  /** Ends a job and tells the client that started it (job.finished), in one transaction. */
  async function finish(job: JobRow, outcome: { result?: Record<string, unknown>; problem?: Record<string, unknown> }) {
    const status = outcome.problem ? 'failed' : 'succeeded';
    await db.transaction(async (tx) => {
      const finished = await tx
        .update(jobs)
        .set({
          status,
          result: outcome.result ?? null,
          problem: outcome.problem ?? null,
          leaseUntil: null,
          finishedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, job.id), eq(jobs.workerId, workerId)))
        .returning({ id: jobs.id });
      // A job taken over by another worker is that worker's to finish and announce.
      if (finished.length === 0) return;
      if (outcome.problem) await typeOptions.get(job.type)?.onFailure?.(tx, job);
      if (!job.clientId || !job.region) return;
      await events.publish(tx, jobFinished, {
        subject: `job/${job.id}`,
        region: job.region,
        audienceClientId: job.clientId,
        data: { jobId: job.id, jobType: job.type, status },
      });
    });
  }

  async function runOne(job: JobRow): Promise<void> {
    const handler = handlers.get(job.type);
    if (!handler) return;
    // A job that has used up its attempts (its workers kept dying) fails visibly instead of looping.
    if (job.attempts > job.maxAttempts) {
      await finish(job, {
        problem: {
          type: '/problems/internal-error',
          title: 'Job abandoned',
          status: 500,
          detail: `Gave up after ${job.maxAttempts} attempts.`,
        },
      });
      return;
    }
    const renew = async () => {
      await db
        .update(jobs)
        .set({ leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
        .where(and(eq(jobs.id, job.id), eq(jobs.workerId, workerId)));
    };
    const heartbeat = setInterval(() => void renew().catch(() => {}), Math.max(100, leaseMs / 3));
    try {
      const result = await handler({
        job,
        signal: abort.signal,
        async progress(done, total) {
          await db
            .update(jobs)
            .set({
              progressDone: done,
              ...(total !== undefined && { progressTotal: total }),
              leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})`,
            })
            .where(and(eq(jobs.id, job.id), eq(jobs.workerId, workerId)));
        },
      });
      await finish(job, { result });
    } catch (err) {
      log.error({ err, jobId: job.id, jobType: job.type }, 'job failed');
      const problem =
        err instanceof ProblemError
          ? err.toProblem(`/v1/jobs/${job.id}`)
          : {
              type: '/problems/internal-error',
              title: 'Internal error',
              status: 500,
              detail: 'The job failed; the service log holds the details.',
            };
      await finish(job, { problem });
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Runs jobs until none is ready, or until stop(): the job in hand finishes, no new one is taken
   * (shutdown must not wait for the whole queue). Returns how many ran.
   */
  async function drain(): Promise<number> {
    let ran = 0;
    while (!abort.signal.aborted) {
      const job = await claim();
      if (!job) break;
      await runOne(job);
      ran++;
    }
    return ran;
  }

  function start() {
    const tick = async () => {
      try {
        await drain();
      } catch (err) {
        log.warn({ err }, 'job worker could not poll');
      }
      if (!abort.signal.aborted) timer = setTimeout(() => (running = tick()), pollMs);
    };
    running = tick();
  }

  async function stop() {
    abort.abort();
    if (timer) clearTimeout(timer);
    await running;
  }

  return { register, enqueue, get, list, drain, start, stop, workerId };
}

export type JobService = ReturnType<typeof createJobService>;
