import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { type CityOptions, syntheticCity } from '../../../src/modules/matching/synthetic.js';
import { sourceLines } from '../../../src/modules/matching/synthetic.lines.js';
import { type SourceKind, sourceKinds } from '../../../src/modules/matching/tables.js';
import { json, testApp } from '../../helpers.js';
import { createSource, upload } from './sources.fixtures.js';

interface Rule {
  rule: string;
  outcome: string;
  figures: Record<string, unknown>;
  detail: string;
  sources: unknown[];
}
interface Stored {
  id: string;
  householdId: string;
  program: string;
  passed: boolean;
  members: number;
  monthlyIncomeFen: number;
  financialAssetsFen: number;
  rules: Rule[];
  flags: Rule[];
  snapshots: Record<string, string>;
}
interface Run {
  id: string;
  status: string;
  counts: { households: number; failing: number; deceasedPaid: number; dataErrors: number };
  job: { id: string; status: string; progress: { done: number; total: number | null } } | null;
}
interface Result {
  householdId: string;
  failing: boolean;
  deceasedPaid: boolean;
  dataErrors: number;
  verifications: { id: string; program: string; passed: boolean; failedRules: Rule[]; flags: Rule[] }[];
  enrollments: { id: string; program: string }[];
}

const asOf = '2026-01-01';
const city: CityOptions = { region: '220102', seed: 21, households: 90 };
const limits = { monthlyStandardFen: 72_000, assetMultiple: 24, propertyLimit: 1, vehicleValueLimitFen: 10_000_000 };

t.test('a run re-verifies every enrolled household as the single verification does', async (t) => {
  const { app, admin, client } = await testApp(t);
  const db = app.database.db;
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const outsider = await client('civil_affairs', { jurisdiction: '220103' });
  const provider = await client('data_provider');
  for (const [program, extra] of [
    ['dibao', {}],
    ['tekun', { careAllowances: { ableFen: 10_000, partiallyUnableFen: 20_000, unableFen: 30_000 } }],
  ] as const) {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/programs/${program}/standards`,
      headers: admin.headers,
      payload: { region: '2201', effectiveFrom: '2020-01-01', businessCapitalLimitFen: 0, ...limits, ...extra },
    });
    t.equal(res.statusCode, 201, res.body);
  }

  // The city: households into the registry, enrollments set-based, records through the loader.
  const households = [...syntheticCity(city)];
  const created = await app.services.people.registerHouseholdsBulk(
    { jurisdiction: '220102', scopes: [] },
    { clientId: null, agency: null, requestId: 'test' },
    households.map((h) => h.household),
  );
  const ids = created.households.map((h) => h.id);
  const heads = created.households.map((h) => h.memberIds[0]!);
  // Every household on dibao but every 10th (ended); every 3rd on the price subsidy; every 4th head on tekun.
  await db.execute(sql`
    insert into enrollments (program_code, household_id, person_id, region, status, monthly_benefit_fen, benefit_basis,
                             start_date, end_date)
    select p.program, h.id, case when p.program = 'tekun' then h.head end, '220102',
           case when p.program = 'dibao' and h.n % 10 = 0 then 'ended' when h.n % 7 = 0 then 'suspended' else 'active' end,
           50000, '{}', '2025-01-01', case when p.program = 'dibao' and h.n % 10 = 0 then '2025-06-01'::date end
    from unnest(${sql.param(ids)}::uuid[], ${sql.param(heads)}::uuid[]) with ordinality as h(id, head, n)
    cross join (values ('dibao'), ('price_subsidy'), ('tekun')) as p(program)
    where p.program = 'dibao' or (p.program = 'price_subsidy' and h.n % 3 = 0) or (p.program = 'tekun' and h.n % 4 = 0)`);
  const enrolled = (i: number) => {
    const n = i + 1;
    const programs = n % 10 === 0 ? [] : ['dibao'];
    if (n % 3 === 0) programs.push('price_subsidy');
    if (n % 4 === 0) programs.push('tekun');
    return programs;
  };
  const sources = new Map<SourceKind, string>();
  for (const kind of sourceKinds) {
    const sourceId = await createSource(app, admin, provider, kind);
    sources.set(kind, sourceId);
    const res = await upload(app, provider, sourceId, 'first', [...sourceLines(city, kind, 'ndjson')].join(''));
    t.equal(res.statusCode, 201, `${kind} loaded: ${res.body.slice(0, 200)}`);
  }

  // What the run should find, from the generator's truth.
  const dead = new Set(households.flatMap((h) => h.records.filter((r) => r.kind === 'death').map((r) => r.idNumber)));
  const expected = { households: 0, failing: 0, deceasedPaid: 0, dataErrors: 0, skipped: 0 };
  households.forEach((h, i) => {
    const programs = enrolled(i);
    if (programs.length === 0) return;
    expected.households++;
    if (!h.truth.passes) expected.failing++;
    if (h.truth.dirty?.variant === 'typo') expected.dataErrors++;
    // The head is the household programs' recipient (and the only member of a household of one) and
    // the person enrolled in tekun: a dead head is a dead recipient; another member's death is not.
    if (dead.has(h.household.members[0]!.idNumber)) expected.deceasedPaid++;
  });
  t.ok(expected.failing > 0 && expected.dataErrors > 0 && expected.deceasedPaid > 0, JSON.stringify(expected));

  // 400, 403: nothing written.
  const start = (who: { headers: Record<string, string> }, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/matching/runs', headers: who.headers, payload });
  const bad = await start(caseworker, { region: '220103', program: 'pension', asOf: '2026-13-01', extra: 1 });
  t.equal(bad.statusCode, 400);
  t.same(
    json<{ errors: { pointer: string }[] }>(bad)
      .errors.map((e) => e.pointer)
      .sort(),
    ['/asOf', '/extra', '/program'],
  );
  const outside = await start(caseworker, { region: '220103' });
  t.equal(outside.statusCode, 400);
  t.match(json(outside), { errors: [{ pointer: '/region', detail: /jurisdiction/ }] });
  t.equal((await start(caseworker, { region: '229999' })).statusCode, 400, 'an unknown region');
  t.equal((await start(provider, { region: '2201' })).statusCode, 403);
  const count = async () => (await rows<{ n: number }>(db, sql`select count(*)::int as n from matching_runs`))[0]!.n;
  t.equal(await count(), 0, 'nothing written');

  // The run.
  const started = await start(caseworker, { region: '220102', asOf });
  t.equal(started.statusCode, 202, started.body);
  const queued = json<Run>(started);
  t.equal(started.headers.location, `/v1/jobs/${queued.job!.id}`);
  t.match(queued, { status: 'queued', job: { status: 'queued' } });
  t.equal(await app.services.jobs.drain(), 1);
  const done = json<Run>(
    await app.inject({ method: 'GET', url: `/v1/matching/runs/${queued.id}`, headers: caseworker.headers }),
  );
  t.equal(done.status, 'complete');
  t.same(done.counts, expected, 'counts are the truth');
  t.match(done.job, { status: 'succeeded', progress: { done: expected.households, total: expected.households } });
  const job = json<{ progress: { done: number } }>(
    await app.inject({ method: 'GET', url: done.job ? `/v1/jobs/${done.job.id}` : '', headers: caseworker.headers }),
  );
  t.equal(job.progress.done, expected.households, 'the job is the caller’s to poll');
  const published = await rows<{ data: Record<string, unknown> }>(
    db,
    sql`select data from events where type = 'matching_run.completed'`,
  );
  t.match(published, [{ data: { runId: done.id, ...expected } }]);

  // Every household, every program: the same outcomes, figures, sentences and flags as the single verification.
  const stored = await rows<Stored>(
    db,
    sql`select id, household_id as "householdId", program, passed, members, monthly_income_fen::float8 as "monthlyIncomeFen",
               financial_assets_fen::float8 as "financialAssetsFen", rules, flags, snapshots
        from matching_verifications where run_id = ${done.id}`,
  );
  const problems: string[] = [];
  let compared = 0;
  for (const [i, id] of ids.entries()) {
    for (const program of enrolled(i)) {
      const ran = stored.find((v) => v.householdId === id && v.program === program);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/matching/verifications',
        headers: caseworker.headers,
        payload: { householdId: id, program, date: asOf },
      });
      const single = json<Stored>(res);
      if (!ran) {
        problems.push(`household ${i} ${program}: not verified by the run`);
        continue;
      }
      compared++;
      const at = `household ${i} ${program}`;
      for (const key of ['passed', 'members', 'monthlyIncomeFen', 'financialAssetsFen', 'snapshots'] as const) {
        if (JSON.stringify(ran[key]) !== JSON.stringify(single[key])) problems.push(`${at}: ${key}`);
      }
      single.rules.forEach((rule, r) => {
        const other = ran.rules[r]!;
        const { sources, ...rest } = rule;
        const { sources: ranSources, ...ranRest } = other;
        t.same(ranRest, rest, `${at}: ${rule.rule}`);
        t.same(ranSources, rule.outcome === 'pass' ? [] : sources, `${at}: ${rule.rule} sources`);
      });
      t.same(
        ran.flags.filter((f) => f.rule === 'name_mismatch'),
        single.flags,
        `${at}: flags`,
      );
    }
  }
  t.same(problems, []);
  t.equal(compared, stored.length, 'one verification a household and program enrolled in');

  // Results, paged; export.
  async function results(outcome: string, limit: number, who = caseworker) {
    const items: Result[] = [];
    let cursor: string | null = null;
    do {
      const res: { statusCode: number; body: string } = await app.inject({
        method: 'GET',
        url: `/v1/matching/runs/${done.id}/results?outcome=${outcome}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
        headers: who.headers,
      });
      t.equal(res.statusCode, 200, res.body);
      const page: { items: Result[]; nextCursor: string | null } = json(res);
      t.ok(page.items.length <= limit);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }
  const failing = await results('failing', 7);
  t.equal(failing.length, expected.failing);
  t.same(
    failing.map((f) => f.householdId),
    [...failing.map((f) => f.householdId)].sort(),
    'by household id',
  );
  t.ok(failing.every((f) => f.failing && f.verifications.some((v) => v.failedRules.length > 0)));
  t.ok(
    failing
      .flatMap((f) => f.verifications.flatMap((v) => v.failedRules))
      .every((r) => r.detail && r.sources.length > 0),
  );
  t.equal((await results('deceased_paid', 5)).length, expected.deceasedPaid);
  t.equal((await results('data_errors', 3)).length, expected.dataErrors);
  const all = await results('all', 50);
  t.equal(all.length, expected.households);
  t.ok(all.every((r) => r.enrollments.length > 0));

  const exported = await app.inject({
    method: 'GET',
    url: `/v1/matching/runs/${done.id}/export?outcome=failing&format=ndjson`,
    headers: caseworker.headers,
  });
  t.equal(exported.statusCode, 200);
  t.match(exported.headers['content-type'], /application\/x-ndjson/);
  t.same(
    exported.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Result),
    failing,
  );
  const csv = await app.inject({
    method: 'GET',
    url: `/v1/matching/runs/${done.id}/export?outcome=failing&format=csv`,
    headers: caseworker.headers,
  });
  t.equal(csv.statusCode, 200);
  const lines = csv.body.trimEnd().split('\r\n');
  t.match(lines[0], /^householdId,region,program,verificationId,passed,failedRules,reasons/);
  t.equal(lines.length - 1, failing.flatMap((f) => f.verifications).length, 'one row a verification');
  t.same(new Set(lines.slice(1).map((l) => l.split(',')[0])), new Set(failing.map((f) => f.householdId)));

  // 404: outside the jurisdiction, unknown; 400: a bad outcome or cursor.
  for (const path of ['', '/results', '/export']) {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/matching/runs/${done.id}${path}`,
      headers: outsider.headers,
    });
    t.equal(res.statusCode, 404, `outsider ${path}`);
  }
  const unknown = await app.inject({
    method: 'GET',
    url: '/v1/matching/runs/00000000-0000-4000-8000-000000000000',
    headers: caseworker.headers,
  });
  t.equal(unknown.statusCode, 404);
  const badOutcome = await app.inject({
    method: 'GET',
    url: `/v1/matching/runs/${done.id}/results?outcome=dead&cursor=zz`,
    headers: caseworker.headers,
  });
  t.equal(badOutcome.statusCode, 400);
  const list = json<{ items: Run[] }>(
    await app.inject({ method: 'GET', url: '/v1/matching/runs', headers: caseworker.headers }),
  );
  t.same(
    list.items.map((r) => r.id),
    [done.id],
  );
  t.same(
    json<{ items: Run[] }>(await app.inject({ method: 'GET', url: '/v1/matching/runs', headers: outsider.headers }))
      .items,
    [],
  );

  // A snapshot swapped in while a run is going: the run keeps reading the one it started with.
  const second = json<Run>(await start(caseworker, { region: '220102', asOf }));
  const [jobRow] = await rows<{ id: string }>(db, sql`select * from jobs where id = ${second.job!.id}`);
  const incomeSource = sources.get('income')!;
  const before = stored.find(() => true)!.snapshots[incomeSource];
  const calls: [number, number | undefined][] = [];
  const jobOf = jobRow as unknown as Parameters<typeof app.services.matchingRuns.perform>[0]['job'];
  await app.services.matchingRuns.perform({
    job: { ...jobOf, payload: { runId: second.id, chunkHouseholds: 20 } },
    async progress(doneSoFar, total) {
      calls.push([doneSoFar, total]);
      if (calls.length !== 2) return;
      // Everyone earns ten standards now: a run reading this snapshot would fail every household.
      const rich = households.flatMap((h) =>
        h.household.members.map((m, k) =>
          JSON.stringify({ idNumber: m.idNumber, name: m.name, amountFen: 720_000, ref: `R${k}` }),
        ),
      );
      const res = await upload(app, provider, incomeSource, 'second', `${rich.join('\n')}\n`);
      t.equal(res.statusCode, 201, 'swapped in');
    },
  });
  t.same(
    calls,
    [0, 20, 40, 60, 80, expected.households].map((n) => [n, expected.households]),
    'progress after each chunk of 20',
  );
  const current = await rows<{ snapshot: string }>(
    db,
    sql`select current_snapshot_id as snapshot from matching_sources where id = ${incomeSource}`,
  );
  t.not(current[0]!.snapshot, before, 'the source has a new snapshot');
  const again = await rows<{ householdId: string; program: string; passed: boolean; snapshot: string }>(
    db,
    sql`select household_id as "householdId", program, passed, snapshots->>${incomeSource} as snapshot
        from matching_verifications where run_id = ${second.id}`,
  );
  t.equal(again.length, stored.length);
  t.ok(
    again.every((v) => v.snapshot === before),
    'every chunk read the snapshot the run started with',
  );
  t.ok(
    again.every(
      (v) => stored.find((s) => s.householdId === v.householdId && s.program === v.program)?.passed === v.passed,
    ),
    'and found what the first run found',
  );
  const secondRun = json<Run>(
    await app.inject({ method: 'GET', url: `/v1/matching/runs/${second.id}`, headers: caseworker.headers }),
  );
  t.same(secondRun.counts, expected);
});
