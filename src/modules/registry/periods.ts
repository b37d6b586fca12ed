import { invalidState, ProblemError, validationError } from '../../platform/errors.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';

/** A record in force over a half-open period of business dates: a program standard, an emergency policy. */
export interface Period {
  id: string;
  version: number;
  region: string;
  effectiveFrom: string;
  effectiveTo: string | null;
}

export const describePeriod = (s: { effectiveFrom: string; effectiveTo: string | null }) =>
  s.effectiveTo === null
    ? `from ${s.effectiveFrom} until further notice`
    : `from ${s.effectiveFrom} up to (not including) ${s.effectiveTo}`;

/**
 * What ending such a record asks, in order: a caller whose jurisdiction holds its region (403),
 * the version read (412), no end yet (409 invalid-state `ended`), and an end that is neither
 * before its start (equal withdraws one that has not started) nor before today: the past stays
 * as it was.
 */
export function checkEnding(
  caller: Jurisdictional,
  current: Period,
  effectiveTo: string,
  today: string,
  what: string,
  expectedVersion?: number,
) {
  if (!inJurisdiction(caller, current.region)) {
    throw new ProblemError(
      403,
      'forbidden',
      `The ${what} is for region ${current.region}, outside your jurisdiction ${caller.jurisdiction}.`,
    );
  }
  if (expectedVersion !== undefined && current.version !== expectedVersion) {
    throw new ProblemError(412, 'precondition-failed', `The ${what} changed since you read it; read it again.`, {
      currentETag: etagOf(current),
    });
  }
  if (current.effectiveTo !== null) {
    throw invalidState(
      `The ${what} already has an end: it is in force ${describePeriod(current)}. It is history; create a new one for later dates.`,
      'ended',
    );
  }
  const problem =
    effectiveTo < current.effectiveFrom
      ? `must not be before effectiveFrom (${current.effectiveFrom}); equal withdraws a ${what} that has not started`
      : effectiveTo < today
        ? `must not be before today (${today}, Asia/Shanghai): what was in force stays in force`
        : null;
  if (problem) throw validationError([{ in: 'body', pointer: '/effectiveTo', detail: problem }]);
}
