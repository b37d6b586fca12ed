import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { type FieldError, notFound, validationError } from '../../platform/errors.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import { persons } from '../registry/people.tables.js';
import type { ReportDeps } from './common.js';
import { urgentReportFiled, urgentReportSentToCdc, urgentReportSentToHealth } from './events.js';
import type { audiences, UrgentReportInput, urgentTypes } from './schemas.js';
import { urgentReportPersons, urgentReports } from './tables.js';
import { checkDistrict } from './view.js';

type Audience = (typeof audiences)[number];
type UrgentRow = typeof urgentReports.$inferSelect;

/** A caller's clock may run a little ahead of ours. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Who besides civil affairs (the district's and the city's, scope reports:read) an urgent report
 * concerns, by its type: infections and deaths health and disease control (the receivers of
 * referrals, scope referrals:receive, which both hold), hardship in quarantine disease control alone
 * (the receivers of close-contact handoffs, contacts:receive). Civil affairs holds neither scope,
 * so it learns of each report once, by urgent_report.filed.
 */
export const audienceOf: Record<(typeof urgentTypes)[number], Audience[]> = {
  infection: ['health', 'cdc'],
  death: ['health', 'cdc'],
  quarantine_hardship: ['cdc'],
  care_gap: [],
  supply_shortage: [],
  safety: [],
  other: [],
};

export interface UrgentFilter {
  region?: string | undefined;
  type?: string | undefined;
  severity?: string | undefined;
  after?: string | undefined;
  limit: number;
}

const out = (r: UrgentRow, personIds: string[]) => ({
  id: r.id,
  district: r.district,
  type: r.type as (typeof urgentTypes)[number],
  severity: r.severity as UrgentReportInput['severity'],
  personIds,
  description: r.description,
  occurredAt: r.occurredAt.toISOString(),
  audience: r.audience as Audience[],
  filedAt: r.filedAt.toISOString(),
  filedBy: r.filedByClientId,
});

/** Urgent reports (measure 7, item 3): filed at any time, pushed at once as events, never changed. */
export function createUrgentReports({ db, audit, events, regions, clock }: ReportDeps) {
  async function personsOf(executor: Executor, ids: string[]) {
    const map = new Map<string, string[]>();
    if (ids.length === 0) return map;
    const found = await executor
      .select()
      .from(urgentReportPersons)
      .where(inArray(urgentReportPersons.reportId, ids))
      .orderBy(urgentReportPersons.personId);
    for (const p of found) map.set(p.reportId, [...(map.get(p.reportId) ?? []), p.personId]);
    return map;
  }

  async function checkPersons(caller: Jurisdictional, ids: string[]): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) errors.push({ in: 'body', pointer: `/personIds/${i}`, detail: 'is listed twice' });
      seen.add(id);
    });
    if (ids.length === 0) return errors;
    const found = await db
      .select({ id: persons.id, region: persons.region })
      .from(persons)
      .where(inArray(persons.id, [...seen]));
    const visible = new Set(found.filter((p) => inJurisdiction(caller, p.region)).map((p) => p.id));
    ids.forEach((id, i) => {
      if (!visible.has(id)) {
        errors.push({
          in: 'body',
          pointer: `/personIds/${i}`,
          detail: 'is not a person of the registry in your jurisdiction',
        });
      }
    });
    return errors;
  }

  async function file(caller: Jurisdictional, actor: AuditActor, input: UrgentReportInput) {
    const now = clock();
    const occurredAt = input.occurredAt ? new Date(input.occurredAt) : now;
    const errors = await checkPersons(caller, input.personIds);
    if (occurredAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
      errors.unshift({ in: 'body', pointer: '/occurredAt', detail: 'must not be in the future' });
    }
    if (errors.length > 0) throw validationError(errors);
    await checkDistrict(regions, caller, input.district, { in: 'body', pointer: '/district' });
    const audience = audienceOf[input.type];
    return db.transaction(async (tx) => {
      const [row] = await tx
        .insert(urgentReports)
        .values({
          district: input.district,
          type: input.type,
          severity: input.severity,
          description: input.description,
          occurredAt,
          audience,
          filedAt: now,
          filedByClientId: actor.clientId,
        })
        .returning();
      const r = row!;
      if (input.personIds.length > 0) {
        await tx.insert(urgentReportPersons).values(input.personIds.map((personId) => ({ reportId: r.id, personId })));
      }
      const personIds = [...input.personIds].sort();
      const answer = out(r, personIds);
      const event = {
        subject: `urgent_report/${r.id}`,
        region: r.district,
        data: {
          urgentReportId: r.id,
          district: r.district,
          type: answer.type,
          severity: answer.severity,
          personIds,
          description: r.description,
          occurredAt: answer.occurredAt,
          filedAt: answer.filedAt,
          audience,
        },
      };
      await events.publish(tx, urgentReportFiled, event);
      if (audience.includes('health')) await events.publish(tx, urgentReportSentToHealth, event);
      else if (audience.includes('cdc')) await events.publish(tx, urgentReportSentToCdc, event);
      await audit.record(tx, actor, {
        operation: 'fileUrgentReport',
        resourceType: 'urgent_report',
        resourceIds: [r.id],
        personIds,
        detail: { district: r.district, type: r.type, severity: r.severity, audience },
      });
      return answer;
    });
  }

  async function get(caller: Jurisdictional, actor: AuditActor, id: string) {
    const [row] = await db.select().from(urgentReports).where(eq(urgentReports.id, id));
    if (!row || !inJurisdiction(caller, row.district)) throw notFound('urgent report');
    const personIds = (await personsOf(db, [row.id])).get(row.id) ?? [];
    if (personIds.length > 0) {
      await audit.recordRead(actor, {
        operation: 'getUrgentReport',
        resourceType: 'urgent_report',
        resourceIds: [row.id],
        personIds,
      });
    }
    return out(row, personIds);
  }

  /** Newest first, keyed on (filed_at, id) after the cursor's report. */
  async function list(caller: Jurisdictional, actor: AuditActor, filter: UrgentFilter) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [sql`${urgentReports.district} like ${`${prefix}%`}`];
    if (filter.type) conditions.push(eq(urgentReports.type, filter.type));
    if (filter.severity) conditions.push(eq(urgentReports.severity, filter.severity));
    if (filter.after) {
      conditions.push(
        sql`(${urgentReports.filedAt}, ${urgentReports.id}) < (select u.filed_at, u.id from urgent_reports u where u.id = ${filter.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(urgentReports)
      .where(and(...conditions))
      .orderBy(desc(urgentReports.filedAt), desc(urgentReports.id))
      .limit(filter.limit + 1);
    const page = found.slice(0, filter.limit);
    const people = await personsOf(
      db,
      page.map((r) => r.id),
    );
    const named = [...new Set(page.flatMap((r) => people.get(r.id) ?? []))];
    if (named.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listUrgentReports',
        resourceType: 'urgent_report',
        resourceIds: page.map((r) => r.id),
        personIds: named,
      });
    }
    return { items: page.map((r) => out(r, people.get(r.id) ?? [])), more: found.length > filter.limit };
  }

  return { file, get, list };
}
