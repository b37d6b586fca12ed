import t from 'tap';
import { checkResidentId, residentIdCheckCharacter } from '../../../src/modules/registry/identity.js';
import { syntheticResidentId } from '../../../src/modules/registry/people.seed.js';
import { mask } from '../../../src/modules/registry/sensitive.js';

const today = '2026-03-01';

t.test('GB 11643 check characters of published examples', async (t) => {
  // The standard's own example and a number whose check character is X.
  t.equal(residentIdCheckCharacter('11010519491231002'), 'X');
  t.equal(residentIdCheckCharacter('44052418800101001'), '4');
  t.match(checkResidentId('11010519491231002X', today), { valid: true, birthDate: '1949-12-31', sex: 'female' });
  t.match(checkResidentId('440524188001010014', today), { valid: true, birthDate: '1880-01-01', sex: 'male' });
  t.match(checkResidentId(' 11010519491231002x ', today), { valid: true, number: '11010519491231002X' }, 'normalised');
});

t.test('invalid numbers are refused with the reason, never the number', async (t) => {
  const cases: [string, RegExp][] = [
    ['11010519491231002', /must be 18 characters .*not 17/],
    ['1101051949123100211', /not 19/],
    ['11010519491231002Y', /17 digits followed by a digit or X/],
    ['110105194912310021', /check character: it should be X/],
    ['110105194902300021', /no valid birth date \(digits 7 to 14 read 1949-02-30\)/],
    ['110105187912310021', /no valid birth date/],
    ['110105203001010021', /birth date in the future \(2030-01-01\)/],
    ['010105194912310021', /region code/],
  ];
  for (const [number, reason] of cases) {
    const checked = checkResidentId(number, today);
    t.equal(checked.valid, false, number);
    if (!checked.valid) {
      t.match(checked.reason, reason, number);
      t.notMatch(checked.reason, number.slice(0, 17), 'the reason does not repeat the number');
    }
  }
});

t.test('the 17th digit gives the sex: odd male, even female', async (t) => {
  for (let seq = 0; seq < 10; seq++) {
    const first17 = `2201021990010100${seq}`;
    const checked = checkResidentId(first17 + residentIdCheckCharacter(first17), today);
    t.match(checked, { valid: true, sex: seq % 2 === 1 ? 'male' : 'female', birthDate: '1990-01-01' });
  }
});

t.test('synthetic numbers are valid and unique', async (t) => {
  const numbers = Array.from({ length: 20_000 }, (_, n) => syntheticResidentId('220102', n));
  t.same(
    numbers.filter((n) => !checkResidentId(n, today).valid),
    [],
  );
  t.equal(new Set(numbers).size, 20_000);
});

t.test('masks', async (t) => {
  t.equal(mask('document', '22010219900101123X', 'resident_id'), '220102********123X');
  t.equal(mask('phone', '13812345678'), '138****5678');
  t.equal(mask('bank_account', '6228480402564891234'), '***************1234');
  t.equal(mask('document', 'E12345678', 'passport'), '*****5678');
  t.equal(mask('document', 'E123', 'passport'), '****');
});
