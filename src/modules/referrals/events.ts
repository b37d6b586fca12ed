import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { SymptomEnum } from '../care/symptoms.js';
import { locationKinds, referralOrigins, referralStatuses } from './schemas.js';

const at = z.iso.datetime({ offset: true });

/**
 * What every referral event carries: ids, codes and times, never a name, phone or ID number (the
 * receivers read those from the referral itself, audited). Scope referrals:read and the referral's
 * region: the health and disease-control clients covering the region and civil affairs see them.
 */
const base = z.object({
  referralId: z.uuid(),
  personId: z.uuid(),
  householdId: z.uuid().nullable(),
  region: z.string().describe('The person’s residence region when reported'),
  status: z.enum(referralStatuses),
  origin: z.enum(referralOrigins),
  symptoms: z.array(SymptomEnum),
  onsetDate: z.iso.date().nullable(),
  locationKind: z.enum(locationKinds),
  transportNeeded: z.boolean(),
  ackDueAt: at,
  receiverClientId: z.uuid().nullable(),
  at: at.describe('When this step happened'),
});

const referralEvent = <T extends z.ZodRawShape>(verb: string, summary: string, extra: T) =>
  defineEvent({ type: `referral.${verb}`, scope: 'referrals:read', summary, data: base.extend(extra) });

export const referralReported = referralEvent(
  'reported',
  'Civil affairs reported a suspected case to health (measure 5): the receivers of the region acknowledge it by ackDueAt',
  { visitId: z.uuid().nullable(), welfareContactId: z.uuid().nullable() },
);

export const referralAcknowledged = referralEvent(
  'acknowledged',
  'A health or disease-control client took the referral on; it answers it from now on',
  { acknowledgedAt: at },
);

export const referralTransferred = referralEvent('transferred', 'The person was taken to a designated hospital', {
  hospital: z.string(),
  transferredAt: at,
});

/** What the close-contact handoff to the CDC starts from: the case, the household and the onset. */
export const referralConfirmed = referralEvent('confirmed', 'The suspected case was confirmed', {
  outcome: z.literal('confirmed'),
  outcomeAt: at,
  hospital: z.string().nullable(),
});

export const referralExcluded = referralEvent('excluded', 'The suspected case was excluded', {
  outcome: z.literal('excluded'),
  outcomeAt: at,
  hospital: z.string().nullable(),
});

export const referralRejected = referralEvent(
  'rejected',
  'A receiver sent the referral back to civil affairs as not theirs (e.g. the wrong region), with a reason',
  { reason: z.string(), closedAt: at },
);

export const referralCancelled = referralEvent('cancelled', 'Civil affairs withdrew the referral, with a reason', {
  reason: z.string(),
  closedAt: at,
});
