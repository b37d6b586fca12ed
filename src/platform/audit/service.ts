import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import { type Db, type Executor, rows } from '../../db/client.js';
import { clients } from '../clients/tables.js';
import { jurisdictionCondition } from '../jurisdiction.js';
import { auditChain, auditEvents } from './tables.js';

export type AuditOutcome = 'success' | 'denied' | 'failed';

/** Who did it and under which request: taken from the authenticated request. */
export interface AuditActor {
  clientId: string | null;
  agency: string | null;
  requestId: string | null;
}

export interface AuditEntry {
  operation: string;
  resourceType: string;
  resourceIds?: string[];
  personIds?: string[];
  outcome?: AuditOutcome;
  detail?: Record<string, unknown>;
}

export interface AuditFilter {
  /** The reader's jurisdiction: only events of clients inside it (and, city-wide, the service's own). */
  jurisdiction?: string;
  personId?: string;
  clientId?: string;
  operation?: string;
  resourceType?: string;
  from?: Date;
  to?: Date;
  /** seq of the last row of the previous page. */
  beforeSeq?: number;
  limit: number;
}

export interface ChainBreak {
  chainSeq: number;
  auditEventId: string | null;
  reason: string;
}

export interface ChainReport {
  ok: boolean;
  checked: number;
  unsealed: number;
  headChainSeq: number;
  firstBroken: ChainBreak | null;
}

const GENESIS = '0'.repeat(64);
const VERIFY_CHUNK = 50_000;
const READ_BATCH_MAX = 500;

/** An audit row's columns, as `record` writes them. */
export const auditRowOf = (actor: AuditActor, entry: AuditEntry) => ({
  clientId: actor.clientId,
  agency: actor.agency,
  requestId: actor.requestId,
  operation: entry.operation,
  resourceType: entry.resourceType,
  resourceIds: entry.resourceIds ?? [],
  personIds: entry.personIds ?? [],
  outcome: entry.outcome ?? 'success',
  detail: entry.detail ?? null,
});

export function createAuditService({ db }: { db: Db }) {
  const rowOf = auditRowOf;

  /** Writes one audit row in the caller's transaction: it exists exactly when the change does. */
  async function record(tx: Executor, actor: AuditActor, entry: AuditEntry): Promise<void> {
    await tx.insert(auditEvents).values(rowOf(actor, entry));
  }

  /**
   * `record` for a statement of the caller's own, prepared once: its INSERT as a common table
   * expression named `name` to put in the statement's `with`, whose values are placeholders
   * `<name>.*`, and `values(actor, entry)` to fill them. The row is written in the same round trip
   * as the change it records, and exists exactly when the change does.
   */
  function recordWith(name = 'audit') {
    const at = (field: string) => sql`${sql.placeholder(`${name}.${field}`)}`;
    const cte = db.$with(name, {}).as(
      db
        .insert(auditEvents)
        .values({
          clientId: at('clientId'),
          agency: at('agency'),
          requestId: at('requestId'),
          operation: at('operation'),
          resourceType: at('resourceType'),
          resourceIds: sql`${at('resourceIds')}::text[]`,
          personIds: sql`${at('personIds')}::uuid[]`,
          outcome: at('outcome'),
          detail: sql`${at('detail')}::jsonb`,
        })
        .getSQL(),
    );
    return {
      cte,
      values(actor: AuditActor, entry: AuditEntry): Record<string, unknown> {
        const row = rowOf(actor, entry);
        // Placeholders outside a column's encoder: the driver takes arrays as arrays, and JSON as text (null stays NULL).
        return Object.fromEntries(
          Object.entries({ ...row, detail: row.detail === null ? null : JSON.stringify(row.detail) }).map(([k, v]) => [
            `${name}.${k}`,
            v,
          ]),
        );
      },
    };
  }

  // Reads are recorded in batches: every read waits until its row is written (nothing answers
  // before its record exists), but the reads of one turn of the event loop share one INSERT. The
  // commit does not wait for the WAL flush (synchronous_commit off for this statement alone): a
  // database crash could lose the last fraction of a second of read records; records of changes
  // are written in the change's own transaction and are as durable as the change.
  type Waiting = { row: Record<string, unknown>; resolve: () => void; reject: (err: unknown) => void };
  let batch: Waiting[] | null = null;

  async function flushReads(reads: Waiting[]): Promise<void> {
    for (let i = 0; i < reads.length; i += READ_BATCH_MAX) {
      const slice = reads.slice(i, i + READ_BATCH_MAX);
      try {
        await db.execute(sql`
          with async_commit as (select set_config('synchronous_commit', 'off', true))
          insert into audit_events (client_id, agency, request_id, operation, resource_type, resource_ids, person_ids, outcome)
          select client_id, agency, request_id, operation, resource_type, resource_ids, person_ids, 'success'
          from async_commit, jsonb_to_recordset(${JSON.stringify(slice.map((w) => w.row))}::jsonb) as r(
            client_id uuid, agency text, request_id text, operation text, resource_type text,
            resource_ids text[], person_ids uuid[])`);
        for (const w of slice) w.resolve();
      } catch (err) {
        for (const w of slice) w.reject(err);
      }
    }
  }

  /**
   * Records that someone read something (who looked at what); resolves once the row is written.
   * Outside any transaction: reads change nothing, so there is none to join.
   */
  function recordRead(actor: AuditActor, entry: Omit<AuditEntry, 'outcome' | 'detail'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!batch) {
        const reads: Waiting[] = (batch = []);
        setImmediate(() => {
          batch = null;
          void flushReads(reads);
        });
      }
      batch.push({
        row: {
          client_id: actor.clientId,
          agency: actor.agency,
          request_id: actor.requestId,
          operation: entry.operation,
          resource_type: entry.resourceType,
          resource_ids: entry.resourceIds ?? [],
          person_ids: entry.personIds ?? [],
        },
        resolve,
        reject,
      });
    });
  }

  async function list(filter: AuditFilter) {
    const conditions: SQL[] = [];
    if (filter.jurisdiction !== undefined) {
      const cityWide = filter.jurisdiction.length <= 4;
      conditions.push(
        sql`(${auditEvents.clientId} in (select ${clients.id} from ${clients}
               where ${jurisdictionCondition({ jurisdiction: filter.jurisdiction }, clients.jurisdiction)})
             or (${auditEvents.clientId} is null and ${cityWide}))`,
      );
    }
    if (filter.personId) conditions.push(sql`${auditEvents.personIds} @> array[${filter.personId}]::uuid[]`);
    if (filter.clientId) conditions.push(eq(auditEvents.clientId, filter.clientId));
    if (filter.operation) conditions.push(eq(auditEvents.operation, filter.operation));
    if (filter.resourceType) conditions.push(eq(auditEvents.resourceType, filter.resourceType));
    if (filter.from) conditions.push(gte(auditEvents.occurredAt, filter.from));
    // Times are stored to the microsecond but written out to the millisecond: `to` takes in its
    // whole millisecond, so an event's own occurredAt finds it.
    if (filter.to) conditions.push(lt(auditEvents.occurredAt, new Date(filter.to.getTime() + 1)));
    if (filter.beforeSeq !== undefined) conditions.push(lt(auditEvents.seq, filter.beforeSeq));
    const found = await db
      .select({ event: auditEvents, chainSeq: auditChain.chainSeq, hash: auditChain.hash })
      .from(auditEvents)
      .leftJoin(auditChain, eq(auditChain.auditSeq, auditEvents.seq))
      .where(and(...conditions))
      .orderBy(desc(auditEvents.seq))
      .limit(filter.limit + 1);
    const items = found.slice(0, filter.limit).map((r) => ({ ...r.event, chainSeq: r.chainSeq, hash: r.hash }));
    return { items, more: found.length > filter.limit };
  }

  /** Chains whatever is unsealed; returns how many rows it sealed. Safe to run from several instances. */
  async function seal(batch = 5_000): Promise<number> {
    let total = 0;
    for (;;) {
      const sealed = await rows<{ n: number }>(db, sql`select audit_seal(${batch})::int as n`);
      const n = sealed[0]?.n ?? 0;
      total += n;
      if (n < batch) return total;
    }
  }

  /**
   * Recomputes every link of the chain, a chunk at a time, and reports the first broken one: a row
   * whose content no longer matches its hash, a link that does not point at the row before, a gap.
   */
  async function verify(onProgress?: (done: number, total: number) => Promise<void>): Promise<ChainReport> {
    const [head] = await rows<{ last_chain_seq: number; last_hash: string }>(
      db,
      sql`select last_chain_seq::bigint::float8 as last_chain_seq, last_hash from audit_chain_head where id = 1`,
    );
    const headSeq = Number(head?.last_chain_seq ?? 0);
    const [counts] = await rows<{ unsealed: number }>(db, sql`select count(*)::int as unsealed from audit_unsealed`);
    let prevHash = GENESIS;
    let checked = 0;
    for (let from = 0; from < headSeq || from === 0; from += VERIFY_CHUNK) {
      // Only up to the head read above: rows a concurrent sealer adds meanwhile are not this run's.
      const to = Math.min(from + VERIFY_CHUNK, headSeq);
      // `n`: for a broken row, how many rows of the chunk came before it; for 'last', the chunk's size.
      const broken = await rows<{
        chain_seq: number;
        id: string | null;
        reason: string;
        last_hash: string | null;
        n: number;
      }>(
        db,
        sql`
        with chunk as (
          select c.chain_seq, e.id, e.seq as event_seq, c.prev_hash, c.hash,
                 case when e.seq is not null then audit_event_hash(c.prev_hash, c.chain_seq, e) end as expected,
                 lag(c.hash) over (order by c.chain_seq) as prior_hash,
                 ${from}::bigint + row_number() over (order by c.chain_seq) as expected_seq
          from audit_chain c left join audit_events e on e.seq = c.audit_seq
          where c.chain_seq > ${from} and c.chain_seq <= ${to}
        )
        select chain_seq::float8 as chain_seq, id::text, reason, null as last_hash, (expected_seq - ${from} - 1)::float8 as n from (
          select chain_seq, id, event_seq, expected_seq,
            case
              when chain_seq <> expected_seq then 'gap: links of the chain before this one are missing'
              when event_seq is null then 'row missing: the audit row this link seals was deleted'
              when prev_hash is distinct from coalesce(prior_hash, ${prevHash}) then 'link broken: prev_hash does not match the row before'
              when hash is distinct from expected then 'content changed: the row no longer matches its hash'
            end as reason
          from chunk
        ) c where reason is not null
        union all
        select null, null, 'last', (select hash from chunk order by chain_seq desc limit 1), (select count(*) from chunk)::float8
        order by 1 nulls last
        limit 2`,
      );
      const first = broken.find((b) => b.reason !== 'last');
      if (first) {
        return {
          ok: false,
          checked: checked + Number(first.n),
          unsealed: counts?.unsealed ?? 0,
          headChainSeq: headSeq,
          firstBroken: { chainSeq: Number(first.chain_seq), auditEventId: first.id, reason: first.reason },
        };
      }
      const last = broken.find((b) => b.reason === 'last');
      checked += Number(last?.n ?? 0);
      if (last?.last_hash) prevHash = last.last_hash;
      if (onProgress) await onProgress(checked, headSeq);
      if (to >= headSeq) break;
    }
    if (checked < headSeq) {
      return {
        ok: false,
        checked,
        unsealed: counts?.unsealed ?? 0,
        headChainSeq: headSeq,
        firstBroken: {
          chainSeq: checked + 1,
          auditEventId: null,
          reason: 'head mismatch: rows are missing at the end of the chain',
        },
      };
    }
    if (prevHash !== (head?.last_hash ?? GENESIS)) {
      return {
        ok: false,
        checked,
        unsealed: counts?.unsealed ?? 0,
        headChainSeq: headSeq,
        firstBroken: {
          chainSeq: headSeq,
          auditEventId: null,
          reason: 'head mismatch: the chain does not end where the head says',
        },
      };
    }
    // The last row and the head as of one moment (a sealer moves both in one transaction).
    const [max] = await rows<{ max: number | null; head: number | null }>(
      db,
      sql`select (select max(chain_seq) from audit_chain)::float8 as max,
                 (select last_chain_seq from audit_chain_head where id = 1)::float8 as head`,
    );
    if (Number(max?.max ?? 0) !== Number(max?.head ?? 0)) {
      return {
        ok: false,
        checked,
        unsealed: counts?.unsealed ?? 0,
        headChainSeq: headSeq,
        firstBroken: {
          chainSeq: Math.min(Number(max?.max ?? 0), Number(max?.head ?? 0)) + 1,
          auditEventId: null,
          reason:
            Number(max?.max ?? 0) < Number(max?.head ?? 0)
              ? 'head mismatch: rows are missing at the end of the chain'
              : 'head mismatch: sealed rows lie beyond the head',
        },
      };
    }
    // A row neither chained nor queued (its queue entry removed) would otherwise go unnoticed.
    const [outside] = await rows<{ id: string }>(
      db,
      sql`select e.id::text from audit_events e
          where not exists (select 1 from audit_chain c where c.audit_seq = e.seq)
            and not exists (select 1 from audit_unsealed u where u.seq = e.seq)
          order by e.seq limit 1`,
    );
    if (outside) {
      return {
        ok: false,
        checked,
        unsealed: counts?.unsealed ?? 0,
        headChainSeq: headSeq,
        firstBroken: {
          chainSeq: headSeq + 1,
          auditEventId: outside.id,
          reason: 'row outside the chain: neither chained nor queued for sealing',
        },
      };
    }
    return { ok: true, checked, unsealed: counts?.unsealed ?? 0, headChainSeq: headSeq, firstBroken: null };
  }

  return { record, recordWith, recordRead, list, seal, verify };
}

export type AuditService = ReturnType<typeof createAuditService>;
