import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { type Db, type Executor, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict, invalidState, notFound, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { AssignmentOut, NewAssignment } from './assignments.schemas.js';
import type { CaregiverService } from './caregivers.service.js';
import { body, isUniqueViolation, keyPerson } from './common.js';
import { careAssignmentEnded, careAssignmentStarted } from './events.js';
import { careAssignments } from './tables.js';
import { lockTasksShared, moveOpenTasks } from './tasks.sql.js';

export type AssignmentRow = typeof careAssignments.$inferSelect;

export interface AssignmentFilter {
  personId?: string | undefined;
  caregiverId?: string | undefined;
  region?: string | undefined;
  active?: boolean | undefined;
}

export const assignmentOut = (a: AssignmentRow): AssignmentOut => ({
  id: a.id,
  personId: a.personId,
  caregiverId: a.caregiverId,
  region: a.region,
  note: a.note,
  active: a.endedAt === null,
  startedAt: a.startedAt.toISOString(),
  assignedBy: a.assignedByClientId,
  endedAt: a.endedAt?.toISOString() ?? null,
  endReason: a.endReason,
  endedBy: a.endedByClientId,
});

const eventData = (a: AssignmentRow, previousAssignmentId: string | null = null) => ({
  careAssignmentId: a.id,
  personId: a.personId,
  caregiverId: a.caregiverId,
  region: a.region,
  startedAt: a.startedAt.toISOString(),
  endedAt: a.endedAt?.toISOString() ?? null,
  endReason: a.endReason,
  previousAssignmentId,
});

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  caregivers: CaregiverService;
}

/**
 * Who is responsible for each key person: one active assignment per person (a partial unique
 * index), reassignment ends the active one in the same transaction, so history is kept. Decisions
 * about one person run one after another under the person's row lock.
 */
export function createAssignmentService({ db, audit, events, caregivers }: Deps) {
  async function endActive(tx: Executor, actor: AuditActor, current: AssignmentRow, reason: string) {
    const [ended] = await tx
      .update(careAssignments)
      .set({ endedAt: sql`now()`, endReason: reason, endedByClientId: actor.clientId })
      .where(eq(careAssignments.id, current.id))
      .returning();
    await events.publish(tx, careAssignmentEnded, {
      subject: `care_assignment/${current.id}`,
      region: ended!.region,
      data: eventData(ended!),
    });
    return ended!;
  }

  /** 201 with a new assignment, or 200 with the active one when it is the same caregiver's already. */
  async function assign(caller: Jurisdictional, actor: AuditActor, input: NewAssignment) {
    try {
      return await db.transaction(async (tx) => {
        await lockTasksShared(tx);
        const person = await keyPerson(tx, caller, input.personId, true);
        const caregiver = await caregivers.find(tx, caller, input.caregiverId, 'share');
        if (!caregiver.active) {
          throw invalidState(
            'The caregiver is inactive and takes no new assignments; reactivate them first.',
            'inactive',
          );
        }
        const [current] = await tx
          .select()
          .from(careAssignments)
          .where(and(eq(careAssignments.personId, person.id), isNull(careAssignments.endedAt)));
        if (current?.caregiverId === caregiver.id) return { row: current, created: false };
        if (current && !input.reason) {
          throw validationError([
            body(
              '/reason',
              `is required to reassign: the person’s active assignment ${current.id} is to another caregiver`,
            ),
          ]);
        }
        const ended = current ? await endActive(tx, actor, current, input.reason!) : null;
        const [row] = await tx
          .insert(careAssignments)
          .values({
            personId: person.id,
            caregiverId: caregiver.id,
            region: person.region,
            note: input.note ?? null,
            // After the end of the one it replaces, so that history orders them even in one transaction.
            startedAt: sql`clock_timestamp()`,
            assignedByClientId: actor.clientId,
          })
          .returning();
        await moveOpenTasks(tx, person.id, caregiver.id, person.region);
        await events.publish(tx, careAssignmentStarted, {
          subject: `care_assignment/${row!.id}`,
          region: row!.region,
          data: eventData(row!, ended?.id ?? null),
        });
        await audit.record(tx, actor, {
          operation: ended ? 'reassignCaregiver' : 'assignCaregiver',
          resourceType: 'care_assignment',
          resourceIds: ended ? [row!.id, ended.id] : [row!.id],
          personIds: [person.id],
          detail: { caregiverId: caregiver.id, endedAssignmentId: ended?.id ?? null, reason: input.reason ?? null },
        });
        return { row: row!, created: true };
      });
    } catch (err) {
      // The person's row lock keeps this from happening; the index is the last word if it ever does.
      if (!isUniqueViolation(err, 'care_assignments_one_active_idx')) throw err;
      throw conflict('Another assignment of this person was made at the same time; read it and try again.');
    }
  }

  /** Ends an active assignment; the person's open visit tasks go to their subdistrict's office. */
  async function end(caller: Jurisdictional, actor: AuditActor, id: string, reason: string) {
    return db.transaction(async (tx) => {
      await lockTasksShared(tx);
      const [current] = await tx.select().from(careAssignments).where(eq(careAssignments.id, id)).for('update');
      if (!current || !inJurisdiction(caller, current.region)) throw notFound('care assignment');
      if (current.endedAt) throw invalidState('The assignment has ended already.', 'ended');
      const ended = await endActive(tx, actor, current, reason);
      const [person] = await rows<{ region: string }>(
        tx,
        sql`select region from persons where id = ${current.personId}`,
      );
      await moveOpenTasks(tx, current.personId, null, person!.region);
      await audit.record(tx, actor, {
        operation: 'endCareAssignment',
        resourceType: 'care_assignment',
        resourceIds: [id],
        personIds: [current.personId],
        detail: { reason },
      });
      return ended;
    });
  }

  async function get(caller: Jurisdictional, actor: AuditActor, id: string) {
    const [row] = await db.select().from(careAssignments).where(eq(careAssignments.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('care assignment');
    await audit.recordRead(actor, {
      operation: 'getCareAssignment',
      resourceType: 'care_assignment',
      resourceIds: [id],
      personIds: [row.personId],
    });
    return row;
  }

  /** Newest first; `after` is the id of the previous page's last assignment. */
  async function list(
    caller: Jurisdictional,
    actor: AuditActor,
    filter: AssignmentFilter,
    page: { after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, filter.region);
    if (prefix === null) return { items: [], more: false };
    const a = careAssignments;
    const conditions: SQL[] = [sql`${a.region} like ${`${prefix}%`}`];
    if (filter.personId) conditions.push(eq(a.personId, filter.personId));
    if (filter.caregiverId) conditions.push(eq(a.caregiverId, filter.caregiverId));
    if (filter.active !== undefined) conditions.push(filter.active ? isNull(a.endedAt) : sql`${a.endedAt} is not null`);
    if (page.after) {
      conditions.push(
        sql`(${a.startedAt}, ${a.id}) < (select x.started_at, x.id from ${a} x where x.id = ${page.after}::uuid)`,
      );
    }
    const found = await db
      .select()
      .from(a)
      .where(and(...conditions))
      .orderBy(desc(a.startedAt), desc(a.id))
      .limit(page.limit + 1);
    const items = found.slice(0, page.limit);
    if (items.length > 0) {
      await audit.recordRead(actor, {
        operation: 'listCareAssignments',
        resourceType: 'care_assignment',
        resourceIds: items.map((r) => r.id),
        personIds: [...new Set(items.map((r) => r.personId))],
      });
    }
    return { items, more: found.length > page.limit };
  }

  return { assign, end, get, list };
}

export type AssignmentService = ReturnType<typeof createAssignmentService>;
