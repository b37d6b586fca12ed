import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { businessDate, regionCode } from '../registry/programs.schemas.js';
import { phone } from './caregivers.schemas.js';
import { careNeeds, healthStatuses, visitChannels } from './events.js';
import { SymptomEnum, symptomCodes } from './symptoms.js';

const text = z.string().trim().min(1).max(2000);

export const NewVisitBody = z
  .object({
    personId: z.uuid().describe('A key person inside your jurisdiction'),
    caregiverId: z
      .uuid()
      .optional()
      .describe('The caregiver who visited (inside your jurisdiction); or give visitorName'),
    visitorName: z.string().trim().min(1).max(100).optional().describe('Who visited, when not a registered caregiver'),
    visitorPhone: phone.optional(),
    channel: z.enum(visitChannels).describe('Phone call, WeChat video call or in person'),
    visitedAt: timestamp.describe('When; not in the future'),
    healthStatus: z.enum(healthStatuses),
    symptoms: z
      .array(SymptomEnum)
      .max(symptomCodes.length)
      .optional()
      .describe('Symptoms found, coded (each once); any symptom publishes `visit.symptoms_reported`'),
    symptomsText: text.optional().describe('Symptoms in the visitor’s words'),
    needs: z.array(z.enum(careNeeds)).max(careNeeds.length).optional().describe('Needs found, coded (each once)'),
    needsText: text.optional(),
    followUp: text.optional().describe('What is to be done next'),
    followUpDate: businessDate.optional().describe('When to follow up; not before the visit’s day'),
  })
  .strict();
export type NewVisit = z.infer<typeof NewVisitBody>;

export const VisitSchema = z
  .object({
    id: z.uuid(),
    personId: z.uuid(),
    region: z.string().describe('The person’s residence region at the visit'),
    caregiverId: z.uuid().nullable(),
    visitorName: z.string().nullable(),
    visitorPhone: z.string().nullable().describe('Masked unless the caller holds registry:read_sensitive'),
    visitorPhoneMasked: z.boolean(),
    channel: z.enum(visitChannels),
    visitedAt: timestamp,
    healthStatus: z.enum(healthStatuses),
    symptoms: z.array(SymptomEnum),
    symptomsText: z.string().nullable(),
    needs: z.array(z.enum(careNeeds)),
    needsText: z.string().nullable(),
    followUp: z.string().nullable(),
    followUpDate: z.iso.date().nullable(),
    taskId: z.uuid().nullable().describe('The visit task this visit completed'),
    recordedBy: z.uuid().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Visit' });
export type VisitOut = z.infer<typeof VisitSchema>;

export const VisitQuery = z.object({
  personId: z.uuid().optional(),
  caregiverId: z.uuid().optional(),
  region: regionCode.optional().describe('Visits of persons of this region and below (a prefix)'),
  from: businessDate.optional().describe('Visited on or after this day (Asia/Shanghai)'),
  to: businessDate.optional().describe('Visited on or before this day (Asia/Shanghai)'),
});
