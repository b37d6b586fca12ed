import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { type MonthlyProgram, monthlyProgram } from './applications.schemas.js';
import type { EnrollmentView } from './enrollments.service.js';
import { businessDate, regionCode } from './programs.schemas.js';
import type { ReviewView } from './reviews.sql.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const enrollmentStatus = z.enum(['active', 'suspended', 'ended']);

export const ReviewSchema = z
  .object({
    id: z.uuid(),
    enrollmentId: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    personId: z.uuid().nullable(),
    enrollmentStatus: enrollmentStatus.describe('A due or overdue review never suspends the enrollment'),
    region: z.string(),
    status: z.enum(['due', 'completed']),
    dueDate: businessDate.describe('The original due date, as scheduled'),
    extendedDueDate: businessDate
      .nullable()
      .describe('The date an emergency policy moved it to; null when no policy extends it'),
    extendedByPolicy: z
      .object({ id: z.uuid(), name: z.string(), months: z.number().int() })
      .nullable()
      .describe(
        'The policy in force for the region on the original due date that extends reviews, and by how many months',
      ),
    effectiveDueDate: businessDate.describe('extendedDueDate when extended, dueDate otherwise'),
    overdue: z.boolean().describe('Due, and effectiveDueDate has passed'),
    outcome: z.enum(['continued', 'benefit_changed', 'ended']).nullable(),
    notes: z.string().nullable(),
    completedAt: timestamp.nullable(),
    completedBy: z.uuid().nullable(),
  })
  .meta({ id: 'Review' });

const EnrollmentHistorySchema = z.object({
  at: timestamp,
  action: z.string().describe('created, suspended, resumed, ended or benefit_changed'),
  status: enrollmentStatus,
  monthlyBenefitFen: z.number().int(),
  reason: z.string().nullable(),
  by: z.uuid().nullable(),
});

const EnrollmentFields = {
  id: z.uuid(),
  program: monthlyProgram,
  householdId: z.uuid(),
  personId: z.uuid().nullable().describe('tekun: the person supported; null for a household’s enrollment'),
  applicationId: z.uuid().nullable(),
  region: z.string(),
  status: enrollmentStatus,
  monthlyBenefitFen: z.number().int(),
  benefitBasis: z
    .record(z.string(), z.unknown())
    .describe(
      'How the amount was reached: standardId, monthlyStandardFen, householdSize, perCapitaIncomeFen, careAllowanceFen, formula',
    ),
  startDate: businessDate,
  endDate: businessDate.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
};

export const EnrollmentSummarySchema = z.object(EnrollmentFields).meta({ id: 'EnrollmentSummary' });

export const EnrollmentSchema = z
  .object({
    ...EnrollmentFields,
    nextReview: ReviewSchema.nullable().describe('The open review, with its effective due date'),
    history: z.array(EnrollmentHistorySchema).describe('Every change, oldest first'),
  })
  .meta({ id: 'Enrollment' });

export const EnrollmentListQuery = z.object({
  status: enrollmentStatus.optional(),
  program: monthlyProgram.optional(),
  region: regionCode.optional().describe('Region-code prefix, inside your jurisdiction'),
  householdId: z.uuid().optional(),
});

export const EndEnrollmentBody = z
  .object({
    reason: text(1000),
    endDate: businessDate.optional().describe('Last day covered; between the start date and today (default today)'),
  })
  .strict();

export const ChangeBenefitBody = z
  .object({ monthlyBenefitFen: z.number().int().min(0).max(1_000_000_000), reason: text(1000) })
  .strict();

export const ReviewListQuery = z.object({
  status: z.enum(['due', 'completed']).optional(),
  dueBefore: businessDate.optional().describe('Only reviews whose effective due date is before this day'),
  region: regionCode.optional().describe('Region-code prefix, inside your jurisdiction'),
  program: monthlyProgram.optional(),
  enrollmentId: z.uuid().optional(),
  householdId: z.uuid().optional(),
});

export const CompleteReviewBody = z
  .object({
    outcome: z.enum(['continued', 'benefit_changed', 'ended']),
    notes: text(4000),
    newMonthlyBenefitFen: z
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .optional()
      .describe('Required for benefit_changed, refused otherwise'),
  })
  .strict();

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const reviewOut = (r: ReviewView, today: string) => ({
  id: r.id,
  enrollmentId: r.enrollmentId,
  program: r.program as MonthlyProgram,
  householdId: r.householdId,
  personId: r.personId,
  enrollmentStatus: r.enrollmentStatus as z.infer<typeof enrollmentStatus>,
  region: r.region,
  status: r.status as 'due' | 'completed',
  dueDate: r.dueDate,
  extendedDueDate: r.extendedDueDate,
  extendedByPolicy: r.extendedByPolicy,
  effectiveDueDate: r.effectiveDueDate,
  overdue: r.status === 'due' && r.effectiveDueDate < today,
  outcome: r.outcome as 'continued' | 'benefit_changed' | 'ended' | null,
  notes: r.notes,
  completedAt: iso(r.completedAt),
  completedBy: r.completedByClientId,
});

export const enrollmentSummaryOut = (e: Omit<EnrollmentView, 'history' | 'nextReview'>) => ({
  id: e.id,
  program: e.programCode as MonthlyProgram,
  householdId: e.householdId,
  personId: e.personId,
  applicationId: e.applicationId,
  region: e.region,
  status: e.status as z.infer<typeof enrollmentStatus>,
  monthlyBenefitFen: e.monthlyBenefitFen,
  benefitBasis: e.benefitBasis,
  startDate: e.startDate,
  endDate: e.endDate,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

export const enrollmentOut = (e: EnrollmentView, today: string) => ({
  ...enrollmentSummaryOut(e),
  nextReview: e.nextReview ? reviewOut(e.nextReview, today) : null,
  history: e.history.map((h) => ({
    at: h.at.toISOString(),
    action: h.action,
    status: h.status as z.infer<typeof enrollmentStatus>,
    monthlyBenefitFen: h.monthlyBenefitFen,
    reason: h.reason,
    by: h.byClientId,
  })),
});
