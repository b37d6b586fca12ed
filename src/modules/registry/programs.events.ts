import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { programCodes } from './programs.rules.js';

const careAllowances = z
  .object({ ableFen: z.number().int(), partiallyUnableFen: z.number().int(), unableFen: z.number().int() })
  .nullable();

export const programStandardCreated = defineEvent({
  type: 'program_standard.created',
  scope: 'programs:read',
  summary: 'A program standard was created for a region (amounts and period)',
  data: z.object({
    standardId: z.uuid(),
    program: z.enum(programCodes),
    region: z.string(),
    effectiveFrom: z.iso.date(),
    effectiveTo: z.iso.date().nullable().describe('First day no longer in force; null: until further notice'),
    monthlyStandardFen: z.number().int(),
    assetMultiple: z.number().int().nullable(),
    careAllowances,
    propertyLimit: z.number().int().nullable(),
    vehicleValueLimitFen: z.number().int().nullable(),
    businessCapitalLimitFen: z.number().int().nullable(),
    label: z.string().nullable(),
  }),
});

export const programStandardEnded = defineEvent({
  type: 'program_standard.ended',
  scope: 'programs:read',
  summary: 'A program standard was given an end date',
  data: z.object({
    standardId: z.uuid(),
    program: z.enum(programCodes),
    region: z.string(),
    effectiveFrom: z.iso.date(),
    effectiveTo: z.iso.date().describe('First day the standard is no longer in force'),
  }),
});
