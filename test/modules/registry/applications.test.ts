import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { addDays, addMonths, businessDateOf } from '../../../src/modules/registry/dates.js';
import { applications as applicationsTable } from '../../../src/modules/registry/applications.tables.js';
import { households, persons } from '../../../src/modules/registry/people.tables.js';
import { eq } from 'drizzle-orm';
import { json, testApp, type TestClient } from '../../helpers.js';

interface History {
  at: string;
  action: string;
  status: string;
  note: string | null;
  by: string | null;
}

interface Application {
  id: string;
  program: string;
  householdId: string;
  personId: string | null;
  region: string;
  channel: string;
  submittedBy: string;
  status: string;
  policyId: string | null;
  fastTrack: boolean;
  homeVisitRequired: boolean;
  decisionDueDate: string;
  overdue: boolean;
  phoneSurvey: { by: string; at: string; findings: string } | null;
  verification: { passed: boolean; monthlyIncomeFen: number } | null;
  decision: string | null;
  decisionReasons: string[] | null;
  enrollmentId: string | null;
  history?: History[];
}

interface Enrollment {
  id: string;
  status: string;
  monthlyBenefitFen: number;
  benefitBasis: Record<string, unknown>;
  startDate: string;
  personId: string | null;
  nextReview: { dueDate: string; effectiveDueDate: string } | null;
}

interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  missing?: string[];
  openApplication?: { id: string };
  enrollment?: { id: string };
  errors?: { in: string; pointer: string; detail: string }[];
}

const today = businessDateOf(new Date());
let serial = 0;

/** A household with members, written straight to the tables (the people API is tested elsewhere). */
export async function household(app: FastifyInstance, region: string, selfCare: (string | null)[] = [null]) {
  const db = app.database.db;
  const [h] = await db.insert(households).values({ region }).returning();
  const members: string[] = [];
  for (const [i, care] of selfCare.entries()) {
    serial += 1;
    const [p] = await db
      .insert(persons)
      .values({
        householdId: h!.id,
        relationship: i === 0 ? 'head' : 'child',
        name: `Member ${serial}`,
        idType: 'other',
        idNumberSealed: `test:${serial}`,
        idNumberIndex: `test:${serial}`,
        idNumberMasked: `test:${serial}`,
        region,
        sealedKeyId: 'test',
        selfCare: care as 'able' | null,
      })
      .returning();
    members.push(p!.id);
  }
  return { id: h!.id, members };
}

const survey = { by: 'Caseworker Li', at: new Date().toISOString(), findings: 'Income as declared; no car.' };
const verification = (monthlyIncomeFen: number, passed = true) => ({
  monthlyIncomeFen,
  financialAssetsFen: 10_000,
  passed,
  rules: [
    {
      rule: 'per_capita_income_below_standard',
      outcome: passed ? 'pass' : 'fail',
      detail: 'checked',
      sources: ['tax:1'],
    },
  ],
  source: 'manual',
});

t.test('applications over HTTP', async (t) => {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const kuancheng = await client('civil_affairs', { jurisdiction: '220103' });
  const city = await client('civil_affairs');
  const portal = await client('portal');
  const otherPortal = await client('portal');

  const post = (url: string, who: TestClient, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload: payload as object });
  const get = (url: string, who: TestClient) => app.inject({ method: 'GET', url, headers: who.headers });
  const submit = (who: TestClient, body: Record<string, unknown>) => post('/v1/applications', who, body);
  const act = (id: string, action: string, who: TestClient, body: unknown, headers: Record<string, string> = {}) =>
    post(`/v1/applications/${id}/${action}`, who, body, headers);
  const count = async () => (await app.database.db.select({ id: applicationsTable.id }).from(applicationsTable)).length;
  const feed = async (who: TestClient, type: string) => {
    await app.services.events.sequence();
    const res = await get(`/v1/events?after=0&types=${type}&limit=500`, who);
    return json<{ items: { subject: string; region: string; data: Record<string, unknown> }[] }>(res).items;
  };

  const standard = await post('/v1/programs/dibao/standards', admin, {
    region: '2201',
    effectiveFrom: '2020-01-01',
    monthlyStandardFen: 80_000,
    assetMultiple: 24,
  });
  t.equal(standard.statusCode, 201);
  const standardId = json<{ id: string }>(standard).id;
  const policy = await app.services.policies.create(
    { jurisdiction: '2201' },
    { clientId: admin.id, agency: 'admin', requestId: 'test' },
    {
      name: 'Epidemic response',
      region: '220102',
      effectiveFrom: today,
      effectiveTo: addDays(today, 60),
      fastTrack: true,
      decisionDeadlineDays: 10,
    },
  );

  t.test('a new dibao application fast-tracked to an enrollment with the right benefit amount', async (t) => {
    const h = await household(app, '220102001', [null, null, null]);
    const res = await submit(nanguan, { program: 'dibao', householdId: h.id, declaredMonthlyIncomeFen: 90_000 });
    t.equal(res.statusCode, 201);
    const submitted = json<Application>(res);
    t.match(submitted, {
      program: 'dibao',
      householdId: h.id,
      region: '220102001',
      channel: 'caseworker',
      submittedBy: nanguan.id,
      status: 'verifying',
      policyId: policy.id,
      fastTrack: true,
      homeVisitRequired: false,
      decisionDueDate: addDays(today, 10),
      overdue: false,
    });
    t.equal(res.headers.location, `/v1/applications/${submitted.id}`);
    t.equal(res.headers.etag, `"${submitted.id}.1"`);

    const surveyed = await act(submitted.id, 'phone-survey', nanguan, survey, {
      'if-match': res.headers.etag as string,
    });
    t.equal(surveyed.statusCode, 200);
    t.equal(surveyed.headers.etag, `"${submitted.id}.2"`);
    t.match(json<Application>(surveyed).phoneSurvey, { by: 'Caseworker Li', findings: survey.findings });
    const verified = await act(submitted.id, 'verification', nanguan, verification(90_000));
    t.equal(verified.statusCode, 200);
    t.match(json<Application>(verified), {
      status: 'verified',
      verification: { passed: true, monthlyIncomeFen: 90_000 },
    });
    const approved = await act(submitted.id, 'approve', nanguan, { reasons: ['Per-capita income below the standard'] });
    t.equal(approved.statusCode, 200, approved.body);
    const decided = json<Application>(approved);
    t.match(decided, {
      status: 'approved',
      decision: 'approved',
      decisionReasons: ['Per-capita income below the standard'],
    });
    t.ok(decided.enrollmentId);

    const enrollment = json<Enrollment>(await get(`/v1/enrollments/${decided.enrollmentId}`, nanguan));
    t.equal(enrollment.monthlyBenefitFen, (80_000 - 30_000) * 3, '(standard − income/size) × size');
    t.match(enrollment, {
      status: 'active',
      startDate: today,
      personId: null,
      benefitBasis: { standardId, monthlyStandardFen: 80_000, householdSize: 3, perCapitaIncomeFen: 30_000 },
      nextReview: { dueDate: addMonths(today, 12), effectiveDueDate: addMonths(today, 12) },
    });

    const read = json<Application>(await get(`/v1/applications/${submitted.id}`, nanguan));
    t.same(
      read.history!.map((e) => [e.action, e.status, e.by]),
      [
        ['submitted', 'verifying', nanguan.id],
        ['phone_survey_recorded', 'verifying', nanguan.id],
        ['verified', 'verified', nanguan.id],
        ['approved', 'approved', nanguan.id],
      ],
    );
    const decidedEvents = await feed(nanguan, 'application.decided');
    t.match(
      decidedEvents.find((e) => e.subject === `application/${submitted.id}`),
      { region: '220102001', data: { decision: 'approved', enrollmentId: decided.enrollmentId } },
    );
    const created = (await feed(city, 'enrollment.created')).find((e) => e.data.enrollmentId === decided.enrollmentId);
    t.match(created?.data, { monthlyBenefitFen: 150_000, nextReviewDueDate: addMonths(today, 12) });
    const all = [...(await feed(city, 'application.submitted')), ...decidedEvents];
    t.notOk(JSON.stringify(all).includes('test:'), 'no ID numbers in event data');

    const again = await submit(nanguan, { program: 'dibao', householdId: h.id });
    t.equal(again.statusCode, 409, 'already enrolled');
    t.equal(json<ProblemBody>(again).enrollment?.id, decided.enrollmentId);
  });

  t.test('without a fast-track policy a home visit is needed before approval', async (t) => {
    const h = await household(app, '220103', [null, null]);
    const res = await submit(city, { program: 'dibao', householdId: h.id });
    const a = json<Application>(res);
    t.match(a, { fastTrack: false, homeVisitRequired: true, policyId: null, decisionDueDate: addDays(today, 30) });
    await act(a.id, 'phone-survey', city, survey);
    await act(a.id, 'verification', city, verification(40_000));
    const refused = await act(a.id, 'approve', city, { reasons: ['ok'] });
    t.equal(refused.statusCode, 422);
    t.same(json<ProblemBody>(refused).missing, ['homeVisit']);
    const still = json<Application>(await get(`/v1/applications/${a.id}`, city));
    t.match(still, { status: 'verified', enrollmentId: null }, 'nothing written');
    t.equal((await act(a.id, 'home-visit', kuancheng, survey)).statusCode, 200);
    const approved = await act(a.id, 'approve', kuancheng, { reasons: ['ok'] });
    t.equal(approved.statusCode, 200);
    const e = json<Enrollment>(await get(`/v1/enrollments/${json<Application>(approved).enrollmentId}`, city));
    t.equal(e.monthlyBenefitFen, (80_000 - 20_000) * 2);
  });

  t.test('bad bodies: 400 naming every field, nothing written', async (t) => {
    const before = await count();
    const h = await household(app, '220102', [null]);
    const other = await household(app, '220102', [null]);
    const outside = await household(app, '220104', [null]);
    const bad = await submit(nanguan, {
      program: 'wubao',
      householdId: 'nope',
      declaredMonthlyIncomeFen: -1,
      extra: 1,
    });
    t.equal(bad.statusCode, 400);
    t.same(
      json<ProblemBody>(bad)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/declaredMonthlyIncomeFen', '/extra', '/householdId', '/program'],
    );
    const tekun = await submit(nanguan, { program: 'tekun', householdId: outside.id });
    t.same(
      json<ProblemBody>(tekun)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/householdId', '/personId'],
      'household out of jurisdiction, and tekun needs a person',
    );
    const stranger = await submit(nanguan, { program: 'tekun', householdId: h.id, personId: other.members[0] });
    t.match(json<ProblemBody>(stranger).errors, [{ pointer: '/personId', detail: /not a member/ }]);
    const a = json<Application>(await submit(nanguan, { program: 'price_subsidy', householdId: h.id }));
    const future = await act(a.id, 'phone-survey', nanguan, {
      ...survey,
      at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    t.match(json<ProblemBody>(future).errors, [{ pointer: '/at' }]);
    const badVerification = await act(a.id, 'verification', nanguan, { ...verification(1), rules: [], passed: 'yes' });
    t.same(
      json<ProblemBody>(badVerification)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/passed', '/rules'],
    );
    t.equal((await act(a.id, 'approve', nanguan, { reasons: [] })).statusCode, 400);
    const read = json<Application>(await get(`/v1/applications/${a.id}`, nanguan));
    t.match(read, { status: 'verifying', phoneSurvey: null, verification: null });
    t.equal(read.history!.length, 1);
    t.equal(await count(), before + 1, 'only the valid application');
  });

  t.test('one open application per household and program', async (t) => {
    const h = await household(app, '220102', [null]);
    const first = json<Application>(await submit(nanguan, { program: 'dibao', householdId: h.id }));
    const second = await submit(portal, { program: 'dibao', householdId: h.id });
    t.equal(second.statusCode, 409);
    t.equal(json<ProblemBody>(second).openApplication?.id, first.id);
    t.match(json<ProblemBody>(second).detail, first.id);
    t.equal(
      (await submit(nanguan, { program: 'price_subsidy', householdId: h.id })).statusCode,
      201,
      'another program',
    );
    t.equal((await act(first.id, 'withdraw', nanguan, { reason: 'moved away' })).statusCode, 200);
    t.equal((await submit(nanguan, { program: 'dibao', householdId: h.id })).statusCode, 201, 'after withdrawal');
    const withdrawn = (await feed(nanguan, 'application.withdrawn')).find((e) => e.data.applicationId === first.id);
    t.match(withdrawn?.data, { reason: 'moved away' });
  });

  t.test('concurrent submissions and approvals: exactly one wins', async (t) => {
    const h = await household(app, '220102', [null]);
    const answers = await Promise.all([1, 2, 3, 4].map(() => submit(nanguan, { program: 'dibao', householdId: h.id })));
    t.same(answers.map((a) => a.statusCode).sort(), [201, 409, 409, 409]);
    const a = json<Application>(answers.find((x) => x.statusCode === 201)!);
    await act(a.id, 'phone-survey', nanguan, survey);
    await act(a.id, 'verification', nanguan, verification(0));
    const approvals = await Promise.all([1, 2, 3].map(() => act(a.id, 'approve', nanguan, { reasons: ['ok'] })));
    t.same(approvals.map((x) => x.statusCode).sort(), [200, 409, 409]);
    const enrollments = json<{ items: unknown[] }>(await get(`/v1/enrollments?householdId=${h.id}`, nanguan)).items;
    t.equal(enrollments.length, 1);
  });

  t.test('illegal transitions: 409 with currentState; stale If-Match: 412', async (t) => {
    const h = await household(app, '220102', [null]);
    const res = await submit(nanguan, { program: 'dibao', householdId: h.id });
    const a = json<Application>(res);
    const early = await act(a.id, 'approve', nanguan, { reasons: ['ok'] });
    t.equal(early.statusCode, 409);
    t.match(json<ProblemBody>(early), { type: '/problems/invalid-state', currentState: 'verifying' });
    await act(a.id, 'phone-survey', nanguan, survey);
    const stale = await act(a.id, 'verification', nanguan, verification(500_000, false), {
      'if-match': res.headers.etag as string,
    });
    t.equal(stale.statusCode, 412);
    t.equal(json<Application>(await get(`/v1/applications/${a.id}`, nanguan)).status, 'verifying');
    t.equal((await act(a.id, 'verification', nanguan, verification(500_000, false))).statusCode, 200);
    const twice = await act(a.id, 'verification', nanguan, verification(1));
    t.equal(json<ProblemBody>(twice).currentState, 'verified');
    const failed = await act(a.id, 'approve', nanguan, { reasons: ['ok'] });
    t.equal(failed.statusCode, 422, 'verification did not pass');
    t.equal((await act(a.id, 'reject', nanguan, { reasons: ['Income above the standard'] })).statusCode, 200);
    for (const action of ['withdraw', 'reject', 'phone-survey']) {
      const body = action === 'withdraw' ? { reason: 'x' } : action === 'reject' ? { reasons: ['x'] } : survey;
      const late = await act(a.id, action, nanguan, body);
      t.equal(late.statusCode, 409, action);
      t.equal(json<ProblemBody>(late).currentState, 'rejected');
    }
  });

  t.test('a portal reads only the applications it submitted; others are 404 out of jurisdiction', async (t) => {
    const h = await household(app, '220102', [null]);
    const res = await submit(portal, { program: 'price_subsidy', householdId: h.id });
    t.equal(res.statusCode, 201);
    const a = json<Application>(res);
    t.equal(a.channel, 'portal');
    t.equal((await get(`/v1/applications/${a.id}`, portal)).statusCode, 200);
    t.equal((await get(`/v1/applications/${a.id}`, otherPortal)).statusCode, 404);
    t.equal((await act(a.id, 'withdraw', otherPortal, { reason: 'x' })).statusCode, 404);
    const mine = json<{ items: Application[] }>(await get('/v1/applications?limit=500', portal)).items;
    t.ok(mine.length > 0 && mine.every((x) => x.submittedBy === portal.id), 'only its own');
    t.same(json<{ items: Application[] }>(await get('/v1/applications', otherPortal)).items, []);
    t.equal((await act(a.id, 'approve', portal, { reasons: ['x'] })).statusCode, 403, 'portals do not decide');
    t.equal((await get(`/v1/applications/${a.id}`, kuancheng)).statusCode, 404, 'another district');
    t.equal((await act(a.id, 'phone-survey', kuancheng, survey)).statusCode, 404);
    t.equal((await get(`/v1/applications/${a.id}`, city)).statusCode, 200, 'the city caseworker');
    const kuanchengList = json<{ items: Application[] }>(await get('/v1/applications?limit=500', kuancheng)).items;
    t.ok(kuanchengList.every((x) => x.region.startsWith('220103')));
    t.same(json<{ items: Application[] }>(await get('/v1/applications?region=220104', kuancheng)).items, []);
  });

  t.test('approval without a standard in force: 422 and nothing written; tekun pays basic + care', async (t) => {
    const h = await household(app, '220102', [null, 'unable']);
    const person = h.members[1]!;
    const a = json<Application>(await submit(nanguan, { program: 'tekun', householdId: h.id, personId: person }));
    t.equal(a.personId, person);
    await act(a.id, 'phone-survey', nanguan, survey);
    await act(a.id, 'verification', nanguan, verification(0));
    const refused = await act(a.id, 'approve', nanguan, { reasons: ['ok'] });
    t.equal(refused.statusCode, 422);
    t.match(json<ProblemBody>(refused).detail, /No tekun standard is in force/);
    t.match(json<Application>(await get(`/v1/applications/${a.id}`, nanguan)), {
      status: 'verified',
      enrollmentId: null,
    });
    t.same(json<{ items: unknown[] }>(await get(`/v1/enrollments?householdId=${h.id}`, nanguan)).items, []);
    const tekunStandard = await post('/v1/programs/tekun/standards', admin, {
      region: '2201',
      effectiveFrom: '2020-01-01',
      monthlyStandardFen: 104_000,
      assetMultiple: 24,
      careAllowances: { ableFen: 5_000, partiallyUnableFen: 30_000, unableFen: 80_000 },
    });
    t.equal(tekunStandard.statusCode, 201);
    const approved = json<Application>(await act(a.id, 'approve', nanguan, { reasons: ['ok'] }));
    const e = json<Enrollment>(await get(`/v1/enrollments/${approved.enrollmentId}`, nanguan));
    t.match(e, {
      monthlyBenefitFen: 184_000,
      personId: person,
      benefitBasis: { selfCare: 'unable', careAllowanceFen: 80_000 },
    });
  });

  t.test('dibao paying nothing is refused with the reason', async (t) => {
    const h = await household(app, '220102', [null, null]);
    const a = json<Application>(await submit(nanguan, { program: 'dibao', householdId: h.id }));
    await act(a.id, 'phone-survey', nanguan, survey);
    await act(a.id, 'verification', nanguan, verification(160_000));
    const refused = await act(a.id, 'approve', nanguan, { reasons: ['ok'] });
    t.equal(refused.statusCode, 422);
    t.match(json<ProblemBody>(refused).detail, /not below the dibao standard/);
  });

  t.test('overdue applications are listed', async (t) => {
    const h = await household(app, '220102', [null]);
    const a = json<Application>(await submit(nanguan, { program: 'dibao', householdId: h.id }));
    await app.database.db
      .update(applicationsTable)
      .set({ decisionDueDate: addDays(today, -1) })
      .where(eq(applicationsTable.id, a.id));
    const overdue = json<{ items: Application[] }>(await get('/v1/applications?overdue=true&limit=500', nanguan)).items;
    t.same(
      overdue.map((x) => [x.id, x.overdue]),
      [[a.id, true]],
    );
    const page1 = json<{ items: Application[]; nextCursor: string }>(await get('/v1/applications?limit=2', city));
    const page2 = json<{ items: Application[] }>(
      await get(`/v1/applications?limit=2&cursor=${page1.nextCursor}`, city),
    );
    t.equal(page1.items.length, 2);
    t.notOk(
      page2.items.some((x) => page1.items.some((y) => y.id === x.id)),
      'keyset pages do not repeat',
    );
  });
});
