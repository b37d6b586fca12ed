import t from 'tap';
import { businessDateOf } from '../../../src/modules/registry/dates.js';
import { createReferralService } from '../../../src/modules/referrals/service.js';
import { defaultScopes } from '../../../src/platform/scopes.js';
import { json, testApp, type TestClient } from '../../helpers.js';
import { type Referral, referralWorld, registerHousehold } from './fixtures.js';

const HOUR = 3_600_000;

t.test('acknowledgement deadlines and the overdue list', async (t) => {
  const test = await testApp(t);
  const { app, admin } = test;
  const w = await referralWorld(test);
  const { nanguanCivil, nanguanHealth } = w;
  const { db } = app.database;
  const { audit, events, pii, policies, welfareContacts } = app.services;

  /** The referral service as it was `hoursAgo` hours ago: what it reported then has been waiting since. */
  const reportedHoursAgo = async (hoursAgo: number, who: TestClient, personId: string) => {
    const then = new Date(Date.now() - hoursAgo * HOUR);
    const past = createReferralService({ db, audit, events, pii, policies, welfareContacts, clock: () => then });
    const caller = {
      id: who.id,
      agency: who.agency,
      jurisdiction: who.jurisdiction,
      scopes: defaultScopes[who.agency],
    };
    const actor = { clientId: who.id, agency: who.agency, requestId: `test-${hoursAgo}` };
    const input = { personId, origin: 'direct' as const, symptoms: ['fever' as const], locationKind: 'home' as const };
    return (await past.report(caller, actor, { ...input, transportNeeded: false, reporterName: '刘社工' })).body;
  };
  const person = async (name: string, region = '220102') =>
    (await registerHousehold(app, nanguanCivil, region, name)).members[0]!.id;
  const overdue = async (who = nanguanHealth) => {
    const res = await w.get('/v1/referrals?overdue=true', who);
    t.equal(res.statusCode, 200, res.body);
    return json<{ items: Referral[] }>(res).items;
  };

  const longest = await reportedHoursAgo(30, nanguanCivil, await person('甲'));
  const later = await reportedHoursAgo(25, nanguanCivil, await person('乙'));
  const waiting = await reportedHoursAgo(20, nanguanCivil, await person('丙'));
  t.equal(Date.parse(longest.ackDueAt) - Date.parse(longest.createdAt), 24 * HOUR, 'normal rule: 24 hours');

  t.test('referrals past their deadline are listed, the longest overdue first', async (t) => {
    const listed = await overdue();
    t.same(
      listed.map((r) => r.id),
      [longest.id, later.id],
    );
    t.ok(listed.every((r) => r.overdue && r.status === 'reported'));
    const one = json<Referral>(await w.get(`/v1/referrals/${waiting.id}`, nanguanHealth));
    t.equal(one.overdue, false, 'within its 24 hours');
    const notOverdue = json<{ items: Referral[] }>(await w.get('/v1/referrals?overdue=false', nanguanHealth)).items;
    t.same(
      notOverdue.map((r) => r.id),
      [waiting.id],
    );
    const page = json<{ items: Referral[]; nextCursor: string }>(
      await w.get('/v1/referrals?overdue=true&limit=1', nanguanHealth),
    );
    const next = json<{ items: Referral[] }>(
      await w.get(`/v1/referrals?overdue=true&limit=1&cursor=${page.nextCursor}`, nanguanHealth),
    );
    t.same(
      [...page.items, ...next.items].map((r) => r.id),
      [longest.id, later.id],
      'pages in deadline order',
    );
  });

  t.test('acknowledging takes a referral off the list', async (t) => {
    t.equal((await w.act(longest.id, 'acknowledge', nanguanHealth)).statusCode, 200);
    t.same(
      (await overdue()).map((r) => r.id),
      [later.id],
    );
  });

  t.test('an emergency policy shortens the deadline for its region', async (t) => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/policies',
      headers: admin.headers,
      payload: {
        name: 'COVID-19 emergency response, Nanguan',
        region: '220102',
        effectiveFrom: businessDateOf(new Date(Date.now() - 3 * 86_400_000)),
        referralAckHours: 2,
      },
    });
    t.equal(created.statusCode, 201, created.body);
    const fresh = json<Referral>(
      await w.report(nanguanCivil, {
        personId: await person('丁'),
        origin: 'direct',
        symptoms: ['cough'],
        locationKind: 'home',
        reporterName: '刘社工',
      }),
    );
    t.equal(Date.parse(fresh.ackDueAt) - Date.parse(fresh.createdAt), 2 * HOUR, 'the policy’s 2 hours');
    const threeHours = await reportedHoursAgo(3, nanguanCivil, await person('戊'));
    t.ok(threeHours.overdue === false && Date.parse(threeHours.ackDueAt) < Date.now(), 'due 2 hours after it came');
    t.same(
      (await overdue()).map((r) => r.id),
      [later.id, threeHours.id],
    );
    const kuancheng = await registerHousehold(app, w.kuanchengCivil, '220103', '己');
    const elsewhere = await reportedHoursAgo(3, w.kuanchengCivil, kuancheng.members[0]!.id);
    t.equal(Date.parse(elsewhere.ackDueAt) - Date.parse(elsewhere.createdAt), 24 * HOUR, 'other districts: 24 h');
    t.same(await overdue(w.kuanchengHealth), [], 'so it is not overdue yet');
  });
});
