import { eq, sql } from 'drizzle-orm';
import t from 'tap';
import {
  matchingRecords,
  matchingSnapshots,
  matchingSources,
  type SourceKind,
} from '../../../src/modules/matching/tables.js';
import { rows } from '../../../src/db/client.js';
import { json, onPostgres, testApp, type TestClient } from '../../helpers.js';
import { residentId } from '../registry/people.fixtures.js';
import { VerificationSchema } from '../../../src/modules/matching/verify.schemas.js';

interface SourceRef {
  sourceId: string;
  kind: string;
  snapshotId: string;
  line: number;
  ref: string | null;
  personId: string;
}
interface Rule {
  rule: string;
  outcome: 'pass' | 'fail' | 'flag';
  figures: Record<string, unknown>;
  detail: string;
  sources: SourceRef[];
}
interface Verification {
  id: string;
  householdId: string;
  applicationId: string | null;
  program: string;
  region: string;
  date: string;
  passed: boolean;
  members: number;
  monthlyIncomeFen: number;
  financialAssetsFen: number;
  rules: Rule[];
  flags: Rule[];
  snapshots: Record<string, string>;
  createdBy: string;
}
interface ProblemBody {
  status: number;
  detail: string;
  currentState?: string;
  errors?: { in: string; pointer: string; detail: string }[];
}
interface SourceRecord {
  idNumber: string;
  name: string;
  amountFen?: number;
  eventDate?: string;
  ref?: string;
  attrs?: Record<string, string>;
}

const kinds: SourceKind[] = [
  'income',
  'pension',
  'housing_fund',
  'real_estate',
  'vehicle',
  'deposits',
  'business',
  'death',
];

t.test('verification of one household', async (t) => {
  const { app, admin, client } = await testApp(t);
  const db = app.database.db;
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const outsider = await client('civil_affairs', { jurisdiction: '220103' });
  const provider = await client('data_provider');

  const standard = await app.inject({
    method: 'POST',
    url: '/v1/programs/dibao/standards',
    headers: admin.headers,
    payload: {
      region: '2201',
      effectiveFrom: '2020-01-01',
      monthlyStandardFen: 80_000,
      assetMultiple: 24,
      propertyLimit: 1,
      vehicleValueLimitFen: 5_000_000,
      businessCapitalLimitFen: 0,
    },
  });
  t.equal(standard.statusCode, 201, standard.body);
  const standardId = json<{ id: string }>(standard).id;

  // One source per kind, each loaded as whole snapshots (the loader's job, done by hand here).
  const sources = new Map<SourceKind, string>();
  for (const kind of kinds) {
    const [source] = await db
      .insert(matchingSources)
      .values({ kind, name: `Test ${kind}`, providerClientId: provider.id, region: '2201' })
      .returning();
    sources.set(kind, source!.id);
  }
  const held = new Map<SourceKind, SourceRecord[]>(kinds.map((k) => [k, []]));
  let uploads = 0;
  /** Loads a new snapshot of the kind holding `records` and makes it current; answers its id. */
  async function load(kind: SourceKind, records: SourceRecord[]) {
    const sourceId = sources.get(kind)!;
    uploads += 1;
    const [snapshot] = await db
      .insert(matchingSnapshots)
      .values({ sourceId, status: 'loading', format: 'ndjson', uploadKey: `upload-${uploads}`, lines: records.length })
      .returning();
    if (records.length > 0) {
      await db.insert(matchingRecords).values(
        records.map((r, i) => ({
          snapshotId: snapshot!.id,
          line: i + 1,
          idIndex: app.services.pii.index('document', r.idNumber),
          name: r.name,
          amountFen: r.amountFen ?? null,
          eventDate: r.eventDate ?? null,
          ref: r.ref ?? null,
          attrs: r.attrs ?? null,
        })),
      );
    }
    await db.transaction(async (tx) => {
      await tx
        .update(matchingSnapshots)
        .set({ status: 'superseded', supersededAt: sql`now()` })
        .where(sql`${matchingSnapshots.sourceId} = ${sourceId} and ${matchingSnapshots.status} = 'complete'`);
      await tx
        .update(matchingSnapshots)
        .set({ status: 'complete', completedAt: sql`now()`, records: records.length })
        .where(eq(matchingSnapshots.id, snapshot!.id));
      await tx.update(matchingSources).set({ currentSnapshotId: snapshot!.id }).where(eq(matchingSources.id, sourceId));
    });
    return snapshot!.id;
  }
  /** Adds records to what the kind's source holds and loads the whole of it again. */
  const add = async (kind: SourceKind, records: SourceRecord[]) => {
    held.get(kind)!.push(...records);
    return load(kind, held.get(kind)!);
  };
  for (const kind of kinds) await load(kind, []);

  let sequence = 0;
  /** A household registered through the registry API: members get real blind indexes. */
  async function household(names: string[], region = '220102', who: TestClient = caseworker) {
    const members = names.map((name, i) => {
      sequence += 1;
      return {
        name,
        relationship: i === 0 ? 'head' : 'child',
        idType: 'resident_id',
        idNumber: residentId(
          '220102',
          `19${String(50 + (sequence % 40))}0101`,
          String(100 + sequence).padStart(3, '0'),
        ),
      };
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/households',
      headers: who.headers,
      payload: { region, members },
    });
    if (res.statusCode !== 201) throw new Error(`household: ${res.body}`);
    const body = json<{ id: string; members: { id: string }[] }>(res);
    return { id: body.id, members: members.map((m, i) => ({ ...m, personId: body.members[i]!.id })) };
  }
  const verify = (body: Record<string, unknown>, who: TestClient = caseworker) =>
    app.inject({ method: 'POST', url: '/v1/matching/verifications', headers: who.headers, payload: body });
  const verified = async (householdId: string, extra: Record<string, unknown> = {}) => {
    const res = await verify({ householdId, program: 'dibao', ...extra });
    if (res.statusCode !== 201) throw new Error(`verify answered ${res.statusCode}: ${res.body}`);
    return json<Verification>(res);
  };
  const ruleOf = (v: Verification, name: string) => v.rules.find((r) => r.rule === name)!;
  const failed = (v: Verification) => v.rules.filter((r) => r.outcome === 'fail').map((r) => r.rule);

  t.test('income: just under the standard passes, at the standard fails, with figures and sources', async (t) => {
    const under = await household(['收入甲', '收入乙']);
    const at = await household(['收入丙', '收入丁']);
    const [a, b] = under.members;
    const [c, d] = at.members;
    const incomeSnapshot = await add('income', [
      { idNumber: a!.idNumber, name: a!.name, amountFen: 100_000, ref: 'W-1' },
      { idNumber: c!.idNumber, name: c!.name, amountFen: 100_000 },
    ]);
    await add('pension', [
      { idNumber: b!.idNumber, name: b!.name, amountFen: 59_998, ref: 'P-1' },
      { idNumber: d!.idNumber, name: d!.name, amountFen: 60_000 },
    ]);
    await add('housing_fund', [{ idNumber: a!.idNumber, name: a!.name, amountFen: 30_000 }]);

    const pass = await verified(under.id);
    t.match(pass, { householdId: under.id, program: 'dibao', region: '220102', passed: true, members: 2 });
    t.equal(pass.monthlyIncomeFen, 159_998, 'wages and pensions; the housing fund is not income');
    const income = ruleOf(pass, 'per_capita_income_below_standard');
    t.match(income, {
      outcome: 'pass',
      figures: {
        monthlyIncomeFen: 159_998,
        householdSize: 2,
        perCapitaIncomeFen: 79_999,
        monthlyStandardFen: 80_000,
        standardId,
        housingFundFen: 30_000,
      },
      detail: /799\.99 yuan .* below the standard of 800\.00 yuan/,
    });
    t.same(
      income.sources.map((s) => [s.kind, s.ref, s.personId, s.line]),
      [
        ['income', 'W-1', a!.personId, 1],
        ['pension', 'P-1', b!.personId, 1],
      ],
    );
    t.equal(income.sources[0]!.snapshotId, incomeSnapshot);
    t.equal(income.sources[0]!.sourceId, sources.get('income'));
    t.equal(pass.snapshots[sources.get('income')!], incomeSnapshot, 'the snapshot of every source read');
    t.equal(Object.keys(pass.snapshots).length, kinds.length);
    t.same(
      pass.rules.map((r) => r.rule),
      [
        'members_alive',
        'per_capita_income_below_standard',
        'financial_assets_within_limit',
        'property_within_limit',
        'vehicle_within_limit',
        'no_registered_business',
      ],
    );

    const fail = await verified(at.id);
    t.equal(fail.passed, false);
    t.same(failed(fail), ['per_capita_income_below_standard']);
    t.match(ruleOf(fail, 'per_capita_income_below_standard').figures, { perCapitaIncomeFen: 80_000 });
  });

  t.test('financial assets: at the limit passes, a fen over fails', async (t) => {
    const within = await household(['存款甲']);
    const over = await household(['存款乙']);
    await add('deposits', [
      { idNumber: within.members[0]!.idNumber, name: '存款甲', amountFen: 1_000_000 },
      { idNumber: within.members[0]!.idNumber, name: '存款甲', amountFen: 920_000 },
      { idNumber: over.members[0]!.idNumber, name: '存款乙', amountFen: 1_920_001 },
    ]);
    const pass = await verified(within.id);
    t.match(ruleOf(pass, 'financial_assets_within_limit'), {
      outcome: 'pass',
      figures: { financialAssetsFen: 1_920_000, limitFen: 1_920_000, assetMultiple: 24, householdSize: 1 },
    });
    t.equal(ruleOf(pass, 'financial_assets_within_limit').sources.length, 2);
    t.equal(pass.financialAssetsFen, 1_920_000);
    const fail = await verified(over.id);
    t.same(failed(fail), ['financial_assets_within_limit']);
    t.match(ruleOf(fail, 'financial_assets_within_limit').detail, /over the limit of 19,200\.00 yuan/);
  });

  t.test('property: one residential home (and a shop) passes, two homes fail', async (t) => {
    const one = await household(['房产甲']);
    const two = await household(['房产乙', '房产丙']);
    const [p] = one.members;
    const [q, r] = two.members;
    await add('real_estate', [
      { idNumber: p!.idNumber, name: p!.name, amountFen: 50_000_000, attrs: { use: 'residential' } },
      { idNumber: p!.idNumber, name: p!.name, amountFen: 20_000_000, attrs: { use: 'commercial' } },
      { idNumber: q!.idNumber, name: q!.name, amountFen: 40_000_000, attrs: { use: 'residential' } },
      { idNumber: r!.idNumber, name: r!.name, amountFen: 30_000_000, attrs: { use: 'residential' }, ref: 'RE-9' },
    ]);
    const pass = await verified(one.id);
    t.match(ruleOf(pass, 'property_within_limit'), {
      outcome: 'pass',
      figures: { residentialProperties: 1, residentialValueFen: 50_000_000, otherProperties: 1, limit: 1 },
    });
    const fail = await verified(two.id);
    t.same(failed(fail), ['property_within_limit']);
    const rule = ruleOf(fail, 'property_within_limit');
    t.match(rule.figures, { residentialProperties: 2, residentialValueFen: 70_000_000 });
    t.same(rule.sources.map((s) => s.personId).sort(), [q!.personId, r!.personId].sort());
  });

  t.test('vehicles: worth the limit passes, a fen more fails', async (t) => {
    const cheap = await household(['车辆甲']);
    const dear = await household(['车辆乙']);
    await add('vehicle', [
      { idNumber: cheap.members[0]!.idNumber, name: '车辆甲', amountFen: 5_000_000, attrs: { plate: '吉A12345' } },
      { idNumber: dear.members[0]!.idNumber, name: '车辆乙', amountFen: 5_000_001, attrs: { plate: '吉A54321' } },
      { idNumber: dear.members[0]!.idNumber, name: '车辆乙', amountFen: 100_000, attrs: { plate: '吉A00001' } },
    ]);
    t.match(ruleOf(await verified(cheap.id), 'vehicle_within_limit'), {
      outcome: 'pass',
      figures: { vehicles: 1, maxValueFen: 5_000_000, limitFen: 5_000_000 },
    });
    const fail = await verified(dear.id);
    t.same(failed(fail), ['vehicle_within_limit']);
    const rule = ruleOf(fail, 'vehicle_within_limit');
    t.match(rule.figures, { vehicles: 2, maxValueFen: 5_000_001 });
    t.equal(rule.sources.length, 1, 'the vehicle over the limit is the one named');
  });

  t.test('registered business: none allowed by the standard; a deregistered one does not count', async (t) => {
    const closed = await household(['经营甲']);
    const active = await household(['经营乙']);
    await add('business', [
      { idNumber: closed.members[0]!.idNumber, name: '经营甲', amountFen: 0, attrs: { status: 'deregistered' } },
      { idNumber: active.members[0]!.idNumber, name: '经营乙', amountFen: 0, attrs: { status: 'active' }, ref: 'B-7' },
    ]);
    t.match(ruleOf(await verified(closed.id), 'no_registered_business'), {
      outcome: 'pass',
      figures: { businesses: 0, inactiveBusinesses: 1 },
    });
    const fail = await verified(active.id);
    t.same(failed(fail), ['no_registered_business']);
    t.match(ruleOf(fail, 'no_registered_business'), { figures: { businesses: 1 }, sources: [{ ref: 'B-7' }] });
  });

  t.test('a record under another name is flagged for a phone check, not held against the household', async (t) => {
    const h = await household(['张伟', '欧阳丽华']);
    const [zhang, ouyang] = h.members;
    await add('income', [
      { idNumber: zhang!.idNumber, name: '张玮', amountFen: 900_000, ref: 'W-WRONG' },
      { idNumber: ouyang!.idNumber, name: '歐陽 麗華', amountFen: 50_000, ref: 'W-TRAD' },
    ]);
    const v = await verified(h.id);
    t.equal(v.passed, true, 'the mismatched income does not refuse the household');
    t.equal(v.monthlyIncomeFen, 50_000, 'the traditional-character record counts, the mismatched one does not');
    t.equal(v.flags.length, 1);
    t.match(v.flags[0], {
      rule: 'name_mismatch',
      outcome: 'flag',
      figures: { personId: zhang!.personId, recordName: '张玮', memberName: '张伟' },
      detail: /check by phone/,
      sources: [{ ref: 'W-WRONG', personId: zhang!.personId, kind: 'income' }],
    });
  });

  t.test('a member recorded dead no longer counts in the household: flagged, not refused', async (t) => {
    const h = await household(['死亡甲', '死亡乙']);
    const [gone, alive] = h.members;
    await add('pension', [{ idNumber: gone!.idNumber, name: gone!.name, amountFen: 200_000 }]);
    await add('deposits', [{ idNumber: gone!.idNumber, name: gone!.name, amountFen: 100_000 }]);
    await add('death', [{ idNumber: gone!.idNumber, name: gone!.name, eventDate: '2025-01-10' }]);
    const v = await verified(h.id);
    t.equal(v.members, 1);
    t.equal(v.passed, true);
    t.match(ruleOf(v, 'members_alive'), {
      outcome: 'flag',
      figures: { membersRegistered: 2, membersDeceased: 1, membersCounted: 1 },
    });
    t.equal(v.monthlyIncomeFen, 0, 'a pension stops at death');
    t.equal(v.financialAssetsFen, 100_000, 'deposits pass to the household');
    const before = await verified(h.id, { date: '2025-01-09' });
    t.equal(before.members, 2, 'the day before the death, both count');
    t.equal(ruleOf(before, 'members_alive').outcome, 'pass');
    await add('death', [{ idNumber: alive!.idNumber, name: alive!.name, eventDate: '2025-02-01' }]);
    const none = await verified(h.id);
    t.same(failed(none), ['members_alive'], 'nobody left to assist');
  });

  t.test('each verification names the snapshot it read and sees one whole snapshot', async (t) => {
    const h = await household(['快照甲']);
    const person = h.members[0]!;
    const others = [...held.get('income')!];
    /** Snapshot k holds two lines for the person, 1,000·k fen each: a whole snapshot sums to 2,000·k. */
    const snapshotK = new Map<string, number>();
    const swap = async (k: number) => {
      const id = await load('income', [
        ...others,
        { idNumber: person.idNumber, name: person.name, amountFen: 1_000 * k },
        { idNumber: person.idNumber, name: person.name, amountFen: 1_000 * k },
      ]);
      snapshotK.set(id, k);
      return id;
    };
    const first = await swap(1);
    const v1 = await verified(h.id);
    const second = await swap(2);
    const v2 = await verified(h.id);
    t.equal(v1.snapshots[sources.get('income')!], first);
    t.equal(v2.snapshots[sources.get('income')!], second);
    t.equal(v1.monthlyIncomeFen, 2_000);
    t.equal(v2.monthlyIncomeFen, 4_000);
    const reread = json<Verification>(
      await app.inject({ url: `/v1/matching/verifications/${v1.id}`, headers: caseworker.headers }),
    );
    t.equal(reread.snapshots[sources.get('income')!], first, 'a stored result keeps the snapshot it read');

    // Verifications run while the source is replaced six times (truly concurrent on PostgreSQL).
    let swapping = true;
    const swaps = (async () => {
      for (const k of [3, 4, 5, 6, 7, 8]) await swap(k);
      swapping = false;
    })();
    const worker = async () => {
      const mine: Verification[] = [];
      while (swapping) mine.push(await verified(h.id));
      return mine;
    };
    const seen = (await Promise.all([worker(), worker(), worker(), worker(), swaps.then(() => [])])).flat();
    seen.push(await verified(h.id));
    for (const v of seen) {
      const k = snapshotK.get(v.snapshots[sources.get('income')!]!);
      if (!k || v.monthlyIncomeFen !== 2_000 * k) t.fail(`saw ${v.monthlyIncomeFen} under snapshot ${k}`);
      const income = ruleOf(v, 'per_capita_income_below_standard');
      if (!income.sources.every((s) => s.snapshotId === v.snapshots[s.sourceId]))
        t.fail('a source of another snapshot');
    }
    const distinct = new Set(seen.map((v) => v.monthlyIncomeFen));
    // PGlite has one connection: only PostgreSQL really runs them side by side.
    if (onPostgres) t.ok(distinct.size >= 2, `${seen.length} verifications saw ${distinct.size} snapshots, each whole`);
    t.equal(seen.at(-1)!.monthlyIncomeFen, 16_000, 'the last one sees the last snapshot');
  });

  t.test('verification answers an application: verifying → verified, once', async (t) => {
    const h = await household(['申请甲', '申请乙']);
    const other = await household(['申请丙']);
    const submitted = await app.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: caseworker.headers,
      payload: { program: 'dibao', householdId: h.id },
    });
    t.equal(submitted.statusCode, 201, submitted.body);
    const applicationId = json<{ id: string; status: string }>(submitted).id;

    const wrong = await verify({ householdId: other.id, program: 'dibao', applicationId });
    t.equal(wrong.statusCode, 400);
    t.match(json<ProblemBody>(wrong).errors, [{ pointer: '/applicationId' }]);
    const wrongProgram = await verify({ householdId: h.id, program: 'tekun', applicationId });
    t.match(json<ProblemBody>(wrongProgram).errors, [{ pointer: '/program' }]);

    const v = await verified(h.id, { applicationId });
    t.equal(v.applicationId, applicationId);
    const application = json<{
      status: string;
      verification: { source: string; passed: boolean; monthlyIncomeFen: number; rules: { rule: string }[] };
    }>(await app.inject({ url: `/v1/applications/${applicationId}`, headers: caseworker.headers }));
    t.equal(application.status, 'verified');
    t.match(application.verification, { source: 'matching', passed: true, monthlyIncomeFen: 0 });
    t.ok(application.verification.rules.some((r) => r.rule === 'per_capita_income_below_standard'));

    const again = await verify({ householdId: h.id, program: 'dibao', applicationId });
    t.equal(again.statusCode, 409);
    t.equal(json<ProblemBody>(again).currentState, 'verified');
    const missing = await verify({ householdId: h.id, program: 'dibao', applicationId: crypto.randomUUID() });
    t.equal(missing.statusCode, 404);
  });

  t.test('jurisdiction, scopes, bad bodies and missing standards', async (t) => {
    const h = await household(['辖区甲']);
    const count = async () =>
      (await rows<{ n: number }>(db, sql`select count(*)::int as n from matching_verifications`))[0]!.n;
    const before = await count();
    t.equal((await verify({ householdId: h.id, program: 'dibao' }, outsider)).statusCode, 404, 'another district');
    t.equal((await verify({ householdId: crypto.randomUUID(), program: 'dibao' })).statusCode, 404);
    const finance = await client('finance');
    t.equal((await verify({ householdId: h.id, program: 'dibao' }, finance)).statusCode, 403);

    const bad = await verify({ householdId: 'nope', program: 'welfare', date: '2026-02-30', extra: 1 });
    t.equal(bad.statusCode, 400);
    const pointers = json<ProblemBody>(bad).errors!.map((e) => e.pointer);
    for (const p of ['/householdId', '/program', '/date']) t.ok(pointers.includes(p), `names ${p}`);

    const early = await verify({ householdId: h.id, program: 'dibao', date: '2019-12-31' });
    t.equal(early.statusCode, 422, 'no standard in force that day');
    t.match(json<ProblemBody>(early).detail, /No dibao standard is in force for region 220102 on 2019-12-31/);
    t.equal((await verify({ householdId: h.id, program: 'tekun' })).statusCode, 422, 'no tekun standard at all');
    t.equal(await count(), before, 'nothing was written');

    const subsidy = await verified(h.id, { program: 'price_subsidy' });
    t.match(subsidy, { program: 'price_subsidy', passed: true });
    t.equal(ruleOf(subsidy, 'per_capita_income_below_standard').figures.standardId, standardId, 'the dibao standard');

    const v = await verified(h.id);
    t.equal(
      (await app.inject({ url: `/v1/matching/verifications/${v.id}`, headers: outsider.headers })).statusCode,
      404,
    );
    const list = (query: string, who: TestClient = caseworker) =>
      app.inject({ url: `/v1/matching/verifications?${query}`, headers: who.headers });
    const mine = json<{ items: Verification[]; nextCursor: string | null }>(await list(`householdId=${h.id}&limit=1`));
    t.same(
      mine.items.map((i) => i.id),
      [v.id],
      'newest first',
    );
    const next = json<{ items: Verification[] }>(await list(`householdId=${h.id}&cursor=${mine.nextCursor}`));
    t.same(
      next.items.map((i) => i.id),
      [subsidy.id],
    );
    t.same(json<{ items: Verification[] }>(await list(`householdId=${h.id}`, outsider)).items, []);
    t.equal((await list('cursor=bad')).statusCode, 400);
  });

  t.test('the answer is what was stored, in the documented shape, with its audit row and event', async (t) => {
    const h = await household(['存档甲', '存档乙']);
    await add('income', [{ idNumber: h.members[0]!.idNumber, name: '存档甲', amountFen: 30_000, ref: 'w-1' }]);
    await add('deposits', [{ idNumber: h.members[1]!.idNumber, name: '存档丙', amountFen: 1_000 }]);
    const res = await verify({ householdId: h.id, program: 'dibao' });
    t.equal(res.statusCode, 201, res.body);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    // The route writes its answer without validating it again: the schema is checked here.
    const parsed = VerificationSchema.safeParse(json<unknown>(res));
    t.ok(parsed.success, parsed.error?.message ?? 'matches VerificationSchema');
    const answer = json<Verification & { createdAt: string }>(res);
    t.equal(answer.flags.length, 1, 'the deposit under another name is flagged');
    const stored = json<Verification & { createdAt: string }>(
      await app.inject({ url: `/v1/matching/verifications/${answer.id}`, headers: caseworker.headers }),
    );
    t.same(stored, answer, 'reading it back gives the answer');
    t.equal(res.headers.location, `/v1/matching/verifications/${answer.id}`);

    const [audit] = await rows<{
      resource_ids: string[];
      person_ids: string[];
      client_id: string;
      agency: string;
      outcome: string;
      detail: unknown;
    }>(
      db,
      sql`select resource_ids, person_ids, client_id, agency, outcome, detail from audit_events
          where operation = 'verifyHousehold' and resource_ids[1] = ${answer.id}`,
    );
    t.match(audit, {
      resource_ids: [answer.id, h.id],
      client_id: caseworker.id,
      agency: 'civil_affairs',
      outcome: 'success',
      detail: { program: 'dibao', asOf: answer.date, passed: answer.passed },
    });
    t.same([...audit!.person_ids].sort(), h.members.map((m) => m.personId).sort(), 'the members read');
    const [event] = await rows<{ subject_seq: number; region: string; scope: string }>(
      db,
      sql`select subject_seq, region, scope from events where subject = ${`matching_verification/${answer.id}`}`,
    );
    t.same(event, { subject_seq: 1, region: '220102', scope: 'matching:verify' });

    // Ids are made in time order (UUID version 7): each verification lands at the end of its indexes.
    t.match(answer.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const later = await verified(h.id);
    t.ok(later.id > answer.id, 'a later verification sorts after');
  });

  // How they are grouped depends on timing: test/platform/group-commit.test.ts shows the grouping.
  t.test('verifications answered at the same time are stored together, each whole', async (t) => {
    const homes = [];
    for (let i = 0; i < 12; i++) homes.push(await household([`同时${i}甲`, `同时${i}乙`]));
    const answers = await Promise.all(homes.map((h) => verify({ householdId: h.id, program: 'dibao' })));
    t.same(
      answers.map((a) => a.statusCode),
      homes.map(() => 201),
    );
    const ids = answers.map((a) => json<Verification>(a).id);
    for (const [i, id] of ids.entries()) {
      const back = await app.inject({ url: `/v1/matching/verifications/${id}`, headers: caseworker.headers });
      t.same(json(back), json(answers[i]!), `verification ${i} reads back as answered`);
    }
    const [stored] = await rows<{ events: number; audits: number }>(
      db,
      sql`select
            (select count(*)::int from events
             where subject = any(${sql.param(ids.map((id) => `matching_verification/${id}`))}::text[]) and subject_seq = 1) as events,
            (select count(*)::int from audit_events
             where operation = 'verifyHousehold' and resource_ids[1] = any(${sql.param(ids)}::text[])) as audits`,
    );
    t.equal(stored!.events, 12, 'each with its event');
    t.equal(stored!.audits, 12, 'each with its audit row');
  });

  t.test('a verification refused leaves no result, event or audit row', async (t) => {
    const h = await household(['拒绝甲']);
    const count = async () =>
      (
        await rows<{ n: number }>(
          db,
          sql`select (select count(*) from matching_verifications)
                   + (select count(*) from events where type = 'matching_verification.completed')
                   + (select count(*) from audit_events where operation = 'verifyHousehold') as n`,
        )
      )[0]!.n;
    const before = Number(await count());
    t.equal((await verify({ householdId: h.id, program: 'dibao', date: '2019-12-31' })).statusCode, 422);
    t.equal((await verify({ householdId: crypto.randomUUID(), program: 'dibao' })).statusCode, 404);
    t.equal(Number(await count()), before);
  });

  t.test('matching_verification.completed: ids and outcome, no names or ID numbers', async (t) => {
    const h = await household(['事件甲']);
    await add('deposits', [{ idNumber: h.members[0]!.idNumber, name: '事件甲', amountFen: 99_000_000 }]);
    const v = await verified(h.id);
    await app.services.events.sequence();
    const feed = json<{ items: { subject: string; region: string; data: Record<string, unknown> }[] }>(
      await app.inject({
        url: '/v1/events?after=0&types=matching_verification.completed&limit=500',
        headers: caseworker.headers,
      }),
    ).items;
    const event = feed.find((e) => e.data.verificationId === v.id);
    t.match(event, {
      subject: `matching_verification/${v.id}`,
      region: '220102',
      data: { householdId: h.id, program: 'dibao', passed: false, failedRules: ['financial_assets_within_limit'] },
    });
    const text = JSON.stringify(feed);
    t.notOk(text.includes('事件甲') || text.includes(h.members[0]!.idNumber), 'no name, no ID number');
    t.same(
      json<{ items: unknown[] }>(
        await app.inject({
          url: '/v1/events?after=0&types=matching_verification.completed',
          headers: outsider.headers,
        }),
      ).items,
      [],
      'another district does not see it',
    );
  });
});
