import { and, eq, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { conflict, type FieldError, notFound, ProblemError, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { businessDateOf } from './dates.js';
import { createPeopleChecker, type PreparedHousehold, type PreparedPerson } from './people.check.js';
import { householdRegistered, personRegistered } from './people.events.js';
import { createPeopleReads } from './people.reads.js';
import type { NewHousehold, NewMember, NewPerson } from './people.schemas.js';
import { documentConflict, findRegistered, insertHouseholds, insertPersons, isDocumentTaken } from './people.store.js';
import { households, persons } from './people.tables.js';
import { createPersonUpdate } from './people.update.js';
import { householdView, personSummary, type PersonRow, personView, type Reader, revealsTo } from './people.view.js';
import type { PiiProtector } from './sensitive.js';

export interface PeopleDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  pii: PiiProtector;
  clock?: () => Date;
}

const summaryOf = (p: PreparedPerson) => personSummary({ ...p, maskedIdNumber: p.document.masked });

/**
 * Households and persons. Everything is checked before anything is written (400 naming each field);
 * one person per identity document is kept by a pre-check and by the unique index (409).
 */
export function createPeopleService(deps: PeopleDeps) {
  const { db, audit, events, regions, pii, clock = () => new Date() } = deps;
  const checker = createPeopleChecker({ regions, pii });
  const today = () => businessDateOf(clock());

  /** Runs the writing transaction, turning a document registered meanwhile into the same 409 as the pre-check. */
  async function writeNew<T>(caller: Jurisdictional, people: PreparedPerson[], work: (tx: Executor) => Promise<T>) {
    const taken = documentConflict(caller, people, await findRegistered(db, people));
    if (taken) throw taken;
    try {
      return await db.transaction(work);
    } catch (err) {
      if (!isDocumentTaken(err)) throw err;
      throw (
        documentConflict(caller, people, await findRegistered(db, people)) ??
        conflict('A document of this request was being registered by another request at the same moment; try again.')
      );
    }
  }

  async function publishHouseholds(tx: Executor, created: PreparedHousehold[]) {
    await events.publishMany(
      tx,
      householdRegistered,
      created.map((h) => ({
        subject: `household/${h.id}`,
        region: h.region,
        data: { householdId: h.id, region: h.region, hukouRegion: h.hukouRegion, members: h.members.map(summaryOf) },
      })),
    );
  }

  async function publishPerson(tx: Executor, p: PreparedPerson) {
    await events.publish(tx, personRegistered, {
      subject: `person/${p.id}`,
      region: p.region,
      data: { ...summaryOf(p), householdId: p.householdId, region: p.region, hukouRegion: p.hukouRegion },
    });
  }

  const loadHousehold = async (executor: Executor, id: string) => {
    const [row] = await executor.select().from(households).where(eq(households.id, id));
    return row;
  };

  /** Households with their members, set-based; `bulk` names items `/households/{i}`. */
  async function createHouseholds(caller: Reader, actor: AuditActor, inputs: NewHousehold[], bulk: boolean) {
    const checked = await checker.prepareHouseholds(caller, inputs, (i) => (bulk ? `/households/${i}` : ''), today());
    if (checked.errors.length > 0) throw validationError(checked.errors);
    const created = checked.households;
    const people = created.flatMap((h) => h.members);
    await writeNew(caller, people, async (tx) => {
      await insertHouseholds(tx, created, actor.clientId);
      await insertPersons(tx, people, pii.currentKeyId, actor.clientId);
      await publishHouseholds(tx, created);
      await audit.record(tx, actor, {
        operation: bulk ? 'registerHouseholdsBulk' : 'registerHousehold',
        resourceType: 'household',
        resourceIds: created.map((h) => h.id),
        personIds: people.map((p) => p.id),
        detail: { households: created.length, persons: people.length },
      });
    });
    return created;
  }

  async function registerHousehold(caller: Reader, actor: AuditActor, input: NewHousehold) {
    const [created] = await createHouseholds(caller, actor, [input], false);
    const row = (await loadHousehold(db, created!.id))!;
    const members = await db.select().from(persons).where(eq(persons.householdId, row.id));
    return { body: householdView(pii, row, members, revealsTo(caller)), etag: etagOf(row) };
  }

  /** Up to 1000 households in one transaction; the ids come back in the request's order. */
  async function registerHouseholdsBulk(caller: Reader, actor: AuditActor, inputs: NewHousehold[]) {
    const created = await createHouseholds(caller, actor, inputs, true);
    return { households: created.map((h) => ({ id: h.id, memberIds: h.members.map((m) => m.id) })) };
  }

  async function insertOne(tx: Executor, person: PreparedPerson, actor: AuditActor, operation: string) {
    await insertPersons(tx, [person], pii.currentKeyId, actor.clientId);
    await publishPerson(tx, person);
    await audit.record(tx, actor, {
      operation,
      resourceType: 'person',
      resourceIds: [person.id],
      personIds: [person.id],
      detail: { region: person.region, householdId: person.householdId, idType: person.idType },
    });
    const [row] = await tx.select().from(persons).where(eq(persons.id, person.id));
    return row!;
  }

  const answer = (caller: Reader, row: PersonRow) => ({
    body: personView(pii, row, revealsTo(caller)),
    etag: etagOf(row),
  });

  /** A person without a household (e.g. stranded away from home): region is where they are now. */
  async function registerPerson(caller: Reader, actor: AuditActor, input: NewPerson) {
    const errors: FieldError[] = [];
    await checker.checkResidence(caller, input.region, '/region', errors);
    const placement = {
      householdId: null,
      region: input.region,
      address: input.address ?? null,
      hukouRegion: input.hukouRegion ?? null,
    };
    const person = checker.preparePerson(input, '', placement, today(), errors);
    if (errors.length > 0 || !person) throw validationError(errors);
    const row = await writeNew(caller, [person], (tx) => insertOne(tx, person, actor, 'registerPerson'));
    return answer(caller, row);
  }

  /** Adds a member to a household in the caller's jurisdiction; the household's ETag changes. */
  async function addMember(
    caller: Reader,
    actor: AuditActor,
    householdId: string,
    input: NewMember,
    expectedVersion?: number,
  ) {
    const household = await loadHousehold(db, householdId);
    if (!household || !inJurisdiction(caller, household.region)) throw notFound('household');
    const errors: FieldError[] = [];
    const person = checker.preparePerson(input, '', { ...household, householdId }, today(), errors);
    if (errors.length > 0 || !person) throw validationError(errors);
    const row = await writeNew(caller, [person], async (tx) => {
      const [locked] = await tx.select().from(households).where(eq(households.id, householdId)).for('update');
      if (expectedVersion !== undefined && locked!.version !== expectedVersion) {
        throw new ProblemError(412, 'precondition-failed', 'The household changed since you read it; read it again.', {
          currentETag: etagOf(locked!),
        });
      }
      if (input.relationship === 'head') {
        const [head] = await tx
          .select({ id: persons.id })
          .from(persons)
          .where(and(eq(persons.householdId, householdId), eq(persons.relationship, 'head')));
        if (head) {
          throw validationError([
            { in: 'body', pointer: '/relationship', detail: `the household has a head already (person ${head.id})` },
          ]);
        }
      }
      await tx
        .update(households)
        .set({ version: sql`${households.version} + 1`, updatedAt: sql`now()` })
        .where(eq(households.id, householdId));
      return insertOne(tx, person, actor, 'addHouseholdMember');
    });
    return answer(caller, row);
  }

  /**
   * The household an application describes by its members (a portal cannot look households up).
   * None of the documents registered: the household is checked and prepared, and `write` registers
   * it in the caller's transaction. Every member registered in one household of the caller's
   * jurisdiction: that household. Anything else (some members registered, or in different
   * households, or elsewhere) is a 409 for a caseworker to reconcile.
   */
  async function householdForApplication(caller: Jurisdictional, input: NewHousehold, pointer: string) {
    const checked = await checker.prepareHouseholds(caller, [input], () => pointer, today());
    if (checked.errors.length > 0) throw validationError(checked.errors);
    const prepared = checked.households[0]!;
    const registered = await findRegistered(db, prepared.members);
    if (registered.length === 0) {
      const write = async (tx: Executor, actor: AuditActor) => {
        await insertHouseholds(tx, [prepared], actor.clientId);
        await insertPersons(tx, prepared.members, pii.currentKeyId, actor.clientId);
        await publishHouseholds(tx, [prepared]);
        await audit.record(tx, actor, {
          operation: 'registerHousehold',
          resourceType: 'household',
          resourceIds: [prepared.id],
          personIds: prepared.members.map((m) => m.id),
          detail: { households: 1, persons: prepared.members.length, with: 'application' },
        });
      };
      return { householdId: prepared.id, region: prepared.region, memberIds: prepared.members.map((m) => m.id), write };
    }
    const [first] = registered;
    const sameHousehold =
      registered.length === prepared.members.length &&
      first!.household_id !== null &&
      registered.every((r) => r.household_id === first!.household_id && inJurisdiction(caller, r.region));
    if (!sameHousehold) {
      const detail = documentConflict(caller, prepared.members, registered)!;
      throw conflict(
        'Some members of this household are registered already, but not all of them together in one household of your jurisdiction. ' +
          `A caseworker reconciles the registry first. ${detail.message}`,
        detail.extensions,
      );
    }
    const byDocument = new Map(registered.map((r) => [`${r.id_type}|${r.id_number_index}`, r.id]));
    const [household] = await db.select().from(households).where(eq(households.id, first!.household_id!));
    return {
      householdId: household!.id,
      region: household!.region,
      memberIds: prepared.members.map((m) => byDocument.get(`${m.idType}|${m.document.index}`)!),
      write: null,
    };
  }

  return {
    householdForApplication,
    isDocumentTaken,
    registerHousehold,
    registerHouseholdsBulk,
    registerPerson,
    addMember,
    ...createPeopleReads(deps),
    ...createPersonUpdate({ ...deps, checker }),
    today,
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
