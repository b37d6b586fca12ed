import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { type Db, type Executor, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict, type FieldError, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import type { JobContext, JobRow, JobService } from '../../platform/jobs/service.js';
import { jobs } from '../../platform/jobs/tables.js';
import { inJurisdiction, jurisdictionPattern } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { Caller } from '../registry/applications.common.js';
import type { ProgramService } from '../registry/programs.service.js';
import { nameChecker } from './names.js';
import { matchingRunCompleted } from './runs.events.js';
import { countsSql } from './runs.results.js';
import { type ChunkParams, chunkSql, namePairsSql } from './runs.sql.js';
import { matchingRuns, matchingSources, matchingVerifications } from './tables.js';
import type { VerifiableProgram } from './verify.schemas.js';
import type { SourceInForce } from './verify.sql.js';

export const MATCHING_RUN_JOB = 'matching.run';
/**
 * Households a chunk statement verifies. Each chunk joins its members with the sources by hash,
 * reading every snapshot's records once, a cost paid again per chunk whatever its size: chunks are
 * large so that a run costs about what one statement for the whole region would (bench/RESULTS.md).
 */
export const CHUNK_HOUSEHOLDS = 100_000;
/** Memory a chunk's hash joins and aggregates may use before spilling to disk (PostgreSQL work_mem). */
const CHUNK_WORK_MEM = '256MB';
/** The monthly programs a run verifies when it names none. */
export const monthlyPrograms: VerifiableProgram[] = ['dibao', 'tekun', 'price_subsidy'];

export type RunRow = typeof matchingRuns.$inferSelect;
export interface Run extends RunRow {
  job: JobRow | null;
}

export interface NewRun {
  region: string;
  program?: VerifiableProgram | undefined;
  asOf?: string | undefined;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  jobs: JobService;
  regions: RegionService;
  programs: ProgramService;
  chunkHouseholds?: number;
}

/**
 * Bulk re-verification (DOMAIN.md, economic verification): every household of a region with a live
 * enrollment (active or suspended) verified again, set-based in PostgreSQL (runs.sql.ts), as a job.
 * The run reads each source's current snapshot once, when it starts, and every chunk reads those:
 * a snapshot swapped in meanwhile is not seen. A load swaps the old snapshot out and deletes its
 * records one load later: a source loaded twice during a run would leave it reading nothing, so
 * each chunk checks that its snapshots' records are still there, and the run fails otherwise.
 */
export function createRunService({ db, audit, events, jobs: jobService, regions, programs, ...options }: Deps) {
  const chunkHouseholds = options.chunkHouseholds ?? CHUNK_HOUSEHOLDS;

  async function create(caller: Caller, actor: AuditActor, input: NewRun): Promise<Run> {
    const errors: FieldError[] = [];
    if (!(await regions.isKnown(input.region))) {
      errors.push({
        in: 'body',
        pointer: '/region',
        detail: `${input.region} is not a region code this service knows`,
      });
    } else if (!inJurisdiction(caller, input.region)) {
      errors.push({
        in: 'body',
        pointer: '/region',
        detail: `must lie inside your jurisdiction ${caller.jurisdiction}`,
      });
    }
    if (errors.length > 0) throw validationError(errors);
    const asOf = input.asOf ?? programs.today();
    return db.transaction(async (tx) => {
      const [run] = await tx
        .insert(matchingRuns)
        .values({
          region: input.region,
          program: input.program ?? null,
          asOf,
          status: 'queued',
          createdByClientId: actor.clientId,
        })
        .returning();
      const job = await jobService.enqueue(tx, {
        type: MATCHING_RUN_JOB,
        payload: { runId: run!.id, chunkHouseholds },
        clientId: caller.id,
        region: input.region,
      });
      const [linked] = await tx
        .update(matchingRuns)
        .set({ jobId: job.id })
        .where(eq(matchingRuns.id, run!.id))
        .returning();
      await audit.record(tx, actor, {
        operation: 'startMatchingRun',
        resourceType: 'matching_run',
        resourceIds: [run!.id, job.id],
        detail: { region: input.region, program: input.program ?? null, asOf },
      });
      return { ...linked!, job };
    });
  }

  async function find(executor: Executor, caller: Caller, id: string): Promise<Run> {
    const [found] = await executor
      .select({ run: matchingRuns, job: jobs })
      .from(matchingRuns)
      .leftJoin(jobs, eq(jobs.id, matchingRuns.jobId))
      .where(and(eq(matchingRuns.id, id), sql`${matchingRuns.region} like ${jurisdictionPattern(caller)}`));
    if (!found) throw notFound('matching run');
    return { ...found.run, job: found.job };
  }

  const get = (caller: Caller, id: string) => find(db, caller, id);

  /** Newest first, inside the caller's jurisdiction. */
  async function list(
    caller: Caller,
    filter: { after?: { createdAt: string; id: string } | undefined; limit: number },
  ) {
    const conditions: SQL[] = [sql`${matchingRuns.region} like ${jurisdictionPattern(caller)}`];
    if (filter.after) {
      conditions.push(
        sql`(${matchingRuns.createdAt}, ${matchingRuns.id}) < (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`,
      );
    }
    const found = await db
      .select({ run: matchingRuns, job: jobs, at: sql<string>`${matchingRuns.createdAt}::text` })
      .from(matchingRuns)
      .leftJoin(jobs, eq(jobs.id, matchingRuns.jobId))
      .where(and(...conditions))
      .orderBy(desc(matchingRuns.createdAt), desc(matchingRuns.id))
      .limit(filter.limit + 1);
    const items = found.slice(0, filter.limit);
    const last = items.at(-1);
    return {
      items: items.map((f) => ({ ...f.run, job: f.job })),
      next: found.length > filter.limit && last ? { createdAt: last.at, id: last.run.id } : null,
    };
  }

  /** Fails the run when a source was loaded twice since it started (its snapshot's records are gone). */
  async function checkSnapshots(tx: Executor, sources: SourceInForce[]) {
    if (sources.length === 0) return;
    const [gone] = await rows<{ count: number }>(
      tx,
      sql`select count(*)::int as count from matching_snapshots s
          join unnest(${sql.param(sources.map((x) => x.snapshotId))}::uuid[]) as ours(id) on ours.id = s.id
          where (select count(*) from matching_snapshots n where n.source_id = s.source_id
                   and n.status in ('complete','superseded') and n.completed_at > s.completed_at) >= 2`,
    );
    if (gone!.count > 0) {
      throw conflict(
        'A source was loaded twice while the run was going: the snapshot it started with is no longer kept. Start the run again.',
      );
    }
  }

  /** The job: re-verifies the run's households a chunk at a time, then counts and announces them. */
  async function perform({ job, progress }: Pick<JobContext, 'job' | 'progress'>): Promise<Record<string, unknown>> {
    const { runId, chunkHouseholds: size } = job.payload as { runId: string; chunkHouseholds?: number };
    const [run] = await db.select().from(matchingRuns).where(eq(matchingRuns.id, runId));
    if (!run) throw notFound('matching run');
    // A retry starts again from the beginning, with the snapshots current now.
    await db.delete(matchingVerifications).where(eq(matchingVerifications.runId, runId));
    await db.update(matchingRuns).set({ status: 'running' }).where(eq(matchingRuns.id, runId));
    const sources = (
      await db
        .select({
          sourceId: matchingSources.id,
          kind: matchingSources.kind,
          snapshotId: matchingSources.currentSnapshotId,
        })
        .from(matchingSources)
        .where(sql`${matchingSources.currentSnapshotId} is not null`)
        .orderBy(matchingSources.id)
    ).map((s) => ({ ...s, snapshotId: s.snapshotId! }));
    const params: ChunkParams = {
      runId,
      clientId: run.createdByClientId,
      pattern: `${run.region}%`,
      programs: run.program ? [run.program] : monthlyPrograms,
      asOf: run.asOf,
      sources,
      after: null,
      limit: size ?? chunkHouseholds,
    };
    const [counted] = await rows<{ total: number }>(
      db,
      sql`select count(*)::int as total from households h where h.region like ${params.pattern}
          and exists (select 1 from enrollments e where e.household_id = h.id and e.status in ('active','suspended')
                      and e.program_code = any(${sql.param(params.programs)}::text[]))`,
    );
    const total = counted!.total;
    await progress(0, total);
    const same = nameChecker();
    let done = 0;
    let verifications = 0;
    let skipped = 0;
    for (;;) {
      const step = await db.transaction(async (tx) => {
        await tx.execute(sql.raw(`set local work_mem = '${CHUNK_WORK_MEM}'`));
        const pairs = await rows<{ recordName: string; memberName: string }>(tx, namePairsSql(params));
        const equal = pairs.filter((p) => same(p.recordName, p.memberName));
        const [out] = await rows<{
          households: number;
          verifications: number;
          skipped: number;
          lastId: string | null;
        }>(tx, chunkSql(params, equal));
        await checkSnapshots(tx, sources);
        return out!;
      });
      if (step.households === 0) break;
      done += step.households;
      verifications += step.verifications;
      skipped += step.skipped;
      params.after = step.lastId;
      await progress(done, total);
    }
    return await db.transaction(async (tx) => {
      const [counts] = await rows<{ households: number; failing: number; deceasedPaid: number; dataErrors: number }>(
        tx,
        countsSql(runId),
      );
      const [finished] = await tx
        .update(matchingRuns)
        .set({ ...counts!, skipped, status: 'complete', completedAt: sql`now()` })
        .where(eq(matchingRuns.id, runId))
        .returning();
      await events.publish(tx, matchingRunCompleted, {
        subject: `matching_run/${runId}`,
        region: run.region,
        data: {
          runId,
          region: run.region,
          program: run.program as VerifiableProgram | null,
          asOf: run.asOf,
          ...counts!,
          skipped,
        },
      });
      return {
        runId,
        ...counts!,
        skipped,
        verifications,
        completedAt: finished!.completedAt!.toISOString(),
        snapshots: Object.fromEntries(sources.map((s) => [s.sourceId, s.snapshotId])),
      };
    });
  }

  /** The job failed (its error, or given up after its attempts): the run says so too. */
  async function failed(tx: Executor, job: JobRow) {
    const { runId } = job.payload as { runId: string };
    await tx
      .update(matchingRuns)
      .set({ status: 'failed' })
      .where(and(eq(matchingRuns.id, runId), sql`${matchingRuns.status} in ('queued','running')`));
  }

  return { create, get, find, list, perform, failed };
}

export type RunService = ReturnType<typeof createRunService>;
