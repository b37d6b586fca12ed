import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Executor } from '../../db/client.js';
import type { CheckedRecord } from './records.js';

/**
 * Where a load's records go. `add` puts a record in the batch being built; `flush` writes the batch
 * and resolves when the next one may be built (backpressure: a slow database slows the upload
 * instead of filling memory); `finish` once all are written.
 */
export interface RecordSink {
  add(line: number, idIndex: string, record: CheckedRecord): void;
  /** Records added since the last flush. */
  pending(): number;
  flush(): Promise<void>;
  finish(): Promise<void>;
  /** Gives up midway (the transaction is then rolled back). */
  abort(): Promise<void>;
}

const columns = 'snapshot_id, line, id_index, name, amount_fen, event_date, ref, attrs';

// COPY's text format: tab-separated, \N for null, backslash escapes.
const special = /[\\\t\n\r]/;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const text = (value: string | null) =>
  value === null ? '\\N' : special.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => escapes[c]!) : value;

/**
 * PostgreSQL: one `COPY matching_records FROM STDIN` on the load's own connection, inside its
 * transaction, fed a batch (one CopyData message of about 100 kB) at a time. A flush waits only
 * when the socket is backed up, so the database reads one batch while the next is being built.
 */
export function copySink(client: pg.PoolClient, snapshotId: string): RecordSink {
  let copy: ReturnType<typeof copyFrom> | null = null;
  let chunk = '';
  let rows = 0;
  const prefix = `${snapshotId}\t`;
  return {
    add(line, idIndex, r) {
      chunk +=
        prefix +
        line +
        '\t' +
        idIndex +
        '\t' +
        text(r.name) +
        '\t' +
        (r.amountFen === null ? '\\N' : r.amountFen) +
        '\t' +
        (r.eventDate ?? '\\N') +
        '\t' +
        text(r.ref) +
        '\t' +
        (r.attrs === null ? '\\N' : text(JSON.stringify(r.attrs))) +
        '\n';
      rows++;
    },
    pending: () => rows,
    async flush() {
      if (rows === 0) return;
      copy ??= client.query(copyFrom(`COPY matching_records (${columns}) FROM STDIN`));
      const full = !copy.write(chunk);
      chunk = '';
      rows = 0;
      if (full) await once(copy, 'drain');
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
  const batch = {
    line: [] as number[],
    idIndex: [] as string[],
    name: [] as string[],
    amountFen: [] as (number | null)[],
    eventDate: [] as (string | null)[],
    ref: [] as (string | null)[],
    attrs: [] as (string | null)[],
  };
  return {
    add(line, idIndex, r) {
      batch.line.push(line);
      batch.idIndex.push(idIndex);
      batch.name.push(r.name);
      batch.amountFen.push(r.amountFen);
      batch.eventDate.push(r.eventDate);
      batch.ref.push(r.ref);
      batch.attrs.push(r.attrs && JSON.stringify(r.attrs));
    },
    pending: () => batch.line.length,
    async flush() {
      if (batch.line.length === 0) return;
      await tx.execute(sql`
        insert into matching_records (${sql.raw(columns)})
        select ${snapshotId}::uuid, t.line, t.id_index, t.name, t.amount_fen, t.event_date, t.ref, t.attrs::jsonb
        from unnest(
          ${sql.param(batch.line)}::int[], ${sql.param(batch.idIndex)}::text[], ${sql.param(batch.name)}::text[],
          ${sql.param(batch.amountFen)}::bigint[], ${sql.param(batch.eventDate)}::date[], ${sql.param(batch.ref)}::text[],
          ${sql.param(batch.attrs)}::text[]
        ) as t(line, id_index, name, amount_fen, event_date, ref, attrs)`);
      for (const values of Object.values(batch)) values.length = 0;
    },
    finish: async () => {},
    abort: async () => {},
  };
}
