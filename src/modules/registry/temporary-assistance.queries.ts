import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { notFound } from '../../platform/errors.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { InKindItem } from './assistance.tables.js';
import { temporaryAssistance } from './assistance.tables.js';
import { type AssistanceStatus, paperworkOnTime } from './temporary-assistance.closing.js';
import type { AssistanceRow } from './temporary-assistance.rules.js';

export interface AssistanceFilter {
  status?: AssistanceStatus | undefined;
  region?: string | undefined;
  personId?: string | undefined;
  overduePaperwork?: boolean | undefined;
  /** Id of the last item of the previous page. */
  after?: string | undefined;
  limit: number;
}

type Needs = ('food' | 'medicine' | 'protective_items' | 'cash' | 'care' | 'medical' | 'other')[];
type Stranded = 'family_visit' | 'travel' | 'work' | 'other';
type Infection = 'confirmed' | 'suspected' | 'close_contact' | 'not_infected';

const overdue = (today: string) =>
  sql`${temporaryAssistance.status} = 'granted' and ${temporaryAssistance.paperworkDueDate} < ${today}::date`;

/** The resource as the API shows it; `today` (Asia/Shanghai) decides whether paperwork is overdue. */
export const assistanceOut = (row: AssistanceRow, today: string) => ({
  id: row.id,
  personId: row.personId,
  householdId: row.householdId,
  region: row.region,
  hukouRegion: row.hukouRegion,
  nonLocal: row.nonLocal,
  policyId: row.policyId,
  strandedReason: row.strandedReason as Stranded | null,
  infectionStatus: row.infectionStatus as Infection | null,
  status: row.status as AssistanceStatus,
  needs: row.needs as Needs,
  cashFen: row.cashFen,
  inKind: row.inKind.map((i: InKindItem) => ({ item: i.item, quantity: i.quantity, unit: i.unit })),
  reason: row.reason,
  welfareContactId: row.welfareContactId,
  openedAt: row.openedAt.toISOString(),
  grantedAt: row.grantedAt?.toISOString() ?? null,
  grantedBy: row.grantedByClientId,
  paperworkDueDate: row.paperworkDueDate,
  paperworkOverdue: row.status === 'granted' && row.paperworkDueDate !== null && row.paperworkDueDate < today,
  completedAt: row.completedAt?.toISOString() ?? null,
  paperworkOnTime: paperworkOnTime(row),
  closedReason: row.closedReason,
  createdBy: row.createdByClientId,
  updatedAt: row.updatedAt.toISOString(),
});

/** Reads of temporary assistance, inside the caller's jurisdiction (by place of emergency); each audited. */
export function createAssistanceQueries({ db, audit, today }: { db: Db; audit: AuditService; today: () => string }) {
  async function get(caller: Jurisdictional, actor: AuditActor, id: string): Promise<AssistanceRow> {
    const [row] = await db.select().from(temporaryAssistance).where(eq(temporaryAssistance.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('temporary assistance');
    await audit.recordRead(actor, {
      operation: 'getTemporaryAssistance',
      resourceType: 'temporary_assistance',
      resourceIds: [id],
      personIds: [row.personId],
    });
    return row;
  }

  /** Newest opened first. */
  async function list(caller: Jurisdictional, actor: AuditActor, filter: AssistanceFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const t = temporaryAssistance;
    const conditions: SQL[] = [sql`${t.region} like ${`${prefix}%`}`];
    if (filter.status) conditions.push(eq(t.status, filter.status));
    if (filter.personId) conditions.push(eq(t.personId, filter.personId));
    if (filter.overduePaperwork === true) conditions.push(overdue(today()));
    if (filter.overduePaperwork === false) conditions.push(sql`not (${overdue(today())})`);
    if (filter.after) {
      conditions.push(
        sql`(${t.openedAt}, ${t.id}) < (select a.opened_at, a.id from ${t} a where a.id = ${filter.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(t)
      .where(and(...conditions))
      .orderBy(desc(t.openedAt), desc(t.id))
      .limit(filter.limit + 1);
    const items = found.slice(0, filter.limit);
    if (items.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listTemporaryAssistance',
        resourceType: 'temporary_assistance',
        resourceIds: items.map((r) => r.id),
        personIds: [...new Set(items.map((r) => r.personId))],
      });
    }
    return { items, more: found.length > filter.limit };
  }

  return { get, list };
}
