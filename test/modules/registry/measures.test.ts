// The measures of the policy notice that the registry serves (1, 2 and 6), walked end to end
// through HTTP as the agencies would: no fixtures written to the database behind the API's back.
import t from 'tap';
import { addDays, addMonths, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';
import { residentId } from './people.fixtures.js';

type Body = Record<string, unknown>;
const today = businessDateOf(new Date());

t.test('measures 1, 2 and 6 end to end', async (t) => {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const send = async (
    who: { headers: Record<string, string> },
    method: 'GET' | 'POST',
    url: string,
    payload?: Body,
  ) => {
    const res = await app.inject({ method, url, headers: who.headers, ...(payload && { payload }) });
    return { status: res.statusCode, body: json<Body>(res), etag: res.headers.etag };
  };

  // The rules: city standards, and the city's emergency response with every switch the registry reads.
  const standard = (program: string, body: Body) => send(admin, 'POST', `/v1/programs/${program}/standards`, body);
  t.equal(
    (
      await standard('dibao', {
        region: '2201',
        effectiveFrom: '2026-01-01',
        monthlyStandardFen: 72_000,
        assetMultiple: 24,
      })
    ).status,
    201,
  );
  t.equal(
    (
      await standard('temporary_assistance', {
        region: '2201',
        effectiveFrom: '2026-01-01',
        monthlyStandardFen: 300_000,
      })
    ).status,
    201,
  );
  const policy = await send(admin, 'POST', '/v1/policies', {
    name: 'Epidemic response',
    region: '2201',
    effectiveFrom: addDays(today, -30),
    fastTrack: true,
    decisionDeadlineDays: 5,
    reviewExtensionMonths: 3,
    hukouRelaxed: true,
  });
  t.equal(policy.status, 201);
  const policyId = policy.body.id as string;

  await t.test('measure 1: a contact finds hardship, aid is granted the same day', async (t) => {
    const household = await send(nanguan, 'POST', '/v1/households', {
      region: '220102001',
      address: 'Nanguan, building 3',
      hukouRegion: '220102',
      members: [
        {
          name: '王芳',
          relationship: 'head',
          idType: 'resident_id',
          idNumber: residentId('220102', '19580312', '024'),
          phone: '13804310001',
        },
        {
          name: '李强',
          relationship: 'spouse',
          idType: 'resident_id',
          idNumber: residentId('220102', '19560101', '013'),
        },
      ],
    });
    t.equal(household.status, 201);
    const contact = await send(nanguan, 'POST', '/v1/welfare-contacts', {
      householdId: household.body.id,
      contactedAt: new Date().toISOString(),
      channel: 'phone',
      outcome: 'hardship',
      needs: ['food', 'protective_items'],
      caseworker: 'Zhang Wei',
      notes: 'Lost income; out of masks',
    });
    t.equal(contact.status, 201);
    const assistanceId = contact.body.temporaryAssistanceId as string;
    t.ok(assistanceId, 'the hardship opened temporary assistance');
    const opened = await send(nanguan, 'GET', `/v1/temporary-assistance/${assistanceId}`);
    t.equal(opened.body.status, 'opened');
    const granted = await send(nanguan, 'POST', `/v1/temporary-assistance/${assistanceId}/grant`, {
      cashFen: 80_000,
      inKind: [{ item: 'masks', quantity: 20, unit: 'piece' }],
    });
    t.equal(granted.status, 200);
    t.equal(granted.body.status, 'granted');
    t.equal(businessDateOf(new Date(granted.body.grantedAt as string)), today, 'granted the same day');
    t.equal(granted.body.paperworkDueDate, addDays(today, 5), 'aid first, paperwork within five days');
    await app.services.events.sequence();
    const feed = await send(nanguan, 'GET', '/v1/events?limit=500&types=temporary_assistance.granted');
    t.match(feed.body.items, [{ type: 'temporary_assistance.granted', data: { cashFen: 80_000 } }]);
  });

  await t.test(
    'measure 2: a new dibao application is fast-tracked to an enrollment; its review is extended',
    async (t) => {
      const household = await send(nanguan, 'POST', '/v1/households', {
        region: '220102002',
        members: [
          {
            name: '赵敏',
            relationship: 'head',
            idType: 'resident_id',
            idNumber: residentId('220102', '19800520', '046'),
          },
          {
            name: '赵磊',
            relationship: 'child',
            idType: 'resident_id',
            idNumber: residentId('220102', '20100901', '035'),
          },
          {
            name: '赵丽',
            relationship: 'child',
            idType: 'resident_id',
            idNumber: residentId('220102', '20120202', '028'),
          },
        ],
      });
      t.equal(household.status, 201);
      const submitted = await send(nanguan, 'POST', '/v1/applications', {
        program: 'dibao',
        householdId: household.body.id,
        declaredMonthlyIncomeFen: 60_000,
      });
      t.equal(submitted.status, 201);
      t.match(submitted.body, {
        status: 'verifying',
        fastTrack: true,
        homeVisitRequired: false,
        policyId,
        decisionDueDate: addDays(today, 5),
      });
      const id = submitted.body.id as string;
      const at = new Date().toISOString();
      t.equal(
        (
          await send(nanguan, 'POST', `/v1/applications/${id}/phone-survey`, {
            by: 'Zhang Wei',
            at,
            findings: 'Mother alone with two children; no work since the lockdown',
          })
        ).status,
        200,
      );
      const verified = await send(nanguan, 'POST', `/v1/applications/${id}/verification`, {
        monthlyIncomeFen: 60_000,
        financialAssetsFen: 100_000,
        passed: true,
        rules: [{ rule: 'per_capita_income_below_standard', outcome: 'pass', detail: '20000 < 72000' }],
        source: 'manual',
      });
      t.equal(verified.status, 200);
      const approved = await send(nanguan, 'POST', `/v1/applications/${id}/approve`, {
        reasons: ['Income below the standard'],
      });
      t.equal(approved.status, 200);
      const enrollment = await send(nanguan, 'GET', `/v1/enrollments/${approved.body.enrollmentId as string}`);
      t.equal(enrollment.body.status, 'active');
      t.equal(enrollment.body.monthlyBenefitFen, (72_000 - 60_000 / 3) * 3, '(standard − per-capita income) × size');

      const due = addMonths(today, 12);
      const reviews = await send(nanguan, 'GET', `/v1/reviews?enrollmentId=${enrollment.body.id as string}`);
      t.match(reviews.body.items, [
        {
          dueDate: due,
          extendedDueDate: addMonths(due, 3),
          effectiveDueDate: addMonths(due, 3),
          extendedByPolicy: { id: policyId, months: 3 },
          enrollmentStatus: 'active',
        },
      ]);
    },
  );

  await t.test('a portal applies for a resident’s household described by its members', async (t) => {
    const portal = await client('portal');
    const members = [
      { name: '孙悦', relationship: 'head', idType: 'resident_id', idNumber: residentId('220102', '19750808', '051') },
      { name: '孙博', relationship: 'child', idType: 'resident_id', idNumber: residentId('220102', '20080305', '017') },
    ];
    const household = { region: '220102003', hukouRegion: '220102', members };
    const countPersons = async () =>
      ((await send(nanguan, 'GET', '/v1/persons?limit=500')).body.items as unknown[]).length;
    const before = await countPersons();
    const bad = await send(portal, 'POST', '/v1/applications', {
      program: 'dibao',
      household: { ...household, members: [{ ...members[0], idNumber: '220102197508080510' }, members[1]] },
    });
    t.equal(bad.status, 400);
    t.match(bad.body.errors, [{ pointer: '/household/members/0/idNumber' }]);
    t.equal(await countPersons(), before, 'nothing was written');

    const first = await send(portal, 'POST', '/v1/applications', { program: 'dibao', household });
    t.equal(first.status, 201);
    t.match(first.body, { channel: 'portal', status: 'verifying', fastTrack: true });
    t.equal(await countPersons(), before + 2, 'the household was registered with the application');
    t.notMatch(JSON.stringify(first.body), members[0]!.idNumber, 'no ID number in the answer');
    const again = await send(portal, 'POST', '/v1/applications', { program: 'price_subsidy', household });
    t.equal(again.status, 201);
    t.equal(again.body.householdId, first.body.householdId, 'the same members: the household registered before');
    const mixed = await send(portal, 'POST', '/v1/applications', {
      program: 'dibao',
      household: {
        ...household,
        members: [members[0], { name: '周新', relationship: 'spouse', idType: 'passport', idNumber: 'E12345678' }],
      },
    });
    t.equal(mixed.status, 409, 'partly registered: a caseworker reconciles');
    const both = await send(portal, 'POST', '/v1/applications', {
      program: 'dibao',
      household,
      householdId: first.body.householdId,
    });
    t.match(both.body.errors, [{ pointer: '/householdId' }]);

    // Each portal hears of its own applications only, and not of the caseworkers' events.
    await app.services.events.sequence();
    const seen = async (who: { headers: Record<string, string> }) =>
      ((await send(who, 'GET', '/v1/events?limit=500')).body.items as { type: string; data: Body }[]).filter((e) =>
        /^(application|portal_application|enrollment|review)\./.test(e.type),
      );
    const own = await seen(portal);
    t.same(
      own.map((e) => [e.type, e.data.applicationId, e.data.action]),
      [
        ['portal_application.changed', first.body.id, 'submitted'],
        ['portal_application.changed', again.body.id, 'submitted'],
      ],
    );
    t.same(await seen(await client('portal')), [], 'another portal hears nothing');
    t.ok(
      (await seen(nanguan)).some((e) => e.type === 'application.submitted' && e.data.applicationId === first.body.id),
      'caseworkers get the application events',
    );
  });

  await t.test(
    'measure 6: a stranded non-local infected person is aided where the emergency happened, once',
    async (t) => {
      const person = await send(nanguan, 'POST', '/v1/persons', {
        name: '陈静',
        idType: 'resident_id',
        idNumber: residentId('220182', '19900715', '062'),
        region: '220102',
        hukouRegion: '220182',
      });
      t.equal(person.status, 201);
      const grant = (who: typeof nanguan, region: string) =>
        send(who, 'POST', '/v1/temporary-assistance', {
          personId: person.body.id,
          region,
          cashFen: 150_000,
          reason: 'Confirmed while visiting her parents; cannot travel home to Yushu',
          strandedReason: 'family_visit',
          infectionStatus: 'confirmed',
        });
      const first = await grant(nanguan, '220102');
      t.equal(first.status, 201);
      t.match(first.body, { nonLocal: true, policyId, status: 'granted' });
      // Chaoyang declares its own response meanwhile: the same emergency, still one grant.
      const districtPolicy = await send(admin, 'POST', '/v1/policies', {
        name: 'Chaoyang lockdown',
        region: '220104',
        effectiveFrom: addDays(today, -3),
        hukouRelaxed: true,
      });
      t.equal(districtPolicy.status, 201);
      const second = await grant(chaoyang, '220104');
      t.equal(second.status, 409, 'the second attempt elsewhere is refused');
      t.match(second.body.existingGrant, { region: '220102', grantedAt: first.body.grantedAt });
      t.notOk((second.body.existingGrant as Body).id, 'the grant of another district is not named');
      t.match(second.body.detail, /220102/);
    },
  );
});
