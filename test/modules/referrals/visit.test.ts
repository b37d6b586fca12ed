import t from 'tap';
import { json, testApp, type TestClient } from '../../helpers.js';
import { counts, type ProblemBody, type Referral, referralWorld, registerHousehold } from './fixtures.js';

t.test('a referral from a visit that found fever', async (t) => {
  const test = await testApp(t);
  const { app } = test;
  const w = await referralWorld(test);
  const { nanguanCivil, nanguanHealth, kuanchengCivil } = w;

  /** A visit recorded through the care module's API. */
  const visit = async (who: TestClient, personId: string, symptoms: string[]) => {
    const res = await w.post('/v1/visits', who, {
      personId,
      visitorName: '陈照料员',
      channel: 'wechat_video',
      visitedAt: new Date(Date.now() - 3_600_000).toISOString(),
      healthStatus: 'symptomatic',
      symptoms,
      symptomsText: '体温 38.2℃，咳嗽',
    });
    if (res.statusCode !== 201) throw new Error(`recording a visit answered ${res.statusCode}: ${res.body}`);
    return json<{ id: string }>(res).id;
  };

  const household = await registerHousehold(app, nanguanCivil, '220102', '蒋爷爷');
  const personId = household.members[0]!.id;
  const visitId = await visit(nanguanCivil, personId, ['fever', 'cough']);
  const payload = { personId, origin: 'visit', visitId, locationKind: 'home', reporterName: '陈照料员' };

  t.test('the visit’s person must be the person, inside the jurisdiction', async (t) => {
    const before = await counts(app);
    const other = (await registerHousehold(app, nanguanCivil, '220102', '韩奶奶')).members[0]!.id;
    const wrong = await w.report(nanguanCivil, { ...payload, personId: other });
    t.equal(wrong.statusCode, 400);
    t.match(json<ProblemBody>(wrong).errors, [{ pointer: '/visitId', detail: /another person/ }]);
    const kuancheng = (await registerHousehold(app, kuanchengCivil, '220103', '杨大爷')).members[0]!.id;
    const theirs = await visit(kuanchengCivil, kuancheng, ['fever']);
    const outside = await w.report(nanguanCivil, { ...payload, visitId: theirs });
    t.equal(outside.statusCode, 404, 'a visit outside the jurisdiction is not found');
    const unknown = await w.report(nanguanCivil, { ...payload, visitId: '00000000-0000-4000-8000-000000000000' });
    t.equal(unknown.statusCode, 404);
    t.same(await counts(app), before);
  });

  t.test('symptoms come from the visit; the referral goes to the end', async (t) => {
    const reported = await w.report(nanguanCivil, payload);
    t.equal(reported.statusCode, 201, reported.body);
    const r = json<Referral>(reported);
    t.match(r, { origin: 'visit', visitId, symptoms: ['fever', 'cough'], symptomsText: '体温 38.2℃，咳嗽' });
    for (const [action, body] of [
      ['acknowledge', {}],
      ['transfer', { hospital: '长春市传染病医院' }],
      ['confirm', { note: '核酸阳性' }],
    ] as const) {
      const res = await w.act(r.id, action, nanguanHealth, body);
      t.equal(res.statusCode, 200, `${action}: ${res.body}`);
    }
    const events = (await w.feed(nanguanCivil)).filter((e) => e.subject === `referral/${r.id}`);
    t.same(
      events.map((e) => e.type),
      ['referral.reported', 'referral.acknowledged', 'referral.transferred', 'referral.confirmed'],
    );
    t.match(events[0]!.data, { visitId, origin: 'visit', symptoms: ['fever', 'cough'] });
    t.match(events[3]!.data, { referralId: r.id, personId, householdId: household.id, region: '220102' });
  });

  t.test('coded symptoms given with the report replace the visit’s', async (t) => {
    const other = (await registerHousehold(app, nanguanCivil, '220102', '朱阿姨')).members[0]!.id;
    const theirs = await visit(nanguanCivil, other, ['fatigue']);
    const r = json<Referral>(
      await w.report(nanguanCivil, { ...payload, personId: other, visitId: theirs, symptoms: ['fever'] }),
    );
    t.same(r.symptoms, ['fever']);
  });
});
