import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { regionCode } from '../registry/programs.schemas.js';

const reason = z.string().trim().min(1).max(500);

export const NewAssignmentBody = z
  .object({
    personId: z.uuid().describe('A key person inside your jurisdiction'),
    caregiverId: z.uuid().describe('An active caregiver inside your jurisdiction'),
    note: z.string().trim().min(1).max(1000).optional(),
    reason: reason
      .optional()
      .describe('Required when the person has an active caregiver already (a reassignment): why they change'),
  })
  .strict();
export type NewAssignment = z.infer<typeof NewAssignmentBody>;

export const EndAssignmentBody = z
  .object({ reason: reason.describe('Why the caregiver is no longer responsible') })
  .strict();

export const AssignmentSchema = z
  .object({
    id: z.uuid(),
    personId: z.uuid(),
    caregiverId: z.uuid(),
    region: z.string().describe('The person’s residence region when assigned'),
    note: z.string().nullable(),
    active: z.boolean(),
    startedAt: timestamp,
    assignedBy: z.uuid().nullable(),
    endedAt: timestamp.nullable(),
    endReason: z.string().nullable(),
    endedBy: z.uuid().nullable(),
  })
  .meta({ id: 'CareAssignment' });
export type AssignmentOut = z.infer<typeof AssignmentSchema>;

export const AssignmentQuery = z.object({
  personId: z.uuid().optional(),
  caregiverId: z.uuid().optional(),
  region: regionCode.optional().describe('Persons of this region and below (a prefix), inside your jurisdiction'),
  active: z.enum(['true', 'false']).optional().describe('`true`: current assignments only; `false`: ended ones'),
});
