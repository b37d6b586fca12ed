import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';

/** No ID numbers and no names: the ids say where to read the whole result (with matching:verify). */
export const matchingVerificationCompleted = defineEvent({
  type: 'matching_verification.completed',
  scope: 'matching:verify',
  summary: 'A household was verified against the matching sources (outcome and the rules it failed)',
  data: z.object({
    verificationId: z.uuid(),
    householdId: z.uuid(),
    applicationId: z.uuid().nullable().describe('The application it answered, if any'),
    program: z.enum(['dibao', 'tekun', 'price_subsidy']),
    asOf: z.iso.date(),
    passed: z.boolean(),
    failedRules: z.array(z.string()).describe('The rules with outcome fail'),
    flags: z.number().int().describe('Records flagged for a phone check (name mismatches)'),
  }),
});
