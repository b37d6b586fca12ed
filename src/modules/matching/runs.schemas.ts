import { z } from 'zod';
import { JobSchema, jobOut } from '../../platform/jobs/routes.js';
import { timestamp, toIso } from '../../platform/http.js';
import { businessDate } from '../registry/programs.schemas.js';
import { runOutcomes } from './runs.results.js';
import type { Run } from './runs.service.js';
import { verifiablePrograms } from './verify.schemas.js';

export const NewRunBody = z
  .object({
    region: z
      .string()
      .regex(/^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$/, 'must be a region code of 2, 4, 6, 9 or 12 digits')
      .describe('The region whose enrolled households are verified (a prefix inside your jurisdiction)'),
    program: z
      .enum(verifiablePrograms)
      .optional()
      .describe(
        'Only households enrolled in this program; every monthly program (dibao, tekun, price_subsidy) when omitted',
      ),
    asOf: businessDate
      .optional()
      .describe('The business date the rules and standards are taken at; today when omitted'),
  })
  .strict();

export const RunSchema = z
  .object({
    id: z.uuid(),
    region: z.string(),
    program: z.enum(verifiablePrograms).nullable().describe('Null: every monthly program'),
    asOf: businessDate,
    status: z.enum(['queued', 'running', 'complete', 'failed']),
    counts: z
      .object({
        households: z.number().int().describe('Households verified'),
        failing: z.number().int().describe('Households that no longer qualify for a program they are enrolled in'),
        deceasedPaid: z.number().int().describe('Households with a recipient recorded dead whose enrollment is live'),
        dataErrors: z.number().int().describe('Households with records whose name does not match (phone check)'),
        skipped: z
          .number()
          .int()
          .describe(
            'Household-program pairs not verified: no standard in force for the region on asOf, or a household without members',
          ),
      })
      .describe('Filled in when the run is complete'),
    job: JobSchema.nullable().describe('The job doing the run: its progress is households verified of the total'),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    completedAt: timestamp.nullable(),
  })
  .meta({ id: 'MatchingRun', description: 'A bulk re-verification of a region’s enrolled households' });

export const runOut = (r: Run) => ({
  id: r.id,
  region: r.region,
  program: r.program as (typeof verifiablePrograms)[number] | null,
  asOf: r.asOf,
  status: r.status as 'queued' | 'running' | 'complete' | 'failed',
  counts: {
    households: r.households,
    failing: r.failing,
    deceasedPaid: r.deceasedPaid,
    dataErrors: r.dataErrors,
    skipped: r.skipped,
  },
  job: r.job ? jobOut(r.job) : null,
  createdBy: r.createdByClientId,
  createdAt: r.createdAt.toISOString(),
  completedAt: toIso(r.completedAt),
});

const RuleOutSchema = z.object({
  rule: z.string(),
  outcome: z.enum(['pass', 'fail', 'flag']),
  figures: z.record(z.string(), z.unknown()),
  detail: z.string(),
  sources: z.array(z.record(z.string(), z.unknown())).describe('The source records behind it (source, snapshot, line)'),
});

export const RunResultSchema = z
  .object({
    householdId: z.uuid(),
    region: z.string(),
    failing: z.boolean().describe('A rule failed for a program the household is enrolled in'),
    deceasedPaid: z.boolean().describe('A recipient recorded dead while their enrollment is live'),
    dataErrors: z.number().int().describe('Records whose name does not match the member’s (name_mismatch flags)'),
    verifications: z
      .array(
        z.object({
          id: z.uuid().describe('The verification (GET /v1/matching/verifications/{id} reads it whole)'),
          program: z.enum(verifiablePrograms),
          passed: z.boolean(),
          failedRules: z.array(RuleOutSchema).describe('The rules that failed, with the sentence and records'),
          flags: z
            .array(RuleOutSchema)
            .describe('name_mismatch (a record not counted, for a phone check); recipient_deceased'),
        }),
      )
      .describe('One a program the household is enrolled in'),
    enrollments: z
      .array(
        z.object({
          id: z.uuid(),
          program: z.string(),
          personId: z.uuid().nullable(),
          status: z.string(),
          monthlyBenefitFen: z.number().int(),
        }),
      )
      .describe('The household’s enrollments that are not ended, as they are now'),
  })
  .meta({ id: 'MatchingRunResult' });

export const ResultsQuery = {
  outcome: z
    .enum(runOutcomes)
    .default('all')
    .describe(
      'failing: no longer qualify; deceased_paid: a recipient recorded dead still enrolled; data_errors: name mismatches; all (default)',
    ),
};
