import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Executor } from '../../db/client.js';

/** One row of matching_records, the ID number already replaced by its blind index. */
export interface RecordRow {
  line: number;
  idIndex: string;
  name: string;
  amountFen: number | null;
  eventDate: string | null;
  ref: string | null;
  attrs: Record<string, string> | null;
}

/** Where a load's records go, a batch at a time; `finish` once all are written. */
export interface RecordSink {
  write(batch: RecordRow[]): Promise<void>;
  finish(): Promise<void>;
  /** Gives up midway (the transaction is then rolled back). */
  abort(): Promise<void>;
}

const columns = 'snapshot_id, line, id_index, name, amount_fen, event_date, ref, attrs';

// COPY's text format: tab-separated, \N for null, backslash escapes.
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const text = (value: string | null) => (value === null ? '\\N' : value.replace(/[\\\t\n\r]/g, (c) => escapes[c]!));

function copyRow(snapshotId: string, r: RecordRow): string {
  return [
    snapshotId,
    r.line,
    r.idIndex,
    text(r.name),
    r.amountFen === null ? '\\N' : r.amountFen,
    r.eventDate ?? '\\N',
    text(r.ref),
    text(r.attrs && JSON.stringify(r.attrs)),
  ].join('\t');
}

/**
 * PostgreSQL: one `COPY matching_records FROM STDIN` on the load's own connection, inside its
 * transaction, fed a batch at a time. A write waits for the socket to drain, so a slow database
 * slows the upload instead of filling memory.
 */
export function copySink(client: pg.PoolClient, snapshotId: string): RecordSink {
  let copy: ReturnType<typeof copyFrom> | null = null;
  return {
    async write(batch) {
      copy ??= client.query(copyFrom(`COPY matching_records (${columns}) FROM STDIN`));
      const chunk = batch.map((r) => copyRow(snapshotId, r)).join('\n') + '\n';
      if (!copy.write(chunk)) await once(copy, 'drain');
    },
    async finish() {
      if (!copy) return;
      copy.end();
      await finished(copy);
    },
    async abort() {
      if (!copy || copy.destroyed) return;
      // Sends CopyFail, so the connection leaves COPY mode and the transaction can roll back.
      copy.destroy(new Error('load aborted'));
      await finished(copy).catch(() => undefined);
    },
  };
}

/**
 * PGlite (development): it has no streaming COPY, so each batch is one INSERT … SELECT FROM
 * unnest(arrays) — one statement and eight parameters however many rows the batch holds.
 */
export function insertSink(tx: Executor, snapshotId: string): RecordSink {
  return {
    async write(batch) {
      const array = <T>(pick: (r: RecordRow) => T) => sql.param(batch.map(pick));
      await tx.execute(sql`
        insert into matching_records (${sql.raw(columns)})
        select ${snapshotId}::uuid, t.line, t.id_index, t.name, t.amount_fen, t.event_date, t.ref, t.attrs::jsonb
        from unnest(
          ${array((r) => r.line)}::int[], ${array((r) => r.idIndex)}::text[], ${array((r) => r.name)}::text[],
          ${array((r) => r.amountFen)}::bigint[], ${array((r) => r.eventDate)}::date[], ${array((r) => r.ref)}::text[],
          ${array((r) => (r.attrs ? JSON.stringify(r.attrs) : null))}::text[]
        ) as t(line, id_index, name, amount_fen, event_date, ref, attrs)`);
    },
    finish: async () => {},
    abort: async () => {},
  };
}
