import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import { type Db, type Executor, rows } from '../../db/client.js';
import { clients } from '../clients/tables.js';
import { jurisdictionCondition } from '../jurisdiction.js';
import { auditEvents } from './tables.js';

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

export function createAuditService({ db }: { db: Db }) {
  /** Writes one audit row in the caller's transaction: it exists exactly when the change does. */
  async function record(tx: Executor, actor: AuditActor, entry: AuditEntry): Promise<void> {
    await tx.insert(auditEvents).values({
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
  }

  /**
   * Records a read of data (who looked at what), in one round trip with asynchronous commit: see
   * migration 0002. Never inside a transaction that changes anything: use `record` there.
   */
  async function recordRead(actor: AuditActor, entry: Omit<AuditEntry, 'outcome' | 'detail'>): Promise<void> {
    await db.execute(
      sql`select audit_record_read(${actor.clientId}, ${actor.agency}, ${actor.requestId}, ${entry.operation},
             ${entry.resourceType}, ${sql.param(entry.resourceIds ?? [])}::text[], ${sql.param(entry.personIds ?? [])}::uuid[])`,
    );
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
      .select()
      .from(auditEvents)
      .where(and(...conditions))
      .orderBy(desc(auditEvents.seq))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
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
    const [counts] = await rows<{ unsealed: number }>(
      db,
      sql`select count(*)::int as unsealed from audit_events where chain_seq is null`,
    );
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
          select e.chain_seq, e.id, e.prev_hash, e.hash,
                 audit_event_hash(e.prev_hash, e.chain_seq, e) as expected,
                 lag(e.hash) over (order by e.chain_seq) as prior_hash,
                 ${from}::bigint + row_number() over (order by e.chain_seq) as expected_seq
          from audit_events e
          where e.chain_seq > ${from} and e.chain_seq <= ${to}
        )
        select chain_seq::float8 as chain_seq, id::text, reason, null as last_hash, (expected_seq - ${from} - 1)::float8 as n from (
          select chain_seq, id, expected_seq,
            case
              when chain_seq <> expected_seq then 'gap: audit rows before this one are missing'
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
      sql`select (select max(chain_seq) from audit_events)::float8 as max,
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
    return { ok: true, checked, unsealed: counts?.unsealed ?? 0, headChainSeq: headSeq, firstBroken: null };
  }

  return { record, recordRead, list, seal, verify };
}

export type AuditService = ReturnType<typeof createAuditService>;
