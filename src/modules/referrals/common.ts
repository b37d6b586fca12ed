import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { FieldError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import type { VisitLookup } from '../care/visits.lookup.js';
import type { PolicyService } from '../registry/policies.service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { WelfareContactService } from '../registry/welfare-contacts.service.js';
import type { Symptom } from '../care/symptoms.js';
import type { locationKinds, ReferralStatus, referralOrigins } from './schemas.js';
import type { ReferralRow } from './view.js';

/**
 * Health acknowledges a referral within this many hours when no emergency policy in force for the
 * person's region sets `referralAckHours` (the normal rule: within a day).
 */
export const NORMAL_ACK_HOURS = 24;

/** A caller's clock may run a little ahead of ours. */
export const CLOCK_SKEW_MS = 60_000;

export interface ReferralDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  pii: PiiProtector;
  policies: PolicyService;
  welfareContacts: WelfareContactService;
  /** The care module's read of visits; made from `db` when not given. */
  visits?: VisitLookup;
  /** A referral's outcome became confirmed: called in the confirmation's transaction (the close-contact handoff opens there). */
  onConfirmed?: (tx: Executor, referral: ReferralRow, actor: AuditActor) => Promise<void>;
  clock?: () => Date;
}

export type Deps = Required<ReferralDeps>;

export const bodyError = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/** What every referral event carries (events.ts): ids, codes and times, nothing that names or reaches the person. */
export const eventBase = (r: ReferralRow, at: Date) => ({
  referralId: r.id,
  personId: r.personId,
  householdId: r.householdId,
  region: r.region,
  status: r.status as ReferralStatus,
  origin: r.origin as (typeof referralOrigins)[number],
  symptoms: r.symptoms as Symptom[],
  onsetDate: r.onsetDate,
  locationKind: r.locationKind as (typeof locationKinds)[number],
  transportNeeded: r.transportNeeded,
  ackDueAt: r.ackDueAt.toISOString(),
  receiverClientId: r.receiverClientId,
  at: at.toISOString(),
});

/** A unique violation of `index`, through drizzle's wrapper or not. */
export function isUniqueViolation(err: unknown, index: string): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, constraint, message } = e as { code?: unknown; constraint?: unknown; message?: unknown };
    if (code === '23505') return constraint === index || (typeof message === 'string' && message.includes(index));
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
