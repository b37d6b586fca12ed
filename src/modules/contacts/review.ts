import { and, eq, ne, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import {
  conflict,
  type FieldError,
  invalidState,
  notFound,
  ProblemError,
  validationError,
} from '../../platform/errors.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import { businessDateOf } from '../registry/dates.js';
import { checkResidentId, normaliseDocumentNumber } from '../registry/identity.js';
import { persons } from '../registry/people.tables.js';
import {
  bodyError,
  type ContactRow,
  contactEventFields,
  type Deps,
  type HandoffRow,
  isCivil,
  isReceiver,
  isUniqueViolation,
} from './common.js';
import { handoffCommented, handoffContactAdded, handoffContactRemoved, handoffDraftChanged } from './events.js';
import type { Journal } from './journal.js';
import { type Act, checkStatus, lockHandoff, touch } from './lifecycle.js';
import type { NewContact } from './schemas.js';
import { handoffComments, handoffContacts } from './tables.js';
import { type ContactAct, type ContactStep, lockContact } from './tracing.js';

const IDENTITY_INDEX = 'handoff_contacts_identity_idx';
const PERSON_INDEX = 'handoff_contacts_person_idx';

/** Field checks that need no database; the document's normalised number when one is given. */
function checkNewContact(input: NewContact, today: string): { errors: FieldError[]; number: string | null } {
  const errors: FieldError[] = [];
  let number: string | null = null;
  if (input.personId) {
    for (const field of ['name', 'idType', 'idNumber'] as const) {
      if (input[field] !== undefined)
        errors.push(bodyError(`/${field}`, 'is the registry’s when personId is given; leave it out'));
    }
  } else if (!input.name) {
    errors.push(bodyError('/name', 'is required without personId'));
  }
  if ((input.idType === undefined) !== (input.idNumber === undefined)) {
    errors.push(bodyError(input.idType === undefined ? '/idType' : '/idNumber', 'give idType and idNumber together'));
  } else if (input.idType !== undefined && input.idNumber !== undefined) {
    if (input.idType === 'resident_id') {
      const checked = checkResidentId(input.idNumber, today);
      if (checked.valid) number = checked.number;
      else errors.push(bodyError('/idNumber', checked.reason));
    } else {
      number = normaliseDocumentNumber(input.idNumber);
      if (!/^[A-Z0-9()-]{5,30}$/.test(number)) {
        errors.push(bodyError('/idNumber', 'must be 5 to 30 letters, digits, dashes or parentheses'));
      }
    }
  }
  if (input.lastContactDate && input.lastContactDate > today) {
    errors.push(bodyError('/lastContactDate', `must not be in the future (today is ${today})`));
  }
  return { errors, number };
}

/** Whether the person, or their household as a whole, has an active enrollment. */
async function isRecipient(executor: Executor, personId: string): Promise<boolean> {
  const [row] = await rows<{ recipient: boolean }>(
    executor,
    sql`select exists (
      select 1 from persons p join enrollments e on e.household_id = p.household_id
      where p.id = ${personId}::uuid and e.status = 'active' and (e.person_id is null or e.person_id = p.id)) as recipient`,
  );
  return row?.recipient ?? false;
}

/** Civil affairs' review of the list: contacts added and removed with a reason; comments both ways. */
export function createReview({ db, pii, clock }: Deps, record: Journal, contactStep: ContactStep) {
  /** The registry person to copy, by id (in the caller's jurisdiction) or by the document given. */
  async function registryPerson(s: Act, input: NewContact, number: string | null) {
    const columns = {
      id: persons.id,
      name: persons.name,
      region: persons.region,
      idType: persons.idType,
      idNumberIndex: persons.idNumberIndex,
      idNumberSealed: persons.idNumberSealed,
      idNumberMasked: persons.idNumberMasked,
      phoneSealed: persons.phoneSealed,
      phoneMasked: persons.phoneMasked,
      sealedKeyId: persons.sealedKeyId,
      address: sql<
        string | null
      >`coalesce(${persons.address}, (select h.address from households h where h.id = ${persons.householdId}))`,
    };
    if (input.personId) {
      const [p] = await db.select(columns).from(persons).where(eq(persons.id, input.personId));
      if (!p || !inJurisdiction(s.caller, p.region)) throw notFound('person');
      return p;
    }
    if (number === null) return null;
    // A person the caller may see, found by the document: the same person as the registry's.
    const [p] = await db
      .select(columns)
      .from(persons)
      .where(and(eq(persons.idType, input.idType!), eq(persons.idNumberIndex, pii.index('document', number))));
    return p && inJurisdiction(s.caller, p.region) ? p : null;
  }

  async function valuesOf(s: Act, input: NewContact, now: Date) {
    const { errors, number } = checkNewContact(input, businessDateOf(now));
    if (errors.length > 0) throw validationError(errors);
    const person = await registryPerson(s, input, number);
    const phone = input.phone ? pii.protect('phone', input.phone) : null;
    const document = !person && number !== null ? pii.protect('document', number, input.idType) : null;
    const identityKey = person
      ? `doc:${person.idType}:${person.idNumberIndex}`
      : document
        ? `doc:${input.idType}:${document.index}`
        : phone
          ? `phone:${phone.index}`
          : null;
    const sealed = Boolean(phone ?? document ?? person?.phoneSealed ?? person?.idNumberSealed);
    return {
      personId: person?.id ?? null,
      region: person?.region ?? null,
      relation: input.relation,
      origin: 'added',
      name: person?.name ?? input.name!,
      idType: person?.idType ?? (document ? input.idType! : null),
      idNumberSealed: person?.idNumberSealed ?? document?.sealed ?? null,
      idNumberMasked: person?.idNumberMasked ?? document?.masked ?? null,
      phoneSealed: phone?.sealed ?? person?.phoneSealed ?? null,
      phoneMasked: phone?.masked ?? person?.phoneMasked ?? null,
      sealedKeyId: sealed ? (phone || document ? pii.currentKeyId : person!.sealedKeyId) : null,
      identityKey,
      address: input.address ?? person?.address ?? null,
      recipient: person ? await isRecipient(db, person.id) : false,
      lastContactDate: input.lastContactDate ?? null,
      firstContactDate: input.lastContactDate ?? null,
      addedByClientId: s.actor.clientId,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** 409 naming the contact already on the list for this person. */
  async function duplicate(tx: Executor, h: HandoffRow, personId: string | null, identityKey: string | null) {
    if (!personId && !identityKey) return null;
    const same = personId ? eq(handoffContacts.personId, personId) : eq(handoffContacts.identityKey, identityKey!);
    const [found] = await tx
      .select({ id: handoffContacts.id })
      .from(handoffContacts)
      .where(and(eq(handoffContacts.handoffId, h.id), ne(handoffContacts.status, 'removed'), same));
    return found ? conflict('This person is on the list already.', { existingContactId: found.id }) : null;
  }

  async function add(s: Act, input: NewContact): Promise<HandoffRow> {
    const values = await valuesOf(s, input, clock());
    try {
      return await db.transaction(async (tx) => {
        const current = await lockHandoff(tx, s);
        checkStatus(current, ['draft', 'sent', 'accepted'], 'added to');
        if (values.personId === current.casePersonId) {
          throw validationError([bodyError(input.personId ? '/personId' : '/idNumber', 'is the case itself')]);
        }
        const dup = await duplicate(tx, current, values.personId, values.identityKey);
        if (dup) throw dup;
        const now = clock();
        const [inserted] = await tx
          .insert(handoffContacts)
          .values({ ...values, handoffId: current.id, createdAt: now, updatedAt: now })
          .returning();
        const c = inserted!;
        const h = await touch(tx, current, now);
        await record(
          tx,
          s.actor,
          h,
          {
            action: 'contact_added',
            contact: c,
            fromStatus: null,
            toStatus: 'pending',
            note: input.reason,
            event: h.sentAt === null ? handoffDraftChanged : handoffContactAdded,
            data: { ...contactEventFields(c), change: 'added' },
            operation: 'addHandoffContact',
            personIds: [h.casePersonId, ...(c.personId ? [c.personId] : [])],
          },
          now,
        );
        return h;
      });
    } catch (err) {
      // Another request added the same person between the check and the insert.
      if (isUniqueViolation(err, IDENTITY_INDEX) || isUniqueViolation(err, PERSON_INDEX)) {
        throw conflict('This person is on the list already.', {});
      }
      throw err;
    }
  }

  const remove = (s: ContactAct, reason: string) =>
    contactStep(
      s,
      {
        handoffFrom: ['draft', 'sent', 'accepted'],
        from: ['pending'],
        to: 'removed',
        receiverOnly: false,
        event: (h) => (h.sentAt === null ? handoffDraftChanged : handoffContactRemoved),
        operation: 'removeHandoffContact',
        action: 'contact_removed',
      },
      () => ({ set: { statusReason: reason }, note: reason, data: { change: 'removed', reason } }),
    );

  /** A question or an answer, from civil affairs or the CDC, once the handoff has been sent. */
  async function comment(s: Act, input: { text: string; contactId?: string | undefined }) {
    if (!isCivil(s.caller) && !isReceiver(s.caller)) {
      throw new ProblemError(403, 'forbidden', 'Commenting needs the scope contacts:create or contacts:receive.', {
        requiredScopes: ['contacts:create', 'contacts:receive'],
      });
    }
    return db.transaction(async (tx) => {
      const current = await lockHandoff(tx, s);
      if (current.sentAt === null) {
        throw invalidState('Comments are exchanged with the CDC once the handoff is sent.', current.status);
      }
      let contact: ContactRow | null = null;
      if (input.contactId)
        contact = await lockContact(tx, current, input.contactId).catch(() => {
          throw validationError([bodyError('/contactId', 'is not a contact of this handoff')]);
        });
      const now = clock();
      const [row] = await tx
        .insert(handoffComments)
        .values({
          handoffId: current.id,
          contactId: contact?.id ?? null,
          clientId: s.actor.clientId,
          agency: s.actor.agency,
          text: input.text,
          at: now,
        })
        .returning();
      const h = await touch(tx, current, now);
      await record(
        tx,
        s.actor,
        h,
        {
          action: 'commented',
          contact,
          fromStatus: h.status,
          toStatus: h.status,
          event: handoffCommented,
          data: { commentId: row!.id, contactId: contact?.id ?? null, agency: s.actor.agency },
          operation: 'commentContactHandoff',
          personIds: [h.casePersonId],
          step: false,
        },
        now,
      );
      return h;
    });
  }

  return { add, remove, comment };
}
