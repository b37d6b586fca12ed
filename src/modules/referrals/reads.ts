import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { AuditActor } from '../../platform/audit/service.js';
import { notFound } from '../../platform/errors.js';
import { effectiveRegionPrefix, inJurisdiction } from '../../platform/jurisdiction.js';
import type { Deps } from './common.js';
import type { ReferralStatus } from './schemas.js';
import { referrals, referralSteps } from './tables.js';
import { loadPersons, type PersonFacts, type ReferralRow, type StepRow, type Viewer } from './view.js';

export interface ReferralFilter {
  status?: ReferralStatus | undefined;
  region?: string | undefined;
  personId?: string | undefined;
  /** Still reported after the acknowledgement deadline; listed the longest overdue first. */
  overdue?: boolean | undefined;
  /** Id of the last referral of the previous page. */
  after?: string | undefined;
  limit: number;
}

export interface ReferralRead {
  row: ReferralRow;
  person: PersonFacts;
  steps: StepRow[];
}

const r = referrals;

/** Reads of referrals, inside the caller's jurisdiction, each audited with the persons it showed. */
export function createReads({ db, audit, clock }: Deps) {
  const recordRead = (actor: AuditActor, operation: string, rows: ReferralRow[]) =>
    audit.recordRead(actor, {
      operation,
      resourceType: 'referral',
      resourceIds: rows.map((x) => x.id),
      personIds: [...new Set(rows.map((x) => x.personId))],
    });

  /** The referral with its person and steps, unaudited: for answers whose audit row is written already. */
  async function load(caller: Viewer, id: string): Promise<ReferralRead> {
    const [row] = await db.select().from(r).where(eq(r.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('referral');
    const steps = await db
      .select()
      .from(referralSteps)
      .where(eq(referralSteps.referralId, id))
      .orderBy(asc(referralSteps.seq));
    const person = (await loadPersons(db, [row.personId])).get(row.personId)!;
    return { row, person, steps };
  }

  async function get(caller: Viewer, actor: AuditActor, id: string, operation = 'getReferral') {
    const read = await load(caller, id);
    await recordRead(actor, operation, [read.row]);
    return read;
  }

  /** Newest first; overdue ones by deadline, the longest overdue first. Keyset on (key, id). */
  function ordering(filter: ReferralFilter) {
    if (filter.overdue) {
      const key = sql`(${r.ackDueAt}, ${r.id}) > (select x.ack_due_at, x.id from ${r} x where x.id = ${filter.after}::uuid)`;
      return { key, order: [asc(r.ackDueAt), asc(r.id)] };
    }
    const key = sql`(${r.createdAt}, ${r.id}) < (select x.created_at, x.id from ${r} x where x.id = ${filter.after}::uuid)`;
    return { key, order: [desc(r.createdAt), desc(r.id)] };
  }

  async function list(caller: Viewer, actor: AuditActor, filter: ReferralFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [sql`${r.region} like ${`${prefix}%`}`];
    if (filter.status) conditions.push(eq(r.status, filter.status));
    if (filter.personId) conditions.push(eq(r.personId, filter.personId));
    if (filter.overdue === true) {
      conditions.push(sql`${r.status} = 'reported' and ${r.ackDueAt} < ${clock().toISOString()}::timestamptz`);
    } else if (filter.overdue === false) {
      conditions.push(sql`not (${r.status} = 'reported' and ${r.ackDueAt} < ${clock().toISOString()}::timestamptz)`);
    }
    const { key, order } = ordering(filter);
    if (filter.after) conditions.push(key);
    const found = await db
      .select()
      .from(r)
      .where(and(...conditions))
      .orderBy(...order)
      .limit(filter.limit + 1);
    const rows = found.slice(0, filter.limit);
    const persons = await loadPersons(
      db,
      rows.map((x) => x.personId),
    );
    if (rows.length > 0) await recordRead(actor, 'listReferrals', rows);
    return {
      items: rows.map((row) => ({ row, person: persons.get(row.personId)! })),
      more: found.length > filter.limit,
    };
  }

  return { load, get, list };
}
