/**
 * How a source misspells a registered name, for the synthetic city's dirty records. A typo is a
 * real mismatch (a homophone or look-alike typed by an input method: the record may not be this
 * person's); a traditional character or a full-width form is the same name written otherwise, which
 * a name check that normalises should accept.
 */

/** Homophones and look-alikes of the characters `people.seed.ts` builds names from. */
const typos: Record<string, string> = {
  王: '汪',
  李: '里',
  张: '章',
  刘: '柳',
  陈: '程',
  杨: '扬',
  赵: '照',
  黄: '皇',
  周: '舟',
  吴: '伍',
  徐: '许',
  孙: '荪',
  胡: '湖',
  朱: '诸',
  高: '郜',
  林: '琳',
  伟: '玮',
  芳: '方',
  娜: '那',
  敏: '闽',
  静: '晶',
  丽: '莉',
  强: '墙',
  磊: '雷',
  军: '君',
  洋: '阳',
  勇: '永',
  艳: '燕',
  杰: '洁',
  娟: '鹃',
  涛: '滔',
  明: '铭',
  超: '潮',
  秀: '绣',
  英: '瑛',
  桂: '贵',
  兰: '岚',
  建: '健',
  华: '化',
};

/** Simplified → traditional for the same characters (those that have a distinct traditional form). */
const traditional: Record<string, string> = {
  张: '張',
  刘: '劉',
  陈: '陳',
  杨: '楊',
  赵: '趙',
  黄: '黃',
  吴: '吳',
  孙: '孫',
  伟: '偉',
  静: '靜',
  丽: '麗',
  强: '強',
  军: '軍',
  艳: '艷',
  杰: '傑',
  涛: '濤',
  兰: '蘭',
  华: '華',
};

export type NameVariant = 'typo' | 'traditional' | 'fullwidth';

/** Whether `variant` can change `name` (a traditional form needs a character that has one). */
export function canVary(name: string, variant: NameVariant): boolean {
  return variant !== 'traditional' || [...name].some((c) => c in traditional);
}

/**
 * `name` as a source misspells it: a typo changes one character that has a look-alike (`pick`, in
 * [0, 1), chooses which); a traditional form converts every character that
 * has one; a full-width form turns ASCII letters and digits full-width and puts an ideographic space
 * (U+3000) after the surname. The result always differs from `name`.
 */
export function varyName(name: string, variant: NameVariant, pick: number): string {
  const chars = [...name];
  if (variant === 'traditional') return chars.map((c) => traditional[c] ?? c).join('');
  if (variant === 'fullwidth') {
    const wide = chars.map((c) => (/[!-~]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c));
    return [wide[0], '\u3000', ...wide.slice(1)].join('');
  }
  const positions = chars.flatMap((c, i) => (c in typos ? [i] : []));
  if (positions.length === 0) return `${name}${name.at(-1)}`; // a doubled character: still a typo
  const at = positions[Math.floor(pick * positions.length)]!;
  chars[at] = typos[chars[at]!]!;
  return chars.join('');
}
