import { eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { households, persons } from '../registry/people.tables.js';
import type { PiiProtector } from '../registry/sensitive.js';
import {
  type CommentRow,
  type ContactRow,
  type HandoffRow,
  isCivil,
  revealsIdNumber,
  revealsPhones,
  type StepRow,
  type Viewer,
} from './common.js';
import type {
  ContactCounts,
  ContactStatus,
  HandoffContactOut,
  HandoffOrigin,
  HandoffOut,
  HandoffStatus,
  HandoffStepOut,
  Relation,
} from './schemas.js';

/**
 * The case person's columns a handoff shows, and nothing else: no payment, income, enrollment or
 * bank column is read here, so none can reach the CDC.
 */
const personColumns = {
  id: persons.id,
  name: persons.name,
  sex: persons.sex,
  birthDate: persons.birthDate,
  region: persons.region,
  householdId: persons.householdId,
  idType: persons.idType,
  idNumberSealed: persons.idNumberSealed,
  idNumberMasked: persons.idNumberMasked,
  phoneSealed: persons.phoneSealed,
  phoneMasked: persons.phoneMasked,
  address: sql<string | null>`coalesce(${persons.address}, ${households.address})`,
};
const selectPersons = (executor: Executor, ids: string[]) =>
  executor
    .select(personColumns)
    .from(persons)
    .leftJoin(households, eq(households.id, persons.householdId))
    .where(inArray(persons.id, ids));
export type PersonFacts = Awaited<ReturnType<typeof selectPersons>>[number];

export async function loadPersons(executor: Executor, ids: string[]): Promise<Map<string, PersonFacts>> {
  if (ids.length === 0) return new Map();
  const found = await selectPersons(executor, [...new Set(ids)]);
  return new Map(found.map((p) => [p.id, p]));
}

/** Whole years from a birth date to a business date. */
export function ageOn(birthDate: string | null, today: string): number | null {
  if (!birthDate) return null;
  const years = Number(today.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return today.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

/** A sealed value as the viewer may see it: whole, or its mask. */
const shown = (pii: PiiProtector, sealed: string | null, masked: string | null, whole: boolean) =>
  sealed === null
    ? { value: masked, masked: false }
    : whole
      ? { value: pii.open(sealed), masked: false }
      : { value: masked, masked: true };

export function casePersonOut(pii: PiiProtector, p: PersonFacts, viewer: Viewer, today: string) {
  const phone = shown(pii, p.phoneSealed, p.phoneMasked, revealsPhones(viewer));
  const idWhole = revealsIdNumber(viewer);
  return {
    id: p.id,
    name: p.name,
    sex: p.sex as 'male' | 'female' | null,
    birthDate: p.birthDate,
    age: ageOn(p.birthDate, today),
    phone: phone.value,
    phoneMasked: phone.masked,
    address: p.address,
    region: p.region,
    idType: p.idType,
    idNumber: idWhole ? pii.open(p.idNumberSealed) : p.idNumberMasked,
    idNumberMasked: !idWhole,
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const emptyCounts = (): ContactCounts => ({
  pending: 0,
  reached: 0,
  quarantined: 0,
  released: 0,
  unreachable: 0,
  became_case: 0,
  removed: 0,
});

export function handoffOut(
  pii: PiiProtector,
  h: HandoffRow,
  casePerson: PersonFacts,
  counts: ContactCounts,
  viewer: Viewer,
  today: string,
): HandoffOut {
  return {
    id: h.id,
    status: h.status as HandoffStatus,
    region: h.region,
    origin: h.origin as HandoffOrigin,
    casePersonId: h.casePersonId,
    referralId: h.referralId,
    sourceContactId: h.sourceContactId,
    onsetDate: h.onsetDate,
    confirmedOn: h.confirmedOn,
    lookBackDays: h.lookBackDays,
    windowFrom: h.windowFrom,
    windowTo: h.windowTo,
    note: h.note,
    sentAt: iso(h.sentAt),
    acceptedAt: iso(h.acceptedAt),
    receiverClientId: h.receiverClientId,
    closedReason: h.closedReason,
    closedAt: iso(h.closedAt),
    contactCounts: counts,
    createdBy: h.createdByClientId,
    createdAt: h.createdAt.toISOString(),
    updatedAt: h.updatedAt.toISOString(),
    casePerson: casePersonOut(pii, casePerson, viewer, today),
  };
}

/** A contact with what the registry adds (sex and birth date of a registry person). */
export type ContactFacts = ContactRow & { sex: string | null; birthDate: string | null };
export type OtherHandoff = HandoffContactOut['otherHandoffs'][number];

export function contactOut(
  pii: PiiProtector,
  c: ContactFacts,
  others: OtherHandoff[],
  viewer: Viewer,
  today: string,
): HandoffContactOut {
  const phone = shown(pii, c.phoneSealed, c.phoneMasked, revealsPhones(viewer));
  const id = shown(pii, c.idNumberSealed, c.idNumberMasked, revealsIdNumber(viewer));
  return {
    id: c.id,
    handoffId: c.handoffId,
    status: c.status as ContactStatus,
    relation: c.relation as Relation,
    origin: c.origin as HandoffContactOut['origin'],
    personId: c.personId,
    caregiverId: c.caregiverId,
    region: c.region,
    name: c.name,
    sex: c.sex as 'male' | 'female' | null,
    age: ageOn(c.birthDate, today),
    phone: phone.value,
    phoneMasked: phone.masked,
    address: c.address,
    idType: c.idType,
    idNumber: id.value,
    idNumberMasked: id.masked,
    // Whether someone receives assistance is civil affairs' to know, not the CDC's.
    recipient: isCivil(viewer) ? c.recipient : null,
    firstContactDate: c.firstContactDate,
    lastContactDate: c.lastContactDate,
    inPersonContacts: c.inPersonContacts,
    reachedAt: iso(c.reachedAt),
    quarantineKind: c.quarantineKind as HandoffContactOut['quarantineKind'],
    quarantineFrom: c.quarantineFrom,
    quarantineTo: c.quarantineTo,
    quarantinePlace: c.quarantinePlace,
    releasedOn: c.releasedOn,
    becameCaseOn: c.becameCaseOn,
    nextHandoffId: c.nextHandoffId,
    statusReason: c.statusReason,
    otherHandoffs: others,
    updatedAt: c.updatedAt.toISOString(),
  };
}

export const stepOut = (s: StepRow): HandoffStepOut => ({
  seq: s.seq,
  action: s.action,
  contactId: s.contactId,
  fromStatus: s.fromStatus,
  toStatus: s.toStatus,
  at: s.at.toISOString(),
  clientId: s.clientId,
  agency: s.agency,
  note: s.note,
});

export const commentOut = (c: CommentRow) => ({
  id: c.id,
  contactId: c.contactId,
  clientId: c.clientId,
  agency: c.agency,
  text: c.text,
  at: c.at.toISOString(),
});
