/**
 * Resident identity numbers (公民身份号码, GB 11643-1999): six digits of the region of birth,
 * eight of the birth date (YYYYMMDD), three of sequence (odd for men, even for women) and a check
 * character computed over the first seventeen by ISO 7064 MOD 11-2 (0-9 or X).
 */

const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const checkCharacters = '10X98765432';

/** Uppercase, without spaces: the form that is checked, sealed and indexed. */
export const normaliseDocumentNumber = (value: string) => value.replace(/\s+/g, '').toUpperCase();

/** The check character of the first seventeen digits. */
export function residentIdCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i]!;
  return checkCharacters[sum % 11]!;
}

export type ResidentIdCheck =
  { valid: true; number: string; birthDate: string; sex: 'male' | 'female' } | { valid: false; reason: string };

/**
 * Checks a resident ID number and derives the birth date and sex from it. `today` (YYYY-MM-DD,
 * Asia/Shanghai) bounds the birth date. The reason never repeats the number (it may reach a log).
 */
export function checkResidentId(value: string, today: string): ResidentIdCheck {
  const number = normaliseDocumentNumber(value);
  if (number.length !== 18) {
    return { valid: false, reason: `must be 18 characters (a resident ID number), not ${number.length}` };
  }
  if (!/^\d{17}[\dX]$/.test(number)) {
    return { valid: false, reason: 'must be 17 digits followed by a digit or X' };
  }
  if (number.startsWith('0')) return { valid: false, reason: 'does not start with a region code (first six digits)' };
  const year = Number(number.slice(6, 10));
  const month = Number(number.slice(10, 12));
  const day = Number(number.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  const birthDate = `${number.slice(6, 10)}-${number.slice(10, 12)}-${number.slice(12, 14)}`;
  if (
    year < 1880 ||
    birth.getUTCFullYear() !== year ||
    birth.getUTCMonth() !== month - 1 ||
    birth.getUTCDate() !== day
  ) {
    return { valid: false, reason: `holds no valid birth date (digits 7 to 14 read ${birthDate})` };
  }
  if (birthDate > today) return { valid: false, reason: `holds a birth date in the future (${birthDate})` };
  const expected = residentIdCheckCharacter(number);
  if (number[17] !== expected) {
    return { valid: false, reason: `has a wrong check character: it should be ${expected} (GB 11643)` };
  }
  return { valid: true, number, birthDate, sex: Number(number[16]) % 2 === 1 ? 'male' : 'female' };
}
