import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';

const policy = z.object({
  policyId: z.uuid(),
  name: z.string(),
  region: z.string(),
  effectiveFrom: z.iso.date(),
  effectiveTo: z.iso.date().nullable().describe('First day no longer in force; null: until further notice'),
  fastTrack: z.boolean(),
  decisionDeadlineDays: z.number().int().nullable(),
  reviewExtensionMonths: z.number().int(),
  hukouRelaxed: z.boolean(),
  dailyReportCutoff: z.string().nullable(),
  greenChannelHours: z.number().int().nullable(),
  visitIntervalDays: z.number().int().nullable(),
  referralAckHours: z.number().int().nullable(),
  contactLookBackDays: z.number().int().nullable(),
});

export const policyCreated = defineEvent({
  type: 'policy.created',
  scope: 'programs:read',
  summary: 'An emergency policy was declared for a region (period and switches)',
  data: policy,
});

export const policyEnded = defineEvent({
  type: 'policy.ended',
  scope: 'programs:read',
  summary: 'An emergency policy was given an end date',
  data: policy,
});
