import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import type { PolicyRow } from './policies.service.js';
import { businessDate, regionCode } from './programs.schemas.js';

const switches = {
  fastTrack: z
    .boolean()
    .describe(
      'Measure 2: applications are verified by data matching and a phone survey, without a home visit, and decided within decisionDeadlineDays',
    ),
  decisionDeadlineDays: z
    .number()
    .int()
    .min(1)
    .max(90)
    .nullable()
    .describe(
      'Measure 2: days within which a fast-tracked application is decided; null: the program’s normal deadline',
    ),
  reviewExtensionMonths: z
    .number()
    .int()
    .min(0)
    .max(24)
    .describe('Measure 2: periodic reviews due while the policy is in force move by this many months (0: none)'),
  hukouRelaxed: z
    .boolean()
    .describe(
      'Measure 6: temporary assistance may be granted at the place of emergency to people whose hukou is elsewhere',
    ),
  dailyReportCutoff: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM')
    .nullable()
    .describe(
      'Measure 7: districts report daily by this time (HH:MM, Asia/Shanghai); null: due at the end of the reported day (24:00)',
    ),
  greenChannelHours: z
    .number()
    .int()
    .min(1)
    .max(720)
    .nullable()
    .describe('Measure 3: expedited (green-channel) payments are paid within this many hours'),
  visitIntervalDays: z
    .number()
    .int()
    .min(1)
    .max(90)
    .nullable()
    .describe(
      'Measure 4: key persons (scattered extremely poor persons, people living alone, disabled people) are visited at least every this many days; null: the normal interval (30 days)',
    ),
  referralAckHours: z
    .number()
    .int()
    .min(1)
    .max(168)
    .nullable()
    .describe(
      'Measure 5: health acknowledges a suspected-case referral within this many hours; null: the normal rule (24 hours)',
    ),
  contactLookBackDays: z
    .number()
    .int()
    .min(1)
    .max(60)
    .nullable()
    .describe(
      'Measure 5: a confirmed case’s close contacts are looked for this many days before onset; null: the normal window (14 days)',
    ),
};

export const PolicySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    region: z.string().describe('Region-code prefix it covers; a more specific region’s policy takes precedence there'),
    effectiveFrom: businessDate.describe('First day in force (Asia/Shanghai)'),
    effectiveTo: businessDate
      .nullable()
      .describe('First day no longer in force (the period is half-open); null: until further notice'),
    ...switches,
    description: z.string().nullable(),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    endedBy: z.uuid().nullable(),
    endedAt: timestamp.nullable(),
  })
  .meta({ id: 'Policy', description: 'An emergency response and the switches the measures read' });

export const NewPolicyBody = z
  .object({
    name: z.string().trim().min(1).max(200).describe('e.g. “COVID-19 emergency response, level I”'),
    region: regionCode.describe('Where it applies: 2201 for the city, 220102 for Nanguan District, …'),
    effectiveFrom: businessDate.describe('First day in force'),
    effectiveTo: businessDate.optional().describe('First day no longer in force; omit for until further notice'),
    fastTrack: switches.fastTrack.optional().describe('Default false'),
    decisionDeadlineDays: switches.decisionDeadlineDays.optional(),
    reviewExtensionMonths: switches.reviewExtensionMonths.optional().describe('Default 0'),
    hukouRelaxed: switches.hukouRelaxed.optional().describe('Default false'),
    dailyReportCutoff: switches.dailyReportCutoff.optional(),
    greenChannelHours: switches.greenChannelHours.optional(),
    visitIntervalDays: switches.visitIntervalDays.optional(),
    referralAckHours: switches.referralAckHours.optional(),
    contactLookBackDays: switches.contactLookBackDays.optional(),
    description: z.string().trim().min(1).max(2000).optional(),
  })
  .strict();

export const EndPolicyBody = z
  .object({
    effectiveTo: businessDate.describe(
      'First day no longer in force: today or later, and not before effectiveFrom (equal withdraws a policy that has not started)',
    ),
  })
  .strict();

export const policyOut = (p: PolicyRow) => ({
  id: p.id,
  name: p.name,
  region: p.region,
  effectiveFrom: p.effectiveFrom,
  effectiveTo: p.effectiveTo,
  fastTrack: p.fastTrack,
  decisionDeadlineDays: p.decisionDeadlineDays,
  reviewExtensionMonths: p.reviewExtensionMonths,
  hukouRelaxed: p.hukouRelaxed,
  dailyReportCutoff: p.dailyReportCutoff,
  greenChannelHours: p.greenChannelHours,
  visitIntervalDays: p.visitIntervalDays,
  referralAckHours: p.referralAckHours,
  contactLookBackDays: p.contactLookBackDays,
  description: p.description,
  createdBy: p.createdByClientId,
  createdAt: p.createdAt.toISOString(),
  endedBy: p.endedByClientId,
  endedAt: p.endedAt ? p.endedAt.toISOString() : null,
});
