import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { households, persons } from '../../../src/modules/registry/people.tables.js';
import { addDays, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp, type TestClient } from '../../helpers.js';
import type { FastifyInstance } from 'fastify';

interface Contact {
  id: string;
  householdId: string | null;
  personId: string | null;
  region: string;
  contactedAt: string;
  channel: string;
  outcome: string;
  needs: string[];
  notes: string | null;
  caseworker: string;
  temporaryAssistanceId: string | null;
}

interface Assistance {
  id: string;
  personId: string;
  householdId: string | null;
  region: string;
  status: string;
  needs: string[];
  cashFen: number;
  inKind: { item: string; quantity: number; unit: string }[];
  welfareContactId: string | null;
  grantedAt: string | null;
  paperworkDueDate: string | null;
  paperworkOnTime: boolean | null;
  policyId: string | null;
  nonLocal: boolean;
}

interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  errors?: { in: string; pointer: string; detail: string }[];
}

interface FeedEvent {
  type: string;
  subject: string;
  region: string;
  data: Record<string, unknown>;
}

const today = businessDateOf(new Date());
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

/** A household and its members, written straight into the registry's tables. */
async function householdFixture(
  app: FastifyInstance,
  input: {
    region: string;
    hukouRegion?: string;
    members: { name: string; relationship: string; hukouRegion?: string }[];
  },
) {
  const db = app.database.db;
  const [household] = await db
    .insert(households)
    .values({ region: input.region, hukouRegion: input.hukouRegion ?? input.region.slice(0, 6) })
    .returning();
  const members = [];
  for (const m of input.members) {
    const unique = randomUUID();
    const [person] = await db
      .insert(persons)
      .values({
        householdId: household!.id,
        relationship: m.relationship,
        name: m.name,
        idType: 'resident_id',
        idNumberSealed: `sealed-${unique}`,
        idNumberIndex: `index-${unique}`,
        idNumberMasked: '220102********000X',
        sealedKeyId: 'test-key',
        region: input.region,
        hukouRegion: m.hukouRegion ?? null,
      })
      .returning();
    members.push(person!);
  }
  return { household: household!, members };
}

t.test('welfare contacts', async (t) => {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const health = await client('health');
  const db = app.database.db;

  const standard = await app.inject({
    method: 'POST',
    url: '/v1/programs/temporary_assistance/standards',
    headers: admin.headers,
    payload: { region: '2201', effectiveFrom: addDays(today, -30), monthlyStandardFen: 300_000 },
  });
  t.equal(standard.statusCode, 201, standard.body);

  const { household: dibao, members } = await householdFixture(app, {
    region: '220102001',
    members: [
      { name: 'Li Guifen', relationship: 'head' },
      { name: 'Zhao Ming', relationship: 'spouse' },
    ],
  });
  const [head, spouse] = members as [(typeof members)[0], (typeof members)[0]];

  const record = (payload: Record<string, unknown>, who: TestClient = nanguan) =>
    app.inject({ method: 'POST', url: '/v1/welfare-contacts', headers: who.headers, payload });
  const get = (url: string, who: TestClient = nanguan) => app.inject({ method: 'GET', url, headers: who.headers });
  const count = async (table: 'welfare_contacts' | 'temporary_assistance') =>
    Number((await rows<{ n: string }>(db, sql`select count(*) as n from ${sql.identifier(table)}`))[0]!.n);
  const feed = async (who: TestClient, types: string) => {
    await app.services.events.sequence();
    const res = await get(`/v1/events?after=0&types=${types}&limit=500`, who);
    if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`);
    return json<{ items: FeedEvent[] }>(res).items;
  };

  t.test('a contact finds hardship → grant the same day', async (t) => {
    const contactedAt = minutesAgo(5);
    const res = await record({
      householdId: dibao.id,
      contactedAt,
      channel: 'phone',
      outcome: 'hardship',
      needs: ['food', 'protective_items'],
      notes: 'Out of rice; no masks to go shopping',
      caseworker: 'Wang Li',
    });
    t.equal(res.statusCode, 201, res.body);
    const contact = json<Contact>(res);
    t.match(contact, {
      householdId: dibao.id,
      personId: null,
      region: '220102001',
      outcome: 'hardship',
      needs: ['food', 'protective_items'],
      caseworker: 'Wang Li',
    });
    t.ok(contact.temporaryAssistanceId, 'hardship opened temporary assistance');
    t.equal(res.headers.location, `/v1/welfare-contacts/${contact.id}`);

    const opened = await get(`/v1/temporary-assistance/${contact.temporaryAssistanceId}`);
    t.equal(opened.statusCode, 200, opened.body);
    t.match(json<Assistance>(opened), {
      status: 'opened',
      personId: head.id,
      householdId: dibao.id,
      region: '220102001',
      needs: ['food', 'protective_items'],
      welfareContactId: contact.id,
      grantedAt: null,
      cashFen: 0,
    });

    const granted = await app.inject({
      method: 'POST',
      url: `/v1/temporary-assistance/${contact.temporaryAssistanceId}/grant`,
      headers: { ...nanguan.headers, 'if-match': opened.headers.etag as string },
      payload: { cashFen: 80_000, inKind: [{ item: 'surgical masks', quantity: 50, unit: 'piece' }] },
    });
    t.equal(granted.statusCode, 200, granted.body);
    const grant = json<Assistance>(granted);
    t.match(grant, {
      status: 'granted',
      cashFen: 80_000,
      inKind: [{ item: 'surgical masks', quantity: 50, unit: 'piece' }],
      paperworkDueDate: addDays(today, 5),
      policyId: null,
      nonLocal: false,
    });
    t.equal(businessDateOf(new Date(grant.grantedAt!)), businessDateOf(new Date(contactedAt)), 'granted the same day');

    const again = await app.inject({
      method: 'POST',
      url: `/v1/temporary-assistance/${grant.id}/grant`,
      headers: nanguan.headers,
      payload: { cashFen: 10_000 },
    });
    t.equal(again.statusCode, 409);
    t.match(json(again), { type: '/problems/invalid-state', currentState: 'granted' });

    const events = await feed(
      nanguan,
      'welfare_contact.recorded,temporary_assistance.opened,temporary_assistance.granted',
    );
    const ofThis = events.filter(
      (e) => e.subject === `welfare_contact/${contact.id}` || e.subject === `temporary_assistance/${grant.id}`,
    );
    t.same(
      ofThis.map((e) => e.type),
      ['temporary_assistance.opened', 'welfare_contact.recorded', 'temporary_assistance.granted'],
    );
    t.match(ofThis[1]!.data, {
      outcome: 'hardship',
      needs: ['food', 'protective_items'],
      temporaryAssistanceId: grant.id,
    });
    t.notOk('notes' in ofThis[1]!.data, 'no notes in the event');
    t.match(ofThis[2], {
      region: '220102001',
      data: {
        personId: head.id,
        cashFen: 80_000,
        inKind: [{ item: 'surgical masks', quantity: 50, unit: 'piece' }],
        policyId: null,
        paperworkDueDate: addDays(today, 5),
      },
    });
    t.same(await feed(chaoyang, 'temporary_assistance.granted'), [], 'another district does not see it');
  });

  t.test('symptoms are announced for a referral; fine opens nothing', async (t) => {
    const before = await count('temporary_assistance');
    const res = await record({
      householdId: dibao.id,
      personId: spouse.id,
      contactedAt: minutesAgo(1),
      channel: 'wechat',
      outcome: 'symptoms',
      caseworker: 'Wang Li',
    });
    t.equal(res.statusCode, 201, res.body);
    const contact = json<Contact>(res);
    t.equal(contact.temporaryAssistanceId, null);
    const fine = await record({
      personId: head.id,
      contactedAt: minutesAgo(0),
      channel: 'video',
      outcome: 'fine',
      caseworker: 'Wang Li',
    });
    t.equal(fine.statusCode, 201, fine.body);
    t.equal(json<Contact>(fine).region, '220102001', 'a person alone: their residence region');
    t.equal(await count('temporary_assistance'), before, 'no assistance opened');

    const reported = await feed(nanguan, 'welfare_contact.symptoms_reported');
    t.equal(reported.length, 1);
    t.match(reported[0], {
      subject: `welfare_contact/${contact.id}`,
      data: { personId: spouse.id, outcome: 'symptoms' },
    });
    const forHealth = await get('/v1/events?after=0&types=welfare_contact.symptoms_reported', health);
    t.same(json<{ items: unknown[] }>(forHealth).items, [], 'health learns through the referral, not the contact');
  });

  t.test('bad bodies: every field named, nothing written', async (t) => {
    const before = [await count('welfare_contacts'), await count('temporary_assistance')];
    const bad = await record({
      householdId: 'not-a-uuid',
      contactedAt: 'yesterday',
      channel: 'pigeon',
      outcome: 'hardship',
      needs: ['food', 'gold'],
      caseworker: '',
      extra: 1,
    });
    t.equal(bad.statusCode, 400);
    const pointers = json<ProblemBody>(bad).errors!.map((e) => e.pointer);
    for (const p of ['/householdId', '/contactedAt', '/channel', '/needs/1', '/caseworker']) {
      t.ok(pointers.includes(p), `names ${p}`);
    }

    const rules = await record({
      contactedAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      channel: 'phone',
      outcome: 'hardship',
      caseworker: 'Wang Li',
    });
    t.equal(rules.statusCode, 400);
    t.same(
      json<ProblemBody>(rules).errors!.map((e) => e.pointer),
      ['/householdId', '/needs', '/contactedAt'],
    );

    const stranger = await householdFixture(app, {
      region: '220102001',
      members: [{ name: 'Qian', relationship: 'head' }],
    });
    const notMember = await record({
      householdId: dibao.id,
      personId: stranger.members[0]!.id,
      contactedAt: minutesAgo(1),
      channel: 'phone',
      outcome: 'fine',
      caseworker: 'Wang Li',
    });
    t.equal(notMember.statusCode, 400);
    t.match(json<ProblemBody>(notMember).errors, [{ pointer: '/personId' }]);

    const headless = await householdFixture(app, {
      region: '220102001',
      members: [{ name: 'Sun', relationship: 'child' }],
    });
    const noHead = await record({
      householdId: headless.household.id,
      contactedAt: minutesAgo(1),
      channel: 'phone',
      outcome: 'hardship',
      needs: ['cash'],
      caseworker: 'Wang Li',
    });
    t.equal(noHead.statusCode, 400);
    t.match(json<ProblemBody>(noHead).errors, [{ pointer: '/personId', detail: /no head/ }]);
    t.same([await count('welfare_contacts'), await count('temporary_assistance')], before, 'nothing written');
  });

  t.test('outside the jurisdiction: 404, like missing', async (t) => {
    const before = await count('welfare_contacts');
    const body = {
      householdId: dibao.id,
      contactedAt: minutesAgo(1),
      channel: 'phone',
      outcome: 'fine',
      caseworker: 'Zhou',
    };
    t.equal((await record(body, chaoyang)).statusCode, 404);
    t.equal((await record({ ...body, householdId: randomUUID() })).statusCode, 404);
    const personOnly: Record<string, unknown> = { ...body };
    delete personOnly.householdId;
    t.equal((await record({ ...personOnly, personId: head.id }, chaoyang)).statusCode, 404);
    t.equal(await count('welfare_contacts'), before);

    const [mine] = json<{ items: Contact[] }>(await get('/v1/welfare-contacts?limit=1')).items;
    t.equal((await get(`/v1/welfare-contacts/${mine!.id}`)).statusCode, 200);
    t.equal((await get(`/v1/welfare-contacts/${mine!.id}`, chaoyang)).statusCode, 404);
    t.same(json<{ items: Contact[] }>(await get('/v1/welfare-contacts', chaoyang)).items, []);
    t.same(json<{ items: Contact[] }>(await get('/v1/welfare-contacts?region=220104')).items, []);
  });

  t.test('lists filter and page newest first', async (t) => {
    const all = json<{ items: Contact[] }>(await get('/v1/welfare-contacts')).items;
    t.equal(all.length, 3);
    const times = all.map((c) => c.contactedAt);
    t.same(times, [...times].sort().reverse(), 'newest first');
    t.same(
      json<{ items: Contact[] }>(await get('/v1/welfare-contacts?outcome=hardship')).items.map((c) => c.outcome),
      ['hardship'],
    );
    t.equal(json<{ items: Contact[] }>(await get(`/v1/welfare-contacts?personId=${spouse.id}`)).items.length, 1);
    t.equal(json<{ items: Contact[] }>(await get(`/v1/welfare-contacts?householdId=${dibao.id}`)).items.length, 2);
    const from = encodeURIComponent(minutesAgo(3));
    t.equal(json<{ items: Contact[] }>(await get(`/v1/welfare-contacts?from=${from}`)).items.length, 2);
    t.equal(json<{ items: Contact[] }>(await get(`/v1/welfare-contacts?to=${from}`)).items.length, 1);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Contact[]; nextCursor: string | null } = json(
        await get(`/v1/welfare-contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
      );
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    t.same(
      seen,
      all.map((c) => c.id),
      'pages walk the same list',
    );
    t.equal((await get('/v1/welfare-contacts?cursor=nonsense')).statusCode, 400);
  });
});
