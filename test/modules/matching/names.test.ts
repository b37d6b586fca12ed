import t from 'tap';
import { nameChecker, normaliseName, sameName } from '../../../src/modules/matching/names.js';

t.test('normalisation: width, spaces, middle dots, case, traditional characters', async (t) => {
  t.equal(normaliseName('ＪＯＨＮ　ＳＭＩＴＨ'), 'johnsmith', 'full-width letters and space');
  t.equal(normaliseName(' 张  伟 '), '张伟', 'spaces anywhere');
  for (const dot of ['·', '・', '•', '‧', '･', '.', '．']) {
    t.equal(normaliseName(`阿依古丽${dot}买买提`), '阿依古丽买买提', `middle dot ${dot}`);
  }
  t.equal(normaliseName('張偉'), '张伟', 'traditional to simplified');
  t.equal(normaliseName('歐陽麗華'), '欧阳丽华');
  t.equal(normaliseName('衞國強'), '卫国强', 'a Hong Kong form');
  t.ok(sameName('劉　德華', '刘德华'));
  t.ok(sameName('Maria GARCIA', 'maria garcia'));
  t.notOk(sameName('张伟', '张玮'), 'a homophone is another name');
  t.notOk(sameName('王静', '玉静'), 'a similar-looking character is another name');
  t.notOk(sameName('李娜', '李娜娜'));
  t.notOk(sameName('Smith', 'Smyth'));
  const same = nameChecker();
  t.ok(same('陳小明', '陈小明'));
  t.notOk(same('陳小明', '陈晓明'));
});

/** A small deterministic generator (mulberry32), so the figures below are the same every run. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

/** Characters as a mainland register writes them, and as a Hong Kong or Taiwan record may. */
const traditional: Record<string, string> = Object.fromEntries(
  [
    ...'张張刘劉陈陳杨楊黄黃赵趙吴吳孙孫马馬郑鄭冯馮韩韓许許邓鄧萧蕭叶葉罗羅钟鍾卫衛欧歐阳陽',
    ...'伟偉华華丽麗红紅军軍杰傑涛濤强強东東亚亞凤鳳鹏鵬龙龍云雲兰蘭娇嬌宝寶贵貴辉輝剑劍锋鋒',
    ...'静靜洁潔莹瑩颖穎聪聰庆慶亿億国國荣榮凯凱艳豔霞霞玲玲钢鋼丰豐书書鸿鴻燕燕婷婷琼瓊',
  ]
    .join('')
    .match(/../gu)!
    .map((pair) => [...pair] as [string, string]),
);
const surnames = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蔡蒋余叶钟卫'];
const givenChars = [...'伟华丽红军杰涛强东亚凤鹏龙云兰娇宝贵辉剑锋静洁莹颖聪庆国荣凯艳霞玲钢丰书鸿燕婷琼明芳敏秀英'];
const compoundSurnames = ['欧阳', '司马', '诸葛', '上官'];
const minorityParts = ['阿依古丽', '买买提', '艾力', '吐尔逊', '古丽娜尔', '热依拉', '努尔', '阿不都', '扎西', '卓玛'];
const latinGiven = ['John', 'Maria', 'Anna', 'David', 'Nguyen', 'Olga', 'Kim', 'Ahmed', 'Sofia', 'Pierre'];
const latinFamily = ['Smith', 'Garcia', 'Ivanova', 'Tran', 'Park', 'Hassan', 'Muller', 'Rossi', 'Dubois', 'Silva'];
/** Homophones and look-alikes: the typos of a record keyed by ear or by eye. */
const confusable = [
  '伟玮炜威',
  '静晶婧菁',
  '丽莉俐',
  '华桦骅',
  '芳方舫',
  '杰洁婕',
  '明铭鸣',
  '红虹宏',
  '涛韬',
  '强蔷',
  '艳燕雁',
  '霞侠',
  '玲琳凌',
  '军君俊',
  '国帼',
  '王玉主汪',
  '张章',
  '刘柳',
  '徐许',
  '杨阳',
  '林凌',
  '叶业',
  '己已巳',
  '未末',
  '敏民闵',
  '英莺瑛',
  '东冬栋',
  '云芸昀',
  '丽力',
  '尔儿',
  '提题',
  '娜纳',
  '玛马',
  'iy',
  'ea',
  'ou',
  'nm',
  'kc',
  'sz',
  'vw',
].map((group) => [...group]);
const mergedBySimplification: [string, string][] = [
  ['於', '于'],
  ['乾', '干'],
];

function generator(seed: number) {
  const { next, pick } = random(seed);
  const hanName = () =>
    (next() < 0.05 ? pick(compoundSurnames) : pick(surnames)) +
    Array.from({ length: next() < 0.7 ? 2 : 1 }, () => pick(givenChars)).join('');
  const minorityName = () => `${pick(minorityParts)}·${pick(minorityParts)}`;
  const latinName = () => `${pick(latinGiven)} ${pick(latinFamily)}`;
  const name = () => {
    const r = next();
    return r < 0.8 ? hanName() : r < 0.92 ? minorityName() : latinName();
  };
  const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

  /** The same name as another agency may have keyed it. */
  const variants: ((s: string) => string)[] = [
    (s) => [...s].map((c) => traditional[c] ?? c).join(''),
    (s) => [...s].join(pick([' ', '　', ''])),
    (s) => s.replace('·', pick(['・', '•', '‧', ' ', '', '.', '．', '･'])),
    (s) => (next() < 0.5 ? s.toUpperCase() : s.toLowerCase()),
    (s) => fullWidth(s),
    (s) => `${pick([' ', '　'])}${s}${pick(['', ' '])}`,
  ];
  const vary = (s: string) => {
    let out = s;
    const n = 1 + Math.floor(next() * 2);
    for (let i = 0; i < n; i++) out = pick(variants)(out);
    return out;
  };

  /** Another person's name, one realistic slip away: a letter or character changed, lost, added or swapped. */
  function slip(s: string): string {
    const chars = [...s];
    const latin = /[a-z]/i.test(s);
    const filler = latin ? [...'aeiounrstl'] : givenChars;
    const letters = chars.flatMap((c, i) => (c === ' ' || c === '·' ? [] : [i]));
    const swappable = letters.filter((i) => letters.includes(i + 1) && chars[i] !== chars[i + 1]);
    const confusables = letters.filter((i) => confusable.some((g) => g.includes(chars[i]!.toLowerCase())));
    const r = next();
    if (r < 0.5 && confusables.length > 0) {
      const i = pick(confusables);
      const c = chars[i]!.toLowerCase();
      chars[i] = pick(confusable.find((g) => g.includes(c))!.filter((x) => x !== c));
    } else if (r < 0.65 && letters.length > 2) {
      chars.splice(pick(letters.slice(1)), 1);
    } else if (r < 0.8) {
      chars.splice(pick(letters) + 1, 0, pick(filler));
    } else if (r < 0.9 && swappable.length > 0) {
      const i = pick(swappable);
      [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
    } else {
      const i = pick(letters);
      chars[i] = pick(filler.filter((g) => g !== chars[i]));
    }
    return chars.join('');
  }

  return {
    match: () => {
      const n = name();
      return [n, vary(n)] as const;
    },
    nonMatch: () => {
      if (next() < 0.005) {
        const [a, b] = pick(mergedBySimplification);
        const given = pick(givenChars);
        return [`${b}${given}`, `${a}${given}`] as const;
      }
      const n = name();
      const other = slip(n);
      return [n, next() < 0.3 ? vary(other) : other] as const;
    },
  };
}

t.test('precision and recall of the name check on 2,000 generated pairs', async (t) => {
  const generate = generator(20_200_101);
  const same = nameChecker();
  let truePositives = 0;
  let falseNegatives = 0;
  let falsePositives = 0;
  let trueNegatives = 0;
  const misses: string[] = [];
  for (let i = 0; i < 1_000; i++) {
    const [a, b] = generate.match();
    if (same(a, b)) truePositives++;
    else {
      falseNegatives++;
      misses.push(`missed ${a} | ${b}`);
    }
  }
  for (let i = 0; i < 1_000; i++) {
    const [a, b] = generate.nonMatch();
    if (same(a, b)) {
      falsePositives++;
      misses.push(`merged ${a} | ${b}`);
    } else trueNegatives++;
  }
  const precision = truePositives / (truePositives + falsePositives);
  const recall = truePositives / (truePositives + falseNegatives);
  t.comment(
    `name check: precision ${precision.toFixed(4)}, recall ${recall.toFixed(4)} ` +
      `(TP ${truePositives}, FN ${falseNegatives}, FP ${falsePositives}, TN ${trueNegatives})`,
  );
  for (const miss of misses.slice(0, 20)) t.comment(miss);
  t.ok(precision >= 0.99, `precision ${precision} ≥ 0.99`);
  t.ok(recall >= 0.99, `recall ${recall} ≥ 0.99`);
  t.equal(truePositives + falseNegatives + falsePositives + trueNegatives, 2_000);
});
