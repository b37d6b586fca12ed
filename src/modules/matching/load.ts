import type { Readable } from 'node:stream';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Database, Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { businessDateOf } from '../registry/dates.js';
import type { PiiProtector } from '../registry/sensitive.js';
import { matchingSnapshotCompleted, matchingSnapshotRejected } from './events.js';
import { copySink, insertSink } from './load.copy.js';
import type { UploadFormat } from './load.parse.js';
import { readAndWrite, type ReadOutcome } from './load.read.js';
import { recordSchemaOf } from './records.js';
import { matchingLoadProgress, matchingRecords, matchingSnapshots, matchingSources } from './tables.js';

export type SourceRow = typeof matchingSources.$inferSelect;
export type SnapshotRow = typeof matchingSnapshots.$inferSelect;

export interface LoadInput {
  uploadKey: string;
  format: UploadFormat;
  body: Readable;
}

interface Deps {
  database: Database;
  audit: AuditService;
  events: EventService;
  pii: PiiProtector;
  clock: () => Date;
}

/** Statuses a load ends in; a repeat of its upload key is answered from the row. */
const settled = ['complete', 'superseded', 'rejected'];
/** First key of the advisory lock that lets one load of a source run at a time (with hashtext(source id)). */
export const LOAD_LOCK = 22_010_005;
/** How often the running service looks for loads whose process died (sweepStale). */
export const STALE_LOAD_SWEEP_MS = 5_000;

class Refused extends Error {
  constructor(readonly outcome: ReadOutcome) {
    super('load refused');
  }
}

/**
 * Loading a snapshot into a source. The records stream into matching_records under a new snapshot
 * in status `loading`, inside one transaction (COPY on PostgreSQL, batched INSERTs on PGlite). If
 * every line was good, the same transaction makes the snapshot `complete` and current and the
 * previous one `superseded`: readers, who read by snapshot id, see the old snapshot or the new
 * one, never a mix. If any line was bad, the transaction is rolled back (nothing of the load was
 * ever visible) and the snapshot is recorded `rejected` with its report. A load that breaks off
 * rolls back too and leaves its snapshot `loading` (or `failed`, when this process saw it break);
 * the next load of the source, or the sweep for loads whose process died, marks it `failed`.
 *
 * Superseded snapshots keep their records until the next load (so a verification that picked the
 * old snapshot before the swap still reads it whole); the swap deletes the records of snapshots
 * superseded one load earlier.
 */
export function createLoader({ database, audit, events, pii, clock }: Deps) {
  const db = database.db;
  /** Sources being loaded by this process (PGlite has no second connection to hold a lock on). */
  const loading = new Set<string>();

  const byKey = async (executor: Executor, sourceId: string, uploadKey: string) =>
    (
      await executor
        .select()
        .from(matchingSnapshots)
        .where(and(eq(matchingSnapshots.sourceId, sourceId), eq(matchingSnapshots.uploadKey, uploadKey)))
    )[0];

  /** Marks stale loads failed and claims the snapshot row of this upload key (new, or a failed one again). */
  async function begin(source: SourceRow, actor: AuditActor, input: LoadInput) {
    return db.transaction(async (tx) => {
      await tx
        .update(matchingSnapshots)
        .set({ status: 'failed', completedAt: clock() })
        .where(and(eq(matchingSnapshots.sourceId, source.id), eq(matchingSnapshots.status, 'loading')));
      const existing = await byKey(tx, source.id, input.uploadKey);
      if (existing && settled.includes(existing.status)) return { snapshot: existing, replayed: true };
      const fresh = {
        status: 'loading',
        format: input.format,
        contentSha256: null,
        lines: 0,
        records: 0,
        badLines: 0,
        report: null,
        createdByClientId: actor.clientId,
        startedAt: clock(),
        completedAt: null,
      };
      const [row] = existing
        ? await tx.update(matchingSnapshots).set(fresh).where(eq(matchingSnapshots.id, existing.id)).returning()
        : await tx
            .insert(matchingSnapshots)
            .values({ ...fresh, sourceId: source.id, uploadKey: input.uploadKey })
            .returning();
      await tx
        .insert(matchingLoadProgress)
        .values({ snapshotId: row!.id, lines: 0, updatedAt: clock() })
        .onConflictDoUpdate({ target: matchingLoadProgress.snapshotId, set: { lines: 0, updatedAt: clock() } });
      return { snapshot: row!, replayed: false };
    });
  }

  /** In the load's transaction: the snapshot becomes current, the previous one superseded. */
  async function swap(tx: Executor, actor: AuditActor, source: SourceRow, snapshot: SnapshotRow, outcome: ReadOutcome) {
    const [locked] = await tx.select().from(matchingSources).where(eq(matchingSources.id, source.id)).for('update');
    const previousId = locked!.currentSnapshotId;
    const now = clock();
    // Records of snapshots superseded by an earlier load: no verification reads them any more.
    // Deleted by snapshot id, a range of the primary key: as a join, the planner may take
    // matching_records, statistics not yet updated after a big load, for empty and scan it whole.
    const stale = await tx
      .select({ id: matchingSnapshots.id })
      .from(matchingSnapshots)
      .where(and(eq(matchingSnapshots.sourceId, source.id), eq(matchingSnapshots.status, 'superseded')));
    if (stale.length > 0) {
      await tx.delete(matchingRecords).where(
        inArray(
          matchingRecords.snapshotId,
          stale.map((s) => s.id),
        ),
      );
    }
    if (previousId) {
      await tx
        .update(matchingSnapshots)
        .set({ status: 'superseded', supersededAt: now })
        .where(and(eq(matchingSnapshots.id, previousId), ne(matchingSnapshots.id, snapshot.id)));
    }
    await tx.delete(matchingLoadProgress).where(eq(matchingLoadProgress.snapshotId, snapshot.id));
    const [done] = await tx
      .update(matchingSnapshots)
      .set({
        status: 'complete',
        lines: outcome.lines,
        records: outcome.records,
        contentSha256: outcome.sha256,
        completedAt: now,
      })
      .where(eq(matchingSnapshots.id, snapshot.id))
      .returning();
    await tx
      .update(matchingSources)
      .set({ currentSnapshotId: snapshot.id, updatedAt: now, version: sql`${matchingSources.version} + 1` })
      .where(eq(matchingSources.id, source.id));
    const data = { snapshotId: snapshot.id, sourceId: source.id, kind: source.kind, lines: outcome.lines };
    await events.publish(tx, matchingSnapshotCompleted, {
      subject: `matching_source/${source.id}`,
      region: source.region,
      data: { ...data, records: outcome.records, previousSnapshotId: previousId, contentSha256: outcome.sha256 },
    });
    await audit.record(tx, actor, {
      operation: 'loadMatchingSnapshot',
      resourceType: 'matching_snapshot',
      resourceIds: [snapshot.id, source.id],
      detail: { status: 'complete', lines: outcome.lines, records: outcome.records, previousSnapshotId: previousId },
    });
    return done!;
  }

  /** After the rolled-back load: the snapshot is `rejected`, with its report. */
  async function refuse(actor: AuditActor, source: SourceRow, snapshot: SnapshotRow, outcome: ReadOutcome) {
    return db.transaction(async (tx) => {
      await tx.delete(matchingLoadProgress).where(eq(matchingLoadProgress.snapshotId, snapshot.id));
      const [row] = await tx
        .update(matchingSnapshots)
        .set({
          status: 'rejected',
          lines: outcome.lines,
          records: 0,
          badLines: outcome.badLines,
          report: outcome.report,
          contentSha256: outcome.sha256,
          completedAt: clock(),
        })
        .where(eq(matchingSnapshots.id, snapshot.id))
        .returning();
      await events.publish(tx, matchingSnapshotRejected, {
        subject: `matching_source/${source.id}`,
        region: source.region,
        audienceClientId: source.providerClientId,
        data: {
          snapshotId: snapshot.id,
          sourceId: source.id,
          kind: source.kind,
          lines: outcome.lines,
          records: 0,
          badLines: outcome.badLines,
        },
      });
      await audit.record(tx, actor, {
        operation: 'loadMatchingSnapshot',
        resourceType: 'matching_snapshot',
        resourceIds: [snapshot.id, source.id],
        outcome: 'failed',
        detail: { status: 'rejected', lines: outcome.lines, badLines: outcome.badLines },
      });
      return row!;
    });
  }

  /** Streams the records and swaps them in, on `conn` (the load's own connection on PostgreSQL). */
  async function run(conn: Db, client: pg.PoolClient | null, actor: AuditActor, source: SourceRow, input: LoadInput) {
    const started = await begin(source, actor, input);
    if (started.replayed) return started;
    const snapshot = started.snapshot;
    try {
      const done = await conn.transaction(async (tx) => {
        const outcome = await readAndWrite({
          format: input.format,
          body: input.body,
          schema: recordSchemaOf(source.kind),
          today: businessDateOf(clock()),
          indexOf: (idNumber) => pii.indexNormalised('document', idNumber),
          sink: client ? copySink(client, snapshot.id) : insertSink(tx, snapshot.id),
          // Progress goes through the pool, outside the load's transaction, so readers see it; to
          // matching_load_progress, never to the snapshot's row (see there why). PGlite has one
          // connection, held by the load: no progress there.
          ...(client && {
            progress: async (lines: number) => {
              await db
                .update(matchingLoadProgress)
                .set({ lines, updatedAt: clock() })
                .where(eq(matchingLoadProgress.snapshotId, snapshot.id));
            },
          }),
        });
        if (outcome.badLines > 0) throw new Refused(outcome);
        return swap(tx, actor, source, snapshot, outcome);
      });
      // matching_sources is tiny and seldom written, so autovacuum may never analyze it; without
      // statistics the planner guesses hundreds of current snapshots and verification's join reads
      // matching_records whole instead of probing its index. A swap is when its rows change.
      await db.execute(sql`analyze matching_sources`).catch(() => undefined);
      return { snapshot: done, replayed: false };
    } catch (err) {
      if (err instanceof Refused)
        return { snapshot: await refuse(actor, source, snapshot, err.outcome), replayed: false };
      // The upload broke off (or the database did): nothing was written. If marking it fails too,
      // the next load of the source marks it; the error that matters is the first one.
      await db
        .update(matchingSnapshots)
        .set({ status: 'failed', completedAt: clock() })
        .where(and(eq(matchingSnapshots.id, snapshot.id), eq(matchingSnapshots.status, 'loading')))
        .catch(() => undefined);
      throw err;
    }
  }

  const inProgress = () => conflict('A load of this source is in progress; retry when it has finished.');

  /**
   * Loads `input.body` into `source` as a new snapshot, or answers a repeat of an upload key with
   * the snapshot it made (without reading the body). One load of a source at a time: 409 otherwise.
   */
  async function load(source: SourceRow, actor: AuditActor, input: LoadInput) {
    const existing = await byKey(db, source.id, input.uploadKey);
    if (existing && settled.includes(existing.status)) return { snapshot: existing, replayed: true };
    if (loading.has(source.id)) throw inProgress();
    loading.add(source.id);
    try {
      if (!database.withClient) return await run(db, null, actor, source, input);
      return await database.withClient(async (client, conn) => {
        const { rows } = await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock($1, hashtext($2)) as locked',
          [LOAD_LOCK, source.id],
        );
        if (!rows[0]?.locked) throw inProgress();
        try {
          return await run(conn, client, actor, source, input);
        } finally {
          await client.query('select pg_advisory_unlock($1, hashtext($2))', [LOAD_LOCK, source.id]);
        }
      });
    } finally {
      loading.delete(source.id);
    }
  }

  /**
   * Marks `failed` the snapshots of loads whose process died (SIGKILL, a crash): they say `loading`
   * while nobody loads them, and would until the source's next load. A running load holds its
   * source's advisory lock (PostgreSQL: a source whose lock is free has none) or is in this
   * process's set (PGlite: one process). Answers the snapshots marked.
   */
  async function sweepStale(): Promise<string[]> {
    const candidates = await db
      .selectDistinct({ sourceId: matchingSnapshots.sourceId })
      .from(matchingSnapshots)
      .where(eq(matchingSnapshots.status, 'loading'));
    const marked: string[] = [];
    const mark = async (sourceId: string) => {
      const rows = await db
        .update(matchingSnapshots)
        .set({ status: 'failed', completedAt: clock() })
        .where(and(eq(matchingSnapshots.sourceId, sourceId), eq(matchingSnapshots.status, 'loading')))
        .returning({ id: matchingSnapshots.id });
      marked.push(...rows.map((r) => r.id));
    };
    for (const { sourceId } of candidates) {
      if (loading.has(sourceId)) continue;
      if (!database.withClient) {
        await mark(sourceId);
        continue;
      }
      await database.withClient(async (client) => {
        const { rows } = await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock($1, hashtext($2)) as locked',
          [LOAD_LOCK, sourceId],
        );
        if (!rows[0]?.locked) return; // a load of the source runs (here or in another process)
        try {
          await mark(sourceId);
        } finally {
          await client.query('select pg_advisory_unlock($1, hashtext($2))', [LOAD_LOCK, sourceId]);
        }
      });
    }
    return marked;
  }

  return { load, sweepStale };
}

export type Loader = ReturnType<typeof createLoader>;
