import { Fhir } from 'fhir';

/** A FHIR resource as the tests read it. */
export type Resource = Record<string, unknown> & { resourceType: string; id: string };

// An independent validator: FHIR.js (lantanagroup, npm `fhir`) checks each resource against the
// FHIR R4 (4.0.0) structure definitions it ships: cardinality, data types, required value sets.
const fhir = new Fhir();

/** What is wrong with a resource: the validator's errors, then FHIR's JSON rules it leaves out. */
export const problemsOf = (resource: unknown) => [
  ...fhir
    .validate(resource as object, { errorOnUnexpected: true })
    .messages.filter((m) => m.severity === 'error' || m.severity === 'fatal')
    .map((m) => `${m.location}: ${m.message}`),
  ...jsonRules(resource, ''),
];

/** FHIR's JSON rules the validator leaves out: no empty arrays or objects, no nulls, no empty strings. */
function jsonRules(value: unknown, at: string): string[] {
  if (value === null || value === '') return [`${at}: empty value`];
  if (Array.isArray(value)) {
    return value.length === 0 ? [`${at}: empty array`] : value.flatMap((v, i) => jsonRules(v, `${at}[${i}]`));
  }
  if (typeof value !== 'object') return [];
  const entries = Object.entries(value as object);
  return entries.length === 0 ? [`${at}: empty object`] : entries.flatMap(([k, v]) => jsonRules(v, `${at}.${k}`));
}
