import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { symptoms } from './symptoms.js';

export const visitChannels = ['phone', 'wechat_video', 'in_person'] as const;
export const healthStatuses = ['well', 'unwell', 'symptomatic', 'hospitalized', 'deceased'] as const;
/** The same needs a welfare contact records, so that both read alike. */
export const careNeeds = ['food', 'medicine', 'protective_items', 'cash', 'care', 'medical', 'other'] as const;

const assignmentData = z.object({
  careAssignmentId: z.uuid(),
  personId: z.uuid(),
  caregiverId: z.uuid(),
  region: z.string().describe('The person’s residence region when assigned'),
  startedAt: z.iso.datetime({ offset: true }),
  endedAt: z.iso.datetime({ offset: true }).nullable(),
  endReason: z.string().nullable(),
  previousAssignmentId: z.uuid().nullable().describe('The assignment this one replaced (a reassignment)'),
});

// Care is civil affairs' own business: who looks after whom, and how they are.
export const careAssignmentStarted = defineEvent({
  type: 'care_assignment.started',
  scope: 'care:read',
  summary: 'A caregiver became responsible for a key person (a first assignment or a reassignment)',
  data: assignmentData,
});

export const careAssignmentEnded = defineEvent({
  type: 'care_assignment.ended',
  scope: 'care:read',
  summary: 'A caregiver stopped being responsible for a key person (ended, or replaced by a reassignment)',
  data: assignmentData,
});

const visitData = z.object({
  visitId: z.uuid(),
  personId: z.uuid(),
  region: z.string().describe('The person’s residence region at the visit'),
  caregiverId: z.uuid().nullable(),
  channel: z.enum(visitChannels),
  visitedAt: z.iso.datetime({ offset: true }),
  healthStatus: z.enum(healthStatuses),
  symptoms: z.array(z.enum(symptoms)),
  needs: z.array(z.enum(careNeeds)),
  followUpDate: z.iso.date().nullable(),
  taskId: z.uuid().nullable().describe('The visit task the visit completed'),
});

export type VisitEventData = z.infer<typeof visitData>;

export const visitRecorded = defineEvent({
  type: 'visit.recorded',
  scope: 'care:read',
  summary: 'A key person was visited (channel, health status, symptom and need codes; no free text)',
  data: visitData,
});

// Those who report suspected cases (civil affairs) act on this: it is their cue to refer the
// person to health, as `welfare_contact.symptoms_reported` is for welfare contacts.
export const visitSymptomsReported = defineEvent({
  type: 'visit.symptoms_reported',
  scope: 'referrals:create',
  summary: 'A visit found symptoms (or health status `symptomatic`): a referral to health should follow',
  data: visitData,
});
