import t from 'tap';
import { addDays } from '../../../src/modules/registry/dates.js';
import { problemsOf, type Resource } from '../../fhir.js';
import { json, testApp, type TestClient } from '../../helpers.js';
import { contactWorld, dateDaysAgo, daysAgo, type Handoff, member, registerHousehold, today } from './fixtures.js';

interface Bundle {
  resourceType: string;
  type: string;
  meta: { tag: { code: string }[] };
  entry: { fullUrl: string; resource: Resource }[];
}

t.test('a handoff as a FHIR R4 Bundle', async (t) => {
  const test = await testApp(t);
  const { app } = test;
  const w = await contactWorld(test);
  const { nanguanCivil, nanguanCdc } = w;
  const home = await registerHousehold(app, nanguanCivil, '220102011', [
    member('杨大爷', 'head', '19460606', { scatteredExtremelyPoor: true }),
    member('杨奶奶', 'spouse', '19480808'),
  ]);
  const [head, spouse] = home.members;
  await w.visit(head!.id, {
    visitorName: '朱志愿者',
    visitorPhone: '13512345678',
    channel: 'in_person',
    visitedAt: daysAgo(2),
  });
  const opened = await w.post('/v1/contact-handoffs', nanguanCivil, { personId: head!.id, onsetDate: dateDaysAgo(1) });
  t.equal(opened.statusCode, 201, opened.body);
  const h = json<Handoff>(opened);
  for (const [action, who] of [
    ['send', nanguanCivil],
    ['accept', nanguanCdc],
  ] as const) {
    t.equal((await w.act(h.id, action, who)).statusCode, 200);
  }
  const wife = h.contacts.find((c) => c.personId === spouse!.id)!;
  const visitor = h.contacts.find((c) => c.name === '朱志愿者')!;
  const to = addDays(today(), 13);
  await w.contactAct(h.id, wife.id, 'quarantine', nanguanCdc, { kind: 'home', from: today(), to });

  const bundleOf = async (who: TestClient = nanguanCdc) => {
    const res = await w.get(`/v1/contact-handoffs/${h.id}/fhir`, who);
    t.equal(res.statusCode, 200, res.body);
    t.match(res.headers['content-type'], /^application\/fhir\+json/);
    return json<Bundle>(res);
  };
  const byType = (bundle: Bundle, type: string) =>
    bundle.entry.filter((e) => e.resource.resourceType === type).map((e) => e.resource);

  t.test('is valid R4, whole and self-contained', async (t) => {
    const bundle = await bundleOf();
    t.same(problemsOf(bundle), [], 'the validator finds no error');
    t.match(bundle, { resourceType: 'Bundle', type: 'collection', meta: { tag: [{ code: 'accepted' }] } });
    t.equal(byType(bundle, 'Patient').length, 3, 'the case and each contact');
    t.equal(byType(bundle, 'RelatedPerson').length, 2);
    t.equal(byType(bundle, 'Observation').length, 2);
    const urls = new Set(bundle.entry.map((e) => e.fullUrl));
    t.equal(urls.size, bundle.entry.length, 'every fullUrl is unique');
    const references = [...JSON.stringify(bundle).matchAll(/"reference":"([^"]+)"/g)].map((m) => m[1]!);
    t.ok(references.length >= 8);
    t.ok(
      references.every((ref) => urls.has(ref)),
      'every reference resolves inside the bundle',
    );
    const casePatient = byType(bundle, 'Patient').find((p) => p.id === head!.id)!;
    t.match(casePatient, { name: [{ text: '杨大爷' }], gender: 'male', birthDate: '1946-06-06' });
    t.notOk('identifier' in casePatient, 'no ID number for the CDC');
    const related = byType(bundle, 'RelatedPerson').find((r) => JSON.stringify(r.name).includes('杨奶奶'))!;
    t.match(related, {
      patient: { reference: `urn:uuid:${head!.id}` },
      relationship: [{ coding: [{ code: 'household' }] }],
    });
    const exposure = byType(bundle, 'Observation').find(
      (o) => o.subject && JSON.stringify(o.subject).includes(wife.id),
    )!;
    t.match(exposure, {
      status: 'final',
      focus: [{ reference: `urn:uuid:${head!.id}` }],
      effectivePeriod: { start: wife.firstContactDate, end: wife.lastContactDate },
      component: [
        { valueCodeableConcept: { coding: [{ code: 'quarantined' }] } },
        { valueCodeableConcept: { coding: [{ code: 'home' }] } },
        { valuePeriod: { start: today(), end: to } },
      ],
    });
    const visitorPatient = byType(bundle, 'Patient').find((p) => p.id === visitor.id)!;
    t.match(visitorPatient, { telecom: [{ value: '13512345678' }], gender: 'unknown' });
    t.notOk(JSON.stringify(bundle).includes('recipient'), 'nothing about assistance');
    const again = await bundleOf();
    t.same({ ...again, timestamp: null }, { ...bundle, timestamp: null }, 'stable ids on every read');
  });

  t.test('the validator does catch a broken bundle', async (t) => {
    const bundle = await bundleOf();
    const observation = byType(bundle, 'Observation')[0]!;
    observation.status = 'done';
    delete observation.code;
    byType(bundle, 'RelatedPerson')[0]!.relationship = [];
    const found = problemsOf(bundle);
    t.ok(
      found.some((m) => /Observation\.status/.test(m)),
      found.join('\n'),
    );
    t.ok(
      found.some((m) => /Observation\.code/.test(m)),
      found.join('\n'),
    );
    t.ok(
      found.some((m) => /relationship: empty array/.test(m)),
      found.join('\n'),
    );
  });

  t.test('removed contacts are left out; civil affairs without the phone sees no telecom', async (t) => {
    const added = await w.act(h.id, 'contacts', nanguanCivil, {
      relation: 'family',
      name: '杨二',
      phone: '13598765432',
      reason: '来访',
    });
    const extra = json<Handoff>(added).contacts.find((c) => c.name === '杨二')!;
    await w.contactAct(h.id, extra.id, 'remove', nanguanCivil, { reason: '登记有误' });
    const bundle = await bundleOf();
    t.same(problemsOf(bundle), []);
    t.notOk(JSON.stringify(bundle).includes('杨二'));
    const plain = await test.client('civil_affairs', {
      jurisdiction: '220102',
      scopes: ['contacts:read'],
    });
    const masked = await bundleOf(plain);
    t.notOk(JSON.stringify(masked).includes('13512345678'), 'a masked phone is no telecom');
  });
});
