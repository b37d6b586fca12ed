import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';

export const welfareChannels = ['phone', 'wechat', 'video', 'in_person'] as const;
export const welfareOutcomes = ['fine', 'hardship', 'symptoms', 'unreachable'] as const;
export const welfareNeeds = ['food', 'medicine', 'protective_items', 'cash', 'care', 'medical', 'other'] as const;

const inKind = z.array(z.object({ item: z.string(), quantity: z.number().int(), unit: z.string() }));

const contactData = z.object({
  welfareContactId: z.uuid(),
  householdId: z.uuid().nullable(),
  personId: z.uuid().nullable(),
  region: z.string().describe('The household’s (or person’s) residence region'),
  contactedAt: z.iso.datetime({ offset: true }),
  channel: z.enum(welfareChannels),
  outcome: z.enum(welfareOutcomes),
  needs: z.array(z.enum(welfareNeeds)),
  temporaryAssistanceId: z.uuid().nullable().describe('The temporary assistance a hardship finding opened'),
});

// Assistance events go to `registry:read`: they name persons (by id) and say who is in hardship,
// which is civil affairs' business. Finance and banks learn of the money through the payment
// batches the payments module builds from these events, not from the grants themselves.
export const welfareContactRecorded = defineEvent({
  type: 'welfare_contact.recorded',
  scope: 'registry:read',
  summary: 'A caseworker recorded a contact with a household or person (outcome and needs; no notes)',
  data: contactData,
});

// Only those who report suspected cases (civil affairs) need this: it is their cue to open a
// referral to health, which is what the health department then receives.
export const welfareContactSymptomsReported = defineEvent({
  type: 'welfare_contact.symptoms_reported',
  scope: 'referrals:create',
  summary: 'A welfare contact found suspected symptoms: a referral to health should follow',
  data: contactData,
});

const assistanceData = z.object({
  temporaryAssistanceId: z.uuid(),
  personId: z.uuid(),
  householdId: z.uuid().nullable(),
  region: z.string().describe('The place of emergency, where the aid is granted'),
  hukouRegion: z.string().nullable(),
  nonLocal: z.boolean(),
  policyId: z.uuid().nullable().describe('The emergency policy in force there; one grant per person and policy'),
  status: z.enum(['opened', 'granted', 'completed', 'refused', 'cancelled']),
  needs: z.array(z.enum(welfareNeeds)),
  cashFen: z.number().int(),
  inKind,
  welfareContactId: z.uuid().nullable(),
  grantedAt: z.iso.datetime({ offset: true }).nullable(),
  paperworkDueDate: z.iso.date().nullable().describe('Aid first, paperwork after: completed by this day'),
});

export type AssistanceEventData = z.infer<typeof assistanceData>;

export const temporaryAssistanceOpened = defineEvent({
  type: 'temporary_assistance.opened',
  scope: 'registry:read',
  summary: 'Temporary assistance was opened by a welfare contact that found hardship',
  data: assistanceData,
});

export const temporaryAssistanceGranted = defineEvent({
  type: 'temporary_assistance.granted',
  scope: 'registry:read',
  summary: 'Temporary assistance was granted: cash and in-kind items to pay and distribute',
  data: assistanceData,
});

export const temporaryAssistanceCompleted = defineEvent({
  type: 'temporary_assistance.completed',
  scope: 'registry:read',
  summary: 'The paperwork of a temporary assistance grant was completed',
  data: assistanceData.extend({
    completedAt: z.iso.datetime({ offset: true }),
    paperworkOnTime: z.boolean().describe('Completed on or before paperworkDueDate (Asia/Shanghai)'),
  }),
});

export const temporaryAssistanceRefused = defineEvent({
  type: 'temporary_assistance.refused',
  scope: 'registry:read',
  summary: 'Opened temporary assistance was refused (nothing is paid)',
  data: assistanceData.extend({ reason: z.string() }),
});

export const temporaryAssistanceCancelled = defineEvent({
  type: 'temporary_assistance.cancelled',
  scope: 'registry:read',
  summary: 'A temporary assistance grant was cancelled (e.g. granted in error): its payment must not be made',
  data: assistanceData.extend({ reason: z.string() }),
});
