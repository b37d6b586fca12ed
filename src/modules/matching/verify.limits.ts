/**
 * The limits of economic verification, one pure function a rule, over a household's matched
 * records and the program's standard in force. Every limit comes from the standard (data with
 * effective dates), none from here; each rule answers its outcome, the figures it was reached
 * from, a sentence, and the records behind it.
 */
import { financialAssetLimitFen, perCapitaMonthlyIncomeFen } from '../registry/programs.rules.js';
import type { ProgramStandard } from '../registry/programs.service.js';
import type { SourceKind } from './tables.js';
import type { MatchedRecord, Outcome, RuleResult, SourceRef } from './verify.rules.js';

// One formatter: toLocaleString with options builds a new Intl.NumberFormat on every call.
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** 123456 → "1,234.56 yuan". */
export const yuan = (fen: number) => `${twoDecimals.format(fen / 100)} yuan`;

export const refOf = (r: MatchedRecord): SourceRef => ({
  sourceId: r.sourceId,
  kind: r.kind,
  snapshotId: r.snapshotId,
  line: r.line,
  ref: r.ref,
  personId: r.personId,
});
export const sum = (records: MatchedRecord[]) => records.reduce((total, r) => total + (r.amountFen ?? 0), 0);
export const ofKind = (records: MatchedRecord[], ...kinds: SourceKind[]) =>
  records.filter((r) => kinds.includes(r.kind));
const noLimit = (what: string) => `The standard sets no limit on ${what}.`;

export function rule(
  rule: string,
  outcome: Outcome,
  figures: Record<string, unknown>,
  detail: string,
  used: MatchedRecord[],
) {
  return { rule, outcome, figures, detail, sources: used.map(refOf) };
}

export function income(living: MatchedRecord[], standard: ProgramStandard, size: number): RuleResult {
  const counted = ofKind(living, 'income', 'pension');
  const monthlyIncomeFen = sum(counted);
  const perCapitaIncomeFen = perCapitaMonthlyIncomeFen(monthlyIncomeFen, size);
  const byMember = new Map<
    string,
    { personId: string; incomeFen: number; pensionFen: number; housingFundFen: number }
  >();
  for (const r of ofKind(living, 'income', 'pension', 'housing_fund')) {
    const entry = byMember.get(r.personId) ?? { personId: r.personId, incomeFen: 0, pensionFen: 0, housingFundFen: 0 };
    const key = r.kind === 'income' ? 'incomeFen' : r.kind === 'pension' ? 'pensionFen' : 'housingFundFen';
    entry[key] += r.amountFen ?? 0;
    byMember.set(r.personId, entry);
  }
  const below = perCapitaIncomeFen < standard.monthlyStandardFen;
  return rule(
    'per_capita_income_below_standard',
    below ? 'pass' : 'fail',
    {
      monthlyIncomeFen,
      householdSize: size,
      perCapitaIncomeFen,
      monthlyStandardFen: standard.monthlyStandardFen,
      standardId: standard.id,
      housingFundFen: sum(ofKind(living, 'housing_fund')),
      byMember: [...byMember.values()],
    },
    `Per-capita monthly income ${yuan(perCapitaIncomeFen)} (${yuan(monthlyIncomeFen)} for ${size}) is ${below ? 'below' : 'not below'} the standard of ${yuan(standard.monthlyStandardFen)}.`,
    counted,
  );
}

export function assets(used: MatchedRecord[], standard: ProgramStandard, size: number): RuleResult {
  const deposits = ofKind(used, 'deposits');
  const financialAssetsFen = sum(deposits);
  const limitFen = financialAssetLimitFen(standard, size);
  const figures = { financialAssetsFen, limitFen, assetMultiple: standard.assetMultiple, householdSize: size };
  if (limitFen === null)
    return rule('financial_assets_within_limit', 'pass', figures, noLimit('financial assets'), deposits);
  const within = financialAssetsFen <= limitFen;
  return rule(
    'financial_assets_within_limit',
    within ? 'pass' : 'fail',
    figures,
    `Deposits and securities of ${yuan(financialAssetsFen)} are ${within ? 'within' : 'over'} the limit of ${yuan(limitFen)} (${standard.assetMultiple} × ${yuan(standard.monthlyStandardFen)} × ${size}).`,
    deposits,
  );
}

export function property(used: MatchedRecord[], standard: ProgramStandard): RuleResult {
  const all = ofKind(used, 'real_estate');
  const residential = all.filter((r) => r.attrs?.use === undefined || r.attrs.use === 'residential');
  const limit = standard.propertyLimit;
  const figures = {
    residentialProperties: residential.length,
    residentialValueFen: sum(residential),
    otherProperties: all.length - residential.length,
    otherValueFen: sum(all) - sum(residential),
    limit,
  };
  if (limit === null) return rule('property_within_limit', 'pass', figures, noLimit('residential property'), all);
  const within = residential.length <= limit;
  return rule(
    'property_within_limit',
    within ? 'pass' : 'fail',
    figures,
    `${residential.length} residential ${residential.length === 1 ? 'property' : 'properties'} recorded; ${limit} allowed.`,
    residential,
  );
}

export function vehicles(used: MatchedRecord[], standard: ProgramStandard): RuleResult {
  const found = ofKind(used, 'vehicle');
  const maxValueFen = found.reduce((max, r) => Math.max(max, r.amountFen ?? 0), 0);
  const limitFen = standard.vehicleValueLimitFen;
  const figures = { vehicles: found.length, maxValueFen, limitFen };
  if (limitFen === null) return rule('vehicle_within_limit', 'pass', figures, noLimit('vehicles'), found);
  const over = found.filter((r) => (r.amountFen ?? 0) > limitFen);
  return rule(
    'vehicle_within_limit',
    over.length === 0 ? 'pass' : 'fail',
    figures,
    found.length === 0
      ? 'No vehicle recorded.'
      : `${found.length} vehicle(s) recorded, the dearest worth ${yuan(maxValueFen)}; each may be worth at most ${yuan(limitFen)}.`,
    over.length === 0 ? found : over,
  );
}

export function business(used: MatchedRecord[], standard: ProgramStandard): RuleResult {
  const all = ofKind(used, 'business');
  // Only active businesses count (records.ts): suspended and deregistered ones are shown.
  const found = all.filter((r) => r.attrs?.status === undefined || r.attrs.status === 'active');
  const capitalFen = sum(found);
  const limitFen = standard.businessCapitalLimitFen;
  const figures = {
    businesses: found.length,
    registeredCapitalFen: capitalFen,
    inactiveBusinesses: all.length - found.length,
    limitFen,
  };
  if (limitFen === null)
    return rule('no_registered_business', 'pass', figures, noLimit('registered businesses'), found);
  const fails = found.length > 0 && (limitFen === 0 || capitalFen > limitFen);
  const detail =
    found.length === 0
      ? 'No active registered business recorded.'
      : limitFen === 0
        ? `${found.length} active registered business(es) recorded; the standard allows none.`
        : `${found.length} active registered business(es) with ${yuan(capitalFen)} of capital; at most ${yuan(limitFen)} allowed.`;
  return rule('no_registered_business', fails ? 'fail' : 'pass', figures, detail, found);
}
