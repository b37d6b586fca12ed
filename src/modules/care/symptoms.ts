import { z } from 'zod';

/**
 * The symptoms a visit (or a referral) records, each a SNOMED CT clinical finding
 * (http://snomed.info/sct) with an English and a Chinese display. The codes are what the API
 * takes and answers; FHIR Observations carry the SNOMED CT code and display.
 */
export interface SymptomCode {
  code: string;
  snomed: string;
  display: string;
  displayZh: string;
}

export const SNOMED_CT_SYSTEM = 'http://snomed.info/sct';

export const symptomCodes = [
  { code: 'fever', snomed: '386661006', display: 'Fever', displayZh: '发热' },
  { code: 'cough', snomed: '49727002', display: 'Cough', displayZh: '咳嗽' },
  { code: 'sore_throat', snomed: '162397003', display: 'Pain in throat', displayZh: '咽痛' },
  { code: 'shortness_of_breath', snomed: '267036007', display: 'Dyspnea', displayZh: '气促' },
  { code: 'fatigue', snomed: '84229001', display: 'Fatigue', displayZh: '乏力' },
  { code: 'muscle_ache', snomed: '68962001', display: 'Muscle pain', displayZh: '肌肉酸痛' },
  { code: 'headache', snomed: '25064002', display: 'Headache', displayZh: '头痛' },
  { code: 'loss_of_taste', snomed: '36955009', display: 'Loss of taste', displayZh: '味觉丧失' },
  { code: 'loss_of_smell', snomed: '44169009', display: 'Loss of sense of smell', displayZh: '嗅觉丧失' },
  { code: 'chills', snomed: '43724002', display: 'Chill', displayZh: '寒战' },
  { code: 'runny_nose', snomed: '64531003', display: 'Nasal discharge', displayZh: '流涕' },
  { code: 'diarrhoea', snomed: '62315008', display: 'Diarrhea', displayZh: '腹泻' },
  { code: 'nausea', snomed: '422587007', display: 'Nausea', displayZh: '恶心' },
] as const satisfies readonly SymptomCode[];

export type Symptom = (typeof symptomCodes)[number]['code'];

/** The codes alone, in the list's order. */
export const symptoms = symptomCodes.map((s) => s.code) as [Symptom, ...Symptom[]];

export const SymptomEnum = z
  .enum(symptoms)
  .describe(`A symptom code: ${symptomCodes.map((s) => `\`${s.code}\` (SNOMED CT ${s.snomed})`).join(', ')}`);

const bySymptom = new Map<string, SymptomCode>(symptomCodes.map((s) => [s.code, s]));

/** The SNOMED CT coding of a symptom code; undefined for a code not in the list. */
export const symptomCoding = (code: string): SymptomCode | undefined => bySymptom.get(code);
