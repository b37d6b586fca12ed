import { and, eq, sql } from 'drizzle-orm';
import type { AuditActor } from '../../platform/audit/service.js';
import { conflict, unprocessable } from '../../platform/errors.js';
import type { VerificationResult } from './applications.actions.js';
import {
  type ApplicationDeps,
  applicationEventBase,
  type ApplicationRow,
  type ApplicationView,
  type Caller,
  lockApplication,
  recordDecision,
  requireStatus,
  viewOf,
} from './applications.common.js';
import { enrollmentCreated } from './applications.events.js';
import { enrollmentHistory, enrollments, reviews } from './applications.tables.js';
import { addMonths, businessDateOf } from './dates.js';
import { households, persons } from './people.tables.js';
import {
  careAllowanceFen,
  dibaoMonthlyBenefitFen,
  perCapitaMonthlyIncomeFen,
  priceSubsidyMonthlyFen,
  type ProgramCode,
  type SelfCareLevel,
  tekunMonthlyBenefitFen,
} from './programs.rules.js';
import type { ProgramStandard } from './programs.service.js';

interface Member {
  id: string;
  selfCare: string | null;
}

interface Benefit {
  monthlyBenefitFen: number;
  basis: Record<string, unknown>;
}

/**
 * The monthly benefit by the rules of DOMAIN.md (programs.rules.ts), with the figures it was
 * reached from. 422 when it cannot be paid: a tekun person without a self-care level, or a dibao
 * household whose per-capita income is not below the standard.
 */
export function benefitOf(
  application: ApplicationRow,
  standard: ProgramStandard,
  members: Member[],
  verification: VerificationResult,
): Benefit {
  const householdSize = members.length;
  const common = {
    standardId: standard.id,
    standardRegion: standard.region,
    monthlyStandardFen: standard.monthlyStandardFen,
    householdSize,
  };
  switch (application.programCode) {
    case 'dibao': {
      const perCapitaIncomeFen = perCapitaMonthlyIncomeFen(verification.monthlyIncomeFen, householdSize);
      const amount = dibaoMonthlyBenefitFen({
        monthlyStandardFen: standard.monthlyStandardFen,
        perCapitaMonthlyIncomeFen: perCapitaIncomeFen,
        householdSize,
      });
      if (amount === 0) {
        throw unprocessable(
          `The household's verified per-capita income (${perCapitaIncomeFen} fen a month: ${verification.monthlyIncomeFen} fen for ${householdSize}) is not below the dibao standard of ${standard.monthlyStandardFen} fen: dibao would pay nothing. Reject the application instead.`,
          { perCapitaIncomeFen, monthlyStandardFen: standard.monthlyStandardFen },
        );
      }
      const basis = { ...common, monthlyIncomeFen: verification.monthlyIncomeFen, perCapitaIncomeFen };
      return {
        monthlyBenefitFen: amount,
        basis: { ...basis, formula: '(monthlyStandardFen - perCapitaIncomeFen) × householdSize' },
      };
    }
    case 'tekun': {
      const person = members.find((m) => m.id === application.personId);
      if (!person) throw unprocessable('The person to be supported is no longer a member of the household.');
      if (!person.selfCare) {
        throw unprocessable(
          'The person’s self-care level is not recorded; it sets the tekun care allowance. Record it on the person first.',
        );
      }
      const selfCare = person.selfCare as SelfCareLevel;
      const allowance = careAllowanceFen(standard.careAllowances!, selfCare);
      return {
        monthlyBenefitFen: tekunMonthlyBenefitFen(standard, selfCare),
        basis: { ...common, selfCare, careAllowanceFen: allowance, formula: 'monthlyStandardFen + careAllowanceFen' },
      };
    }
    default:
      return {
        monthlyBenefitFen: priceSubsidyMonthlyFen(standard.monthlyStandardFen, householdSize),
        basis: { ...common, formula: 'monthlyStandardFen × householdSize' },
      };
  }
}

/** Approval: the decision and the enrollment it creates, in one transaction. */
export function createApproval({ db, audit, events, programs, clock = () => new Date() }: ApplicationDeps) {
  return async function approve(
    caller: Caller,
    actor: AuditActor,
    id: string,
    reasons: string[],
    expectedVersion?: number,
  ): Promise<ApplicationView> {
    return db.transaction(async (tx) => {
      const row = await lockApplication(tx, caller, id, expectedVersion);
      requireStatus(row, ['verified'], 'approved (after economic verification has answered)');
      const verification = row.verification as unknown as VerificationResult;
      if (!verification.passed) {
        throw unprocessable('Economic verification did not pass: the application cannot be approved; reject it.', {
          missing: ['passed verification'],
        });
      }
      const missing = [
        ...(row.phoneSurvey ? [] : ['phoneSurvey']),
        ...(row.homeVisitRequired && !row.homeVisit ? ['homeVisit'] : []),
      ];
      if (missing.length > 0) {
        throw unprocessable(
          `Record the ${missing.map((m) => (m === 'phoneSurvey' ? 'phone survey' : 'home visit')).join(' and ')} before approving${row.homeVisitRequired ? ' (no fast track: a home visit is required)' : ''}.`,
          { missing },
        );
      }
      // One decision per household at a time: the live-enrollment check below holds until commit.
      const [household] = await tx.select().from(households).where(eq(households.id, row.householdId)).for('update');
      const tekun = row.programCode === 'tekun';
      const [live] = await tx
        .select({ id: enrollments.id, status: enrollments.status })
        .from(enrollments)
        .where(
          and(
            eq(enrollments.programCode, row.programCode),
            tekun ? eq(enrollments.personId, row.personId!) : eq(enrollments.householdId, row.householdId),
            sql`${enrollments.status} <> 'ended'`,
          ),
        )
        .limit(1);
      if (live) {
        throw conflict(`Already enrolled in ${row.programCode}: enrollment ${live.id} is ${live.status}.`, {
          enrollment: { id: live.id, status: live.status },
        });
      }
      const region = household!.region;
      const today = businessDateOf(clock());
      const program = await programs.getProgram(row.programCode, tx);
      const standard = await programs.standardInForce(program.code as ProgramCode, region, today, tx);
      if (!standard) {
        throw unprocessable(
          `No ${program.code} standard is in force for region ${region} today (${today}); an admin creates one (POST /v1/programs/${program.code}/standards) before applications can be approved.`,
        );
      }
      const members = await tx
        .select({ id: persons.id, selfCare: persons.selfCare })
        .from(persons)
        .where(eq(persons.householdId, row.householdId));
      if (members.length === 0) throw unprocessable('The household has no members registered.');
      const benefit = benefitOf(row, standard, members, verification);

      const [enrollment] = await tx
        .insert(enrollments)
        .values({
          programCode: row.programCode,
          householdId: row.householdId,
          personId: tekun ? row.personId : null,
          applicationId: id,
          region,
          status: 'active',
          monthlyBenefitFen: benefit.monthlyBenefitFen,
          benefitBasis: benefit.basis,
          startDate: today,
        })
        .returning();
      const enrollmentId = enrollment!.id;
      await tx.insert(enrollmentHistory).values({
        enrollmentId,
        status: 'active',
        monthlyBenefitFen: benefit.monthlyBenefitFen,
        action: 'created',
        reason: `application ${id} approved`,
        byClientId: actor.clientId,
      });
      const nextReviewDueDate =
        program.reviewIntervalMonths === null ? null : addMonths(today, program.reviewIntervalMonths);
      if (nextReviewDueDate) await tx.insert(reviews).values({ enrollmentId, region, dueDate: nextReviewDueDate });

      const updated = await recordDecision(
        tx,
        events,
        row,
        { decision: 'approved', reasons, at: clock(), byClientId: actor.clientId },
        enrollmentId,
        `${reasons.join('; ')} (enrollment ${enrollmentId}, ${benefit.monthlyBenefitFen} fen a month)`,
      );
      const base = applicationEventBase(row);
      await events.publish(tx, enrollmentCreated, {
        subject: `enrollment/${enrollmentId}`,
        region,
        data: {
          enrollmentId,
          applicationId: id,
          program: base.program,
          householdId: row.householdId,
          personId: enrollment!.personId,
          region,
          status: 'active',
          monthlyBenefitFen: benefit.monthlyBenefitFen,
          startDate: today,
          nextReviewDueDate,
        },
      });
      await audit.record(tx, actor, {
        operation: 'approveApplication',
        resourceType: 'application',
        resourceIds: [id, enrollmentId],
        personIds: row.personId ? [row.personId] : [],
        detail: { enrollmentId, monthlyBenefitFen: benefit.monthlyBenefitFen, standardId: standard.id },
      });
      return viewOf(tx, updated);
    });
  };
}
