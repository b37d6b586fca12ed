/**
 * The programs and the benefit rules of DOMAIN.md, as pure functions over integer fen. Amounts come
 * from a program standard (data with effective dates), never from constants here.
 */

export const programCodes = ['dibao', 'tekun', 'temporary_assistance', 'price_subsidy'] as const;
export type ProgramCode = (typeof programCodes)[number];

/** Self-care ability of an extremely poor person (特困人员生活自理能力), which sets the care allowance. */
export const selfCareLevels = ['able', 'partially_unable', 'unable'] as const;
export type SelfCareLevel = (typeof selfCareLevels)[number];

/** Care allowances a month by self-care level, in fen. */
export interface CareAllowances {
  ableFen: number;
  partiallyUnableFen: number;
  unableFen: number;
}

/** The amounts of a standard the rules read. */
export interface StandardAmounts {
  monthlyStandardFen: number;
  assetMultiple: number | null;
  careAllowances: CareAllowances | null;
}

function fen(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a whole number of fen ≥ 0`);
  return value;
}

function persons(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${what} must be a whole number ≥ 1`);
  return value;
}

function result(value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError('the amount is too large to be exact');
  return value;
}

/**
 * A household's per-capita monthly income from its total, rounded down to the fen: the rounding
 * favours the household (at most a fen a member), as a safety net should.
 */
export function perCapitaMonthlyIncomeFen(totalMonthlyIncomeFen: number, householdSize: number): number {
  return Math.floor(fen(totalMonthlyIncomeFen, 'total income') / persons(householdSize, 'household size'));
}

/** Dibao: the gap between the local standard and the per-capita monthly income, times household size; never negative. */
export function dibaoMonthlyBenefitFen(input: {
  monthlyStandardFen: number;
  perCapitaMonthlyIncomeFen: number;
  householdSize: number;
}): number {
  const standard = fen(input.monthlyStandardFen, 'the standard');
  const income = fen(input.perCapitaMonthlyIncomeFen, 'per-capita income');
  const size = persons(input.householdSize, 'household size');
  return result(Math.max(0, standard - income) * size);
}

/** The care allowance of a tekun standard for one self-care level. */
export function careAllowanceFen(careAllowances: CareAllowances, selfCare: SelfCareLevel): number {
  const byLevel: Record<SelfCareLevel, number> = {
    able: careAllowances.ableFen,
    partially_unable: careAllowances.partiallyUnableFen,
    unable: careAllowances.unableFen,
  };
  const amount = byLevel[selfCare];
  if (amount === undefined) throw new RangeError(`unknown self-care level ${String(selfCare)}`);
  return fen(amount, `the care allowance for ${selfCare}`);
}

/** Tekun: the basic living allowance plus the care allowance of the person's self-care level. */
export function tekunMonthlyBenefitFen(standard: StandardAmounts, selfCare: SelfCareLevel): number {
  if (!standard.careAllowances) throw new RangeError('a tekun standard has care allowances');
  return result(
    fen(standard.monthlyStandardFen, 'the basic allowance') + careAllowanceFen(standard.careAllowances, selfCare),
  );
}

/** Price subsidy: the monthly per-person amount times the recipients it covers. */
export function priceSubsidyMonthlyFen(monthlyStandardFen: number, recipients: number): number {
  return result(fen(monthlyStandardFen, 'the subsidy') * persons(recipients, 'recipients'));
}

/**
 * The most a household may hold in financial assets (deposits, securities) and still qualify:
 * the standard's asset multiple times its monthly standard, per member. Null when the standard sets
 * no limit.
 */
export function financialAssetLimitFen(standard: StandardAmounts, householdSize: number): number | null {
  if (standard.assetMultiple === null) return null;
  const size = persons(householdSize, 'household size');
  return result(fen(standard.monthlyStandardFen, 'the standard') * standard.assetMultiple * size);
}
