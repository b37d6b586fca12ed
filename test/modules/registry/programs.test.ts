import t from 'tap';
import { DEMO_STANDARD_LABEL, seedDemo } from '../../../src/demo.js';
import { businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp, type TestClient } from '../../helpers.js';

interface Program {
  code: string;
  name: string;
  nameZh: string;
  frequency: string;
  whatIsPaid: string;
  standardMeaning: string;
}

interface Standard {
  id: string;
  program: string;
  region: string;
  effectiveFrom: string;
  effectiveTo: string | null;
  monthlyStandardFen: number;
  assetMultiple: number | null;
  careAllowances: { ableFen: number; partiallyUnableFen: number; unableFen: number } | null;
  label: string | null;
  createdBy: string | null;
  createdAt: string;
  endedBy: string | null;
  endedAt: string | null;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  requiredScopes?: string[];
  overlappingStandard?: { id: string; effectiveFrom: string; effectiveTo: string | null };
  errors?: { in: string; pointer: string; detail: string }[];
}

interface FeedEvent {
  type: string;
  subject: string;
  region: string;
  data: Record<string, unknown>;
}

const problemJson = 'application/problem+json; charset=utf-8';
const day = 86_400_000;
const shiftDate = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * day).toISOString().slice(0, 10);
const today = businessDateOf(new Date());

const dibaoBody = (overrides: Record<string, unknown> = {}) => ({
  region: '2201',
  effectiveFrom: '2026-01-01',
  monthlyStandardFen: 80_000,
  assetMultiple: 24,
  ...overrides,
});
const tekunCare = { ableFen: 5_000, partiallyUnableFen: 30_000, unableFen: 80_000 };

t.test('programs and standards over HTTP', async (t) => {
  const { app, admin, client } = await testApp(t);
  const finance = await client('finance');
  const portal = await client('portal');
  const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
  const bank = await client('bank');
  const nanguanAdmin = await client('admin', { jurisdiction: '220102' });

  const create = (program: string, body: Record<string, unknown>, headers: Record<string, string> = admin.headers) =>
    app.inject({ method: 'POST', url: `/v1/programs/${program}/standards`, headers, payload: body });
  const end = (
    program: string,
    id: string,
    body: Record<string, unknown>,
    headers: Record<string, string> = admin.headers,
  ) => app.inject({ method: 'POST', url: `/v1/programs/${program}/standards/${id}/end`, headers, payload: body });
  const list = async (program: string, query = '', who: TestClient = admin) => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/programs/${program}/standards?${query}`,
      headers: who.headers,
    });
    if (res.statusCode !== 200) throw new Error(`list ${program} ?${query} answered ${res.statusCode}: ${res.body}`);
    return json<Page<Standard>>(res);
  };
  const count = async (program: string) => (await list(program, 'limit=500')).items.length;
  /** Events of a type the client sees, after sequencing. */
  const feed = async (who: TestClient, type: string) => {
    await app.services.events.sequence();
    const res = await app.inject({
      method: 'GET',
      url: `/v1/events?after=0&types=${type}&limit=500`,
      headers: who.headers,
    });
    if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`);
    return json<{ items: FeedEvent[] }>(res).items;
  };

  t.test('the four programs are listed and read by the agencies that need them', async (t) => {
    for (const who of [admin, finance, portal, caseworker]) {
      const res = await app.inject({ method: 'GET', url: '/v1/programs', headers: who.headers });
      t.equal(res.statusCode, 200, `${who.agency} lists programs`);
      const body = json<Page<Program>>(res);
      t.same(
        body.items.map((p) => p.code),
        ['dibao', 'price_subsidy', 'tekun', 'temporary_assistance'],
      );
      t.equal(body.nextCursor, null);
    }
    const res = await app.inject({ method: 'GET', url: '/v1/programs/tekun', headers: portal.headers });
    t.equal(res.statusCode, 200);
    t.match(json<Program>(res), {
      code: 'tekun',
      nameZh: '特困人员救助供养',
      frequency: 'monthly',
      whatIsPaid: /care allowance/,
      standardMeaning: /basic living allowance/,
    });
    const oneOff = json<Program>(
      await app.inject({ method: 'GET', url: '/v1/programs/temporary_assistance', headers: portal.headers }),
    );
    t.equal(oneOff.frequency, 'one_off');

    const unknown = await app.inject({ method: 'GET', url: '/v1/programs/wubao', headers: admin.headers });
    t.equal(unknown.statusCode, 400);
    t.equal(unknown.headers['content-type'], problemJson);
    t.match(json<ProblemBody>(unknown).errors, [{ in: 'path', pointer: '/code' }]);
  });

  t.test('a bank has no programs:read; only admins manage standards', async (t) => {
    const before = await count('dibao');
    const forbidden = await app.inject({ method: 'GET', url: '/v1/programs', headers: bank.headers });
    t.equal(forbidden.statusCode, 403);
    t.match(json<ProblemBody>(forbidden), { type: '/problems/forbidden', requiredScopes: ['programs:read'] });
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/programs/dibao/standards', headers: bank.headers })).statusCode,
      403,
    );
    for (const who of [finance, caseworker, portal]) {
      const res = await create('dibao', dibaoBody({ region: '220102' }), who.headers);
      t.equal(res.statusCode, 403, `${who.agency} cannot create standards`);
      t.match(json<ProblemBody>(res).requiredScopes, ['programs:manage']);
    }
    t.equal(await count('dibao'), before, 'nothing was created');
  });

  let cityDibao: Standard;

  t.test('an admin creates a standard: 201, Location, ETag, audited, and an event in the feed', async (t) => {
    const res = await create('dibao', dibaoBody({ label: '  Test figures  ' }));
    t.equal(res.statusCode, 201);
    cityDibao = json<Standard>(res);
    t.match(cityDibao, {
      program: 'dibao',
      region: '2201',
      effectiveFrom: '2026-01-01',
      effectiveTo: null,
      monthlyStandardFen: 80_000,
      assetMultiple: 24,
      careAllowances: null,
      label: 'Test figures',
      createdBy: admin.id,
      endedBy: null,
      endedAt: null,
    });
    t.equal(res.headers.location, `/v1/programs/dibao/standards/${cityDibao.id}`);
    t.equal(res.headers.etag, `"${cityDibao.id}.1"`);

    const read = await app.inject({ method: 'GET', url: res.headers.location as string, headers: finance.headers });
    t.equal(read.statusCode, 200, 'the Location can be read');
    t.same(json<Standard>(read), cityDibao);
    t.equal(read.headers.etag, res.headers.etag);
    const wrongProgram = await app.inject({
      method: 'GET',
      url: `/v1/programs/tekun/standards/${cityDibao.id}`,
      headers: finance.headers,
    });
    t.equal(wrongProgram.statusCode, 404, 'a standard is read under its own program');

    const events = await feed(finance, 'program_standard.created');
    const event = events.find((e) => e.data.standardId === cityDibao.id);
    t.ok(event, 'finance sees program_standard.created');
    t.match(event, {
      subject: `program_standard/${cityDibao.id}`,
      region: '2201',
      data: { program: 'dibao', monthlyStandardFen: 80_000, effectiveFrom: '2026-01-01', effectiveTo: null },
    });

    const audit = await app.services.audit.list({ clientId: admin.id, operation: 'createProgramStandard', limit: 50 });
    t.ok(
      audit.items.some((a) => a.resourceIds.includes(cityDibao.id) && a.requestId === res.headers['x-request-id']),
      'the creation is in the audit trail',
    );
  });

  t.test('Idempotency-Key replays the answer instead of creating a second standard', async (t) => {
    const headers = { ...admin.headers, 'idempotency-key': 'create-tekun-2201' };
    const body = {
      region: '2201',
      effectiveFrom: '2026-01-01',
      monthlyStandardFen: 104_000,
      assetMultiple: 24,
      careAllowances: tekunCare,
    };
    const first = await create('tekun', body, headers);
    t.equal(first.statusCode, 201);
    const again = await create('tekun', body, headers);
    t.equal(again.statusCode, 201);
    t.equal(again.headers['idempotent-replayed'], 'true');
    t.equal(json<Standard>(again).id, json<Standard>(first).id);
    t.equal(again.headers.location, first.headers.location);
    t.equal(await count('tekun'), 1, 'one standard');
    t.same(json<Standard>(first).careAllowances, tekunCare);
  });

  t.test('economic verification limits: kept, read back, published; absent means no limit', async (t) => {
    const limits = { propertyLimit: 1, vehicleValueLimitFen: 5_000_000, businessCapitalLimitFen: 0 };
    const res = await create('price_subsidy', dibaoBody({ region: '220183', ...limits }));
    t.equal(res.statusCode, 201, res.body);
    const created = json<Standard & typeof limits>(res);
    t.match(created, limits);
    t.match(json(await app.inject({ url: res.headers.location as string, headers: finance.headers })), limits);
    const inForce = await app.services.programs.standardInForce('price_subsidy', '220183', '2026-06-01');
    t.match(inForce, { id: created.id, ...limits });
    const event = (await feed(finance, 'program_standard.created')).find((e) => e.data.standardId === created.id);
    t.match(event?.data, limits);
    t.match(cityDibao, { propertyLimit: null, vehicleValueLimitFen: null, businessCapitalLimitFen: null });
    const bad = await create('dibao', dibaoBody({ region: '220184', propertyLimit: -1, vehicleValueLimitFen: 1.5 }));
    t.same(
      json<ProblemBody>(bad)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/propertyLimit', '/vehicleValueLimitFen'],
    );
  });

  t.test('two standards of one program and region are never in force on the same day', async (t) => {
    const before = await count('dibao');
    const eventsBefore = (await feed(admin, 'program_standard.created')).length;

    const later = await create('dibao', dibaoBody({ effectiveFrom: '2030-01-01', monthlyStandardFen: 90_000 }));
    t.equal(later.statusCode, 409, 'the open-ended city standard covers 2030');
    t.equal(later.headers['content-type'], problemJson);
    const problem = json<ProblemBody>(later);
    t.equal(problem.type, '/problems/conflict');
    t.match(problem.detail, cityDibao.id);
    t.same(problem.overlappingStandard, { id: cityDibao.id, effectiveFrom: '2026-01-01', effectiveTo: null });

    const straddling = await create('dibao', dibaoBody({ effectiveFrom: '2025-07-01', effectiveTo: '2026-01-02' }));
    t.equal(straddling.statusCode, 409, 'one day of overlap is enough');

    t.equal(await count('dibao'), before, 'no partial write');
    t.equal((await feed(admin, 'program_standard.created')).length, eventsBefore, 'no event');

    const before2026 = await create('dibao', dibaoBody({ effectiveFrom: '2025-01-01', effectiveTo: '2026-01-01' }));
    t.equal(before2026.statusCode, 201, 'a period ending the day the next begins does not overlap (half-open)');
    const district = await create('dibao', dibaoBody({ region: '220102', monthlyStandardFen: 85_000 }));
    t.equal(district.statusCode, 201, 'a district may have its own standard beside the city’s');
    const otherProgram = await create('price_subsidy', {
      region: '2201',
      effectiveFrom: '2026-01-01',
      monthlyStandardFen: 4_000,
    });
    t.equal(otherProgram.statusCode, 201, 'another program, the same region and period');
  });

  t.test('concurrent creations for the same period: exactly one wins', async (t) => {
    const body = { region: '220103', effectiveFrom: '2026-01-01', monthlyStandardFen: 3_000 };
    const answers = await Promise.all([1, 2, 3, 4].map(() => create('price_subsidy', body)));
    t.same(answers.map((a) => a.statusCode).sort(), [201, 409, 409, 409]);
    const mine = (await list('price_subsidy', 'limit=500')).items.filter((s) => s.region === '220103');
    t.equal(mine.length, 1);
  });

  t.test('regions: known, and inside the admin’s jurisdiction, each refusal naming /region', async (t) => {
    const before = await count('dibao');
    const wider = await create(
      'dibao',
      dibaoBody({ region: '2201', effectiveFrom: '2040-01-01' }),
      nanguanAdmin.headers,
    );
    t.equal(wider.statusCode, 400);
    t.equal(wider.headers['content-type'], problemJson);
    t.match(json<ProblemBody>(wider), {
      type: '/problems/validation-error',
      errors: [{ in: 'body', pointer: '/region', detail: /jurisdiction 220102/ }],
    });
    const sideways = await create('dibao', dibaoBody({ region: '220103' }), nanguanAdmin.headers);
    t.equal(sideways.statusCode, 400);
    t.match(json<ProblemBody>(sideways).errors, [{ in: 'body', pointer: '/region' }]);

    const unknown = await create('dibao', dibaoBody({ region: '229999' }));
    t.equal(unknown.statusCode, 400);
    t.match(json<ProblemBody>(unknown).errors, [{ in: 'body', pointer: '/region', detail: /229999/ }]);
    const malformed = await create('dibao', dibaoBody({ region: '22010' }));
    t.equal(malformed.statusCode, 400);
    t.match(json<ProblemBody>(malformed).errors, [{ in: 'body', pointer: '/region', detail: /region code/ }]);
    t.equal(await count('dibao'), before, 'nothing was created');

    const inside = await create('dibao', dibaoBody({ region: '220102001' }), nanguanAdmin.headers);
    t.equal(inside.statusCode, 201, 'a subdistrict inside the district admin’s jurisdiction');
  });

  t.test('bad fields are named, all of them at once, and nothing is written', async (t) => {
    const before = await count('dibao');
    const backwards = await create('dibao', dibaoBody({ effectiveFrom: '2041-05-01', effectiveTo: '2041-04-30' }));
    t.equal(backwards.statusCode, 400);
    t.match(json<ProblemBody>(backwards).errors, [
      { in: 'body', pointer: '/effectiveTo', detail: /after effectiveFrom/ },
    ]);
    const empty = await create('dibao', dibaoBody({ effectiveFrom: '2041-05-01', effectiveTo: '2041-05-01' }));
    t.equal(empty.statusCode, 400, 'a period of no days');
    t.match(json<ProblemBody>(empty).errors, [{ pointer: '/effectiveTo' }]);

    const notADate = await create('dibao', dibaoBody({ effectiveFrom: '2026-02-30' }));
    t.equal(notADate.statusCode, 400);
    t.match(json<ProblemBody>(notADate).errors, [{ in: 'body', pointer: '/effectiveFrom' }]);
    const notFen = await create('dibao', dibaoBody({ monthlyStandardFen: 800.5 }));
    t.equal(notFen.statusCode, 400);
    t.match(json<ProblemBody>(notFen).errors, [{ pointer: '/monthlyStandardFen' }]);
    const zero = await create('dibao', dibaoBody({ monthlyStandardFen: 0 }));
    t.equal(zero.statusCode, 400);
    t.match(json<ProblemBody>(zero).errors, [{ pointer: '/monthlyStandardFen' }]);
    const stranger = await create('dibao', dibaoBody({ amountFen: 1 }));
    t.equal(stranger.statusCode, 400);
    t.match(json<ProblemBody>(stranger).errors, [{ pointer: '/amountFen' }]);

    const several = await create('dibao', {
      region: '229999',
      effectiveFrom: '2041-05-01',
      effectiveTo: '2041-01-01',
      monthlyStandardFen: 80_000,
      careAllowances: tekunCare,
    });
    t.equal(several.statusCode, 400);
    t.same(
      json<ProblemBody>(several)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/assetMultiple', '/careAllowances', '/effectiveTo', '/region'],
      'unknown region, backwards period, care allowances on dibao, no asset multiple',
    );
    t.equal(await count('dibao'), before, 'nothing was created');

    const tekunWithoutCare = await create('tekun', {
      region: '220104',
      effectiveFrom: '2026-01-01',
      monthlyStandardFen: 104_000,
      assetMultiple: 24,
    });
    t.equal(tekunWithoutCare.statusCode, 400);
    t.match(json<ProblemBody>(tekunWithoutCare).errors, [{ pointer: '/careAllowances', detail: /required for tekun/ }]);
    const tekunPartialCare = await create('tekun', {
      region: '220104',
      effectiveFrom: '2026-01-01',
      monthlyStandardFen: 104_000,
      assetMultiple: 24,
      careAllowances: { ableFen: 5_000, unableFen: 80_000 },
    });
    t.equal(tekunPartialCare.statusCode, 400);
    t.match(json<ProblemBody>(tekunPartialCare).errors, [{ pointer: '/careAllowances/partiallyUnableFen' }]);
    t.equal(await count('tekun'), 1, 'no tekun standard was created');
  });

  t.test('standardInForce: the most specific region wins, within its dates', async (t) => {
    // price_subsidy: the city's from 2026-01-01 (4000); a district's for four months.
    const district = await create('price_subsidy', {
      region: '220104',
      effectiveFrom: '2026-03-01',
      effectiveTo: '2026-07-01',
      monthlyStandardFen: 5_000,
    });
    t.equal(district.statusCode, 201);
    const districtId = json<Standard>(district).id;
    const inForce = async (region: string, date: string) =>
      (await app.services.programs.standardInForce('price_subsidy', region, date))?.monthlyStandardFen ?? null;

    t.equal(await inForce('220104', '2026-02-28'), 4_000, 'before the district’s: the city’s');
    t.equal(await inForce('220104', '2026-03-01'), 5_000, 'the district’s first day');
    t.equal(await inForce('220104', '2026-06-30'), 5_000, 'the district’s last day');
    t.equal(await inForce('220104', '2026-07-01'), 4_000, 'effectiveTo is the first day no longer in force');
    t.equal(await inForce('220104001', '2026-04-01'), 5_000, 'a subdistrict gets its district’s');
    t.equal(await inForce('220105', '2026-04-01'), 4_000, 'another district gets the city’s');
    t.equal(await inForce('220104', '2025-12-31'), null, 'before any standard: none');
    t.equal(await inForce('2202', '2026-04-01'), null, 'another city: none');
    t.equal(
      await app.services.programs.standardInForce('temporary_assistance', '220104', '2026-04-01'),
      null,
      'a program without standards: none',
    );

    const get = (query: string, who: TestClient = portal) =>
      app.inject({
        method: 'GET',
        url: `/v1/programs/price_subsidy/standards/in-force?${query}`,
        headers: who.headers,
      });
    const found = await get('region=220104001&date=2026-04-01');
    t.equal(found.statusCode, 200);
    t.equal(json<Standard>(found).id, districtId);
    t.equal(found.headers.etag, `"${districtId}.1"`);
    const none = await get('region=220104&date=2025-06-01');
    t.equal(none.statusCode, 404);
    t.equal(none.headers['content-type'], problemJson);
    const unknown = await get('region=229999&date=2026-04-01');
    t.equal(unknown.statusCode, 400);
    t.match(json<ProblemBody>(unknown).errors, [{ in: 'query', pointer: '/region' }]);
    const badDate = await get('region=220104&date=2026-13-01');
    t.equal(badDate.statusCode, 400);
    t.match(json<ProblemBody>(badDate).errors, [{ in: 'query', pointer: '/date' }]);
    const todays = await get('region=220105');
    t.equal(todays.statusCode, today >= '2026-01-01' ? 200 : 404, 'without a date: today');
  });

  t.test('the list filters by region (containing or inside) and date, and pages', async (t) => {
    const nanguan = await list('dibao', 'region=220102&limit=500', caseworker);
    t.same(
      nanguan.items.map((s) => `${s.region} ${s.effectiveFrom}`),
      ['2201 2025-01-01', '2201 2026-01-01', '220102 2026-01-01', '220102001 2026-01-01'],
      'the city’s, the district’s and a subdistrict’s, whatever the caller’s jurisdiction',
    );
    const kuancheng = await list('dibao', 'region=220103&limit=500');
    t.ok(
      kuancheng.items.every((s) => s.region === '2201'),
      'another district: only the city’s',
    );
    const city = await list('dibao', 'region=2201&limit=500');
    t.equal(city.items.length, 4, 'the city and everything inside it');
    const on2025 = await list('dibao', 'region=220102&date=2025-06-30');
    t.same(
      on2025.items.map((s) => s.effectiveFrom),
      ['2025-01-01'],
      'in force on that day',
    );
    const on2026 = await list('dibao', 'date=2026-01-01&region=220102');
    t.same(
      on2026.items.map((s) => s.region),
      ['2201', '220102', '220102001'],
    );

    const all = await list('dibao', 'limit=500');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page<Standard> = await list(
        'dibao',
        `limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      t.ok(page.items.length <= 2);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor !== null && ++pages < 50);
    t.same(
      seen,
      all.items.map((s) => s.id),
      'the pages together are the whole list, in order',
    );
    const badCursor = await app.inject({
      method: 'GET',
      url: '/v1/programs/dibao/standards?cursor=bm9wZQ',
      headers: admin.headers,
    });
    t.equal(badCursor.statusCode, 400);
    t.match(json<ProblemBody>(badCursor).errors, [{ in: 'query', pointer: '/cursor' }]);
  });

  t.test('ending a standard: once, not in the past, inside the jurisdiction, with an event', async (t) => {
    const created = json<Standard>(
      await create('temporary_assistance', {
        region: '2201',
        effectiveFrom: '2026-01-01',
        monthlyStandardFen: 480_000,
      }),
    );

    const past = await end('temporary_assistance', created.id, { effectiveTo: shiftDate(today, -1) });
    t.equal(past.statusCode, 400, 'yesterday stays as it was');
    t.match(json<ProblemBody>(past).errors, [{ in: 'body', pointer: '/effectiveTo', detail: /today/ }]);
    const byDistrict = await end(
      'temporary_assistance',
      created.id,
      { effectiveTo: '2099-01-01' },
      nanguanAdmin.headers,
    );
    t.equal(byDistrict.statusCode, 403, 'a district admin cannot end the city’s standard');
    t.equal(byDistrict.headers['content-type'], problemJson);
    const stale = await end(
      'temporary_assistance',
      created.id,
      { effectiveTo: '2099-01-01' },
      { ...admin.headers, 'if-match': `"${created.id}.7"` },
    );
    t.equal(stale.statusCode, 412);
    const noSuch = await end('temporary_assistance', '00000000-0000-4000-8000-000000000000', {
      effectiveTo: '2099-01-01',
    });
    t.equal(noSuch.statusCode, 404);
    const read = async () =>
      json<Standard>(
        await app.inject({
          method: 'GET',
          url: `/v1/programs/temporary_assistance/standards/${created.id}`,
          headers: admin.headers,
        }),
      );
    t.equal((await read()).effectiveTo, null, 'none of those ended it');

    const ended = await end(
      'temporary_assistance',
      created.id,
      { effectiveTo: '2099-01-01' },
      { ...admin.headers, 'if-match': `"${created.id}.1"` },
    );
    t.equal(ended.statusCode, 200);
    t.match(json<Standard>(ended), {
      id: created.id,
      effectiveTo: '2099-01-01',
      endedBy: admin.id,
      monthlyStandardFen: 480_000,
    });
    t.type(json<Standard>(ended).endedAt, 'string');
    t.equal(ended.headers.etag, `"${created.id}.2"`);
    t.same(await read(), json<Standard>(ended), 'stored');
    t.equal(
      (await app.services.programs.standardInForce('temporary_assistance', '220102', '2099-01-01'))?.id,
      undefined,
      'not in force from its effectiveTo',
    );
    t.equal(
      (await app.services.programs.standardInForce('temporary_assistance', '220102', '2098-12-31'))?.id,
      created.id,
      'in force the day before',
    );

    const again = await end('temporary_assistance', created.id, { effectiveTo: '2098-01-01' });
    t.equal(again.statusCode, 409);
    t.match(json<ProblemBody>(again), { type: '/problems/invalid-state', currentState: 'ended' });
    t.equal((await read()).effectiveTo, '2099-01-01', 'unchanged');

    const events = await feed(finance, 'program_standard.ended');
    t.equal(events.filter((e) => e.data.standardId === created.id).length, 1, 'one event for one end');
    t.match(
      events.find((e) => e.data.standardId === created.id),
      { region: '2201', data: { program: 'temporary_assistance', effectiveTo: '2099-01-01' } },
    );
    const audit = await app.services.audit.list({ clientId: admin.id, operation: 'endProgramStandard', limit: 50 });
    t.equal(audit.items.filter((a) => a.resourceIds.includes(created.id)).length, 1, 'audited once');

    // Now the next standard can follow it.
    const next = await create('temporary_assistance', {
      region: '2201',
      effectiveFrom: '2099-01-01',
      monthlyStandardFen: 500_000,
    });
    t.equal(next.statusCode, 201);

    // A standard created with its end already has one.
    const fixedTerm = json<Standard>(
      await create('price_subsidy', {
        region: '220106',
        effectiveFrom: '2026-01-01',
        effectiveTo: '2027-01-01',
        monthlyStandardFen: 3_000,
      }),
    );
    const endFixed = await end('price_subsidy', fixedTerm.id, { effectiveTo: '2099-01-01' });
    t.equal(endFixed.statusCode, 409);
    t.match(json<ProblemBody>(endFixed), { currentState: 'ended' });
  });

  t.test('a standard that has not started can be withdrawn by ending it on its first day', async (t) => {
    const start = '2098-06-01';
    const planned = json<Standard>(
      await create('price_subsidy', { region: '220182', effectiveFrom: start, monthlyStandardFen: 6_000 }),
    );
    const before = await end('price_subsidy', planned.id, { effectiveTo: shiftDate(start, -1) });
    t.equal(before.statusCode, 400, 'not before its first day');
    t.match(json<ProblemBody>(before).errors, [{ pointer: '/effectiveTo', detail: /effectiveFrom/ }]);
    const withdrawn = await end('price_subsidy', planned.id, { effectiveTo: start });
    t.equal(withdrawn.statusCode, 200);
    t.equal(
      await app.services.programs.standardInForce('price_subsidy', '220182', start).then((s) => s?.region),
      '2201',
    );
    const replacement = await create('price_subsidy', {
      region: '220182',
      effectiveFrom: start,
      monthlyStandardFen: 5_500,
    });
    t.equal(replacement.statusCode, 201, 'a withdrawn standard is in nobody’s way');
  });
});

t.test('the demo seeds one labelled city standard per program, once', async (t) => {
  const { app, admin } = await testApp(t);
  const first = await seedDemo(app);
  t.equal(first.keys.length, 8, 'and its clients');
  t.same(first.standards.map((s) => s.program).sort(), ['dibao', 'price_subsidy', 'tekun', 'temporary_assistance']);
  for (const s of first.standards) {
    t.match(s, { region: '2201', effectiveFrom: '2026-01-01', effectiveTo: null, label: DEMO_STANDARD_LABEL });
    t.ok(s.monthlyStandardFen > 0);
  }
  t.match(DEMO_STANDARD_LABEL, /^DEMO/);
  const tekun = first.standards.find((s) => s.program === 'tekun');
  t.ok(tekun?.careAllowances, 'tekun’s has care allowances');

  const res = await app.inject({
    method: 'GET',
    url: '/v1/programs/dibao/standards/in-force?region=220102&date=2026-06-01',
    headers: admin.headers,
  });
  t.equal(res.statusCode, 200);
  t.equal(json<Standard>(res).label, DEMO_STANDARD_LABEL);

  const second = await seedDemo(app);
  t.same(second, { keys: [], standards: [] }, 'a second run seeds nothing');
  for (const program of ['dibao', 'tekun', 'temporary_assistance', 'price_subsidy']) {
    const page = json<Page<Standard>>(
      await app.inject({ method: 'GET', url: `/v1/programs/${program}/standards`, headers: admin.headers }),
    );
    t.equal(page.items.length, 1, `one ${program} standard`);
  }
});

t.test('the demo leaves a program alone when the city has a standard for it', async (t) => {
  const { app, admin } = await testApp(t);
  const own = await app.inject({
    method: 'POST',
    url: '/v1/programs/dibao/standards',
    headers: admin.headers,
    payload: { region: '2201', effectiveFrom: '2027-01-01', monthlyStandardFen: 88_000, assetMultiple: 24 },
  });
  t.equal(own.statusCode, 201);
  const seeded = await seedDemo(app);
  t.same(seeded.standards.map((s) => s.program).sort(), ['price_subsidy', 'tekun', 'temporary_assistance']);
});
