import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { businessDate } from '../registry/programs.schemas.js';
import { sourceKinds } from './tables.js';
import type { Verification } from './verify.service.js';

export const verifiablePrograms = ['dibao', 'tekun', 'price_subsidy'] as const;
export type VerifiableProgram = (typeof verifiablePrograms)[number];

export const NewVerificationBody = z
  .object({
    householdId: z.uuid().describe('A household inside your jurisdiction'),
    program: z
      .enum(verifiablePrograms)
      .describe('Whose rules: dibao, tekun, or price_subsidy (verified by the dibao rules and standard)'),
    date: businessDate.optional().describe('The business date the rules and standard are taken at; today when omitted'),
    applicationId: z
      .uuid()
      .optional()
      .describe('An application of this household for this program, status verifying, to answer with the result'),
  })
  .strict();

const SourceRefSchema = z.object({
  sourceId: z.uuid(),
  kind: z.enum(sourceKinds),
  snapshotId: z.uuid().describe('The snapshot of the source that was read'),
  line: z.number().int().describe('Line of the snapshot’s upload'),
  ref: z.string().nullable().describe('The provider’s own id of the record'),
  personId: z.uuid().describe('The member the record was matched to (by ID number)'),
});

const RuleSchema = z
  .object({
    rule: z
      .string()
      .describe(
        'members_alive, per_capita_income_below_standard, financial_assets_within_limit, property_within_limit, vehicle_within_limit, no_registered_business; name_mismatch for a flag',
      ),
    outcome: z.enum(['pass', 'fail', 'flag']).describe('flag: not a refusal; a data problem to check by phone'),
    figures: z
      .record(z.string(), z.unknown())
      .describe('The figures the outcome was reached from, in fen (e.g. monthlyIncomeFen, limitFen, byMember)'),
    detail: z.string().describe('The outcome as a sentence'),
    sources: z.array(SourceRefSchema).describe('The source records behind the outcome'),
  })
  .meta({ id: 'VerificationRule' });

export const VerificationSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    applicationId: z.uuid().nullable().describe('The application it answered'),
    runId: z.uuid().nullable().describe('The bulk re-verification that made it'),
    program: z.enum(verifiablePrograms),
    region: z.string().describe('The household’s residence region'),
    date: businessDate.describe('The business date the rules were taken at'),
    passed: z.boolean().describe('No rule failed (flags do not fail)'),
    members: z.number().int().describe('Members counted in the household’s size (not recorded dead)'),
    monthlyIncomeFen: z.number().int().describe('Wages and pensions a month, all counted members together'),
    financialAssetsFen: z.number().int().describe('Deposits and securities, all members together'),
    rules: z.array(RuleSchema).describe('Every rule of the program, in order'),
    flags: z.array(RuleSchema).describe('Records not counted: their name does not match the member’s'),
    snapshots: z
      .record(z.string(), z.uuid())
      .describe('Every source read, with the snapshot in force at the time: `{ sourceId: snapshotId }`'),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Verification', description: 'An explainable economic verification of one household' });

export const verificationOut = (v: Verification) => ({
  id: v.id,
  householdId: v.householdId,
  applicationId: v.applicationId,
  runId: v.runId,
  program: v.program as VerifiableProgram,
  region: v.region,
  date: v.asOf,
  passed: v.passed,
  members: v.members,
  monthlyIncomeFen: v.monthlyIncomeFen,
  financialAssetsFen: v.financialAssetsFen,
  rules: v.rules,
  flags: v.flags,
  snapshots: v.snapshots,
  createdBy: v.createdByClientId,
  createdAt: v.createdAt.toISOString(),
});
