import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';

/** Counts only: the households are read from the run's results (with matching:verify). */
export const matchingRunCompleted = defineEvent({
  type: 'matching_run.completed',
  scope: 'matching:verify',
  summary: 'A bulk re-verification of a region’s enrolled households finished; its results can be read',
  data: z.object({
    runId: z.uuid(),
    region: z.string(),
    program: z.enum(['dibao', 'tekun', 'price_subsidy']).nullable().describe('Null: every monthly program'),
    asOf: z.iso.date(),
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
  }),
});
