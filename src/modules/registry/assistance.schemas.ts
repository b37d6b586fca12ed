import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { welfareChannels, welfareNeeds, welfareOutcomes } from './assistance.events.js';
import { regionCode } from './programs.schemas.js';

export const assistanceStatuses = ['opened', 'granted', 'completed', 'refused', 'cancelled'] as const;
export const strandedReasons = ['family_visit', 'travel', 'work', 'other'] as const;
export const infectionStatuses = ['confirmed', 'suspected', 'close_contact', 'not_infected'] as const;

const needs = z
  .array(z.enum(welfareNeeds))
  .max(welfareNeeds.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a need');

// ─── Welfare contacts ───────────────────────────────────────────────────────

export const NewWelfareContactBody = z
  .object({
    householdId: z.uuid().optional().describe('The household contacted; give it, the person, or both'),
    personId: z.uuid().optional().describe('The person contacted; must belong to the household when both are given'),
    contactedAt: timestamp.describe('When the contact took place; not in the future'),
    channel: z.enum(welfareChannels).describe('How: phone, WeChat, video call or in person'),
    outcome: z
      .enum(welfareOutcomes)
      .describe(
        '`hardship` opens temporary assistance at once; `symptoms` publishes welfare_contact.symptoms_reported for a referral to health',
      ),
    needs: needs.default([]).describe('What they need; required (non-empty) when the outcome is hardship'),
    notes: z.string().trim().max(4000).optional(),
    caseworker: z.string().trim().min(1).max(200).describe('The caseworker who made the contact'),
  })
  .strict();

export const WelfareContactSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid().nullable(),
    personId: z.uuid().nullable(),
    region: z.string().describe('The household’s (or person’s) residence region'),
    contactedAt: timestamp,
    channel: z.enum(welfareChannels),
    outcome: z.enum(welfareOutcomes),
    needs: z.array(z.enum(welfareNeeds)),
    notes: z.string().nullable(),
    caseworker: z.string(),
    temporaryAssistanceId: z.uuid().nullable().describe('The temporary assistance this hardship finding opened'),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'WelfareContact' });

export const WelfareContactQuery = z.object({
  region: regionCode.optional().describe('Contacts of households in this region (prefix), inside your jurisdiction'),
  outcome: z.enum(welfareOutcomes).optional(),
  householdId: z.uuid().optional(),
  personId: z.uuid().optional(),
  from: timestamp.optional().describe('Contacted at or after this time'),
  to: timestamp.optional().describe('Contacted before this time'),
});

// ─── Temporary assistance ───────────────────────────────────────────────────

const InKindItemSchema = z
  .object({
    item: z.string().trim().min(1).max(200).describe('What, e.g. “surgical masks”'),
    quantity: z.number().int().min(1).max(1_000_000),
    unit: z.string().trim().min(1).max(50).describe('e.g. “piece”, “box”'),
  })
  .strict();

/** The amount fields of a grant, on the spot or of an opened one. */
const grantFields = {
  cashFen: z
    .number()
    .int()
    .min(0)
    .max(100_000_000)
    .default(0)
    .describe('Cash, at most the temporary_assistance standard in force for the region (its monthlyStandardFen)'),
  inKind: z.array(InKindItemSchema).max(50).default([]).describe('In-kind aid: masks, food, …'),
  strandedReason: z
    .enum(strandedReasons)
    .optional()
    .describe('Why a non-local person is here; required for a non-local person under a hukou-relaxing policy'),
  infectionStatus: z
    .enum(infectionStatuses)
    .optional()
    .describe('Required for a non-local person under a hukou-relaxing policy'),
};

export const NewTemporaryAssistanceBody = z
  .object({
    personId: z.uuid().describe('Who is aided; may be registered anywhere in the city'),
    region: regionCode
      .optional()
      .describe(
        'The place of emergency (急难发生地), inside your jurisdiction; the person’s residence region when omitted',
      ),
    ...grantFields,
    reason: z.string().trim().min(1).max(4000).describe('What happened'),
  })
  .strict();

export const GrantTemporaryAssistanceBody = z
  .object({ ...grantFields, reason: z.string().trim().min(1).max(4000).optional().describe('What happened') })
  .strict();

export const CompleteTemporaryAssistanceBody = z.object({ notes: z.string().trim().max(4000).optional() }).strict();
export const CloseTemporaryAssistanceBody = z.object({ reason: z.string().trim().min(1).max(4000) }).strict();

export const TemporaryAssistanceSchema = z
  .object({
    id: z.uuid(),
    personId: z.uuid(),
    householdId: z.uuid().nullable(),
    region: z.string().describe('The place of emergency, where the aid is granted'),
    hukouRegion: z.string().nullable().describe('The person’s hukou region when the aid was opened or granted'),
    nonLocal: z.boolean().describe('Hukou outside the district of the place of emergency (measure 6)'),
    policyId: z.uuid().nullable().describe('The emergency policy in force there; one grant per person and policy'),
    strandedReason: z.enum(strandedReasons).nullable(),
    infectionStatus: z.enum(infectionStatuses).nullable(),
    status: z.enum(assistanceStatuses),
    needs: z.array(z.enum(welfareNeeds)),
    cashFen: z.number().int(),
    inKind: z.array(z.object({ item: z.string(), quantity: z.number().int(), unit: z.string() })),
    reason: z.string().nullable(),
    welfareContactId: z.uuid().nullable().describe('The welfare contact that opened it'),
    openedAt: timestamp,
    grantedAt: timestamp.nullable(),
    grantedBy: z.uuid().nullable(),
    paperworkDueDate: z.iso.date().nullable().describe('Aid first, paperwork after: completed by this day'),
    paperworkOverdue: z.boolean().describe('Granted, and the paperwork is past its due date'),
    completedAt: timestamp.nullable(),
    paperworkOnTime: z.boolean().nullable().describe('Completed on or before the due date; null until completed'),
    closedReason: z
      .string()
      .nullable()
      .describe('Why it was refused or cancelled, or the notes given when the paperwork was completed'),
    createdBy: z.uuid().nullable(),
    updatedAt: timestamp,
  })
  .meta({ id: 'TemporaryAssistance' });

export const TemporaryAssistanceQuery = z.object({
  status: z.enum(assistanceStatuses).optional(),
  region: regionCode.optional().describe('Place of emergency (prefix), inside your jurisdiction'),
  personId: z.uuid().optional(),
  overduePaperwork: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: only grants whose paperwork is past its due date'),
});
