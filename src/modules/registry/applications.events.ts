import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';

/** Events of applications, enrollments and reviews. No ID numbers or names: ids and amounts only. */

const monthlyProgram = z.enum(['dibao', 'tekun', 'price_subsidy']);

/**
 * What a portal learns of the applications it submitted, and nothing else: each step, addressed to
 * that portal alone. The events above, with the household and the reasons, go to caseworkers.
 */
export const portalApplicationChanged = defineEvent({
  type: 'portal_application.changed',
  scope: 'applications:read',
  summary: 'A step in an application a portal submitted (only that portal receives it)',
  data: z.object({
    applicationId: z.uuid(),
    program: monthlyProgram,
    status: z.enum(['verifying', 'verified', 'approved', 'rejected', 'withdrawn']),
    action: z
      .string()
      .describe(
        'What happened: submitted, phone_survey_recorded, home_visit_recorded, verified, approved, rejected, withdrawn',
      ),
  }),
});

export const applicationSubmitted = defineEvent({
  type: 'application.submitted',
  scope: 'applications:decide',
  summary: 'An application for a monthly program was submitted; economic verification is requested',
  data: z.object({
    applicationId: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    personId: z.uuid().nullable(),
    region: z.string(),
    channel: z.enum(['caseworker', 'portal']),
    fastTrack: z.boolean(),
    homeVisitRequired: z.boolean(),
    decisionDueDate: z.iso.date(),
    policyId: z.uuid().nullable().describe('The emergency policy in force when it was submitted'),
  }),
});

export const applicationDecided = defineEvent({
  type: 'application.decided',
  scope: 'applications:decide',
  summary: 'An application was approved (with the enrollment it created) or rejected, with reasons',
  data: z.object({
    applicationId: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    personId: z.uuid().nullable(),
    region: z.string(),
    decision: z.enum(['approved', 'rejected']),
    reasons: z.array(z.string()),
    enrollmentId: z.uuid().nullable(),
  }),
});

export const applicationWithdrawn = defineEvent({
  type: 'application.withdrawn',
  scope: 'applications:decide',
  summary: 'An application was withdrawn before a decision',
  data: z.object({
    applicationId: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    region: z.string(),
    reason: z.string(),
  }),
});

export const enrollmentCreated = defineEvent({
  type: 'enrollment.created',
  scope: 'applications:decide',
  summary: 'An approved application enrolled a household (or, for tekun, a person) in a monthly program',
  data: z.object({
    enrollmentId: z.uuid(),
    applicationId: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    personId: z.uuid().nullable(),
    region: z.string(),
    status: z.literal('active'),
    monthlyBenefitFen: z.number().int(),
    startDate: z.iso.date(),
    nextReviewDueDate: z.iso.date().nullable(),
  }),
});

export const enrollmentChanged = defineEvent({
  type: 'enrollment.changed',
  scope: 'applications:decide',
  summary: 'An enrollment was suspended, resumed, ended or had its monthly benefit changed',
  data: z.object({
    enrollmentId: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    personId: z.uuid().nullable(),
    region: z.string(),
    change: z.enum(['suspended', 'resumed', 'ended', 'benefit_changed']),
    status: z.enum(['active', 'suspended', 'ended']),
    monthlyBenefitFen: z.number().int(),
    previousMonthlyBenefitFen: z.number().int(),
    endDate: z.iso.date().nullable(),
    reason: z.string(),
  }),
});

export const reviewCompleted = defineEvent({
  type: 'review.completed',
  scope: 'applications:decide',
  summary: 'A periodic review of an enrollment was completed, and the next one scheduled unless it ended',
  data: z.object({
    reviewId: z.uuid(),
    enrollmentId: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    region: z.string(),
    outcome: z.enum(['continued', 'benefit_changed', 'ended']),
    dueDate: z.iso.date().describe('The original due date'),
    completedOn: z.iso.date(),
    nextReviewId: z.uuid().nullable(),
    nextDueDate: z.iso.date().nullable(),
  }),
});
