import { residentIdCheckCharacter } from './identity.js';
import type { NewHousehold, NewMember } from './people.schemas.js';

/**
 * Synthetic households for load tests and demos: valid GB 11643 numbers, unique and deterministic
 * from the seed. Member m of household h of seed s gets number n = s·1 000 003 + 4h + m, spread by a
 * bijection over 36.5 million (birth day × sequence) slots: numbers never repeat within a seed, and
 * seeds do not overlap while each loads fewer than 250 000 households.
 */
const SLOTS = 36_500_000;
const SPREAD = 15_485_863; // prime, coprime with SLOTS: n → n·SPREAD mod SLOTS is a bijection
const EPOCH = Date.UTC(1925, 0, 1);
const DAY = 86_400_000;

const surnames = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林'];
const given = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀英',
  '桂兰',
  '建华',
];

/** mulberry32: a small deterministic generator, good enough to vary synthetic data. */
function generator(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The synthetic resident ID number of slot n, born in `birthRegion` (6 digits). */
export function syntheticResidentId(birthRegion: string, n: number): string {
  const slot = Number((BigInt(n % SLOTS) * BigInt(SPREAD)) % BigInt(SLOTS));
  const birth = new Date(EPOCH + (slot % 36_500) * DAY).toISOString().slice(0, 10).replaceAll('-', '');
  const sequence = String(Math.floor(slot / 36_500)).padStart(3, '0');
  const first17 = `${birthRegion}${birth}${sequence}`;
  return first17 + residentIdCheckCharacter(first17);
}

export interface SeedOptions {
  region: string;
  seed: number;
}

/** Households `from` up to `from + count` of a seed: 1 to 4 members (2.5 on average). */
export function syntheticHouseholds({ region, seed }: SeedOptions, from: number, count: number): NewHousehold[] {
  const random = generator(seed * 7_919 + from);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const birthRegion = region.slice(0, 6);
  const out: NewHousehold[] = [];
  for (let h = from; h < from + count; h++) {
    const r = random();
    const size = r < 0.2 ? 1 : r < 0.5 ? 2 : r < 0.8 ? 3 : 4;
    const surname = pick(surnames);
    const members: NewMember[] = [];
    for (let m = 0; m < size; m++) {
      const n = seed * 1_000_003 + h * 4 + m;
      const relationship =
        m === 0 ? 'head' : m === 1 ? 'spouse' : m === 2 ? 'child' : pick(['child', 'parent'] as const);
      const member: NewMember = {
        name: `${m === 1 ? pick(surnames) : surname}${pick(given)}`,
        relationship,
        idType: 'resident_id',
        idNumber: syntheticResidentId(birthRegion, n),
      };
      if (m === 0) member.phone = `13${String(n % 1_000_000_000).padStart(9, '0')}`;
      if (m === 0 && random() < 0.6) {
        member.bankAccount = {
          bankName: '中国农业银行',
          accountNumber: `6228${String(n).padStart(15, '0')}`,
          holder: member.name,
        };
      }
      if (size === 1 && random() < 0.3)
        Object.assign(member, { livesAlone: true, scatteredExtremelyPoor: random() < 0.5 });
      if (random() < 0.05)
        Object.assign(member, { disabled: true, selfCare: pick(['partially_unable', 'unable'] as const) });
      members.push(member);
    }
    out.push({
      region,
      address: `${pick(['人民大街', '解放大路', '自由大路', '亚泰大街'])}${1 + Math.floor(random() * 2000)}号`,
      members,
    });
  }
  return out;
}
