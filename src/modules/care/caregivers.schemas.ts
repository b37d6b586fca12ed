import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { regionCode } from '../registry/programs.schemas.js';

export const caregiverKinds = [
  'caseworker',
  'social_worker',
  'cadre',
  'volunteer',
  'relative',
  'neighbour',
  'other',
] as const;
export type CaregiverKind = (typeof caregiverKinds)[number];

const name = z.string().trim().min(1).max(100);
export const phone = z
  .string()
  .regex(/^\+?[0-9][0-9 -]{4,22}$/, 'must be a phone number: digits, with an optional leading + and spaces or dashes')
  .describe(
    'Mobile or landline; kept sealed, shown masked (`138****5678`) unless the caller holds registry:read_sensitive',
  );
const kind = z
  .enum(caregiverKinds)
  .describe('Caseworker, social worker, community cadre, volunteer, relative, neighbour or other');
const organisation = z.string().trim().min(1).max(200).describe('Where they work: a community committee, an NGO, …');

export const NewCaregiverBody = z
  .object({
    name,
    kind,
    region: regionCode.describe('Where the caregiver works: a region inside your jurisdiction'),
    organisation: organisation.optional(),
    phone: phone.optional(),
    personId: z
      .uuid()
      .optional()
      .describe('The caregiver as a registered person (a relative, a neighbour), inside your jurisdiction'),
  })
  .strict();
export type NewCaregiver = z.infer<typeof NewCaregiverBody>;

export const CaregiverPatchBody = z
  .object({
    name: name.optional(),
    kind: kind.optional(),
    organisation: organisation.nullable().optional().describe('null removes it'),
    phone: phone.nullable().optional().describe('null removes it'),
  })
  .strict();
export type CaregiverPatch = z.infer<typeof CaregiverPatchBody>;

export const CaregiverSchema = z
  .object({
    id: z.uuid(),
    region: z.string(),
    name: z.string(),
    kind: z.enum(caregiverKinds),
    organisation: z.string().nullable(),
    personId: z.uuid().nullable(),
    phone: z.string().nullable().describe('Masked unless the caller holds registry:read_sensitive'),
    phoneMasked: z.boolean(),
    active: z.boolean().describe('An inactive caregiver takes no new assignments'),
    activeAssignments: z.number().int().describe('Key persons this caregiver is responsible for now'),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Caregiver' });
export type CaregiverOut = z.infer<typeof CaregiverSchema>;

export const CaregiverQuery = z.object({
  region: regionCode.optional().describe('Caregivers of this region and below (a prefix), inside your jurisdiction'),
  active: z.enum(['true', 'false']).optional().describe('`true`: active caregivers only; `false`: inactive only'),
});

export const DeactivateBody = z
  .object({ reason: z.string().trim().min(1).max(500).optional().describe('Why (kept in the audit trail)') })
  .strict();
