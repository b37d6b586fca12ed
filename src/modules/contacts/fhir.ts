import { createHash } from 'node:crypto';
import type { HandoffRow } from './common.js';
import type { HandoffContactOut } from './schemas.js';
import type { casePersonOut } from './view.js';

/**
 * A handoff as an HL7 FHIR R4 (4.0.1) Bundle of type `collection`: the case as a Patient; each
 * contact on the list (removed ones left out) as a RelatedPerson of the case (the relation) and as
 * a Patient of their own (the subject of tracing), linked to each other; and one exposure
 * Observation per contact: subject the contact, focus the case, effective the contact period,
 * with the tracing status and the quarantine as components. Entries are `urn:uuid:<id>` and
 * references point at those, so the bundle stands on its own. https://hl7.org/fhir/R4/bundle.html
 */
export const FHIR_CONTENT_TYPE = 'application/fhir+json; fhirVersion=4.0; charset=utf-8';

/** Doudi's own code systems (URIs, as FHIR requires of Coding.system). */
const RELATION_SYSTEM = 'urn:doudi:fhir:contact-relation';
const OBSERVATION_SYSTEM = 'urn:doudi:fhir:contact-observation';
const TRACING_SYSTEM = 'urn:doudi:fhir:contact-tracing-status';
const QUARANTINE_SYSTEM = 'urn:doudi:fhir:quarantine-kind';
const HANDOFF_STATUS_SYSTEM = 'urn:doudi:fhir:contact-handoff-status';
const CATEGORY = {
  coding: [
    {
      system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'social-history',
      display: 'Social History',
    },
  ],
};
const EXPOSURE = {
  coding: [
    { system: OBSERVATION_SYSTEM, code: 'close-contact-exposure', display: 'Close contact of a confirmed case' },
  ],
  text: '密切接触者 Close contact of a confirmed case',
};
const relationDisplay: Record<HandoffContactOut['relation'], string> = {
  household: 'Household member',
  family: 'Family member',
  care: 'Caregiver',
  visit: 'In-person visitor',
};

type Json = Record<string, unknown>;
type CasePerson = ReturnType<typeof casePersonOut>;

/** A stable UUID (version 5 layout) for a resource derived from the handoff, so repeated reads agree. */
function derivedId(base: string, label: string): string {
  const h = createHash('sha1').update(`${base}/${label}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const ref = (id: string) => ({ reference: `urn:uuid:${id}` });
const coded = (system: string, code: string, display?: string) => ({
  coding: [{ system, code, ...(display && { display }) }],
  text: display ?? code,
});

/** Name, phone (only when whole) and address, as Patient and RelatedPerson share them. */
function demographics(p: {
  name: string;
  sex: 'male' | 'female' | null;
  phone: string | null;
  phoneMasked: boolean;
  address: string | null;
}): Json {
  return {
    // No identifier: the ID number is not the CDC's to hold, as for referrals.
    name: [{ use: 'official', text: p.name }],
    ...(p.phone && !p.phoneMasked && { telecom: [{ system: 'phone', value: p.phone, use: 'mobile' }] }),
    gender: p.sex ?? 'unknown',
    ...(p.address && { address: [{ use: 'home', text: p.address, country: 'CN' }] }),
  };
}

function casePatient(p: CasePerson): Json {
  return {
    resourceType: 'Patient',
    id: p.id,
    ...demographics(p),
    ...(p.birthDate && { birthDate: p.birthDate }),
  };
}

function contactResources(h: HandoffRow, c: HandoffContactOut): Json[] {
  const patientId = c.id;
  const relatedId = derivedId(c.id, 'related-person');
  const observationId = derivedId(c.id, 'exposure');
  const relation = coded(RELATION_SYSTEM, c.relation, relationDisplay[c.relation]);
  const period = {
    start: c.firstContactDate ?? h.windowFrom,
    end: c.lastContactDate ?? h.windowTo,
  };
  const components: Json[] = [
    { code: { text: 'Tracing status' }, valueCodeableConcept: coded(TRACING_SYSTEM, c.status) },
  ];
  if (c.quarantineKind && c.quarantineFrom && c.quarantineTo) {
    components.push(
      { code: { text: 'Quarantine' }, valueCodeableConcept: coded(QUARANTINE_SYSTEM, c.quarantineKind) },
      {
        code: { text: 'Quarantine period' },
        valuePeriod: { start: c.quarantineFrom, end: c.releasedOn ?? c.quarantineTo },
      },
    );
  }
  if (c.inPersonContacts > 0) {
    components.push({ code: { text: 'In-person contacts in the window' }, valueInteger: c.inPersonContacts });
  }
  return [
    {
      resourceType: 'RelatedPerson',
      id: relatedId,
      active: true,
      patient: ref(h.casePersonId),
      relationship: [relation],
      ...demographics(c),
      period,
    },
    {
      resourceType: 'Patient',
      id: patientId,
      ...demographics(c),
      link: [{ other: ref(relatedId), type: 'seealso' }],
    },
    {
      resourceType: 'Observation',
      id: observationId,
      status: 'final',
      category: [CATEGORY],
      code: EXPOSURE,
      subject: ref(patientId),
      focus: [ref(h.casePersonId)],
      effectivePeriod: period,
      issued: c.updatedAt,
      valueCodeableConcept: relation,
      component: components,
      ...(c.quarantinePlace && { note: [{ text: `Quarantine place: ${c.quarantinePlace}` }] }),
    },
  ];
}

export function handoffBundle(h: HandoffRow, casePerson: CasePerson, contacts: HandoffContactOut[], now: Date): Json {
  const listed = contacts.filter((c) => c.status !== 'removed');
  const resources = [casePatient(casePerson), ...listed.flatMap((c) => contactResources(h, c))];
  const bundleId = derivedId(h.id, `bundle/${h.version}`);
  return {
    resourceType: 'Bundle',
    id: bundleId,
    meta: {
      lastUpdated: h.updatedAt.toISOString(),
      tag: [{ system: HANDOFF_STATUS_SYSTEM, code: h.status, display: `Handoff ${h.status}` }],
    },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${bundleId}` },
    type: 'collection',
    timestamp: now.toISOString(),
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id as string}`, resource })),
  };
}
