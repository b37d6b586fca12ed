import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { programCodes } from './programs.rules.js';
import type { ProgramRow, ProgramStandard } from './programs.service.js';

export const programCode = z
  .enum(programCodes)
  .describe('The program: dibao, tekun, temporary_assistance or price_subsidy');

export const regionCode = z
  .string()
  .regex(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, 'must be a region code of 2, 4, 6, 9 or 12 digits');

export const businessDate = z.iso.date().describe('A business date, YYYY-MM-DD (Asia/Shanghai)');

/** Whole fen; bounded so that the rules' products stay exact. */
const fen = z.number().int().min(0).max(100_000_000);

export const ProgramSchema = z
  .object({
    code: programCode,
    name: z.string(),
    nameZh: z.string(),
    frequency: z.enum(['monthly', 'one_off']),
    whatIsPaid: z.string(),
    standardMeaning: z.string().describe('What `monthlyStandardFen` of this program’s standards means'),
    decisionDeadlineDays: z
      .number()
      .int()
      .nullable()
      .describe('Days within which an application is decided under normal rules; a fast-track policy shortens it'),
    reviewIntervalMonths: z
      .number()
      .int()
      .nullable()
      .describe('Months between periodic reviews of an enrollment; null: not reviewed'),
    paperworkDeadlineDays: z
      .number()
      .int()
      .nullable()
      .describe('Aid first, paperwork after: days to complete a grant’s paperwork; null: not a grant program'),
  })
  .meta({ id: 'Program' });

const CareAllowancesSchema = z.object({
  ableFen: fen.describe('Able to look after themselves (全自理)'),
  partiallyUnableFen: fen.describe('Partly unable to look after themselves (半失能)'),
  unableFen: fen.describe('Unable to look after themselves (全失能)'),
});

/** The limits economic verification checks a household against (besides income and financial assets). */
const newLimits = {
  propertyLimit: z
    .number()
    .int()
    .min(0)
    .max(100)
    .describe('Economic verification: residential properties a household may own (0: none)'),
  vehicleValueLimitFen: fen.describe('Economic verification: the highest value any vehicle of the household may have'),
  businessCapitalLimitFen: fen.describe(
    'Economic verification: registered capital the household’s businesses may total (0: no registered business at all)',
  ),
};
const limits = {
  propertyLimit: z.number().int().nullable().describe(`${newLimits.propertyLimit.description}; null: no limit`),
  vehicleValueLimitFen: z
    .number()
    .int()
    .nullable()
    .describe(`${newLimits.vehicleValueLimitFen.description}; null: no limit`),
  businessCapitalLimitFen: z
    .number()
    .int()
    .nullable()
    .describe(`${newLimits.businessCapitalLimitFen.description}; null: no limit`),
};

export const ProgramStandardSchema = z
  .object({
    id: z.uuid(),
    program: programCode,
    region: z.string().describe('Region-code prefix it applies to; a more specific region’s standard takes precedence'),
    effectiveFrom: businessDate.describe('First day in force (Asia/Shanghai)'),
    effectiveTo: businessDate
      .nullable()
      .describe('First day no longer in force (the period is half-open); null: until further notice'),
    monthlyStandardFen: z
      .number()
      .int()
      .describe(
        'dibao: the standard a person a month; tekun: the basic living allowance a month; price_subsidy: the subsidy a person a month; temporary_assistance: the largest one-off grant',
      ),
    assetMultiple: z
      .number()
      .int()
      .nullable()
      .describe('Financial assets allowed per household member, as a multiple of monthlyStandardFen (24: two years)'),
    careAllowances: CareAllowancesSchema.nullable().describe(
      'tekun only: the care allowance a month by self-care ability, added to the basic allowance',
    ),
    ...limits,
    label: z.string().nullable().describe('A note shown with the figures, e.g. that they are for a demo'),
    createdBy: z.uuid().nullable().describe('The client that created it; null for the service itself (demo seed)'),
    createdAt: timestamp,
    endedBy: z.uuid().nullable(),
    endedAt: timestamp.nullable().describe('When it was given its end through the end action'),
  })
  .meta({ id: 'ProgramStandard' });

export const NewProgramStandardBody = z
  .object({
    region: regionCode.describe('Where it applies: 2201 for the city, 220102 for Nanguan District, …'),
    effectiveFrom: businessDate.describe('First day in force'),
    effectiveTo: businessDate.optional().describe('First day no longer in force; omit for until further notice'),
    monthlyStandardFen: fen.min(1).describe('See ProgramStandard.monthlyStandardFen'),
    assetMultiple: z
      .number()
      .int()
      .min(1)
      .max(600)
      .optional()
      .describe('Required for dibao and tekun: financial assets allowed per member, in monthly standards'),
    careAllowances: CareAllowancesSchema.strict().optional().describe('Required for tekun, refused for the others'),
    propertyLimit: newLimits.propertyLimit.optional().describe('Omit for no limit'),
    vehicleValueLimitFen: newLimits.vehicleValueLimitFen.optional().describe('Omit for no limit'),
    businessCapitalLimitFen: newLimits.businessCapitalLimitFen.optional().describe('Omit for no limit'),
    label: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export const EndProgramStandardBody = z
  .object({
    effectiveTo: businessDate.describe(
      'First day no longer in force: today or later, and not before effectiveFrom (equal withdraws a standard that has not started)',
    ),
  })
  .strict();

export const programOut = (p: ProgramRow) => ({
  code: p.code as (typeof programCodes)[number],
  name: p.name,
  nameZh: p.nameZh,
  frequency: p.frequency,
  whatIsPaid: p.whatIsPaid,
  standardMeaning: p.standardMeaning,
  decisionDeadlineDays: p.decisionDeadlineDays,
  reviewIntervalMonths: p.reviewIntervalMonths,
  paperworkDeadlineDays: p.paperworkDeadlineDays,
});

export const standardOut = (s: ProgramStandard) => ({
  id: s.id,
  program: s.program,
  region: s.region,
  effectiveFrom: s.effectiveFrom,
  effectiveTo: s.effectiveTo,
  monthlyStandardFen: s.monthlyStandardFen,
  assetMultiple: s.assetMultiple,
  careAllowances: s.careAllowances,
  propertyLimit: s.propertyLimit,
  vehicleValueLimitFen: s.vehicleValueLimitFen,
  businessCapitalLimitFen: s.businessCapitalLimitFen,
  label: s.label,
  createdBy: s.createdByClientId,
  createdAt: s.createdAt.toISOString(),
  endedBy: s.endedByClientId,
  endedAt: s.endedAt ? s.endedAt.toISOString() : null,
});
