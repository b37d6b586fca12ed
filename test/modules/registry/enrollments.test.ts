import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { reviews as reviewsTable } from '../../../src/modules/registry/applications.tables.js';
import { addDays, addMonths, businessDateOf } from '../../../src/modules/registry/dates.js';
import { households, persons } from '../../../src/modules/registry/people.tables.js';
import { json, testApp, type TestClient } from '../../helpers.js';

interface Review {
  id: string;
  enrollmentId: string;
  status: string;
  enrollmentStatus: string;
  dueDate: string;
  extendedDueDate: string | null;
  extendedByPolicy: { id: string; name: string; months: number } | null;
  effectiveDueDate: string;
  overdue: boolean;
  outcome: string | null;
}

interface Enrollment {
  id: string;
  status: string;
  monthlyBenefitFen: number;
  endDate: string | null;
  startDate: string;
  nextReview: Review | null;
  history: { action: string; status: string; monthlyBenefitFen: number; reason: string | null; by: string | null }[];
}

interface ProblemBody {
  status: number;
  currentState?: string;
  errors?: { pointer: string; detail: string }[];
}

const today = businessDateOf(new Date());
let serial = 0;

/** A household with members, written straight to the tables (the people API is tested elsewhere). */
async function household(app: FastifyInstance, region: string, size = 1) {
  const db = app.database.db;
  const [h] = await db.insert(households).values({ region }).returning();
  for (let i = 0; i < size; i++) {
    serial += 1;
    await db.insert(persons).values({
      householdId: h!.id,
      relationship: i === 0 ? 'head' : 'child',
      name: `Member ${serial}`,
      idType: 'other',
      idNumberSealed: `test:e${serial}`,
      idNumberIndex: `test:e${serial}`,
      idNumberMasked: `test:e${serial}`,
      region,
      sealedKeyId: 'test',
    });
  }
  return h!.id;
}

t.test('enrollments and reviews over HTTP', async (t) => {
  const { app, admin, client } = await testApp(t);
  const city = await client('civil_affairs');
  const kuancheng = await client('civil_affairs', { jurisdiction: '220103' });
  const portal = await client('portal');
  const actor = { clientId: admin.id, agency: 'admin', requestId: 'test' };

  const post = (url: string, who: TestClient, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload: payload as object });
  const get = (url: string, who: TestClient) => app.inject({ method: 'GET', url, headers: who.headers });
  const enrollment = async (id: string, who: TestClient = city) =>
    json<Enrollment>(await get(`/v1/enrollments/${id}`, who));

  t.equal(
    (
      await post('/v1/programs/dibao/standards', admin, {
        region: '2201',
        effectiveFrom: '2020-01-01',
        monthlyStandardFen: 80_000,
        assetMultiple: 24,
      })
    ).statusCode,
    201,
  );

  /** A dibao household enrolled through the applications API: 2 members, 20 000 fen income → (80 000 − 10 000) × 2 = 140 000 fen a month. */
  async function enrolled(region: string, who: TestClient = city) {
    const householdId = await household(app, region, 2);
    const a = json<{ id: string }>(await post('/v1/applications', who, { program: 'dibao', householdId }));
    const survey = { by: 'Li', at: new Date().toISOString(), findings: 'as declared' };
    await post(`/v1/applications/${a.id}/phone-survey`, city, survey);
    await post(`/v1/applications/${a.id}/home-visit`, city, survey);
    await post(`/v1/applications/${a.id}/verification`, city, {
      monthlyIncomeFen: 20_000,
      financialAssetsFen: 0,
      passed: true,
      rules: [{ rule: 'income', outcome: 'pass', detail: 'ok' }],
      source: 'manual',
    });
    const approved = await post(`/v1/applications/${a.id}/approve`, city, { reasons: ['eligible'] });
    if (approved.statusCode !== 200) throw new Error(approved.body);
    return json<{ enrollmentId: string }>(approved).enrollmentId;
  }

  // Reviews fall due 12 months after approval. A policy over that day extends them by 3 months in
  // Nanguan; Chaoyang's policy window starts after it; Kuancheng has no policy.
  const due = addMonths(today, 12);
  const nanguanPolicy = await app.services.policies.create({ jurisdiction: '2201' }, actor, {
    name: 'Epidemic: reviews postponed',
    region: '220102',
    effectiveFrom: addDays(due, -30),
    effectiveTo: addDays(due, 30),
    reviewExtensionMonths: 3,
  });
  await app.services.policies.create({ jurisdiction: '2201' }, actor, {
    name: 'Later window',
    region: '220104',
    effectiveFrom: addDays(due, 1),
    reviewExtensionMonths: 3,
  });
  const inWindow = await enrolled('220102');
  const afterWindow = await enrolled('220104');
  const noPolicy = await enrolled('220103');

  t.test('a review due in the policy window is extended, visibly; others are not', async (t) => {
    const res = await get('/v1/reviews?status=due&limit=500', city);
    t.equal(res.statusCode, 200);
    const items = json<{ items: Review[] }>(res).items;
    const byEnrollment = (id: string) => items.find((r) => r.enrollmentId === id)!;
    t.match(byEnrollment(inWindow), {
      status: 'due',
      dueDate: due,
      extendedDueDate: addMonths(due, 3),
      extendedByPolicy: { id: nanguanPolicy.id, name: 'Epidemic: reviews postponed', months: 3 },
      effectiveDueDate: addMonths(due, 3),
      overdue: false,
    });
    for (const id of [afterWindow, noPolicy]) {
      t.match(byEnrollment(id), { dueDate: due, extendedDueDate: null, extendedByPolicy: null, effectiveDueDate: due });
    }
    t.same(
      items.map((r) => r.effectiveDueDate),
      [...items.map((r) => r.effectiveDueDate)].sort(),
      'ordered by effective due date',
    );
    const soon = json<{ items: Review[] }>(
      await get(`/v1/reviews?dueBefore=${addMonths(due, 1)}&limit=500`, city),
    ).items;
    t.same(
      soon.map((r) => r.enrollmentId).sort(),
      [afterWindow, noPolicy].sort(),
      'dueBefore reads the effective date: the postponed review is not due yet',
    );
    const one = await get(`/v1/reviews/${byEnrollment(inWindow).id}`, city);
    t.match(json<Review>(one), { extendedDueDate: addMonths(due, 3) });
    t.equal(one.headers.etag, `"${byEnrollment(inWindow).id}.1"`);

    const e = await enrollment(inWindow);
    t.equal(e.status, 'active', 'a postponed review leaves the enrollment active');
    t.match(e.nextReview, { dueDate: due, effectiveDueDate: addMonths(due, 3) });
  });

  t.test('an overdue review does not stop payments', async (t) => {
    const review = (await enrollment(noPolicy)).nextReview!;
    await app.database.db
      .update(reviewsTable)
      .set({ dueDate: addDays(today, -10) })
      .where(eq(reviewsTable.id, review.id));
    const overdue = json<Review>(await get(`/v1/reviews/${review.id}`, city));
    t.match(overdue, { overdue: true, enrollmentStatus: 'active' });
    t.equal((await enrollment(noPolicy)).status, 'active');
  });

  t.test(
    'completing reviews: continued schedules the next; benefit_changed and ended change the enrollment',
    async (t) => {
      const first = (await enrollment(noPolicy)).nextReview!;
      const missing = await post(`/v1/reviews/${first.id}/complete`, city, { outcome: 'benefit_changed', notes: 'x' });
      t.equal(missing.statusCode, 400);
      t.match(json<ProblemBody>(missing).errors, [{ pointer: '/newMonthlyBenefitFen' }]);
      const stale = await post(
        `/v1/reviews/${first.id}/complete`,
        city,
        { outcome: 'continued', notes: 'x' },
        {
          'if-match': `"${first.id}.7"`,
        },
      );
      t.equal(stale.statusCode, 412);
      t.equal(
        (await post(`/v1/reviews/${first.id}/complete`, kuancheng, { outcome: 'continued', notes: 'x' })).statusCode,
        200,
      );
      const twice = await post(`/v1/reviews/${first.id}/complete`, city, { outcome: 'continued', notes: 'x' });
      t.equal(twice.statusCode, 409);
      t.equal(json<ProblemBody>(twice).currentState, 'completed');
      const next = (await enrollment(noPolicy)).nextReview!;
      t.not(next.id, first.id);
      t.equal(next.dueDate, addMonths(today, 12), 'due the interval after completion');

      const changed = await post(`/v1/reviews/${next.id}/complete`, city, {
        outcome: 'benefit_changed',
        notes: 'income fell',
        newMonthlyBenefitFen: 150_000,
      });
      t.equal(changed.statusCode, 200);
      const e = await enrollment(noPolicy);
      t.match(e, { status: 'active', monthlyBenefitFen: 150_000 });
      t.match(e.history.at(-1), { action: 'benefit_changed', monthlyBenefitFen: 150_000, by: city.id });

      const ended = await post(`/v1/reviews/${e.nextReview!.id}/complete`, city, { outcome: 'ended', notes: 'moved' });
      t.equal(ended.statusCode, 200);
      t.match(await enrollment(noPolicy), { status: 'ended', endDate: today, nextReview: null });

      await app.services.events.sequence();
      const feed = json<{ items: { type: string; data: Record<string, unknown> }[] }>(
        await get('/v1/events?after=0&types=review.completed,enrollment.changed&limit=500', city),
      ).items.filter((ev) => ev.data.enrollmentId === noPolicy);
      t.same(
        feed.map((ev) => [ev.type, ev.data.outcome ?? ev.data.change]),
        [
          ['review.completed', 'continued'],
          ['enrollment.changed', 'benefit_changed'],
          ['review.completed', 'benefit_changed'],
          ['enrollment.changed', 'ended'],
          ['review.completed', 'ended'],
        ],
      );
    },
  );

  t.test('suspend, resume, change the benefit and end, with history, If-Match and states', async (t) => {
    const id = await enrolled('220102');
    const suspend = await post(`/v1/enrollments/${id}/suspend`, city, { reason: 'hospitalised' });
    t.equal(suspend.statusCode, 200);
    t.equal(suspend.headers.etag, `"${id}.2"`);
    const again = await post(`/v1/enrollments/${id}/suspend`, city, { reason: 'x' });
    t.equal(again.statusCode, 409);
    t.equal(json<ProblemBody>(again).currentState, 'suspended');
    const stale = await post(`/v1/enrollments/${id}/resume`, city, { reason: 'home' }, { 'if-match': `"${id}.1"` });
    t.equal(stale.statusCode, 412);
    const resumed = await post(`/v1/enrollments/${id}/resume`, city, { reason: 'home' }, { 'if-match': `"${id}.2"` });
    t.equal(resumed.statusCode, 200);
    const change = await post(`/v1/enrollments/${id}/change-benefit`, city, {
      monthlyBenefitFen: 100_000,
      reason: 'correction',
    });
    t.equal(json<Enrollment>(change).monthlyBenefitFen, 100_000);
    const early = await post(`/v1/enrollments/${id}/end`, city, { reason: 'x', endDate: addDays(today, -400) });
    t.equal(early.statusCode, 400);
    t.match(json<ProblemBody>(early).errors, [{ pointer: '/endDate' }]);
    t.equal((await enrollment(id)).status, 'active', 'nothing written');
    const ended = json<Enrollment>(await post(`/v1/enrollments/${id}/end`, city, { reason: 'deceased' }));
    t.match(ended, { status: 'ended', endDate: today, nextReview: null });
    t.same(
      ended.history.map((h) => [h.action, h.status, h.monthlyBenefitFen]),
      [
        ['created', 'active', 140_000],
        ['suspended', 'suspended', 140_000],
        ['resumed', 'active', 140_000],
        ['benefit_changed', 'active', 100_000],
        ['ended', 'ended', 100_000],
      ],
    );
    t.equal(json<ProblemBody>(await post(`/v1/enrollments/${id}/resume`, city, { reason: 'x' })).currentState, 'ended');
    const closed = json<{ items: Review[] }>(await get(`/v1/reviews?enrollmentId=${id}`, city)).items;
    t.match(closed, [{ status: 'completed', outcome: 'ended' }], 'its open review was closed');
  });

  t.test('jurisdiction and portals', async (t) => {
    t.equal((await get(`/v1/enrollments/${inWindow}`, kuancheng)).statusCode, 404);
    t.equal((await post(`/v1/enrollments/${inWindow}/suspend`, kuancheng, { reason: 'x' })).statusCode, 404);
    const review = (await enrollment(inWindow)).nextReview!;
    t.equal((await get(`/v1/reviews/${review.id}`, kuancheng)).statusCode, 404);
    const listed = json<{ items: { region: string }[] }>(await get('/v1/enrollments?limit=500', kuancheng)).items;
    t.ok(listed.length > 0 && listed.every((e) => e.region === '220103'));

    const own = await enrolled('220102', portal);
    t.equal((await get(`/v1/enrollments/${own}`, portal)).statusCode, 200);
    t.equal((await get(`/v1/enrollments/${inWindow}`, portal)).statusCode, 404, 'not from its application');
    t.same(
      json<{ items: { id: string }[] }>(await get('/v1/enrollments', portal)).items.map((e) => e.id),
      [own],
    );
    t.same(
      json<{ items: Review[] }>(await get('/v1/reviews', portal)).items.map((r) => r.enrollmentId),
      [own],
    );
    const page1 = json<{ items: { id: string }[]; nextCursor: string }>(await get('/v1/enrollments?limit=2', city));
    const page2 = json<{ items: { id: string }[] }>(
      await get(`/v1/enrollments?limit=2&cursor=${page1.nextCursor}`, city),
    );
    t.equal(page1.items.length, 2);
    t.ok(page2.items.length > 0 && page2.items.every((e) => !page1.items.some((f) => f.id === e.id)));
    const rpage1 = json<{ items: Review[]; nextCursor: string }>(await get('/v1/reviews?limit=1', city));
    const rpage2 = json<{ items: Review[] }>(await get(`/v1/reviews?limit=1&cursor=${rpage1.nextCursor}`, city));
    t.not(rpage2.items[0]?.id, rpage1.items[0]?.id);
  });
});
