import { z } from 'zod';
import { NewHouseholdBody } from './people.schemas.js';
import { timestamp } from '../../platform/http.js';
import type { ApplicationRow, ApplicationView, HistoryEntry } from './applications.common.js';
import { businessDate, regionCode } from './programs.schemas.js';

export const monthlyPrograms = ['dibao', 'tekun', 'price_subsidy'] as const;
export type MonthlyProgram = (typeof monthlyPrograms)[number];
export const monthlyProgram = z.enum(monthlyPrograms).describe('A monthly program: dibao, tekun or price_subsidy');

export const applicationStatuses = ['verifying', 'verified', 'approved', 'rejected', 'withdrawn'] as const;

/** Whole fen a month; bounded so that sums stay exact. */
const fen = z.number().int().min(0).max(1_000_000_000);
const text = (max: number) => z.string().trim().min(1).max(max);

const SurveySchema = z.object({
  by: z.string().describe('Who carried it out (name or staff number)'),
  at: timestamp.describe('When'),
  findings: z.string(),
});

const VerificationRuleSchema = z.object({
  rule: z.string().describe('The rule, e.g. `per_capita_income_below_standard`'),
  outcome: z.enum(['pass', 'fail', 'flag']).describe('flag: a data problem to check by phone, not a refusal'),
  detail: z.string(),
  sources: z.array(z.string()).optional().describe('The source records behind the outcome'),
});

const VerificationSchema = z.object({
  monthlyIncomeFen: z.number().int().describe('Verified household income a month, all members together'),
  financialAssetsFen: z.number().int(),
  passed: z.boolean(),
  rules: z.array(VerificationRuleSchema),
  source: z.enum(['matching', 'manual']),
  recordedAt: timestamp,
  recordedBy: z.uuid().nullable(),
});

export const HistoryEntrySchema = z.object({
  at: timestamp,
  action: z.string().describe('What happened: submitted, phone_survey_recorded, verified, approved, …'),
  status: z.string().describe('The status after it'),
  note: z.string().nullable(),
  by: z.uuid().nullable().describe('The client that did it'),
});

export const ApplicationSchema = z
  .object({
    id: z.uuid(),
    program: monthlyProgram,
    householdId: z.uuid(),
    personId: z.uuid().nullable().describe('The applicant; for tekun, the person to be supported'),
    region: z.string().describe('The household’s residence region when submitted'),
    channel: z.enum(['caseworker', 'portal']),
    submittedBy: z.uuid(),
    submittedAt: timestamp,
    status: z.enum(applicationStatuses),
    policyId: z.uuid().nullable().describe('The emergency policy in force when it was submitted'),
    fastTrack: z.boolean().describe('Fast-tracked by that policy: verified by matching and phone, no home visit'),
    homeVisitRequired: z.boolean(),
    decisionDueDate: businessDate.describe('Decided by this day (Asia/Shanghai)'),
    overdue: z.boolean().describe('Undecided and past decisionDueDate'),
    declaredMonthlyIncomeFen: z.number().int().nullable().describe('Household income a month, as declared'),
    phoneSurvey: SurveySchema.nullable(),
    homeVisit: SurveySchema.nullable(),
    verification: VerificationSchema.nullable().describe('Economic verification’s answer, every rule with its outcome'),
    decision: z.enum(['approved', 'rejected']).nullable(),
    decisionReasons: z.array(z.string()).nullable(),
    decidedAt: timestamp.nullable(),
    decidedBy: z.uuid().nullable(),
    enrollmentId: z.uuid().nullable().describe('The enrollment an approval created'),
    notes: z.string().nullable(),
    history: z.array(HistoryEntrySchema).describe('Every action on it, oldest first'),
  })
  .meta({ id: 'Application' });

export const ApplicationSummarySchema = ApplicationSchema.omit({ history: true }).meta({ id: 'ApplicationSummary' });

export const NewApplicationBody = z
  .object({
    program: monthlyProgram,
    householdId: z
      .uuid()
      .optional()
      .describe('A registered household of your jurisdiction; or describe it by `household` instead'),
    household: NewHouseholdBody.optional().describe(
      'The household by its members, for callers that cannot look households up (portals): registered with the application when none of its documents is registered yet; the registered household when all of its members are registered together in it; 409 otherwise',
    ),
    personId: z
      .uuid()
      .optional()
      .describe(
        'With householdId: a member of the household, required for tekun (the person supported), optional otherwise',
      ),
    memberIndex: z
      .number()
      .int()
      .min(0)
      .max(49)
      .optional()
      .describe(
        'With household: which member (index in members) applies, for tekun the person supported; the head when omitted',
      ),
    declaredMonthlyIncomeFen: fen.optional().describe('The household’s total income a month, as declared'),
    notes: text(2000).optional(),
  })
  .strict();

export const SurveyBody = z
  .object({
    by: text(200).describe('Who carried it out'),
    at: timestamp.describe('When it took place; not in the future'),
    findings: text(4000),
  })
  .strict();

export const VerificationBody = z
  .object({
    monthlyIncomeFen: fen.describe('Verified household income a month, all members together'),
    financialAssetsFen: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    passed: z.boolean(),
    rules: z
      .array(
        z
          .object({
            rule: text(200),
            outcome: z.enum(['pass', 'fail', 'flag']),
            detail: text(2000),
            sources: z.array(text(200)).max(100).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(100),
    source: z.enum(['matching', 'manual']),
  })
  .strict();

export const ReasonsBody = z
  .object({ reasons: z.array(text(1000)).min(1).max(50).describe('Why, one reason an item; at least one') })
  .strict();

export const ReasonBody = z.object({ reason: text(1000) }).strict();

export const ApplicationListQuery = z.object({
  status: z.enum(applicationStatuses).optional(),
  program: monthlyProgram.optional(),
  region: regionCode.optional().describe('Region-code prefix, inside your jurisdiction'),
  householdId: z.uuid().optional(),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: only undecided applications past their decision due date'),
});

export const ifMatchHeader = z.object({ 'if-match': z.string().max(100).optional() });

type Decidable = ApplicationRow & { enrollmentId: string | null };

export const applicationSummaryOut = (a: Decidable, today: string) => ({
  id: a.id,
  program: a.programCode as MonthlyProgram,
  householdId: a.householdId,
  personId: a.personId,
  region: a.region,
  channel: a.channel,
  submittedBy: a.submittedByClientId,
  submittedAt: a.submittedAt.toISOString(),
  status: a.status as (typeof applicationStatuses)[number],
  policyId: a.policyId,
  fastTrack: a.fastTrack,
  homeVisitRequired: a.homeVisitRequired,
  decisionDueDate: a.decisionDueDate,
  overdue: (a.status === 'verifying' || a.status === 'verified') && a.decisionDueDate < today,
  declaredMonthlyIncomeFen: a.declaredMonthlyIncomeFen,
  phoneSurvey: a.phoneSurvey,
  homeVisit: a.homeVisit,
  verification: a.verification as z.infer<typeof VerificationSchema> | null,
  decision: a.decision as 'approved' | 'rejected' | null,
  decisionReasons: a.decisionReasons,
  decidedAt: a.decidedAt ? a.decidedAt.toISOString() : null,
  decidedBy: a.decidedByClientId,
  enrollmentId: a.enrollmentId,
  notes: a.notes,
});

export const historyOut = (h: HistoryEntry) => ({
  at: h.at.toISOString(),
  action: h.action,
  status: h.status,
  note: h.note,
  by: h.byClientId,
});

export const applicationOut = (a: ApplicationView, today: string) => ({
  ...applicationSummaryOut(a, today),
  history: a.history.map(historyOut),
});
