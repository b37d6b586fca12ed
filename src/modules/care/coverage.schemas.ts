import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { businessDate, regionCode } from '../registry/programs.schemas.js';
import { NORMAL_VISIT_INTERVAL_DAYS } from './interval.js';

export const CoverageQuery = z.object({
  region: regionCode.optional().describe('The region to report on (default: your whole jurisdiction)'),
  date: businessDate.optional().describe('As of this day (default today, Asia/Shanghai)'),
});

const visitedFigures = {
  keyPersons: z.number().int(),
  visitedWithinInterval: z
    .number()
    .int()
    .describe('Last visited no more than the interval before the day (the day itself counts)'),
  overdue: z.number().int().describe('Not visited within the interval, including those never visited'),
  neverVisited: z.number().int().describe('Of the overdue: never visited at all'),
  shareVisited: z
    .number()
    .nullable()
    .describe('visitedWithinInterval / keyPersons, 0 to 1 (four decimals); null without key persons'),
};

export const FiguresSchema = z.object({
  ...visitedFigures,
  withCaregiver: z.number().int().describe('With an active caregiver'),
  withoutCaregiver: z.number().int().describe('Without one: blind spots to assign'),
});
export type Figures = z.infer<typeof FiguresSchema>;

export const CoverageSchema = z
  .object({
    region: z.string().describe('The region reported on (narrowed to your jurisdiction)'),
    date: z.iso.date(),
    normalIntervalDays: z
      .number()
      .int()
      .describe(`The interval where no emergency policy sets one (${NORMAL_VISIT_INTERVAL_DAYS} days)`),
    total: FiguresSchema,
    regions: z
      .array(FiguresSchema.extend({ region: z.string(), name: z.string().nullable() }))
      .describe('Per region one level below the one asked (a region shorter than that counts as itself), by code'),
    caregivers: z
      .array(
        z.object({
          caregiverId: z.uuid(),
          name: z.string(),
          region: z.string().describe('Where the caregiver works'),
          active: z.boolean(),
          ...visitedFigures,
        }),
      )
      .describe('Per caregiver, over the key persons of the region they are responsible for; most overdue first'),
  })
  .meta({ id: 'CareCoverage' });

export const CoveragePersonSchema = z
  .object({
    personId: z.uuid(),
    name: z.string(),
    region: z.string(),
    caregiverId: z.uuid().nullable(),
    caregiverName: z.string().nullable(),
    lastVisitId: z.uuid().nullable(),
    lastVisitAt: timestamp.nullable().describe('Null: never visited'),
    intervalDays: z.number().int().describe('The visit interval in force for the person’s region on the day'),
    dueDate: z.iso.date().nullable().describe('Next visit due by: the last visit’s day plus the interval'),
    overdue: z.boolean(),
    daysOverdue: z
      .number()
      .int()
      .nullable()
      .describe('Days past the due date (0 when not overdue); null when never visited'),
  })
  .meta({ id: 'CoveragePerson' });
export type CoveragePerson = z.infer<typeof CoveragePersonSchema>;
