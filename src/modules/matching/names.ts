import * as OpenCC from 'opencc-js/t2cn';

/**
 * Names compared the way a caseworker would read them: the same person's name written by two
 * agencies differs in form, not in characters. Normalisation, in order:
 * 1. Unicode NFKC: full-width letters, digits and spaces become half-width (`ＺＨＡＮＧ` → `ZHANG`,
 *    the ideographic space U+3000 → ` `), compatibility forms become their ordinary character;
 * 2. traditional → simplified Chinese with OpenCC's Hong Kong then Taiwan character tables
 *    (`張偉` → `张伟`, `衞` → `卫`): a record keyed in Hong Kong or Taiwan forms still matches;
 * 3. spaces and the middle dots of minority and foreign names (`·` `・` `•` `‧` `.` …) removed:
 *    `阿依古丽·买买提` = `阿依古丽 买买提` = `阿依古丽买买提`;
 * 4. Latin letters case-folded.
 * A typo, a homophone or a different character is not forgiven: the name check only flags a
 * record for a phone check (it never refuses a household), so it prefers asking to guessing.
 * Known merge: characters whose simplified form is shared (`於`/`于`, `乾`/`干`) compare equal.
 */

/**
 * Whitespace, and the middle-dot variants used between the parts of a transliterated name,
 * including the full stop keyed in its place.
 */
const separators = /[\s.\u00B7\u0387\u2022\u2027\u2219\u22C5\u30FB\uFF65\u318D\u16EB]/gu;

let convert: ((text: string) => string) | undefined;

/** OpenCC's converters load their dictionaries once, on first use (about 0.1 s). */
function toSimplified(text: string): string {
  if (!convert) {
    const fromHongKong = OpenCC.Converter({ from: 'hk', to: 'cn' });
    const fromTaiwan = OpenCC.Converter({ from: 'tw', to: 'cn' });
    convert = (t) => fromTaiwan(fromHongKong(t));
  }
  return convert(text);
}

/** The form two names are compared in (see above). */
export function normaliseName(name: string): string {
  return toSimplified(name.normalize('NFKC')).replace(separators, '').toLowerCase();
}

/** Whether two names are the same name after normalisation. */
export function sameName(a: string, b: string): boolean {
  if (a === b) return true;
  return normaliseName(a) === normaliseName(b);
}

/** A name checker that normalises each distinct name once (a household's records repeat names). */
export function nameChecker() {
  const cache = new Map<string, string>();
  const normal = (name: string) => {
    let found = cache.get(name);
    if (found === undefined) cache.set(name, (found = normaliseName(name)));
    return found;
  };
  return (a: string, b: string) => a === b || normal(a) === normal(b);
}
