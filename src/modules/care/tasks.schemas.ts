import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { businessDate, regionCode } from '../registry/programs.schemas.js';

export const taskStatuses = ['open', 'done', 'cancelled'] as const;

export const GenerateTasksBody = z
  .object({
    region: regionCode.describe('Key persons of this region and below, inside your jurisdiction'),
    date: businessDate
      .optional()
      .describe('The day to generate for (default today, Asia/Shanghai): windows of persons never visited start then'),
  })
  .strict();

export const GeneratedSchema = z
  .object({
    region: z.string(),
    date: z.iso.date(),
    keyPersons: z.number().int().describe('Key persons of the region'),
    created: z.number().int().describe('Tasks created by this request'),
    alreadyPresent: z
      .number()
      .int()
      .describe('Key persons who had an open task already (or got one from a concurrent request)'),
    cancelled: z.number().int().describe('Open tasks cancelled because their person is no longer a key person'),
  })
  .meta({ id: 'VisitTasksGenerated' });

export const TaskSchema = z
  .object({
    id: z.uuid(),
    personId: z.uuid(),
    region: z.string().describe('The person’s residence region when the task was made'),
    caregiverId: z.uuid().nullable().describe('Who is to visit: the person’s caregiver'),
    fallbackRegion: z
      .string()
      .nullable()
      .describe('With no caregiver: the subdistrict whose civil-affairs office is to visit'),
    windowStart: z.iso.date().describe('The window opens: the last visit’s day (or the generation day)'),
    dueDate: z.iso.date().describe('Visit by this day: the window start plus the interval'),
    intervalDays: z.number().int(),
    status: z.enum(taskStatuses),
    overdue: z.boolean().describe('Open and past its due date today'),
    daysOverdue: z.number().int().nullable().describe('Days past the due date, for an overdue task'),
    visitId: z.uuid().nullable().describe('The visit that completed it'),
    createdAt: timestamp,
    completedAt: timestamp.nullable(),
  })
  .meta({ id: 'VisitTask' });
export type TaskOut = z.infer<typeof TaskSchema>;

export const TaskQuery = z.object({
  region: regionCode.optional().describe('Tasks of persons of this region and below (a prefix)'),
  personId: z.uuid().optional(),
  caregiverId: z.uuid().optional().describe('Tasks assigned to this caregiver'),
  fallbackRegion: regionCode.optional().describe('Tasks assigned to the civil-affairs office of this subdistrict'),
  status: z.enum(taskStatuses).optional(),
  overdue: z.enum(['true', 'false']).optional().describe('`true`: open tasks past their due date today'),
});
