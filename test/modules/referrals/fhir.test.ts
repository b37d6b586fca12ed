import t from 'tap';
import { businessDateOf } from '../../../src/modules/registry/dates.js';
import { problemsOf, type Resource } from '../../fhir.js';
import { json, testApp, type TestClient } from '../../helpers.js';
import { type Referral, referralWorld, registerHousehold } from './fixtures.js';

interface Bundle {
  resourceType: string;
  type: string;
  timestamp: string;
  entry: { fullUrl: string; resource: Resource }[];
}

t.test('a referral as a FHIR R4 Bundle', async (t) => {
  const test = await testApp(t);
  const { app } = test;
  const w = await referralWorld(test);
  const { nanguanCivil, nanguanHealth } = w;
  const household = await registerHousehold(app, nanguanCivil, '220102', '郑爷爷');
  const onsetDate = businessDateOf(new Date(Date.now() - 2 * 86_400_000));
  const r = json<Referral>(
    await w.report(nanguanCivil, {
      personId: household.members[0]!.id,
      origin: 'direct',
      symptoms: ['fever', 'cough'],
      symptomsText: '发热 38.9℃',
      onsetDate,
      locationKind: 'home',
      transportNeeded: true,
      reporterName: '刘社工',
    }),
  );
  const bundleOf = async (who: TestClient = nanguanHealth) => {
    const res = await w.get(`/v1/referrals/${r.id}/fhir`, who);
    t.equal(res.statusCode, 200, res.body);
    t.match(res.headers['content-type'], /^application\/fhir\+json/);
    return json<Bundle>(res);
  };
  const byType = (bundle: Bundle, type: string) => bundle.entry.filter((e) => e.resource.resourceType === type);
  const statuses = (bundle: Bundle) => [
    byType(bundle, 'ServiceRequest')[0]!.resource.status,
    byType(bundle, 'Task')[0]!.resource.status,
  ];

  t.test('is valid R4, whole and self-contained', async (t) => {
    const bundle = await bundleOf();
    t.same(problemsOf(bundle), [], 'the validator finds no error');
    t.match(bundle, { resourceType: 'Bundle', type: 'collection' });
    t.same(
      bundle.entry.map((e) => e.resource.resourceType),
      ['Patient', 'ServiceRequest', 'Task', 'Observation', 'Observation'],
    );
    const urls = new Set(bundle.entry.map((e) => e.fullUrl));
    t.equal(urls.size, bundle.entry.length, 'every fullUrl is unique');
    for (const e of bundle.entry) t.equal(e.fullUrl, `urn:uuid:${e.resource.id}`);
    const references = [...JSON.stringify(bundle).matchAll(/"reference":"([^"]+)"/g)].map((m) => m[1]!);
    t.ok(references.length >= 6);
    t.ok(
      references.every((ref) => urls.has(ref)),
      'every reference resolves inside the bundle',
    );
    const patient = byType(bundle, 'Patient')[0]!.resource;
    t.match(patient, { name: [{ text: '郑爷爷' }], gender: 'male', birthDate: '1948-03-07' });
    t.notOk('identifier' in patient, 'no identifier: the ID number is not the receivers’');
    t.match(patient.telecom, [{ system: 'phone', value: /^139\d{8}$/ }]);
    const observations = byType(bundle, 'Observation').map((e) => e.resource);
    t.match(observations, [
      { status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '386661006' }] } },
      { status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '49727002' }] } },
    ]);
    t.ok(observations.every((o) => o.effectiveDateTime === onsetDate));
    t.match(byType(bundle, 'ServiceRequest')[0]!.resource, {
      id: r.id,
      intent: 'order',
      subject: { reference: `urn:uuid:${household.members[0]!.id}` },
      reasonCode: [{ coding: [{ code: '386661006' }] }, { coding: [{ code: '49727002' }] }],
    });
    t.match(byType(bundle, 'Task')[0]!.resource, {
      intent: 'order',
      focus: { reference: `urn:uuid:${r.id}` },
      businessStatus: { text: 'reported' },
    });
    t.same(statuses(bundle), ['active', 'requested']);
    const again = await bundleOf();
    t.same({ ...again, timestamp: bundle.timestamp }, bundle, 'the same bundle on every read (ids are stable)');
  });

  t.test('the validator does catch a broken bundle', async (t) => {
    const bundle = await bundleOf();
    const task = byType(bundle, 'Task')[0]!.resource;
    task.status = 'reported';
    delete task.intent;
    byType(bundle, 'Observation')[0]!.resource.severity = 'high';
    byType(bundle, 'ServiceRequest')[0]!.resource.reasonCode = [];
    const found = problemsOf(bundle);
    t.match(
      found,
      [/Task\.status/, /Task\.intent/, /Observation\.severity/, /reasonCode: empty array/],
      found.join('\n'),
    );
  });

  t.test('follows the referral’s status to the end', async (t) => {
    t.equal((await w.act(r.id, 'acknowledge', nanguanHealth)).statusCode, 200);
    t.same(statuses(await bundleOf()), ['active', 'accepted']);
    await w.act(r.id, 'transfer', nanguanHealth, { hospital: '长春市传染病医院' });
    t.same(statuses(await bundleOf()), ['active', 'in-progress']);
    await w.act(r.id, 'confirm', nanguanHealth, {});
    const done = await bundleOf(nanguanCivil);
    t.same(problemsOf(done), []);
    t.same(statuses(done), ['completed', 'completed']);
    t.match(byType(done, 'Task')[0]!.resource.output, [
      { valueString: '长春市传染病医院' },
      { valueCodeableConcept: { coding: [{ code: 'confirmed' }] } },
    ]);
  });

  t.test('rejected and cancelled referrals are revoked requests', async (t) => {
    const other = await registerHousehold(app, nanguanCivil, '220102', '冯奶奶');
    const payload = {
      personId: other.members[0]!.id,
      origin: 'direct',
      symptomsText: '乏力',
      locationKind: 'hospital',
      reporterName: '刘社工',
    };
    const rejected = json<Referral>(await w.report(nanguanCivil, payload));
    await w.act(rejected.id, 'reject', nanguanHealth, { reason: '不属本辖区' });
    const cancelled = json<Referral>(await w.report(nanguanCivil, payload));
    await w.act(cancelled.id, 'cancel', nanguanCivil, { reason: '误报' });
    for (const [id, task] of [
      [rejected.id, 'rejected'],
      [cancelled.id, 'cancelled'],
    ] as const) {
      const bundle = json<Bundle>(await w.get(`/v1/referrals/${id}/fhir`, nanguanHealth));
      t.same(problemsOf(bundle), []);
      t.same(statuses(bundle), ['revoked', task]);
      t.equal(byType(bundle, 'Observation').length, 0, 'no coded symptom, no Observation');
    }
    t.equal((await w.get(`/v1/referrals/${r.id}/fhir`, w.kuanchengHealth)).statusCode, 404);
  });
});
