import t from 'tap';
import {
  careAllowanceFen,
  dibaoMonthlyBenefitFen,
  financialAssetLimitFen,
  perCapitaMonthlyIncomeFen,
  priceSubsidyMonthlyFen,
  type StandardAmounts,
  tekunMonthlyBenefitFen,
} from '../../../src/modules/registry/programs.rules.js';

const dibao: StandardAmounts = { monthlyStandardFen: 80_000, assetMultiple: 24, careAllowances: null };
const tekun: StandardAmounts = {
  monthlyStandardFen: 104_000,
  assetMultiple: 24,
  careAllowances: { ableFen: 5_000, partiallyUnableFen: 30_000, unableFen: 80_000 },
};

t.test('dibao pays the gap between the standard and per-capita income, times household size', async (t) => {
  t.equal(
    dibaoMonthlyBenefitFen({ monthlyStandardFen: 80_000, perCapitaMonthlyIncomeFen: 30_000, householdSize: 3 }),
    150_000,
  );
  t.equal(
    dibaoMonthlyBenefitFen({ monthlyStandardFen: 80_000, perCapitaMonthlyIncomeFen: 0, householdSize: 1 }),
    80_000,
    'no income: the whole standard',
  );
  t.equal(
    dibaoMonthlyBenefitFen({ monthlyStandardFen: 80_000, perCapitaMonthlyIncomeFen: 79_999, householdSize: 4 }),
    4,
    'a fen a member',
  );
  t.equal(
    dibaoMonthlyBenefitFen({ monthlyStandardFen: 80_000, perCapitaMonthlyIncomeFen: 80_000, householdSize: 2 }),
    0,
    'income at the standard: nothing',
  );
  t.equal(
    dibaoMonthlyBenefitFen({ monthlyStandardFen: 80_000, perCapitaMonthlyIncomeFen: 120_000, householdSize: 5 }),
    0,
    'income above the standard: nothing, never negative',
  );
});

t.test('dibao refuses what is not whole fen or a real household', async (t) => {
  const base = { monthlyStandardFen: 80_000, perCapitaMonthlyIncomeFen: 30_000, householdSize: 3 };
  t.throws(() => dibaoMonthlyBenefitFen({ ...base, monthlyStandardFen: 800.5 }), RangeError);
  t.throws(() => dibaoMonthlyBenefitFen({ ...base, perCapitaMonthlyIncomeFen: -1 }), RangeError);
  t.throws(() => dibaoMonthlyBenefitFen({ ...base, householdSize: 0 }), RangeError);
  t.throws(() => dibaoMonthlyBenefitFen({ ...base, householdSize: 2.5 }), RangeError);
  t.throws(() => dibaoMonthlyBenefitFen({ ...base, perCapitaMonthlyIncomeFen: Number.NaN }), RangeError);
  t.throws(
    () => dibaoMonthlyBenefitFen({ ...base, monthlyStandardFen: Number.MAX_SAFE_INTEGER, householdSize: 3 }),
    RangeError,
    'a product past exact integers is refused, not rounded',
  );
});

t.test('per-capita income is rounded down, in the household’s favour', async (t) => {
  t.equal(perCapitaMonthlyIncomeFen(100_000, 3), 33_333);
  t.equal(perCapitaMonthlyIncomeFen(90_000, 3), 30_000);
  t.equal(perCapitaMonthlyIncomeFen(0, 2), 0);
  const income = perCapitaMonthlyIncomeFen(100_000, 3);
  t.equal(
    dibaoMonthlyBenefitFen({ monthlyStandardFen: 80_000, perCapitaMonthlyIncomeFen: income, householdSize: 3 }),
    140_001,
    '(80000 − 33333) × 3: a fen more than 240000 − 100000',
  );
  t.throws(() => perCapitaMonthlyIncomeFen(100_000, 0), RangeError);
});

t.test('tekun pays the basic allowance plus the care allowance of the self-care level', async (t) => {
  t.equal(tekunMonthlyBenefitFen(tekun, 'able'), 109_000);
  t.equal(tekunMonthlyBenefitFen(tekun, 'partially_unable'), 134_000);
  t.equal(tekunMonthlyBenefitFen(tekun, 'unable'), 184_000);
  t.equal(careAllowanceFen(tekun.careAllowances!, 'unable'), 80_000);
  t.throws(() => tekunMonthlyBenefitFen(dibao, 'able'), RangeError, 'a standard without care allowances');
  t.throws(() => tekunMonthlyBenefitFen(tekun, 'bedridden' as 'able'), RangeError, 'an unknown level');
});

t.test('the financial-asset limit is the multiple of the monthly standard, per member', async (t) => {
  t.equal(financialAssetLimitFen(dibao, 1), 1_920_000, '24 × 800 yuan = 19 200 yuan');
  t.equal(financialAssetLimitFen(dibao, 3), 5_760_000);
  t.equal(financialAssetLimitFen({ ...dibao, assetMultiple: null }, 3), null, 'no multiple, no limit');
  t.throws(() => financialAssetLimitFen(dibao, 0), RangeError);
});

t.test('the price subsidy is per person', async (t) => {
  t.equal(priceSubsidyMonthlyFen(4_000, 3), 12_000);
  t.throws(() => priceSubsidyMonthlyFen(4_000, 0), RangeError);
  t.throws(() => priceSubsidyMonthlyFen(-4_000, 1), RangeError);
});
