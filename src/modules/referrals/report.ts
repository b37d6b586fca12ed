import { and, eq, inArray } from 'drizzle-orm';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, type FieldError, notFound, validationError } from '../../platform/errors.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import { symptomCoding } from '../care/symptoms.js';
import { businessDateOf } from '../registry/dates.js';
import { bodyError, type Deps, eventBase, isUniqueViolation, NORMAL_ACK_HOURS } from './common.js';
import { referralReported } from './events.js';
import { type NewReferral, openStatuses } from './schemas.js';
import { referrals, referralSteps } from './tables.js';
import { loadPersons, type PersonFacts, type ReferralRow, type Viewer } from './view.js';

const ONE_OPEN_INDEX = 'referrals_one_open_idx';

/** Field checks that need no database: the origin's link and the onset date. */
function checkFields(input: NewReferral, today: string): FieldError[] {
  const errors: FieldError[] = [];
  const link = (field: 'visitId' | 'welfareContactId', origin: NewReferral['origin']) => {
    if (input.origin === origin && !input[field])
      errors.push(bodyError(`/${field}`, `is required when origin is ${origin}`));
    if (input.origin !== origin && input[field])
      errors.push(bodyError(`/${field}`, `is only given when origin is ${origin}`));
  };
  link('visitId', 'visit');
  link('welfareContactId', 'welfare_contact');
  if (input.onsetDate && input.onsetDate > today) {
    errors.push(bodyError('/onsetDate', `must not be in the future (today is ${today})`));
  }
  return errors;
}

/** Reporting a suspected case (issue 7, item 4): checked, then written with its first step, event and audit row. */
export function createReport(deps: Deps) {
  const { db, audit, events, pii, policies, welfareContacts, visits, clock } = deps;

  /** What the origin says: the symptoms found, checked to be about the same person. */
  async function originOf(caller: Viewer, actor: AuditActor, input: NewReferral, person: PersonFacts) {
    if (input.origin === 'visit') {
      const visit = await visits.get(input.visitId!);
      if (!visit || !inJurisdiction(caller, visit.region)) throw notFound('visit');
      if (visit.personId !== person.id) throw validationError([bodyError('/visitId', 'is a visit to another person')]);
      return { symptoms: visit.symptoms.filter((s) => symptomCoding(s)), text: visit.symptomsText };
    }
    if (input.origin === 'welfare_contact') {
      const contact = await welfareContacts.get(caller, actor, input.welfareContactId!);
      const same = contact.personId
        ? contact.personId === person.id
        : contact.householdId !== null && contact.householdId === person.householdId;
      if (!same) {
        throw validationError([bodyError('/welfareContactId', 'is a contact with another person or household')]);
      }
      return { symptoms: [], text: contact.notes };
    }
    return { symptoms: [], text: null };
  }

  /** 409 naming the person's open referral (its id when it lies in the caller's jurisdiction). */
  async function openConflict(caller: Viewer, personId: string) {
    const [open] = await db
      .select({ id: referrals.id, status: referrals.status, region: referrals.region })
      .from(referrals)
      .where(and(eq(referrals.personId, personId), inArray(referrals.status, openStatuses)));
    if (!open) return null;
    return conflict(`This person has a referral under way (${open.status}); answer or cancel it first.`, {
      openReferralId: inJurisdiction(caller, open.region) ? open.id : null,
      openReferralStatus: open.status,
    });
  }

  async function ackDueAt(region: string, now: Date) {
    const policy = await policies.inForce(region, businessDateOf(now));
    const hours = policy?.referralAckHours ?? NORMAL_ACK_HOURS;
    return new Date(now.getTime() + hours * 3_600_000);
  }

  async function write(caller: Viewer, actor: AuditActor, values: typeof referrals.$inferInsert, now: Date) {
    return db.transaction(async (tx) => {
      const [row] = await tx.insert(referrals).values(values).returning();
      const r = row!;
      await tx.insert(referralSteps).values({
        referralId: r.id,
        seq: 1,
        action: 'reported',
        fromStatus: null,
        toStatus: 'reported',
        at: now,
        clientId: actor.clientId,
        agency: actor.agency,
      });
      await events.publish(tx, referralReported, {
        subject: `referral/${r.id}`,
        region: r.region,
        data: { ...eventBase(r, now), visitId: r.visitId, welfareContactId: r.welfareContactId },
      });
      await audit.record(tx, actor, {
        operation: 'reportReferral',
        resourceType: 'referral',
        resourceIds: [r.id],
        personIds: [r.personId],
        detail: { region: r.region, origin: r.origin, symptoms: r.symptoms, ackDueAt: r.ackDueAt.toISOString() },
      });
      return r;
    });
  }

  async function report(caller: Viewer, actor: AuditActor, input: NewReferral): Promise<ReferralRow> {
    const now = clock();
    const fieldErrors = checkFields(input, businessDateOf(now));
    if (fieldErrors.length > 0) throw validationError(fieldErrors);
    const person = (await loadPersons(db, [input.personId])).get(input.personId);
    if (!person || !inJurisdiction(caller, person.region)) throw notFound('person');
    const found = await originOf(caller, actor, input, person);
    const symptoms = input.symptoms ?? found.symptoms;
    const symptomsText = input.symptomsText ?? found.text ?? null;
    if (symptoms.length === 0 && !symptomsText) {
      throw validationError([bodyError('/symptoms', 'give at least one symptom code, or symptomsText')]);
    }
    const open = await openConflict(caller, person.id);
    if (open) throw open;
    const phone = input.reporterPhone ? pii.protect('phone', input.reporterPhone) : null;
    const values = {
      personId: person.id,
      householdId: person.householdId,
      region: person.region,
      origin: input.origin,
      visitId: input.visitId ?? null,
      welfareContactId: input.welfareContactId ?? null,
      symptoms,
      symptomsText,
      onsetDate: input.onsetDate ?? null,
      locationKind: input.locationKind,
      locationText: input.locationText ?? null,
      transportNeeded: input.transportNeeded,
      reporterName: input.reporterName,
      reporterPhoneSealed: phone?.sealed ?? null,
      reporterPhoneMasked: phone?.masked ?? null,
      sealedKeyId: phone ? pii.currentKeyId : null,
      ackDueAt: await ackDueAt(person.region, now),
      createdByClientId: actor.clientId,
      createdAt: now,
      updatedAt: now,
    };
    try {
      return await write(caller, actor, values, now);
    } catch (err) {
      // Another report for the same person committed between the check and the insert.
      if (!isUniqueViolation(err, ONE_OPEN_INDEX)) throw err;
      throw (await openConflict(caller, person.id)) ?? err;
    }
  }

  return { report };
}
