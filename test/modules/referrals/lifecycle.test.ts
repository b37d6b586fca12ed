import t from 'tap';
import { businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';
import { type FeedEvent, type ProblemBody, type Referral, referralWorld, registerHousehold } from './fixtures.js';

const yesterday = businessDateOf(new Date(Date.now() - 86_400_000));

t.test('referral lifecycle', async (t) => {
  const test = await testApp(t);
  const { app } = test;
  const w = await referralWorld(test);
  const { nanguanCivil, nanguanHealth, nanguanHospital, kuanchengHealth, cityCdc } = w;
  const sentTo = async (id: string, events: FeedEvent[] | Promise<FeedEvent[]>) =>
    (await events).filter((e) => e.subject === `referral/${id}`).map((e) => e.type);

  t.test('a welfare contact finds fever → referral → acknowledged → transferred → confirmed', async (t) => {
    const household = await registerHousehold(app, nanguanCivil, '220102');
    const personId = household.members[0]!.id;
    const contact = await w.post('/v1/welfare-contacts', nanguanCivil, {
      personId,
      contactedAt: new Date(Date.now() - 600_000).toISOString(),
      channel: 'phone',
      outcome: 'symptoms',
      notes: '发热 38.6℃，干咳两天',
      caseworker: '刘社工',
    });
    t.equal(contact.statusCode, 201, contact.body);
    const reported = await w.report(nanguanCivil, {
      personId,
      origin: 'welfare_contact',
      welfareContactId: json<{ id: string }>(contact).id,
      symptoms: ['fever', 'cough'],
      onsetDate: yesterday,
      locationKind: 'home',
      transportNeeded: true,
      reporterName: '刘社工',
      reporterPhone: '138 1234 5678',
    });
    t.equal(reported.statusCode, 201, reported.body);
    const r = json<Referral>(reported);
    t.equal(reported.headers.location, `/v1/referrals/${r.id}`);
    t.match(reported.headers.etag, /^"[0-9a-f-]{36}\.1"$/);
    t.match(r, {
      status: 'reported',
      region: '220102',
      householdId: household.id,
      symptoms: ['fever', 'cough'],
      symptomsText: '发热 38.6℃，干咳两天',
      onsetDate: yesterday,
      overdue: false,
      reporterPhone: '13812345678',
    });
    const due = Date.parse(r.ackDueAt) - Date.parse(r.createdAt);
    t.equal(due, 24 * 3_600_000, 'acknowledged within 24 hours when no policy says otherwise');

    const ack = await w.act(r.id, 'acknowledge', nanguanHealth, { note: '已接收，安排转运' });
    t.equal(ack.statusCode, 200, ack.body);
    t.match(json<Referral>(ack), { status: 'acknowledged', receiverClientId: nanguanHealth.id });

    const other = await w.act(r.id, 'transfer', nanguanHospital, { hospital: '长春市传染病医院' });
    t.equal(other.statusCode, 409, 'another receiver may not answer it');
    t.match(json<ProblemBody>(other), { type: '/problems/conflict', receiverClientId: nanguanHealth.id });

    const transferred = await w.act(r.id, 'transfer', nanguanHealth, { hospital: '长春市传染病医院' });
    t.equal(transferred.statusCode, 200, transferred.body);
    t.match(json<Referral>(transferred), { status: 'transferred', hospital: '长春市传染病医院' });
    const confirmed = await w.act(r.id, 'confirm', nanguanHealth, {});
    t.equal(confirmed.statusCode, 200, confirmed.body);
    const done = json<Referral>(confirmed);
    t.match(done, { status: 'confirmed', outcome: 'confirmed' });
    t.same(
      done.steps!.map((s) => [s.seq, s.fromStatus, s.toStatus, s.clientId]),
      [
        [1, null, 'reported', nanguanCivil.id],
        [2, 'reported', 'acknowledged', nanguanHealth.id],
        [3, 'acknowledged', 'transferred', nanguanHealth.id],
        [4, 'transferred', 'confirmed', nanguanHealth.id],
      ],
    );
    t.equal(done.steps![1]!.note, '已接收，安排转运');

    const again = await w.act(r.id, 'exclude', nanguanHealth, {});
    t.equal(again.statusCode, 409);
    t.match(json<ProblemBody>(again), { type: '/problems/invalid-state', currentState: 'confirmed' });

    const flow = ['referral.reported', 'referral.acknowledged', 'referral.transferred', 'referral.confirmed'];
    t.same(await sentTo(r.id, w.feed(nanguanHealth)), flow, 'the district’s health client sees every step');
    t.same(await sentTo(r.id, w.feed(cityCdc)), flow, 'so does the city’s disease control');
    t.same(await sentTo(r.id, w.feed(nanguanCivil)), flow, 'and civil affairs: the loop is closed');
    for (const [name, who] of Object.entries({
      'health of another district': kuanchengHealth,
      'civil affairs of another district': w.kuanchengCivil,
      finance: w.finance,
      portal: w.portal,
    })) {
      t.same(await sentTo(r.id, w.feed(who)), [], `${name} sees none of it`);
    }
    const events = (await w.feed(nanguanHealth)).filter((e) => e.subject === `referral/${r.id}`);
    t.same(
      events.map((e) => e.subjectSeq),
      [1, 2, 3, 4],
    );
    const confirmedEvent = events.at(-1)!;
    t.match(confirmedEvent.data, {
      referralId: r.id,
      personId,
      householdId: household.id,
      onsetDate: yesterday,
      region: '220102',
      status: 'confirmed',
      symptoms: ['fever', 'cough'],
    });
    const text = JSON.stringify(events);
    for (const secret of [household.members[0]!.name, r.person.phone!, '13812345678', r.person.idNumber]) {
      t.notOk(text.includes(secret), `no event carries ${secret}`);
    }
  });

  t.test('the excluded path, answered by disease control', async (t) => {
    const household = await registerHousehold(app, nanguanCivil, '220102001', '赵奶奶');
    const r = json<Referral>(
      await w.report(nanguanCivil, {
        personId: household.members[0]!.id,
        origin: 'direct',
        symptoms: ['fever'],
        locationKind: 'care_institution',
        locationText: '南关区敬老院',
        reporterName: '王护理员',
      }),
    );
    t.equal(r.region, '220102001');
    t.equal((await w.act(r.id, 'acknowledge', cityCdc)).statusCode, 200);
    const transferred = await w.act(r.id, 'transfer', cityCdc, {
      hospital: '吉林大学第一医院',
      transferredAt: new Date().toISOString(),
    });
    t.equal(transferred.statusCode, 200, transferred.body);
    const excluded = json<Referral>(await w.act(r.id, 'exclude', cityCdc, { note: '核酸阴性' }));
    t.match(excluded, { status: 'excluded', outcome: 'excluded' });
    t.equal((await sentTo(r.id, w.feed(nanguanCivil))).at(-1), 'referral.excluded');
  });

  t.test('a referral for the wrong region is sent back, and reported again', async (t) => {
    const household = await registerHousehold(app, nanguanCivil, '220102', '孙大伯');
    const personId = household.members[0]!.id;
    const payload = { personId, origin: 'direct', symptomsText: '发热', locationKind: 'home', reporterName: '刘社工' };
    const r = json<Referral>(await w.report(nanguanCivil, payload));
    t.equal((await w.act(r.id, 'reject', kuanchengHealth, { reason: 'x' })).statusCode, 404, 'not theirs to see');
    const rejected = await w.act(r.id, 'reject', nanguanHealth, { reason: '本人现居宽城区，请转宽城区' });
    t.equal(rejected.statusCode, 200, rejected.body);
    t.match(json<Referral>(rejected), { status: 'rejected', closedReason: '本人现居宽城区，请转宽城区' });
    const back = (await w.feed(nanguanCivil)).filter((e) => e.subject === `referral/${r.id}`).at(-1)!;
    t.match(back, { type: 'referral.rejected', data: { reason: '本人现居宽城区，请转宽城区', status: 'rejected' } });
    t.equal((await w.report(nanguanCivil, payload)).statusCode, 201, 'a rejected referral is no longer open');
  });

  t.test('civil affairs cancels; receivers may not', async (t) => {
    const household = await registerHousehold(app, nanguanCivil, '220102', '周阿姨');
    const payload = {
      personId: household.members[0]!.id,
      origin: 'direct',
      symptoms: ['cough'],
      locationKind: 'home',
      reporterName: '刘社工',
    };
    const r = json<Referral>(await w.report(nanguanCivil, payload));
    t.equal((await w.act(r.id, 'cancel', nanguanHealth, { reason: 'x' })).statusCode, 403);
    t.equal((await w.act(r.id, 'acknowledge', nanguanCivil)).statusCode, 403, 'civil affairs does not receive');
    t.equal((await w.act(r.id, 'acknowledge', nanguanHealth)).statusCode, 200);
    const cancelled = await w.act(r.id, 'cancel', nanguanCivil, { reason: '家属已自行送医' });
    t.equal(cancelled.statusCode, 200, cancelled.body);
    t.match(json<Referral>(cancelled), { status: 'cancelled', closedReason: '家属已自行送医' });
    const late = await w.act(r.id, 'transfer', nanguanHealth, { hospital: '某医院' });
    t.match(json<ProblemBody>(late), { status: 409, currentState: 'cancelled' });
    t.equal((await sentTo(r.id, w.feed(nanguanHealth))).at(-1), 'referral.cancelled', 'health learns of it');
  });
});
