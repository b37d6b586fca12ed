import { eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Jurisdictional } from '../../platform/jurisdiction.js';
import { households, persons } from '../registry/people.tables.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { ReferralOut, ReferralPersonOut, ReferralStatus, ReferralStepOut } from './schemas.js';
import type { referralSteps, referrals } from './tables.js';

export type ReferralRow = typeof referrals.$inferSelect;
export type StepRow = typeof referralSteps.$inferSelect;

/** A caller as the referral module sees it. */
export type Viewer = Jurisdictional & { id: string; agency: string; scopes: readonly string[] };

const receivingAgencies = new Set(['health', 'cdc']);
/** Phones whole: receivers must call the person and the reporter; civil affairs sees them anyway. */
const revealsPhones = (v: Viewer) =>
  v.scopes.includes('referrals:receive') || v.scopes.includes('registry:read_sensitive');
/** ID numbers whole only for civil affairs that may see them; never for health or disease control. */
const revealsIdNumber = (v: Viewer) => !receivingAgencies.has(v.agency) && v.scopes.includes('registry:read_sensitive');

/**
 * The person's columns a referral shows, and nothing else: no payment, income, enrollment or bank
 * column is ever read here, so none can reach a receiver. Read from the registry's tables directly
 * (the registry's own person view carries all of them).
 */
const personColumns = {
  id: persons.id,
  name: persons.name,
  sex: persons.sex,
  birthDate: persons.birthDate,
  region: persons.region,
  idType: persons.idType,
  idNumberSealed: persons.idNumberSealed,
  idNumberMasked: persons.idNumberMasked,
  phoneSealed: persons.phoneSealed,
  phoneMasked: persons.phoneMasked,
  householdId: persons.householdId,
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

export function personBlock(pii: PiiProtector, p: PersonFacts, viewer: Viewer, today: string): ReferralPersonOut {
  const phoneWhole = revealsPhones(viewer) && p.phoneSealed !== null;
  const idWhole = revealsIdNumber(viewer);
  return {
    id: p.id,
    name: p.name,
    sex: p.sex as ReferralPersonOut['sex'],
    birthDate: p.birthDate,
    age: ageOn(p.birthDate, today),
    phone: phoneWhole ? pii.open(p.phoneSealed!) : p.phoneMasked,
    phoneMasked: !phoneWhole && p.phoneSealed !== null,
    address: p.address,
    region: p.region,
    idType: p.idType,
    idNumber: idWhole ? pii.open(p.idNumberSealed) : p.idNumberMasked,
    idNumberMasked: !idWhole,
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Still reported after its acknowledgement deadline. */
export const isOverdue = (r: ReferralRow, now: Date) => r.status === 'reported' && r.ackDueAt.getTime() < now.getTime();

export function referralOut(
  pii: PiiProtector,
  r: ReferralRow,
  person: ReferralPersonOut,
  viewer: Viewer,
  now: Date,
): ReferralOut {
  const phoneWhole = revealsPhones(viewer) && r.reporterPhoneSealed !== null;
  return {
    id: r.id,
    status: r.status as ReferralStatus,
    personId: r.personId,
    householdId: r.householdId,
    region: r.region,
    origin: r.origin as ReferralOut['origin'],
    visitId: r.visitId,
    welfareContactId: r.welfareContactId,
    symptoms: r.symptoms as ReferralOut['symptoms'],
    symptomsText: r.symptomsText,
    onsetDate: r.onsetDate,
    locationKind: r.locationKind as ReferralOut['locationKind'],
    locationText: r.locationText,
    transportNeeded: r.transportNeeded,
    reporterName: r.reporterName,
    reporterPhone: phoneWhole ? pii.open(r.reporterPhoneSealed!) : r.reporterPhoneMasked,
    reporterPhoneMasked: !phoneWhole && r.reporterPhoneSealed !== null,
    ackDueAt: r.ackDueAt.toISOString(),
    overdue: isOverdue(r, now),
    acknowledgedAt: iso(r.acknowledgedAt),
    receiverClientId: r.receiverClientId,
    hospital: r.hospital,
    transferredAt: iso(r.transferredAt),
    outcome: r.outcome as ReferralOut['outcome'],
    outcomeAt: iso(r.outcomeAt),
    closedReason: r.closedReason,
    closedAt: iso(r.closedAt),
    createdBy: r.createdByClientId,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    person,
  };
}

export const stepOut = (s: StepRow): ReferralStepOut => ({
  seq: s.seq,
  action: s.action,
  fromStatus: s.fromStatus as ReferralStatus | null,
  toStatus: s.toStatus as ReferralStatus,
  at: s.at.toISOString(),
  clientId: s.clientId,
  agency: s.agency,
  note: s.note,
});
