import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { idTypes, relationships, selfCareLevels } from './people.schemas.js';

/** What other agencies learn of a person: ids, region, flags and the masked document, never whole numbers. */
const personSummary = z.object({
  personId: z.uuid(),
  relationship: z.enum(relationships).nullable(),
  idType: z.enum(idTypes),
  maskedIdNumber: z.string().describe('The document number masked, as registry:read shows it'),
  scatteredExtremelyPoor: z.boolean(),
  livesAlone: z.boolean(),
  disabled: z.boolean(),
  selfCare: z.enum(selfCareLevels).nullable(),
});

export const householdRegistered = defineEvent({
  type: 'household.registered',
  scope: 'registry:read',
  summary: 'A household was registered with its members (each member is announced here, not as person.registered)',
  data: z.object({
    householdId: z.uuid(),
    region: z.string().describe('Residence region'),
    hukouRegion: z.string().nullable(),
    members: z.array(personSummary),
  }),
});

export const personRegistered = defineEvent({
  type: 'person.registered',
  scope: 'registry:read',
  summary: 'A person was registered on their own or added to an existing household',
  data: personSummary.extend({
    householdId: z.uuid().nullable(),
    region: z.string().describe('Residence region'),
    hukouRegion: z.string().nullable(),
  }),
});

export const personUpdated = defineEvent({
  type: 'person.updated',
  scope: 'registry:read',
  summary: 'A person’s contact, bank account, flags, address or region changed (names of the changed fields only)',
  data: z.object({
    personId: z.uuid(),
    householdId: z.uuid().nullable(),
    region: z.string().describe('Residence region after the change'),
    previousRegion: z.string().nullable().describe('The region before, when it changed'),
    changed: z.array(z.string()),
    scatteredExtremelyPoor: z.boolean(),
    livesAlone: z.boolean(),
    disabled: z.boolean(),
    selfCare: z.enum(selfCareLevels).nullable(),
  }),
});
