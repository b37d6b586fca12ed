import t from 'tap';
import { addDays } from '../../../src/modules/registry/dates.js';
import { json, testApp, type TestClient } from '../../helpers.js';
import {
  allowLocal,
  type Contact,
  contactWorld,
  dateDaysAgo,
  daysAgo,
  enrol,
  type Handoff,
  member,
  type ProblemBody,
  receiver,
  registerHousehold,
  today,
} from './fixtures.js';

t.test('a confirmed case’s close contacts, from the referral to the CDC and back', async (t) => {
  const test = await testApp(t, { env: allowLocal });
  const { app } = test;
  const w = await contactWorld(test);
  const { nanguanCivil, nanguanCdc, otherNanguanCdc, kuanchengCdc, nanguanHealth, finance } = w;

  // The case: a scattered extremely poor man living with his wife, son and grandson, on dibao.
  const home = await registerHousehold(app, nanguanCivil, '220102001', [
    member('王大爷', 'head', '19480307', { scatteredExtremelyPoor: true }),
    member('李奶奶', 'spouse', '19500512'),
    member('王强', 'child', '19850101'),
    member('王小明', 'grandchild', '20150601'),
  ]);
  const [grandpa, grandma, son, grandson] = home.members as [
    (typeof home.members)[0],
    (typeof home.members)[0],
    (typeof home.members)[0],
    (typeof home.members)[0],
  ];
  await enrol(app, home.id, '220102001');
  const carer = await w.post('/v1/caregivers', nanguanCivil, {
    name: '张护工',
    kind: 'caseworker',
    region: '220102',
    phone: '137 0000 1111',
  });
  t.equal(carer.statusCode, 201, carer.body);
  const caregiverId = json<{ id: string }>(carer).id;
  const assigned = await w.post('/v1/care-assignments', nanguanCivil, { personId: grandpa.id, caregiverId });
  t.equal(assigned.statusCode, 201, assigned.body);
  await w.visit(grandpa.id, { caregiverId, channel: 'in_person', visitedAt: daysAgo(3) });
  await w.visit(grandpa.id, { caregiverId, channel: 'phone', visitedAt: daysAgo(1) });
  await w.visit(grandpa.id, {
    visitorName: '赵志愿者',
    visitorPhone: '13600002222',
    channel: 'in_person',
    visitedAt: daysAgo(5),
  });
  await w.visit(grandpa.id, { visitorName: '钱医生', channel: 'in_person', visitedAt: daysAgo(30) });
  await w.visit(grandpa.id, {
    visitorName: '孙社工',
    visitorPhone: '13600003333',
    channel: 'phone',
    visitedAt: daysAgo(2),
  });
  const contacted = await w.post('/v1/welfare-contacts', nanguanCivil, {
    householdId: home.id,
    contactedAt: daysAgo(4),
    channel: 'in_person',
    outcome: 'fine',
    caseworker: '刘社工',
  });
  t.equal(contacted.statusCode, 201, contacted.body);

  // Who listens: the district's CDC, another district's, finance, health (no contacts:read).
  const hooks = await receiver(t);
  await app.services.events.sequence();
  const subscribe = async (who: TestClient, path: string) => {
    const res = await w.post('/v1/webhook-subscriptions', who, { url: hooks.url(path), eventTypes: [] });
    t.equal(res.statusCode, 201, res.body);
  };
  await subscribe(nanguanCdc, '/nanguan-cdc');
  await subscribe(kuanchengCdc, '/kuancheng-cdc');
  await subscribe(finance, '/finance');
  await subscribe(nanguanHealth, '/health');

  const onset = dateDaysAgo(1);
  const referralId = await w.confirmedReferral(grandpa.id, onset);
  const draft = await w.handoffOfReferral(referralId);
  const byName = (h: Handoff) => new Map(h.contacts.map((c) => [c.name, c]));

  t.test('the confirmation opens a draft with the household, the caregiver and in-person visitors', async (t) => {
    t.match(draft, {
      status: 'draft',
      origin: 'referral',
      referralId,
      casePersonId: grandpa.id,
      region: '220102001',
      onsetDate: onset,
      lookBackDays: 14,
      windowFrom: addDays(onset, -14),
      windowTo: today(),
      sentAt: null,
    });
    const found = byName(draft);
    t.same(
      [...found.keys()].sort(),
      ['刘社工', '张护工', '李奶奶', '王小明', '王强', '赵志愿者'].sort(),
      'household, caregiver, in-person visitor and caseworker; not the case, the phone-only visitor or the visit 30 days ago',
    );
    t.same(
      draft.contacts.map((c) => c.relation),
      ['household', 'household', 'household', 'care', 'visit', 'visit'],
      'closest first',
    );
    t.match(found.get('李奶奶'), {
      relation: 'household',
      personId: grandma.id,
      region: '220102001',
      recipient: true,
      lastContactDate: today(),
      phoneMasked: false,
      address: /自由大路/,
      age: Number(today().slice(0, 4)) - 1950 - (today().slice(5) < '05-12' ? 1 : 0),
    });
    t.match(found.get('王强'), { personId: son.id, recipient: true, status: 'pending' });
    t.match(found.get('王小明'), { personId: grandson.id });
    t.match(found.get('张护工'), {
      relation: 'care',
      caregiverId,
      personId: null,
      phone: '13700001111',
      lastContactDate: dateDaysAgo(3),
      inPersonContacts: 1,
      recipient: false,
    });
    t.match(found.get('赵志愿者'), {
      relation: 'visit',
      phone: '13600002222',
      lastContactDate: dateDaysAgo(5),
      firstContactDate: dateDaysAgo(5),
    });
    t.match(found.get('刘社工'), { relation: 'visit', phone: null, lastContactDate: dateDaysAgo(4) });
    t.match(draft.contactCounts, { pending: 6, quarantined: 0 });
    t.match(draft.steps, [{ seq: 1, action: 'drafted', toStatus: 'draft' }]);
  });

  t.test('a draft is civil affairs’ own', async (t) => {
    t.equal((await w.get(`/v1/contact-handoffs/${draft.id}`, nanguanCdc)).statusCode, 404, 'the CDC does not see it');
    const listed = json<{ items: unknown[] }>(await w.get('/v1/contact-handoffs', nanguanCdc));
    t.same(listed.items, []);
    t.equal((await w.get(`/v1/contact-handoffs/${draft.id}`, nanguanHealth)).statusCode, 403, 'health may not read');
    t.equal((await w.get(`/v1/contact-handoffs/${draft.id}`, w.kuanchengCivil)).statusCode, 404);
    t.equal((await w.act(draft.id, 'accept', nanguanCdc)).statusCode, 404);
    t.equal((await w.act(draft.id, 'send', nanguanCdc)).statusCode, 403, 'only civil affairs sends');
  });

  t.test('sent, accepted, every contact walked to quarantine and release, closed', async (t) => {
    const sent = await w.act(draft.id, 'send', nanguanCivil, { note: '已核对' }, { 'if-match': `"${draft.id}.1"` });
    t.equal(sent.statusCode, 200, sent.body);
    t.match(json<Handoff>(sent), { status: 'sent', sentAt: /Z$/ });

    const seen = await w.handoff(draft.id, nanguanCdc);
    for (const c of seen.contacts) {
      t.equal(c.recipient, null, `${c.name}: nothing about assistance for the CDC`);
      if (c.idNumber) t.ok(c.idNumberMasked, `${c.name}: ID number masked`);
    }
    t.equal(byName(seen).get('李奶奶')!.phoneMasked, false, 'the CDC gets phones whole: it calls');
    t.notOk(JSON.stringify(seen).includes('dibao'), 'no program, payment or income');
    t.equal((await w.get(`/v1/contact-handoffs/${draft.id}`, kuanchengCdc)).statusCode, 404, 'another district’s CDC');

    const accepted = await w.act(draft.id, 'accept', nanguanCdc);
    t.equal(accepted.statusCode, 200, accepted.body);
    t.match(json<Handoff>(accepted), { status: 'accepted', receiverClientId: nanguanCdc.id });
    const first = seen.contacts[0]!;
    const other = await w.contactAct(draft.id, first.id, 'reach', otherNanguanCdc);
    t.equal(other.statusCode, 409, 'another CDC client may not report on it');
    t.match(json<ProblemBody>(other), { type: '/problems/conflict', receiverClientId: nanguanCdc.id });

    const early = await w.act(draft.id, 'close', nanguanCdc);
    t.equal(early.statusCode, 409);
    t.match(json<ProblemBody>(early), { openContacts: 6 });

    const from = today();
    const to = addDays(from, 13);
    for (const c of seen.contacts) {
      const reached = await w.contactAct(draft.id, c.id, 'reach', nanguanCdc, { note: '电话已联系' });
      t.equal(reached.statusCode, 200, reached.body);
      const kind = c.relation === 'household' ? 'home' : 'centralised';
      const quarantined = await w.contactAct(draft.id, c.id, 'quarantine', nanguanCdc, {
        kind,
        from,
        to,
        ...(kind === 'centralised' && { place: '南关区集中隔离点' }),
      });
      t.equal(quarantined.statusCode, 200, quarantined.body);
      const now = byName(json<Handoff>(quarantined)).get(c.name)!;
      t.match(now, { status: 'quarantined', quarantineKind: kind, quarantineFrom: from, quarantineTo: to });
    }
    const midway = await w.handoff(draft.id, nanguanCivil);
    t.match(midway.contactCounts, { quarantined: 6, pending: 0 });

    for (const c of seen.contacts) {
      const released = await w.contactAct(draft.id, c.id, 'release', nanguanCdc, {});
      t.equal(released.statusCode, 200, released.body);
    }
    const again = await w.contactAct(draft.id, first.id, 'release', nanguanCdc, {});
    t.match(json<ProblemBody>(again), { status: 409, currentState: 'released' });

    const closed = await w.act(draft.id, 'close', nanguanCdc, { note: '全部解除' });
    t.equal(closed.statusCode, 200, closed.body);
    const done = json<Handoff>(closed);
    t.match(done, { status: 'closed', contactCounts: { released: 6 } });
    t.same(
      done.contacts.map((c: Contact) => [c.status, c.releasedOn]),
      done.contacts.map(() => ['released', today()]),
    );
    const actions = done.steps.map((s) => s.action);
    t.same(actions.slice(0, 3), ['drafted', 'sent', 'accepted']);
    t.equal(actions.filter((a) => a === 'quarantined').length, 6);
    t.equal(actions.at(-1), 'closed');
  });

  t.test('the events reach the district’s CDC, by feed and webhook, and nobody else', async (t) => {
    const subject = `contact_handoff/${draft.id}`;
    const cdcFeed = (await w.feed(nanguanCdc)).filter((e) => e.subject === subject);
    const types = cdcFeed.map((e) => e.type);
    t.same(types.slice(0, 2), ['contact_handoff.sent', 'contact_handoff.accepted'], 'no draft event for the CDC');
    t.same(
      types.filter((x) => x.startsWith('handoff_contact.')).length,
      18,
      'reached, quarantined and released for each of six',
    );
    t.equal(types.at(-1), 'contact_handoff.closed');
    const civilFeed = (await w.feed(nanguanCivil)).filter((e) => e.subject === subject);
    t.equal(civilFeed[0]!.type, 'contact_handoff.drafted', 'civil affairs sees the draft’s event');
    t.same(
      civilFeed.map((e) => e.subjectSeq),
      civilFeed.map((_, i) => i + 1),
      'one sequence, no gaps',
    );
    for (const [name, who] of Object.entries({
      kuanchengCdc,
      finance,
      nanguanHealth,
      otherDistrictCivil: w.kuanchengCivil,
    })) {
      t.same(await w.feed(who), [], `${name} sees none of it`);
    }
    const quarantined = cdcFeed.find((e) => e.type === 'handoff_contact.quarantined')!;
    t.match(quarantined.data, {
      handoffId: draft.id,
      casePersonId: grandpa.id,
      region: '220102001',
      contactStatus: 'quarantined',
      quarantineKind: /home|centralised/,
      contacts: 6,
    });
    const text = JSON.stringify(civilFeed);
    for (const secret of ['王大爷', '李奶奶', '13700001111', '13600002222', '刘社工']) {
      t.notOk(text.includes(secret), `no event carries ${secret}`);
    }

    let sent = 0;
    for (let i = 0; i < 20; i++) {
      const n = await app.services.webhooks.drain();
      if (n === 0) break;
      sent += n;
    }
    t.ok(sent > 0);
    t.same(
      hooks
        .at('/nanguan-cdc')
        .filter((e) => e.subject === subject)
        .sort((a, b) => a.subjectSeq - b.subjectSeq)
        .map((e) => e.type),
      types,
      'the CDC’s webhook gets what its feed shows',
    );
    t.same(hooks.at('/kuancheng-cdc'), [], 'another district’s CDC gets nothing');
    t.same(hooks.at('/finance'), [], 'finance gets nothing');
    t.same(hooks.at('/health'), [], 'health without contacts:read gets nothing');
  });
});
