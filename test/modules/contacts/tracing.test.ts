import t from 'tap';
import { addDays } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';
import {
  contactWorld,
  counts,
  dateDaysAgo,
  daysAgo,
  enrol,
  type Handoff,
  member,
  type ProblemBody,
  registerHousehold,
  today,
} from './fixtures.js';

t.test('handoffs opened directly, revised, revoked, and contacts who become cases', async (t) => {
  const test = await testApp(t);
  const { app } = test;
  const w = await contactWorld(test);
  const { nanguanCivil, nanguanCdc, kuanchengCivil, kuanchengCdc } = w;

  /** A case living with a working-age daughter (the household's only earner) and a grandson. */
  const family = async (region: string, name: string) =>
    registerHousehold(app, nanguanCivil, region, [
      member(name, 'head', '19520203', { scatteredExtremelyPoor: true }),
      member(`${name}的女儿`, 'child', '19880909'),
      member(`${name}的外孙`, 'grandchild', '20160101'),
    ]);
  const open = (personId: string, extra: Record<string, unknown> = {}) =>
    w.post('/v1/contact-handoffs', nanguanCivil, { personId, onsetDate: dateDaysAgo(2), ...extra });
  const opened = async (personId: string, extra: Record<string, unknown> = {}) => {
    const res = await open(personId, extra);
    if (res.statusCode !== 201) throw new Error(`opening answered ${res.statusCode}: ${res.body}`);
    return json<Handoff>(res);
  };
  const accepted = async (id: string) => {
    for (const [action, who] of [
      ['send', nanguanCivil],
      ['accept', nanguanCdc],
    ] as const) {
      const res = await w.act(id, action, who);
      if (res.statusCode !== 200) throw new Error(`${action} answered ${res.statusCode}: ${res.body}`);
    }
    return w.handoff(id, nanguanCdc);
  };

  t.test('bad input is refused whole, naming the field; other districts are not found', async (t) => {
    const home = await family('220102002', '周大爷');
    const head = home.members[0]!.id;
    const before = await counts(app);
    const future = await open(head, { onsetDate: addDays(today(), 1) });
    t.equal(future.statusCode, 400);
    t.match(json<ProblemBody>(future), {
      type: '/problems/validation-error',
      errors: [{ pointer: '/onsetDate', detail: /future/ }],
    });
    const order = await open(head, { confirmedOn: dateDaysAgo(3) });
    t.match(json<ProblemBody>(order).errors, [{ pointer: '/confirmedOn', detail: /before onsetDate/ }]);
    const unknown = await w.post('/v1/contact-handoffs', nanguanCivil, { personId: head, onset: today() });
    t.equal(unknown.statusCode, 400);
    t.ok(
      json<ProblemBody>(unknown).errors!.some((e) => e.pointer === '/onsetDate'),
      unknown.body,
    );
    const elsewhere = await w.post('/v1/contact-handoffs', kuanchengCivil, { personId: head, onsetDate: today() });
    t.equal(elsewhere.statusCode, 404, 'a person of another district is not found');
    t.equal((await w.post('/v1/contact-handoffs', nanguanCdc, { personId: head, onsetDate: today() })).statusCode, 403);
    t.same(await counts(app), before, 'nothing written');

    const h = await opened(head, { note: '疾控通知 2026-118 号' });
    t.match(h, { origin: 'direct', referralId: null, status: 'draft', note: '疾控通知 2026-118 号' });
    const twice = await open(head);
    t.equal(twice.statusCode, 409);
    t.match(json<ProblemBody>(twice), { openHandoffId: h.id });

    const after = await counts(app);
    const [daughter] = h.contacts;
    const wrongQuarantine = await w.contactAct(h.id, daughter!.id, 'quarantine', nanguanCdc, {
      kind: 'home',
      from: today(),
      to: today(),
    });
    t.equal(wrongQuarantine.statusCode, 404, 'a draft is not the CDC’s');
    const noName = await w.act(h.id, 'contacts', nanguanCivil, { relation: 'visit', reason: '邻居' });
    t.equal(noName.statusCode, 400);
    t.match(json<ProblemBody>(noName).errors, [{ pointer: '/name' }]);
    const badId = await w.act(h.id, 'contacts', nanguanCivil, {
      relation: 'family',
      name: '周二',
      idType: 'resident_id',
      idNumber: '220102199001011230',
      reason: '亲属来访',
    });
    t.match(json<ProblemBody>(badId).errors, [{ pointer: '/idNumber', detail: /check character/ }]);
    t.same(await counts(app), after, 'nothing written');
    for (const [url, who] of [
      [`/v1/contact-handoffs/${h.id}`, kuanchengCivil],
      [`/v1/contact-handoffs/${h.id}/fhir`, kuanchengCivil],
    ] as const) {
      t.equal((await w.get(url, who)).statusCode, 404, url);
    }
    t.equal((await w.act(h.id, 'send', kuanchengCivil)).statusCode, 404);
    t.equal((await w.act(h.id, 'revoke', nanguanCivil, { reason: '通知撤回' })).statusCode, 200);
    t.match(
      (await w.feed(nanguanCivil)).filter((e) => e.subject === `contact_handoff/${h.id}`).map((e) => e.type),
      ['contact_handoff.drafted', 'contact_handoff.discarded'],
    );
    t.same(await w.feed(nanguanCdc), [], 'a draft never sent never reaches the CDC');
  });

  t.test('the CDC rejects, civil affairs revises, adds and removes, then sends again', async (t) => {
    const home = await family('220102003', '吴大爷');
    const h = await opened(home.members[0]!.id);
    t.equal((await w.act(h.id, 'send', nanguanCivil)).statusCode, 200);
    const rejected = await w.act(h.id, 'reject', nanguanCdc, { reason: '缺少来访人员' });
    t.equal(rejected.statusCode, 200, rejected.body);
    t.match(json<Handoff>(rejected), { status: 'rejected', closedReason: '缺少来访人员' });
    t.equal((await w.act(h.id, 'accept', nanguanCdc)).statusCode, 409);
    t.equal((await w.act(h.id, 'reopen', nanguanCivil, { note: '补充来访人员' })).statusCode, 200);
    const neighbour = await w.act(h.id, 'contacts', nanguanCivil, {
      relation: 'visit',
      name: '郑邻居',
      phone: '13911112222',
      lastContactDate: dateDaysAgo(3),
      reason: '邻居每日送饭',
    });
    t.equal(neighbour.statusCode, 200, neighbour.body);
    const added = json<Handoff>(neighbour).contacts.find((c) => c.name === '郑邻居')!;
    t.match(added, { origin: 'added', relation: 'visit', phone: '13911112222', lastContactDate: dateDaysAgo(3) });
    const dup = await w.act(h.id, 'contacts', nanguanCivil, {
      relation: 'visit',
      name: '郑先生',
      phone: '139 1111 2222',
      reason: '同一人',
    });
    t.equal(dup.statusCode, 409, 'the same phone is the same person');
    t.match(json<ProblemBody>(dup), { existingContactId: added.id });
    const grandson = json<Handoff>(neighbour).contacts.find((c) => c.name.endsWith('外孙'))!;
    const removed = await w.contactAct(h.id, grandson.id, 'remove', nanguanCivil, { reason: '在外地上学，未接触' });
    t.equal(removed.statusCode, 200, removed.body);
    t.match(
      json<Handoff>(removed).contacts.find((c) => c.id === grandson.id),
      {
        status: 'removed',
        statusReason: '在外地上学，未接触',
      },
    );
    const resent = await w.act(h.id, 'send', nanguanCivil);
    t.equal(resent.statusCode, 200);
    t.equal((await w.act(h.id, 'accept', nanguanCdc)).statusCode, 200);

    const asked = await w.act(h.id, 'comments', nanguanCdc, { text: '郑邻居的住址？', contactId: added.id });
    t.equal(asked.statusCode, 200, asked.body);
    const answered = await w.act(h.id, 'comments', nanguanCivil, { text: '同楼 3 单元 502', contactId: added.id });
    t.match(json<Handoff>(answered).comments, [
      { text: '郑邻居的住址？', agency: 'cdc', contactId: added.id },
      { text: '同楼 3 单元 502', agency: 'civil_affairs' },
    ]);
    const types = (await w.feed(nanguanCdc)).filter((e) => e.subject === `contact_handoff/${h.id}`).map((e) => e.type);
    t.same(types, [
      'contact_handoff.sent',
      'contact_handoff.rejected',
      'contact_handoff.reopened',
      'contact_handoff.contact_added',
      'contact_handoff.contact_removed',
      'contact_handoff.sent',
      'contact_handoff.accepted',
      'contact_handoff.commented',
      'contact_handoff.commented',
    ]);
  });

  t.test('a revoked handoff', async (t) => {
    const home = await family('220102004', '冯大爷');
    const h = await accepted((await opened(home.members[0]!.id)).id);
    t.equal((await w.act(h.id, 'revoke', nanguanCdc, { reason: 'x' })).statusCode, 403, 'civil affairs revokes');
    const revoked = await w.act(h.id, 'revoke', nanguanCivil, { reason: '复核为假阳性' });
    t.equal(revoked.statusCode, 200, revoked.body);
    t.match(json<Handoff>(revoked), { status: 'revoked', closedReason: '复核为假阳性' });
    const late = await w.contactAct(h.id, h.contacts[0]!.id, 'reach', nanguanCdc);
    t.match(json<ProblemBody>(late), { status: 409, currentState: 'revoked' });
    const last = (await w.feed(nanguanCdc)).filter((e) => e.subject === `contact_handoff/${h.id}`).at(-1)!;
    t.match(last, { type: 'contact_handoff.revoked', data: { reason: '复核为假阳性', status: 'revoked' } });
    t.equal((await opened(home.members[0]!.id)).status, 'draft', 'the person may have a handoff again');
  });

  t.test('a contact who becomes a case opens a handoff of their own', async (t) => {
    const home = await family('220102005', '陈大爷');
    const [head, daughter] = home.members;
    const h = await accepted((await opened(head!.id)).id);
    const contact = h.contacts.find((c) => c.personId === daughter!.id)!;
    const outsider = await w.act(h.id, 'contacts', nanguanCivil, {
      relation: 'visit',
      name: '外卖员',
      phone: '13800001234',
      reason: '入户送餐',
    });
    const courier = json<Handoff>(outsider).contacts.find((c) => c.name === '外卖员')!;
    await w.contactAct(h.id, contact.id, 'quarantine', nanguanCdc, {
      kind: 'home',
      from: today(),
      to: addDays(today(), 13),
    });
    const became = await w.contactAct(h.id, contact.id, 'mark-case', nanguanCdc, { onsetDate: today() });
    t.equal(became.statusCode, 200, became.body);
    const marked = json<Handoff>(became).contacts.find((c) => c.id === contact.id)!;
    t.match(marked, { status: 'became_case', becameCaseOn: today(), nextHandoffId: /^[0-9a-f-]{36}$/ });
    const next = await w.handoff(marked.nextHandoffId!, nanguanCivil);
    t.match(next, {
      origin: 'contact',
      sourceContactId: contact.id,
      casePersonId: daughter!.id,
      status: 'draft',
      onsetDate: today(),
    });
    t.ok(
      next.contacts.some((c) => c.personId === head!.id && c.relation === 'household'),
      'her father, the first case, is a household contact of hers',
    );
    t.equal((await w.get(`/v1/contact-handoffs/${next.id}`, nanguanCdc)).statusCode, 404, 'a draft for civil affairs');
    const event = (await w.feed(nanguanCdc)).find((e) => e.type === 'handoff_contact.became_case')!;
    t.match(event.data, { contactId: contact.id, nextHandoffId: next.id, becameCaseOn: today() });

    const unknown = await w.contactAct(h.id, courier.id, 'mark-case', nanguanCdc, {});
    t.match(
      json<Handoff>(unknown).contacts.find((c) => c.id === courier.id),
      {
        status: 'became_case',
        nextHandoffId: null,
      },
    );
  });

  t.test('one person in several handoffs is one person, and the CDC sees the links', async (t) => {
    const first = await family('220102006', '褚大爷');
    const second = await family('220102007', '卫大爷');
    const visitor = { visitorName: '蒋志愿者', visitorPhone: '13722223333', channel: 'in_person' };
    await w.visit(first.members[0]!.id, { ...visitor, visitedAt: daysAgo(2) });
    await w.visit(second.members[0]!.id, { ...visitor, visitorName: '小蒋', visitedAt: daysAgo(1) });
    const a = await accepted((await opened(first.members[0]!.id)).id);
    const b = await accepted((await opened(second.members[0]!.id)).id);
    const inA = a.contacts.find((c) => c.phone === '13722223333')!;
    const inB = (await w.handoff(b.id, nanguanCdc)).contacts.find((c) => c.phone === '13722223333')!;
    t.match(inB, { name: '小蒋', relation: 'visit' });
    t.match(inB.otherHandoffs, [{ handoffId: a.id, contactId: inA.id, casePersonId: first.members[0]!.id }]);
    const aNow = await w.handoff(a.id, nanguanCdc);
    t.match(aNow.contacts.find((c) => c.id === inA.id)!.otherHandoffs, [{ handoffId: b.id, contactId: inB.id }]);
    t.same((await w.handoff(b.id, nanguanCivil)).contacts.find((c) => c.id === inB.id)!.otherHandoffs.length, 1);
    // A registry person added by ID number in one and found as a household member in the other.
    const daughter = first.members[1]!;
    const byId = await w.act(b.id, 'contacts', nanguanCivil, {
      relation: 'family',
      personId: daughter.id,
      lastContactDate: dateDaysAgo(1),
      reason: '来探望父亲',
    });
    t.equal(byId.statusCode, 200, byId.body);
    const added = json<Handoff>(byId).contacts.find((c) => c.personId === daughter.id)!;
    t.match(added.otherHandoffs, [{ handoffId: a.id, relation: 'household' }]);
    t.equal((await w.get(`/v1/contact-handoffs/${b.id}`, kuanchengCdc)).statusCode, 404);
  });

  t.test('quarantined recipients and earners are listed for support', async (t) => {
    const poor = await registerHousehold(app, nanguanCivil, '220102008', [
      member('蒋大爷', 'head', '19450101', { scatteredExtremelyPoor: true }),
      member('蒋奶奶', 'spouse', '19470202'),
    ]);
    await enrol(app, poor.id, '220102008');
    const earner = await family('220102009', '沈大爷');
    const h = await accepted((await opened(poor.members[0]!.id)).id);
    const grandma = h.contacts.find((c) => c.personId === poor.members[1]!.id)!;
    const added = await w.act(h.id, 'contacts', nanguanCivil, {
      relation: 'visit',
      personId: earner.members[1]!.id,
      lastContactDate: dateDaysAgo(1),
      reason: '送药',
    });
    const worker = json<Handoff>(added).contacts.find((c) => c.personId === earner.members[1]!.id)!;
    t.equal(worker.recipient, false);
    t.equal(grandma.recipient, null, 'the CDC is not told who receives assistance');
    const period = { from: today(), to: addDays(today(), 13) };
    for (const c of [grandma, worker]) {
      const res = await w.contactAct(h.id, c.id, 'quarantine', nanguanCdc, { kind: 'home', ...period });
      t.equal(res.statusCode, 200, res.body);
    }
    const bad = await w.contactAct(h.id, grandma.id, 'quarantine', nanguanCdc, {
      kind: 'home',
      from: today(),
      to: dateDaysAgo(1),
    });
    t.equal(bad.statusCode, 400);
    t.match(json<ProblemBody>(bad).errors, [{ pointer: '/to' }]);
    const list = await w.get('/v1/contact-handoffs/follow-up', nanguanCivil);
    t.equal(list.statusCode, 200, list.body);
    const items = json<{
      items: { personId: string; reasons: string[]; programs: string[]; openTemporaryAssistance: { href: string } }[];
    }>(list).items;
    t.match(
      items.find((i) => i.personId === poor.members[1]!.id),
      {
        reasons: ['recipient'],
        programs: ['dibao'],
        openTemporaryAssistance: { href: '/v1/temporary-assistance' },
      },
    );
    t.match(
      items.find((i) => i.personId === earner.members[1]!.id),
      { reasons: ['earner_quarantined'], programs: [] },
    );
    t.notOk(
      items.some((i) => i.personId === poor.members[0]!.id),
      'the case is not a contact',
    );
    t.equal((await w.get('/v1/contact-handoffs/follow-up', nanguanCdc)).statusCode, 403, 'civil affairs only');
    t.same(json<{ items: unknown[] }>(await w.get('/v1/contact-handoffs/follow-up', kuanchengCivil)).items, []);
  });

  t.test('an emergency policy sets the look-back window', async (t) => {
    const admin = await test.client('admin', { jurisdiction: '220102' });
    const policy = await w.post('/v1/policies', admin, {
      name: '南关区疫情应急',
      region: '220102',
      effectiveFrom: dateDaysAgo(30),
      contactLookBackDays: 2,
    });
    t.equal(policy.statusCode, 201, policy.body);
    const home = await family('220102010', '韩大爷');
    const head = home.members[0]!.id;
    await w.visit(head, { visitorName: '近期来访', channel: 'in_person', visitedAt: daysAgo(3) });
    await w.visit(head, { visitorName: '早先来访', channel: 'in_person', visitedAt: daysAgo(6) });
    const h = await opened(head, { onsetDate: dateDaysAgo(1) });
    t.match(h, { lookBackDays: 2, windowFrom: dateDaysAgo(3) });
    const names = h.contacts.map((c) => c.name);
    t.ok(names.includes('近期来访'));
    t.notOk(names.includes('早先来访'), 'outside the policy’s two days before onset');
  });
});
