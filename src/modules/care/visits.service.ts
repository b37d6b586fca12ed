import { randomUUID } from 'node:crypto';
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { type Db, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { type FieldError, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import { addDays, businessDateOf } from '../registry/dates.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { CaregiverService } from './caregivers.service.js';
import { body, type CareCaller, check, CLOCK_SKEW_MS, dayStartSql, keyPerson, protectPhone } from './common.js';
import { visitRecorded, visitSymptomsReported } from './events.js';
import { visits } from './tables.js';
import type { NewVisit } from './visits.schemas.js';

export type VisitRow = typeof visits.$inferSelect;

export interface VisitFilter {
  personId?: string | undefined;
  caregiverId?: string | undefined;
  region?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  pii: PiiProtector;
  caregivers: CaregiverService;
  clock: () => Date;
}

const duplicates = (pointer: string, values: readonly string[]): FieldError[] =>
  values.flatMap((v, i) => (values.indexOf(v) < i ? [body(`${pointer}/${i}`, `${v} is listed twice`)] : []));

/** Every field the schema cannot check alone, named. */
function checkVisit(input: NewVisit, now: Date) {
  const errors: FieldError[] = [];
  if (!input.caregiverId && !input.visitorName) {
    errors.push(body('/caregiverId', 'give the caregiver who visited, or visitorName for someone else'));
  }
  if (input.caregiverId && input.visitorName) {
    errors.push(body('/visitorName', 'leave it out when caregiverId names the visitor'));
  }
  if (input.visitorPhone && !input.visitorName) errors.push(body('/visitorPhone', 'goes with visitorName'));
  const at = new Date(input.visitedAt);
  if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) errors.push(body('/visitedAt', 'must not be in the future'));
  const day = businessDateOf(at);
  if (input.followUpDate && input.followUpDate < day) {
    errors.push(body('/followUpDate', `must not be before the visit’s day ${day}`));
  }
  errors.push(...duplicates('/symptoms', input.symptoms ?? []), ...duplicates('/needs', input.needs ?? []));
  check(errors);
  return { at, day };
}

/**
 * Visits to key persons (measure 4). A visit, in one transaction: completes the person's open
 * visit task (the earliest whose window has begun by the visit's day; a late visit completes an
 * overdue task), becomes the person's last visit when it is the latest, and publishes
 * `visit.recorded` (and `visit.symptoms_reported` when it found symptoms), with an audit row.
 */
export function createVisitService({ db, audit, events, pii, caregivers, clock }: Deps) {
  async function record(caller: Jurisdictional, actor: AuditActor, input: NewVisit): Promise<VisitRow> {
    const { at, day } = checkVisit(input, clock());
    const symptoms = input.symptoms ?? [];
    return db.transaction(async (tx) => {
      const person = await keyPerson(tx, caller, input.personId);
      if (input.caregiverId) await caregivers.find(tx, caller, input.caregiverId);
      const id = randomUUID();
      const [task] = await rows<{ id: string }>(
        tx,
        sql`update visit_tasks set status = 'done', visit_id = ${id}, completed_at = now()
          where status = 'open' and id = (
            select t.id from visit_tasks t
            where t.person_id = ${person.id} and t.status = 'open' and t.window_start <= ${day}::date
            order by t.window_start limit 1 for update)
          returning id`,
      );
      const phone = input.visitorPhone ? protectPhone(pii, input.visitorPhone) : null;
      const [row] = await tx
        .insert(visits)
        .values({
          id,
          personId: person.id,
          region: person.region,
          caregiverId: input.caregiverId ?? null,
          visitorName: input.visitorName ?? null,
          visitorPhoneSealed: phone?.sealed ?? null,
          visitorPhoneIndex: phone?.index ?? null,
          visitorPhoneMasked: phone?.masked ?? null,
          sealedKeyId: phone?.keyId ?? null,
          taskId: task?.id ?? null,
          channel: input.channel,
          visitedAt: at,
          healthStatus: input.healthStatus,
          symptoms,
          symptomsText: input.symptomsText ?? null,
          needs: input.needs ?? [],
          needsText: input.needsText ?? null,
          followUp: input.followUp ?? null,
          followUpDate: input.followUpDate ?? null,
          recordedByClientId: actor.clientId,
        })
        .returning();
      // The latest visit only: a visit recorded late does not hide a newer one.
      await tx.execute(sql`insert into care_last_visits (person_id, visit_id, visited_at)
        values (${person.id}, ${id}, ${at.toISOString()}::timestamptz)
        on conflict (person_id) do update set visit_id = excluded.visit_id, visited_at = excluded.visited_at
        where care_last_visits.visited_at < excluded.visited_at`);
      const visit = row!;
      const data = {
        visitId: id,
        personId: person.id,
        region: person.region,
        caregiverId: visit.caregiverId,
        channel: input.channel,
        visitedAt: at.toISOString(),
        healthStatus: input.healthStatus,
        symptoms,
        needs: input.needs ?? [],
        followUpDate: visit.followUpDate,
        taskId: visit.taskId,
      };
      await events.publish(tx, visitRecorded, { subject: `visit/${id}`, region: person.region, data });
      if (symptoms.length > 0 || input.healthStatus === 'symptomatic') {
        await events.publish(tx, visitSymptomsReported, { subject: `visit/${id}`, region: person.region, data });
      }
      await audit.record(tx, actor, {
        operation: 'recordVisit',
        resourceType: 'visit',
        resourceIds: task ? [id, task.id] : [id],
        personIds: [person.id],
        detail: { channel: input.channel, healthStatus: input.healthStatus, taskId: task?.id ?? null },
      });
      return visit;
    });
  }

  const readAudit = (caller: CareCaller, actor: AuditActor, operation: string, found: VisitRow[]) =>
    found.length === 0
      ? Promise.resolve()
      : audit.recordRead(actor, {
          operation:
            caller.scopes.includes('registry:read_sensitive') && found.some((v) => v.visitorPhoneSealed)
              ? `${operation}Unmasked`
              : operation,
          resourceType: 'visit',
          resourceIds: found.map((v) => v.id),
          personIds: [...new Set(found.map((v) => v.personId))],
        });

  async function get(caller: CareCaller, actor: AuditActor, id: string) {
    const [row] = await db.select().from(visits).where(eq(visits.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('visit');
    await readAudit(caller, actor, 'getVisit', [row]);
    return row;
  }

  /** Newest visit first; `after` is the id of the previous page's last visit. */
  async function list(
    caller: CareCaller,
    actor: AuditActor,
    filter: VisitFilter,
    page: { after?: string | undefined; limit: number },
  ) {
    if (filter.from && filter.to && filter.to < filter.from) {
      throw validationError([{ in: 'query', pointer: '/to', detail: 'must not be before from' }]);
    }
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const v = visits;
    const conditions: SQL[] = [sql`${v.region} like ${`${prefix}%`}`];
    if (filter.personId) conditions.push(eq(v.personId, filter.personId));
    if (filter.caregiverId) conditions.push(eq(v.caregiverId, filter.caregiverId));
    if (filter.from) conditions.push(sql`${v.visitedAt} >= ${dayStartSql(filter.from)}`);
    if (filter.to) conditions.push(sql`${v.visitedAt} < ${dayStartSql(addDays(filter.to, 1))}`);
    if (page.after) {
      conditions.push(
        sql`(${v.visitedAt}, ${v.id}) < (select x.visited_at, x.id from ${v} x where x.id = ${page.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(v)
      .where(and(...conditions))
      .orderBy(desc(v.visitedAt), desc(v.id))
      .limit(page.limit + 1);
    const items = found.slice(0, page.limit);
    await readAudit(caller, actor, 'listVisits', items);
    return { items, more: found.length > page.limit };
  }

  return { record, get, list };
}

export type VisitService = ReturnType<typeof createVisitService>;
