import { BULK_MAX, type NewHousehold, type NewMember } from '../registry/people.schemas.js';
import { syntheticHouseholds, syntheticResidentId } from '../registry/people.seed.js';
import { canVary, type NameVariant, varyName } from './synthetic.names.js';
import type { SourceKind } from './tables.js';

/**
 * A synthetic city for tests and benchmarks: the registry's synthetic households (`people.seed.ts`,
 * loaded in chunks of BULK_MAX exactly as seed-registry loads them) and, for the same persons,
 * source records of every kind, each household drawn as eligible, ineligible or dirty in the given
 * shares, and about 1% of persons recorded dead. Pure and deterministic: household h draws from its
 * own generator seeded by (seed, h), so the same options give the same bytes, and one household at a
 * time is held in memory whatever the size of the city.
 */
export interface Shares {
  eligible: number;
  ineligible: number;
  dirty: number;
}

export interface CityOptions {
  region: string;
  seed: number;
  households: number;
  shares?: Shares;
  /** The dibao standard the classes are drawn against, fen a month per person. */
  monthlyStandardFen?: number;
  /** Financial assets allowed per member, in monthly standards. */
  assetMultiple?: number;
  /** The day the records describe; deaths fall in the year before it. */
  asOf?: string;
  deathRate?: number;
}

export type HouseholdClass = keyof Shares;
export type IneligibleReason = 'income' | 'assets' | 'property' | 'vehicle' | 'business';
export type DirtyVariant = NameVariant | 'unknown_id';

/**
 * What verification should find for one household (its index in the city, 0-based). Eligible:
 * wages and pensions under 40% of the standard per person (housing-fund contributions within that),
 * deposits under 40% of the asset limit, at most one home, a vehicle worth at most 50,000 yuan,
 * no active business. Ineligible: per-capita income 1.5 to 3 standards, deposits 1.5 to 4 limits, a
 * second residential property, a vehicle worth 300,000 yuan or more, or an active business.
 */
export interface HouseholdTruth {
  index: number;
  class: HouseholdClass;
  /** Ineligible: the thresholds crossed (one, sometimes two). */
  reasons: IneligibleReason[];
  /**
   * Dirty: a record of a member under a misspelt name (`typo` a real mismatch to flag;
   * `traditional`, `fullwidth` the same name written otherwise), or a record of a member's name under
   * an ID number in no household (`unknown_id`). Its figures are those of an eligible household.
   */
  dirty: { variant: DirtyVariant; ref: string } | null;
  members: number;
  /** Members recorded dead (never the one whose wage makes the household ineligible). */
  deceased: number;
  /**
   * Whether verification (`verify.rules.ts`) should pass it under the standard the city was drawn
   * against, a property limit of 1 and a vehicle limit between 50,000 and 300,000 yuan: every household
   * but the ineligible ones and those whose every member is recorded dead.
   */
  passes: boolean;
}

/** One source record, with the fields of its kind's schema in `records.ts`. */
export interface SyntheticRecord {
  kind: SourceKind;
  idNumber: string;
  name: string;
  ref: string;
  amountFen?: number;
  eventDate?: string;
  use?: 'residential' | 'commercial';
  plate?: string;
  status?: 'active' | 'suspended' | 'deregistered';
}

export interface CityHousehold {
  household: NewHousehold;
  truth: HouseholdTruth;
  records: SyntheticRecord[];
}

type Resolved = Required<CityOptions>;

export const defaultShares: Shares = { eligible: 0.7, ineligible: 0.25, dirty: 0.05 };
const reasons: IneligibleReason[] = ['income', 'assets', 'property', 'vehicle', 'business'];
const prefix: Record<SourceKind, string> = {
  income: 'INC',
  pension: 'PEN',
  housing_fund: 'HF',
  real_estate: 'RE',
  vehicle: 'VEH',
  deposits: 'DEP',
  business: 'BIZ',
  death: 'DTH',
};
const YUAN = 100;
const DAY = 86_400_000;

function resolve(options: CityOptions): Resolved {
  const o: Resolved = {
    shares: defaultShares,
    monthlyStandardFen: 72_000,
    assetMultiple: 24,
    asOf: '2026-01-01',
    deathRate: 0.01,
    ...options,
  };
  const { eligible, ineligible, dirty } = o.shares;
  if (![eligible, ineligible, dirty].every((s) => s >= 0) || Math.abs(eligible + ineligible + dirty - 1) > 1e-9)
    throw new RangeError('shares must be 0 or more and add up to 1');
  if (!Number.isSafeInteger(o.households) || o.households < 1) throw new RangeError('households must be 1 or more');
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new RangeError('seed must be a whole number, 0 or more');
  if (!/^\d{6}(\d{3}|\d{6})?$/.test(o.region)) throw new RangeError('region must be a county-level code or below');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.asOf)) throw new RangeError('asOf must be a date YYYY-MM-DD');
  return o;
}

/** mulberry32 from a state mixed out of (seed, index), so neighbouring households draw unrelated numbers. */
function generator(seed: number, index: number) {
  let a = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 0x632be5ab, 0xc2b2ae35);
  a = Math.imul(a ^ (a >>> 16), 0x27d4eb2f) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The records and expected class of household `index` of the city. */
function draw(o: Resolved, index: number, household: NewHousehold): CityHousehold {
  const random = generator(o.seed, index);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const members = household.members;
  const size = members.length;
  const standard = o.monthlyStandardFen;
  const assetLimit = standard * o.assetMultiple * size;
  const day = (daysBack: number) => new Date(Date.parse(o.asOf) - daysBack * DAY).toISOString().slice(0, 10);
  const records: SyntheticRecord[] = [];
  const add = (kind: SourceKind, member: NewMember, fields: Partial<SyntheticRecord>) =>
    records.push({
      kind,
      idNumber: member.idNumber,
      name: member.name,
      ref: `${prefix[kind]}${o.seed}-${index}-${records.length + 1}`,
      ...fields,
    });
  const head = members[0]!;
  const r = random();
  const cls: HouseholdClass = r < o.shares.eligible ? 'eligible' : r < 1 - o.shares.dirty ? 'ineligible' : 'dirty';

  // Every household starts eligible: income and pensions under 40% of the standard per person,
  // housing-fund contributions counted inside that budget, deposits under 40% of the asset limit.
  const ageOf = (m: NewMember) => Number(o.asOf.slice(0, 4)) - Number(m.idNumber.slice(6, 10));
  const adults = members.filter((m) => ageOf(m) >= 16);
  const roles = members.map((m) => {
    const [age, x] = [ageOf(m), random()];
    if (age < 16) return null;
    if (age >= 60) return x < 0.7 ? 'pension' : x < 0.8 ? 'income' : null;
    return x < 0.7 ? 'income' : x < 0.75 ? 'pension' : null;
  });
  const weights = roles.map((role) => (role ? 0.1 + random() : 0));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const incomeBudget = Math.floor(random() * 0.4 * standard * size);
  members.forEach((member, i) => {
    const share = totalWeight > 0 ? Math.floor((incomeBudget * weights[i]!) / totalWeight) : 0;
    if (roles[i] === 'pension') add('pension', member, { amountFen: share });
    if (roles[i] !== 'income') return;
    const fund = random() < 0.6 ? Math.floor(share / 10) : 0;
    if (fund > 0) add('housing_fund', member, { amountFen: fund });
    const second = random() < 0.15 ? Math.floor((share - fund) * random()) : 0;
    add('income', member, { amountFen: share - fund - second });
    if (second > 0) add('income', member, { amountFen: second });
  });
  // Bank accounts, wealth products and securities: a few each (children one or two).
  const accounts = members.flatMap((member) =>
    Array.from({ length: ageOf(member) < 16 ? int(1, 2) : int(1, 7) }, () => [member, random()] as const),
  );
  const accountWeight = accounts.reduce((a, [, w]) => a + w, 0);
  const depositBudget = Math.floor(random() * 0.4 * assetLimit);
  for (const [member, w] of accounts)
    add('deposits', member, { amountFen: Math.floor((depositBudget * w) / accountWeight) });
  const home = () => add('real_estate', head, { amountFen: int(200, 800) * 1000 * YUAN, use: 'residential' });
  const owner = random() < 0.65;
  if (owner) home();
  const plate = () => `吉A${String(int(0, 99_999)).padStart(5, '0')}`;
  const adult = () => (adults.length > 0 ? adults[int(0, adults.length - 1)]! : head);
  if (random() < 0.12) add('vehicle', adult(), { amountFen: int(10, 50) * 1000 * YUAN, plate: plate() });
  if (random() < 0.03)
    add('business', head, {
      amountFen: int(10, 100) * 1000 * YUAN,
      status: random() < 0.5 ? 'suspended' : 'deregistered',
    });

  const truth: HouseholdTruth = {
    index,
    class: cls,
    reasons: [],
    dirty: null,
    members: size,
    deceased: 0,
    passes: cls !== 'ineligible',
  };
  const earner = new Set<string>(); // income counts only while alive: its earner does not die
  if (cls === 'ineligible') {
    const first = reasons[int(0, reasons.length - 1)]!;
    const second = random() < 0.25 ? reasons.filter((x) => x !== first)[int(0, reasons.length - 2)]! : null;
    truth.reasons = second ? [first, second] : [first];
    for (const reason of truth.reasons) {
      const member = adult();
      if (reason === 'income') {
        add('income', member, { amountFen: Math.ceil(standard * size * (1.5 + random() * 1.5)) });
        earner.add(member.idNumber);
      }
      if (reason === 'assets') add('deposits', member, { amountFen: Math.ceil(assetLimit * (1.5 + random() * 2.5)) });
      if (reason === 'vehicle') add('vehicle', member, { amountFen: int(300, 800) * 1000 * YUAN, plate: plate() });
      if (reason === 'business') add('business', member, { amountFen: int(100, 1000) * 1000 * YUAN, status: 'active' });
      if (reason === 'property') {
        if (!owner) home();
        add('real_estate', member, { amountFen: int(300, 2000) * 1000 * YUAN, use: 'residential' });
        if (random() < 0.3) add('real_estate', member, { amountFen: int(50, 500) * 1000 * YUAN, use: 'commercial' });
      }
    }
  }
  if (cls === 'dirty') {
    const v = random();
    const variant: DirtyVariant = v < 0.45 ? 'typo' : v < 0.65 ? 'traditional' : v < 0.85 ? 'fullwidth' : 'unknown_id';
    if (variant === 'unknown_id') {
      // A member's wage filed under a valid number no household has: born in county 99 of the city.
      const idNumber = syntheticResidentId(`${o.region.slice(0, 4)}99`, o.seed * 1_000_003 + index);
      add('income', members[int(0, size - 1)]!, { idNumber, amountFen: int(0, Math.floor(standard / 10)) });
      truth.dirty = { variant, ref: records.at(-1)!.ref };
    } else {
      let nameVariant: NameVariant = variant;
      let candidates = members.filter((m) => canVary(m.name, nameVariant));
      if (candidates.length === 0) {
        nameVariant = 'typo';
        candidates = members;
      }
      const member = candidates[int(0, candidates.length - 1)]!;
      const own = records.filter((x) => x.idNumber === member.idNumber);
      const record = own[int(0, own.length - 1)]!;
      record.name = varyName(member.name, nameVariant, random());
      truth.dirty = { variant: nameVariant, ref: record.ref };
    }
  }
  for (const member of members) {
    if (random() >= o.deathRate || earner.has(member.idNumber)) continue;
    add('death', member, { eventDate: day(int(1, 365)) });
    truth.deceased++;
  }
  if (truth.deceased === size) truth.passes = false;
  return { household, truth, records };
}

/** The city, one household at a time, in order. */
export function* syntheticCity(options: CityOptions): Generator<CityHousehold> {
  const o = resolve(options);
  for (let from = 0; from < o.households; from += BULK_MAX) {
    const batch = syntheticHouseholds(o, from, Math.min(BULK_MAX, o.households - from));
    for (let i = 0; i < batch.length; i++) yield draw(o, from + i, batch[i]!);
  }
}

/** The expected class of every household, in order. */
export function* cityTruth(options: CityOptions): Generator<HouseholdTruth> {
  for (const { truth } of syntheticCity(options)) yield truth;
}
