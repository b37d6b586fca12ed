import { createHash } from 'node:crypto';
import { SNOMED_CT_SYSTEM, symptomCoding } from '../care/symptoms.js';
import type { ReferralPersonOut, ReferralStatus } from './schemas.js';
import type { ReferralRow } from './view.js';

/**
 * A referral as an HL7 FHIR R4 (4.0.1) Bundle of type `collection`: the Patient, the
 * ServiceRequest (the referral itself), the Task that tracks it (its status is the referral's),
 * and one Observation per coded symptom. Every entry is `urn:uuid:<id>` and references point at
 * those, so the bundle stands on its own. https://hl7.org/fhir/R4/bundle.html
 */
export const FHIR_CONTENT_TYPE = 'application/fhir+json; fhirVersion=4.0; charset=utf-8';

/** Doudi's own code systems (URIs, as FHIR requires of Coding.system). */
const STATUS_SYSTEM = 'urn:doudi:fhir:referral-status';
const OUTCOME_SYSTEM = 'urn:doudi:fhir:referral-outcome';
const LOCATION_SYSTEM = 'urn:doudi:fhir:referral-location';
const YES_NO_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0136';
/** SNOMED CT 3457005 |Patient referral (procedure)|. */
const PATIENT_REFERRAL = { system: SNOMED_CT_SYSTEM, code: '3457005', display: 'Patient referral' };

type Json = Record<string, unknown>;

/** A stable UUID (version 5 layout) for a resource derived from the referral, so repeated reads agree. */
function derivedId(referralId: string, label: string): string {
  const h = createHash('sha1').update(`${referralId}/${label}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const ref = (id: string) => ({ reference: `urn:uuid:${id}` });

const serviceRequestStatus: Record<ReferralStatus, string> = {
  reported: 'active',
  acknowledged: 'active',
  transferred: 'active',
  confirmed: 'completed',
  excluded: 'completed',
  rejected: 'revoked',
  cancelled: 'revoked',
};

const taskStatus: Record<ReferralStatus, string> = {
  reported: 'requested',
  acknowledged: 'accepted',
  transferred: 'in-progress',
  confirmed: 'completed',
  excluded: 'completed',
  rejected: 'rejected',
  cancelled: 'cancelled',
};

function patient(p: ReferralPersonOut): Json {
  return {
    resourceType: 'Patient',
    id: p.id,
    // No identifier: the ID number is not the receivers' to hold (issue 7, item 5).
    name: [{ use: 'official', text: p.name }],
    gender: p.sex ?? 'unknown',
    ...(p.birthDate && { birthDate: p.birthDate }),
    ...(p.phone && !p.phoneMasked && { telecom: [{ system: 'phone', value: p.phone, use: 'mobile' }] }),
    ...(p.address && { address: [{ use: 'home', text: p.address, country: 'CN' }] }),
  };
}

const codedSymptoms = (r: ReferralRow) =>
  r.symptoms.flatMap((code) => {
    const c = symptomCoding(code);
    return c
      ? [
          {
            code,
            concept: { coding: [{ system: SNOMED_CT_SYSTEM, code: c.snomed, display: c.display }], text: c.displayZh },
          },
        ]
      : [];
  });

function serviceRequest(r: ReferralRow, observationIds: string[]): Json {
  const reasons = codedSymptoms(r).map((s) => s.concept);
  const notes = [
    r.symptomsText && { text: `Symptoms: ${r.symptomsText}` },
    {
      text: `Now at: ${r.locationKind}${r.locationText ? ` (${r.locationText})` : ''}; transport needed: ${r.transportNeeded ? 'yes' : 'no'}`,
    },
  ].filter(Boolean);
  return {
    resourceType: 'ServiceRequest',
    id: r.id,
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${r.id}` }],
    status: serviceRequestStatus[r.status as ReferralStatus],
    intent: 'order',
    category: [{ coding: [PATIENT_REFERRAL], text: 'Suspected-case referral to health' }],
    priority: 'urgent',
    code: { coding: [PATIENT_REFERRAL], text: 'Suspected infection: assessment at a designated hospital' },
    subject: ref(r.personId),
    // Wanted at once; the acknowledgement deadline is the Task's restriction.
    occurrenceDateTime: r.createdAt.toISOString(),
    authoredOn: r.createdAt.toISOString(),
    requester: { display: `Civil affairs (${r.region}): ${r.reporterName}` },
    // FHIR JSON has no empty arrays: without a coded symptom there is no reasonCode.
    ...(reasons.length > 0 && { reasonCode: reasons }),
    ...(observationIds.length > 0 && { supportingInfo: observationIds.map(ref) }),
    note: notes,
  };
}

function taskOutputs(r: ReferralRow): Json[] {
  const outputs: Json[] = [];
  if (r.hospital) outputs.push({ type: { text: 'Designated hospital' }, valueString: r.hospital });
  if (r.outcome) {
    outputs.push({
      type: { text: 'Outcome' },
      valueCodeableConcept: {
        coding: [{ system: OUTCOME_SYSTEM, code: r.outcome, display: r.outcome }],
        text: r.outcome,
      },
    });
  }
  return outputs;
}

function task(r: ReferralRow, taskId: string): Json {
  const end = r.outcomeAt ?? r.closedAt;
  const outputs = taskOutputs(r);
  return {
    resourceType: 'Task',
    id: taskId,
    status: taskStatus[r.status as ReferralStatus],
    ...(r.closedReason && { statusReason: { text: r.closedReason } }),
    businessStatus: { coding: [{ system: STATUS_SYSTEM, code: r.status, display: r.status }], text: r.status },
    intent: 'order',
    priority: 'urgent',
    code: { coding: [PATIENT_REFERRAL] },
    focus: ref(r.id),
    for: ref(r.personId),
    ...(r.acknowledgedAt && {
      executionPeriod: { start: r.acknowledgedAt.toISOString(), ...(end && { end: end.toISOString() }) },
    }),
    authoredOn: r.createdAt.toISOString(),
    lastModified: r.updatedAt.toISOString(),
    restriction: { period: { end: r.ackDueAt.toISOString() } },
    input: [
      {
        type: { coding: [{ system: LOCATION_SYSTEM, code: r.locationKind }], text: 'Where the person is now' },
        valueString: r.locationText ?? r.locationKind,
      },
      // HL7 v2 table 0136 (Y/N) rather than valueBoolean: FHIR.js, the validator the tests use, takes `false` for absent.
      {
        type: { text: 'Transport needed' },
        valueCodeableConcept: { coding: [{ system: YES_NO_SYSTEM, code: r.transportNeeded ? 'Y' : 'N' }] },
      },
    ],
    ...(outputs.length > 0 && { output: outputs }),
  };
}

function observation(r: ReferralRow, id: string, concept: Json): Json {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey', display: 'Survey' },
        ],
      },
    ],
    code: concept,
    subject: ref(r.personId),
    // The finding itself is the code (present); effective: the onset date when given, else the report.
    effectiveDateTime: r.onsetDate ?? r.createdAt.toISOString(),
    issued: r.createdAt.toISOString(),
  };
}

export function referralBundle(r: ReferralRow, person: ReferralPersonOut, now: Date): Json {
  const symptoms = codedSymptoms(r).map((s) => ({ ...s, id: derivedId(r.id, `observation/${s.code}`) }));
  const observations = symptoms.map((s) => observation(r, s.id, s.concept));
  const resources = [
    patient(person),
    serviceRequest(
      r,
      symptoms.map((s) => s.id),
    ),
    task(r, derivedId(r.id, 'task')),
    ...observations,
  ];
  return {
    resourceType: 'Bundle',
    id: derivedId(r.id, `bundle/${r.version}`),
    meta: { lastUpdated: r.updatedAt.toISOString() },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${derivedId(r.id, `bundle/${r.version}`)}` },
    type: 'collection',
    timestamp: now.toISOString(),
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id as string}`, resource })),
  };
}
