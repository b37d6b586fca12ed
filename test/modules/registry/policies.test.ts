import t from 'tap';
import { addDays, addMonths, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';

interface Policy {
  id: string;
  name: string;
  region: string;
  effectiveFrom: string;
  effectiveTo: string | null;
  fastTrack: boolean;
  decisionDeadlineDays: number | null;
  reviewExtensionMonths: number;
  hukouRelaxed: boolean;
  dailyReportCutoff: string | null;
  greenChannelHours: number | null;
  visitIntervalDays: number | null;
  referralAckHours: number | null;
  contactLookBackDays: number | null;
  createdBy: string | null;
  endedAt: string | null;
}

interface ProblemBody {
  status: number;
  detail: string;
  currentState?: string;
  errors?: { in: string; pointer: string; detail: string }[];
}

const today = businessDateOf(new Date());

t.test('business date arithmetic', async (t) => {
  t.equal(addDays('2026-02-27', 2), '2026-03-01');
  t.equal(addDays('2026-01-01', -1), '2025-12-31');
  t.equal(addMonths('2026-01-31', 1), '2026-02-28', 'clamped to the shorter month');
  t.equal(addMonths('2024-01-31', 1), '2024-02-29');
  t.equal(addMonths('2026-11-15', 3), '2027-02-15');
  t.equal(addMonths('2026-03-31', -1), '2026-02-28');
  t.equal(businessDateOf(new Date('2026-03-01T16:30:00Z')), '2026-03-02', 'midnight comes earlier in Shanghai');
});

t.test('emergency policies', async (t) => {
  const { app, admin, client } = await testApp(t);
  const post = (body: unknown, headers = admin.headers) =>
    app.inject({ method: 'POST', url: '/v1/policies', headers, payload: body as Record<string, unknown> });

  const city = await post({
    name: 'Epidemic response, level I',
    region: '2201',
    effectiveFrom: addDays(today, -10),
    fastTrack: true,
    decisionDeadlineDays: 5,
    reviewExtensionMonths: 3,
    hukouRelaxed: true,
    dailyReportCutoff: '16:00',
    greenChannelHours: 48,
    visitIntervalDays: 7,
    referralAckHours: 2,
    contactLookBackDays: 10,
  });
  t.equal(city.statusCode, 201, city.body);
  const cityPolicy = json<Policy>(city);
  t.equal(city.headers.location, `/v1/policies/${cityPolicy.id}`);
  t.match(cityPolicy, { region: '2201', fastTrack: true, reviewExtensionMonths: 3, effectiveTo: null });
  t.match(cityPolicy, { visitIntervalDays: 7, referralAckHours: 2, contactLookBackDays: 10 });
  t.equal(cityPolicy.createdBy, admin.id);

  const district = json<Policy>(
    await post({ name: 'Nanguan lockdown', region: '220102', effectiveFrom: addDays(today, -2) }),
  );
  t.equal(district.fastTrack, false, 'switches left out are off');
  t.equal(district.reviewExtensionMonths, 0);
  t.equal(district.referralAckHours, null, 'null: the normal rule');

  const inForce = (region: string, date?: string) =>
    app.inject({
      method: 'GET',
      url: `/v1/policies/in-force?region=${region}${date ? `&date=${date}` : ''}`,
      headers: admin.headers,
    });
  t.equal(json<Policy>(await inForce('220102001')).id, district.id, 'the most specific region wins');
  t.equal(json<Policy>(await inForce('220104')).id, cityPolicy.id, 'elsewhere the city’s applies');
  t.equal((await inForce('220104', addDays(today, -11))).statusCode, 404, 'before it started: normal rules');
  t.equal((await inForce('2202')).statusCode, 400, 'an unknown region is a validation problem');

  await t.test('bad bodies name every field and write nothing', async (t) => {
    const res = await post({
      name: '',
      region: '2299',
      effectiveFrom: today,
      effectiveTo: today,
      dailyReportCutoff: '25:00',
      reviewExtensionMonths: -1,
    });
    t.equal(res.statusCode, 400);
    const pointers = json<ProblemBody>(res).errors!.map((e) => e.pointer);
    t.ok(pointers.includes('/name'));
    t.ok(pointers.includes('/dailyReportCutoff'));
    t.ok(pointers.includes('/reviewExtensionMonths'));
    const semantic = await post({ name: 'x', region: '2299', effectiveFrom: today, effectiveTo: today });
    t.same(
      json<ProblemBody>(semantic)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/effectiveTo', '/region'],
    );
    const deadline = await post({ name: 'x', region: '2201', effectiveFrom: today, decisionDeadlineDays: 5 });
    t.equal(json<ProblemBody>(deadline).errors![0]!.pointer, '/decisionDeadlineDays');
    const listed = json<{ items: Policy[] }>(await app.inject({ url: '/v1/policies', headers: admin.headers }));
    t.equal(listed.items.length, 2, 'nothing was written');
  });

  await t.test('scopes and jurisdiction', async (t) => {
    const caseworker = await client('civil_affairs', { jurisdiction: '220102' });
    t.equal((await post({ name: 'x', region: '220102', effectiveFrom: today }, caseworker.headers)).statusCode, 403);
    const read = await app.inject({ url: `/v1/policies/${cityPolicy.id}`, headers: caseworker.headers });
    t.equal(read.statusCode, 200, 'policies are public rules');
    const districtAdmin = await client('admin', { jurisdiction: '220104' });
    const outside = await post({ name: 'x', region: '220102', effectiveFrom: today }, districtAdmin.headers);
    t.equal(json<ProblemBody>(outside).errors![0]!.pointer, '/region');
    const end = await app.inject({
      method: 'POST',
      url: `/v1/policies/${district.id}/end`,
      headers: districtAdmin.headers,
      payload: { effectiveTo: today },
    });
    t.equal(end.statusCode, 403);
  });

  await t.test('list, filters and pages', async (t) => {
    const page1 = json<{ items: Policy[]; nextCursor: string }>(
      await app.inject({ url: '/v1/policies?limit=1', headers: admin.headers }),
    );
    t.equal(page1.items[0]!.id, district.id, 'newest start first');
    const page2 = json<{ items: Policy[]; nextCursor: string | null }>(
      await app.inject({ url: `/v1/policies?limit=1&cursor=${page1.nextCursor}`, headers: admin.headers }),
    );
    t.equal(page2.items[0]!.id, cityPolicy.id);
    t.equal(page2.nextCursor, null);
    const in220104 = json<{ items: Policy[] }>(
      await app.inject({ url: '/v1/policies?region=220104', headers: admin.headers }),
    );
    t.same(
      in220104.items.map((p) => p.id),
      [cityPolicy.id],
    );
    const bad = await app.inject({ url: '/v1/policies?cursor=nonsense', headers: admin.headers });
    t.equal(bad.statusCode, 400);
  });

  await t.test('ending a policy', async (t) => {
    const url = `/v1/policies/${district.id}/end`;
    const stale = await app.inject({
      method: 'POST',
      url,
      headers: { ...admin.headers, 'if-match': `"${district.id}.7"` },
      payload: { effectiveTo: today },
    });
    t.equal(stale.statusCode, 412);
    const past = await app.inject({
      method: 'POST',
      url,
      headers: admin.headers,
      payload: { effectiveTo: addDays(today, -1) },
    });
    t.equal(json<ProblemBody>(past).errors![0]!.pointer, '/effectiveTo');
    const ended = await app.inject({
      method: 'POST',
      url,
      headers: { ...admin.headers, 'if-match': `"${district.id}.1"` },
      payload: { effectiveTo: addDays(today, 1) },
    });
    t.equal(ended.statusCode, 200);
    t.equal(json<Policy>(ended).effectiveTo, addDays(today, 1));
    t.equal(ended.headers.etag, `"${district.id}.2"`);
    const again = await app.inject({ method: 'POST', url, headers: admin.headers, payload: { effectiveTo: today } });
    t.equal(again.statusCode, 409);
    t.equal(json<ProblemBody>(again).currentState, 'ended');
    t.equal(
      json<Policy>(await inForce('220102', addDays(today, 1))).id,
      cityPolicy.id,
      'after its end, the city’s applies again in the district',
    );
  });

  await t.test('events and audit', async (t) => {
    await app.services.events.sequence();
    const feed = json<{ items: { type: string; subject: string }[] }>(
      await app.inject({ url: '/v1/events?limit=500', headers: admin.headers }),
    );
    const types = feed.items.filter((e) => e.subject.startsWith('policy/')).map((e) => e.type);
    t.same(types, ['policy.created', 'policy.created', 'policy.ended']);
    const seenBy = async (jurisdiction: string) => {
      const reader = await client('civil_affairs', { jurisdiction });
      const page = json<{ items: { type: string; subject: string }[] }>(
        await app.inject({ url: '/v1/events?limit=500', headers: reader.headers }),
      );
      return page.items.filter((e) => e.subject.startsWith('policy/')).map((e) => e.subject);
    };
    t.same(
      await seenBy('220104'),
      [`policy/${cityPolicy.id}`],
      'a district office sees the city’s policy (a public rule covering it), not another district’s',
    );
    t.same(await seenBy('220102001'), [`policy/${cityPolicy.id}`, `policy/${district.id}`, `policy/${district.id}`]);
    const audit = json<{ items: { operation: string }[] }>(
      await app.inject({ url: '/v1/audit-events?resourceType=policy', headers: admin.headers }),
    );
    t.same(audit.items.map((a) => a.operation).sort(), ['createPolicy', 'createPolicy', 'endPolicy']);
  });
});
