/**
 * Economic verification of one household as pure functions: the members, the source records
 * matched to them (by ID-number blind index) and the program's standard in force in, an explainable
 * result out. Every limit comes from the standard (data with effective dates), none from here.
 *
 * Choices (DOMAIN.md, economic verification):
 * - A record whose name does not match its member's (names.ts) is not held against the household:
 *   it is left out of every sum and listed under `flags` (`name_mismatch`, a data error to check by
 *   phone).
 * - A member recorded dead on or before the date no longer counts in the household's size, and
 *   their income and pension (which stop at death) are left out; their deposits, property,
 *   vehicles and businesses still count (they pass to the household). `members_alive` flags it
 *   (the registry needs updating), and fails only when no member is alive.
 * - Income is wages and pensions (monthly); the housing provident fund is shown, not counted.
 * - Property: records whose `attrs.use` is absent or `residential` are residential properties and
 *   count against the limit; others are shown. Businesses: only active ones (`attrs.status`) count.
 */
import type { ProgramStandard } from '../registry/programs.service.js';
import { nameChecker } from './names.js';
import type { SourceKind } from './tables.js';
import { assets, business, income, ofKind, property, rule, vehicles } from './verify.limits.js';

export interface Member {
  id: string;
  name: string;
}

/** A source record matched to a member, with where it came from. */
export interface MatchedRecord {
  personId: string;
  sourceId: string;
  kind: SourceKind;
  snapshotId: string;
  line: number;
  ref: string | null;
  name: string;
  amountFen: number | null;
  eventDate: string | null;
  attrs: Record<string, unknown> | null;
}

export interface SourceRef {
  sourceId: string;
  kind: SourceKind;
  snapshotId: string;
  line: number;
  ref: string | null;
  personId: string;
}

export type Outcome = 'pass' | 'fail' | 'flag';

export interface RuleResult {
  rule: string;
  outcome: Outcome;
  figures: Record<string, unknown>;
  detail: string;
  sources: SourceRef[];
}

export const ruleNames = [
  'members_alive',
  'per_capita_income_below_standard',
  'financial_assets_within_limit',
  'property_within_limit',
  'vehicle_within_limit',
  'no_registered_business',
] as const;

export interface Evaluation {
  /** Members counted in the household's size (registered and not recorded dead). */
  members: number;
  monthlyIncomeFen: number;
  financialAssetsFen: number;
  passed: boolean;
  rules: RuleResult[];
  flags: RuleResult[];
}

function nameMismatch(record: MatchedRecord, member: Member): RuleResult {
  return rule(
    'name_mismatch',
    'flag',
    { personId: member.id, recordName: record.name, memberName: member.name },
    `Line ${record.line}${record.ref ? ` (${record.ref})` : ''} of the ${record.kind} source carries the name “${record.name}” for the ID number of member “${member.name}”: a data error to check by phone. The record is not counted.`,
    [record],
  );
}

function membersAlive(members: Member[], deaths: MatchedRecord[], counted: number): RuleResult {
  const deceased = deaths.map((d) => ({ personId: d.personId, deathDate: d.eventDate }));
  const figures = {
    membersRegistered: members.length,
    membersDeceased: new Set(deceased.map((d) => d.personId)).size,
    membersCounted: counted,
    deceased,
  };
  if (deaths.length === 0) {
    return rule('members_alive', 'pass', figures, `No member is recorded dead; the household counts ${counted}.`, []);
  }
  const outcome = counted === 0 ? 'fail' : 'flag';
  const detail =
    counted === 0
      ? 'Every member is recorded dead: there is no household to assist. Check the registry.'
      : `${figures.membersDeceased} of ${members.length} members recorded dead: the household counts ${counted}; their income is not counted, their assets are. Update the registry.`;
  return rule('members_alive', outcome, figures, detail, deaths);
}

/** Evaluates the program's rules for a household against its matched records and a standard. */
export function evaluate(input: {
  members: Member[];
  records: MatchedRecord[];
  standard: ProgramStandard;
  date: string;
}): Evaluation {
  const { members, records, standard, date } = input;
  const same = nameChecker();
  const byId = new Map(members.map((m) => [m.id, m]));
  const flags: RuleResult[] = [];
  const used: MatchedRecord[] = [];
  for (const r of records) {
    const member = byId.get(r.personId)!;
    if (same(r.name, member.name)) used.push(r);
    else flags.push(nameMismatch(r, member));
  }
  const deaths = ofKind(used, 'death').filter((d) => d.eventDate === null || d.eventDate <= date);
  const dead = new Set(deaths.map((d) => d.personId));
  const counted = members.filter((m) => !dead.has(m.id)).length;
  const size = Math.max(counted, 1);
  const living = used.filter((r) => !dead.has(r.personId));
  const rules = [
    membersAlive(members, deaths, counted),
    income(living, standard, size),
    assets(used, standard, size),
    property(used, standard),
    vehicles(used, standard),
    business(used, standard),
  ];
  const incomeRule = rules[1]!.figures;
  return {
    members: counted,
    monthlyIncomeFen: incomeRule.monthlyIncomeFen as number,
    financialAssetsFen: rules[2]!.figures.financialAssetsFen as number,
    passed: rules.every((r) => r.outcome !== 'fail'),
    rules,
    flags,
  };
}
