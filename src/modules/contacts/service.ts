import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, type FieldError, notFound, validationError } from '../../platform/errors.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import { addDays, businessDateOf } from '../registry/dates.js';
import { persons } from '../registry/people.tables.js';
import { bodyError, type ContactDeps, type Deps, type HandoffRow, type Viewer, visibleTo } from './common.js';
import { handoffBundle } from './fhir.js';
import { createFollowUp } from './followup.js';
import { createJournal } from './journal.js';
import { type Act, createLifecycle } from './lifecycle.js';
import { type ConfirmedReferral, createOpening } from './open.js';
import { createReads, type HandoffFilter, type HandoffRead } from './reads.js';
import { createReview } from './review.js';
import type { NewHandoff } from './schemas.js';
import { type ContactAct, createContactStep, createTracing } from './tracing.js';
import { casePersonOut, commentOut, contactOut, handoffOut, stepOut } from './view.js';

/** A direct handoff's onset lies at most this many days back: older cases have no contacts left to trace. */
export const MAX_ONSET_AGE_DAYS = 60;

/**
 * Close-contact tracing handoffs to the CDC (measure 5; issue 8). A confirmed case's contacts are
 * assembled from what the service knows (household, caregiver, in-person visitors in the look-back
 * window); civil affairs reviews and sends the list; the CDC of the case's region accepts it and
 * reports on each contact until it closes the handoff. Every step is an event both sides see.
 */
export function createContactService(deps: ContactDeps) {
  const full: Deps = { ...deps, clock: deps.clock ?? (() => new Date()) };
  const { db, pii, clock } = full;
  const record = createJournal(full);
  const openings = createOpening(full, record);
  const lifecycle = createLifecycle(full, record);
  const contactStep = createContactStep(full, record);
  const tracing = createTracing(contactStep, openings);
  const review = createReview(full, record, contactStep);
  const reads = createReads(full);
  const followUp = createFollowUp(full);

  /** A handoff as this caller may see it, with contacts, steps and comments, and its ETag. */
  function detail(caller: Viewer, read: HandoffRead) {
    const today = businessDateOf(clock());
    const contacts = read.contacts.map((c) => contactOut(pii, c, read.others.get(c.id) ?? [], caller, today));
    return {
      body: {
        ...handoffOut(pii, read.row, read.casePerson, read.counts, caller, today),
        contacts,
        steps: read.steps.map(stepOut),
        comments: read.comments.map(commentOut),
      },
      etag: etagOf(read.row),
    };
  }

  /** The answer to a change: its audit row (written with it) names the persons already. */
  const answer = async (caller: Viewer, row: HandoffRow) => detail(caller, await reads.load(caller, row.id));
  const acting =
    <S extends Act, A extends unknown[]>(action: (s: S, ...args: A) => Promise<HandoffRow>) =>
    async (s: S, ...args: A) =>
      answer(s.caller, await action(s, ...args));

  /** 409 naming the person's open handoff (its id when the caller may see it). */
  async function openConflict(caller: Viewer, personId: string) {
    const open = await openings.openOf(db, personId);
    if (!open) return null;
    const seen = inJurisdiction(caller, open.region) && visibleTo(caller, open);
    return conflict(`This person has a handoff under way (${open.status}); it is the same case.`, {
      openHandoffId: seen ? open.id : null,
      openHandoffStatus: open.status,
    });
  }

  /** A confirmation learnt another way than a referral: the handoff opens as a draft, assembled now. */
  async function create(caller: Viewer, actor: AuditActor, input: NewHandoff) {
    const now = clock();
    const today = businessDateOf(now);
    const errors: FieldError[] = [];
    if (input.onsetDate > today) errors.push(bodyError('/onsetDate', `must not be in the future (today is ${today})`));
    else if (input.onsetDate < addDays(today, -MAX_ONSET_AGE_DAYS)) {
      errors.push(bodyError('/onsetDate', `must lie within the last ${MAX_ONSET_AGE_DAYS} days`));
    }
    if (input.confirmedOn !== undefined) {
      if (input.confirmedOn > today) errors.push(bodyError('/confirmedOn', 'must not be in the future'));
      else if (input.confirmedOn < input.onsetDate)
        errors.push(bodyError('/confirmedOn', 'must not be before onsetDate'));
    }
    if (errors.length > 0) throw validationError(errors);
    const [person] = await db
      .select({ id: persons.id, region: persons.region })
      .from(persons)
      .where(eq(persons.id, input.personId));
    if (!person || !inJurisdiction(caller, person.region)) throw notFound('person');
    const row = await db.transaction((tx) =>
      openings.open(
        tx,
        actor,
        {
          casePersonId: person.id,
          origin: 'direct',
          onsetDate: input.onsetDate,
          confirmedOn: input.confirmedOn ?? today,
          note: input.note,
        },
        now,
      ),
    );
    if (!row) throw (await openConflict(caller, person.id)) ?? conflict('This person has a handoff under way.');
    return answer(caller, row);
  }

  return {
    create,
    /**
     * For the referrals module: a referral's outcome is confirmed, in the confirmation's
     * transaction. Opens the case's handoff (a draft) unless one is open already.
     */
    onReferralConfirmed: (tx: Executor, referral: ConfirmedReferral, actor: AuditActor) =>
      openings.fromReferral(tx, actor, referral, clock()),
    send: acting(lifecycle.send),
    accept: acting(lifecycle.accept),
    reject: acting(lifecycle.reject),
    reopen: acting(lifecycle.reopen),
    revoke: acting(lifecycle.revoke),
    close: acting(lifecycle.close),
    addContact: acting(review.add),
    removeContact: acting(review.remove),
    comment: acting(review.comment),
    reach: acting(tracing.reach),
    quarantine: acting(tracing.quarantine),
    release: acting(tracing.release),
    unreachable: acting(tracing.unreachable),
    becameCase: acting(tracing.becameCase),

    async get(caller: Viewer, actor: AuditActor, id: string) {
      return detail(caller, await reads.get(caller, actor, id));
    },

    async list(caller: Viewer, actor: AuditActor, filter: HandoffFilter) {
      const page = await reads.list(caller, actor, filter);
      const today = businessDateOf(clock());
      return {
        items: page.items.map((i) => handoffOut(pii, i.row, i.casePerson, i.counts, caller, today)),
        more: page.more,
      };
    },

    followUp,

    /** The handoff as a FHIR R4 Bundle; the read is audited like any other. */
    async fhir(caller: Viewer, actor: AuditActor, id: string) {
      const read = await reads.get(caller, actor, id, 'getContactHandoffFhir');
      const now = clock();
      const today = businessDateOf(now);
      const contacts = read.contacts.map((c) => contactOut(pii, c, [], caller, today));
      const bundle = handoffBundle(read.row, casePersonOut(pii, read.casePerson, caller, today), contacts, now);
      return { bundle, etag: etagOf(read.row) };
    },
  };
}

export type ContactService = ReturnType<typeof createContactService>;
export type { ContactAct };
