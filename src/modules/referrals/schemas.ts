import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { SymptomEnum, symptomCodes } from '../care/symptoms.js';
import { businessDate, regionCode } from '../registry/programs.schemas.js';

export const referralStatuses = [
  'reported',
  'acknowledged',
  'transferred',
  'confirmed',
  'excluded',
  'rejected',
  'cancelled',
] as const;
export type ReferralStatus = (typeof referralStatuses)[number];
/** Statuses in which a referral is under way: one such per person (the database's partial unique index). */
export const openStatuses: ReferralStatus[] = ['reported', 'acknowledged', 'transferred'];
export const referralOrigins = ['visit', 'welfare_contact', 'direct'] as const;
export const locationKinds = ['home', 'care_institution', 'hospital', 'quarantine_site', 'other'] as const;

const symptomList = z
  .array(SymptomEnum)
  .max(symptomCodes.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a symptom');
const text = (max: number) => z.string().trim().min(1).max(max);
const phone = z
  .string()
  .regex(/^\+?[0-9][0-9 -]{4,22}$/, 'must be a phone number: digits, with an optional leading + and spaces or dashes');

export const NewReferralBody = z
  .object({
    personId: z.uuid().describe('The person with suspected symptoms, living inside your jurisdiction'),
    origin: z
      .enum(referralOrigins)
      .describe('`visit` (give `visitId`), `welfare_contact` (give `welfareContactId`) or `direct`'),
    visitId: z.uuid().optional().describe('The visit that found the symptoms; its person must be `personId`'),
    welfareContactId: z
      .uuid()
      .optional()
      .describe('The welfare contact that found the symptoms; its person (or household) must be `personId`’s'),
    symptoms: symptomList
      .optional()
      .describe('Coded symptoms; from a visit, the visit’s when omitted. At least one, or `symptomsText`'),
    symptomsText: text(4000)
      .optional()
      .describe('Symptoms in words; the visit’s (or the welfare contact’s notes) when omitted'),
    onsetDate: businessDate.optional().describe('When the symptoms began (not in the future)'),
    locationKind: z.enum(locationKinds).describe('Where the person is now'),
    locationText: text(300).optional().describe('Where exactly (address, institution, ward)'),
    transportNeeded: z.boolean().default(false).describe('Whether the person needs to be taken to hospital'),
    reporterName: text(200).describe('Who reports it (the caseworker or caregiver)'),
    reporterPhone: phone.optional().describe('How health reaches the reporter; kept sealed'),
  })
  .strict();
export type NewReferral = z.infer<typeof NewReferralBody>;

const note = text(2000).optional().describe('A note kept in the referral’s steps');
export const NoteBody = z.object({ note }).strict();
export const TransferBody = z
  .object({
    hospital: text(300).describe('The designated hospital the person was taken to'),
    transferredAt: timestamp.optional().describe('When; now when omitted. Not in the future, not before the report'),
    note,
  })
  .strict();
export const ReasonBody = z.object({ reason: text(2000).describe('Why, in words the other side reads') }).strict();

export const ReferralQuery = z.object({
  status: z.enum(referralStatuses).optional(),
  region: regionCode.optional().describe('Referrals of this region (prefix), inside your jurisdiction'),
  personId: z.uuid().optional(),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .describe('`true`: still `reported` after the acknowledgement deadline, the longest overdue first'),
});

const masked = (what: string) => z.boolean().describe(`true: ${what} is masked; false: it is whole`);

/** The receivers' minimum of a person (issue 7, item 5): who, how old, how to reach them, where. */
export const ReferralPersonSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    sex: z.enum(['male', 'female']).nullable(),
    birthDate: businessDate.nullable(),
    age: z.number().int().nullable().describe('Whole years today (Asia/Shanghai)'),
    phone: z
      .string()
      .nullable()
      .describe('Whole for receivers (they must call) and callers with registry:read_sensitive'),
    phoneMasked: masked('phone'),
    address: z.string().nullable().describe('The person’s address, else the household’s'),
    region: z.string().describe('Residence region'),
    idType: z.string(),
    idNumber: z.string().describe('Masked, except for civil affairs holding registry:read_sensitive'),
    idNumberMasked: masked('idNumber'),
  })
  .meta({ id: 'ReferralPerson' });

export const ReferralStepSchema = z.object({
  seq: z.number().int(),
  action: z.string().describe('reported, acknowledged, transferred, confirmed, excluded, rejected, cancelled'),
  fromStatus: z.enum(referralStatuses).nullable(),
  toStatus: z.enum(referralStatuses),
  at: timestamp,
  clientId: z.uuid().nullable(),
  agency: z.string().nullable(),
  note: z.string().nullable(),
});

export const ReferralSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(referralStatuses),
    personId: z.uuid(),
    householdId: z.uuid().nullable(),
    region: z.string().describe('The person’s residence region when reported: who receives it'),
    origin: z.enum(referralOrigins),
    visitId: z.uuid().nullable(),
    welfareContactId: z.uuid().nullable(),
    symptoms: z.array(SymptomEnum),
    symptomsText: z.string().nullable(),
    onsetDate: businessDate.nullable(),
    locationKind: z.enum(locationKinds),
    locationText: z.string().nullable(),
    transportNeeded: z.boolean(),
    reporterName: z.string(),
    reporterPhone: z.string().nullable(),
    reporterPhoneMasked: masked('reporterPhone'),
    ackDueAt: timestamp.describe('Health acknowledges by then (the emergency policy’s referralAckHours, else 24 h)'),
    overdue: z.boolean().describe('Still reported after ackDueAt'),
    acknowledgedAt: timestamp.nullable(),
    receiverClientId: z.uuid().nullable().describe('The receiving client that acknowledged it and answers it'),
    hospital: z.string().nullable(),
    transferredAt: timestamp.nullable(),
    outcome: z.enum(['confirmed', 'excluded']).nullable(),
    outcomeAt: timestamp.nullable(),
    closedReason: z.string().nullable().describe('Why it was rejected or cancelled'),
    closedAt: timestamp.nullable(),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    person: ReferralPersonSchema,
  })
  .meta({ id: 'Referral' });

export const ReferralDetailSchema = ReferralSchema.extend({
  steps: z.array(ReferralStepSchema).describe('Every step, oldest first'),
}).meta({ id: 'ReferralDetail' });

export type ReferralOut = z.infer<typeof ReferralSchema>;
export type ReferralPersonOut = z.infer<typeof ReferralPersonSchema>;
export type ReferralStepOut = z.infer<typeof ReferralStepSchema>;
