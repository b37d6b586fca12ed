import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { addDays, businessDateOf } from '../../../src/modules/registry/dates.js';
import { households, persons } from '../../../src/modules/registry/people.tables.js';
import { freshDatabase, json, onPostgres, testApp, type TestClient } from '../../helpers.js';

interface Assistance {
  id: string;
  personId: string;
  region: string;
  hukouRegion: string | null;
  nonLocal: boolean;
  policyId: string | null;
  strandedReason: string | null;
  infectionStatus: string | null;
  status: string;
  cashFen: number;
  inKind: { item: string; quantity: number; unit: string }[];
  grantedAt: string | null;
  paperworkDueDate: string | null;
  paperworkOverdue: boolean;
  paperworkOnTime: boolean | null;
  closedReason: string | null;
}

interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  existingGrant?: { region: string; grantedAt: string; policyId: string; id?: string };
  errors?: { in: string; pointer: string; detail: string }[];
}

interface FeedEvent {
  type: string;
  subject: string;
  region: string;
  data: Record<string, unknown>;
}

const today = businessDateOf(new Date());
const masks = { item: 'surgical masks', quantity: 30, unit: 'piece' };

/** A one-person household written straight into the registry's tables. */
async function personFixture(app: FastifyInstance, input: { region: string; hukouRegion: string; name: string }) {
  const db = app.database.db;
  const [household] = await db
    .insert(households)
    .values({ region: input.region, hukouRegion: input.hukouRegion })
    .returning();
  const unique = randomUUID();
  const [person] = await db
    .insert(persons)
    .values({
      householdId: household!.id,
      relationship: 'head',
      name: input.name,
      idType: 'resident_id',
      idNumberSealed: `sealed-${unique}`,
      idNumberIndex: `index-${unique}`,
      idNumberMasked: '220182********000X',
      sealedKeyId: 'test-key',
      region: input.region,
      hukouRegion: input.hukouRegion,
    })
    .returning();
  return person!;
}

t.test('temporary assistance', async (t) => {
  const database = await freshDatabase(t);
  const { app, admin, client } = await testApp(t, { database });
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const db = app.database.db;

  // Stranded in Nanguan, hukou in Yushu (220182).
  const stranded = await personFixture(app, { region: '220102', hukouRegion: '220182', name: 'Zhang Wei' });
  const local = await personFixture(app, { region: '220102003', hukouRegion: '220102', name: 'Liu Fang' });

  const grant = (payload: Record<string, unknown>, who: TestClient = nanguan) =>
    app.inject({ method: 'POST', url: '/v1/temporary-assistance', headers: who.headers, payload });
  const act = (id: string, action: string, payload: Record<string, unknown>, who = nanguan, ifMatch?: string) =>
    app.inject({
      method: 'POST',
      url: `/v1/temporary-assistance/${id}/${action}`,
      headers: { ...who.headers, ...(ifMatch && { 'if-match': ifMatch }) },
      payload,
    });
  const get = (url: string, who: TestClient = nanguan) => app.inject({ method: 'GET', url, headers: who.headers });
  const list = async (query: string, who: TestClient = nanguan) =>
    json<{ items: Assistance[]; nextCursor: string | null }>(await get(`/v1/temporary-assistance?${query}`, who));
  const count = async () =>
    Number((await rows<{ n: string }>(db, sql`select count(*) as n from temporary_assistance`))[0]!.n);
  const strandedGrant = {
    personId: stranded.id,
    region: '220102',
    cashFen: 100_000,
    inKind: [masks],
    reason: 'Visiting his daughter when the city closed; confirmed infected, out of money',
    strandedReason: 'family_visit',
    infectionStatus: 'confirmed',
  };

  t.test('normal rules: no standard, no policy', async (t) => {
    const noStandard = await grant({ personId: local.id, cashFen: 10_000, reason: 'Lost income' });
    t.equal(noStandard.statusCode, 422);
    t.match(json<ProblemBody>(noStandard).detail, /No temporary_assistance standard is in force for region 220102003/);

    const inKind = await grant({ personId: local.id, inKind: [masks], reason: 'No masks' });
    t.equal(inKind.statusCode, 201, inKind.body);
    t.match(json<Assistance>(inKind), {
      region: '220102003',
      status: 'granted',
      policyId: null,
      nonLocal: false,
      paperworkDueDate: addDays(today, 5),
    });
    // Without an emergency policy there is no emergency to key "once" on: each grant stands alone.
    t.equal((await grant({ personId: local.id, inKind: [masks], reason: 'More masks' })).statusCode, 201);

    const before = await count();
    const nonLocal = await grant({ ...strandedGrant, cashFen: 0 });
    t.equal(nonLocal.statusCode, 422);
    t.match(json<ProblemBody>(nonLocal), {
      type: '/problems/unprocessable-request',
      detail: /hukou is in 220182.*granted where the hukou is/,
      hukouRegion: '220182',
    });
    t.equal(await count(), before, 'nothing written');
  });

  let policyId = '';
  t.test('a city standard and a hukou-relaxing emergency policy', async (t) => {
    const standard = await app.inject({
      method: 'POST',
      url: '/v1/programs/temporary_assistance/standards',
      headers: admin.headers,
      payload: { region: '2201', effectiveFrom: addDays(today, -30), monthlyStandardFen: 200_000 },
    });
    t.equal(standard.statusCode, 201, standard.body);
    const policy = await app.services.policies.create(
      { jurisdiction: '2201' },
      { clientId: null, agency: null, requestId: 'test' },
      { name: 'Epidemic response', region: '2201', effectiveFrom: addDays(today, -10), hukouRelaxed: true },
    );
    policyId = policy.id;
  });

  t.test('bad bodies and broken rules: 400 naming the fields, nothing written', async (t) => {
    const before = await count();
    const malformed = await grant({
      personId: 'someone',
      region: '22010',
      cashFen: -5,
      inKind: [{ item: '', quantity: 0, unit: 'box' }],
      strandedReason: 'holiday',
      extra: true,
    });
    t.equal(malformed.statusCode, 400);
    const pointers = json<ProblemBody>(malformed).errors!.map((e) => e.pointer);
    for (const p of [
      '/personId',
      '/region',
      '/cashFen',
      '/inKind/0/item',
      '/inKind/0/quantity',
      '/strandedReason',
      '/reason',
    ]) {
      t.ok(pointers.includes(p), `names ${p}`);
    }

    const withoutWhy: Record<string, unknown> = { ...strandedGrant };
    delete withoutWhy.strandedReason;
    delete withoutWhy.infectionStatus;
    const missing = await grant(withoutWhy);
    t.equal(missing.statusCode, 400);
    t.same(
      json<ProblemBody>(missing).errors!.map((e) => e.pointer),
      ['/strandedReason', '/infectionStatus'],
    );

    const tooMuch = await grant({ ...strandedGrant, cashFen: 200_001 });
    t.equal(tooMuch.statusCode, 400);
    t.match(json<ProblemBody>(tooMuch).errors, [{ pointer: '/cashFen', detail: /must not exceed 200000 fen/ }]);

    const nothing = await grant({ ...strandedGrant, cashFen: 0, inKind: [] });
    t.match(json<ProblemBody>(nothing).errors, [{ pointer: '/cashFen', detail: /or at least one in-kind item/ }]);

    const elsewhere = await grant({ ...strandedGrant, region: '220104' });
    t.equal(elsewhere.statusCode, 400);
    t.match(json<ProblemBody>(elsewhere).errors, [{ pointer: '/region', detail: /outside your jurisdiction/ }]);
    const unknownRegion = await grant({ ...strandedGrant, region: '220199' });
    t.match(json<ProblemBody>(unknownRegion).errors, [{ pointer: '/region', detail: /not a region code/ }]);

    t.equal((await grant({ ...strandedGrant, personId: randomUUID() })).statusCode, 404);
    t.equal(await count(), before, 'nothing written');
  });

  let first: Assistance;
  t.test('a stranded non-local infected person granted aid at the place of emergency', async (t) => {
    const res = await grant(strandedGrant);
    t.equal(res.statusCode, 201, res.body);
    first = json<Assistance>(res);
    t.match(first, {
      personId: stranded.id,
      region: '220102',
      hukouRegion: '220182',
      nonLocal: true,
      policyId,
      strandedReason: 'family_visit',
      infectionStatus: 'confirmed',
      status: 'granted',
      cashFen: 100_000,
      inKind: [masks],
      paperworkDueDate: addDays(today, 5),
      paperworkOverdue: false,
    });
    t.equal(businessDateOf(new Date(first.grantedAt!)), today);

    await app.services.events.sequence();
    const feed = json<{ items: FeedEvent[] }>(await get('/v1/events?after=0&types=temporary_assistance.granted'));
    t.match(
      feed.items.find((e) => e.subject === `temporary_assistance/${first.id}`),
      {
        region: '220102',
        data: {
          personId: stranded.id,
          cashFen: 100_000,
          inKind: [masks],
          policyId,
          paperworkDueDate: addDays(today, 5),
        },
      },
    );
  });

  t.test('the second attempt elsewhere is refused, saying where and when', async (t) => {
    const before = await count();
    const res = await grant({ ...strandedGrant, region: '220104', cashFen: 50_000 }, chaoyang);
    t.equal(res.statusCode, 409);
    const problem = json<ProblemBody>(res);
    t.equal(problem.type, '/problems/conflict');
    t.match(problem.detail, /region 220102 at /);
    t.same(problem.existingGrant, { region: '220102', grantedAt: first.grantedAt, policyId });
    t.notOk(problem.detail.includes(first.id), 'the other district’s grant id stays hidden');

    const again = await grant(strandedGrant);
    t.equal(again.statusCode, 409);
    t.equal(json<ProblemBody>(again).existingGrant!.id, first.id, 'the same district sees which grant');
    t.equal(await count(), before, 'nothing written');
  });

  t.test('jurisdiction, states and versions', async (t) => {
    t.equal((await get(`/v1/temporary-assistance/${first.id}`, chaoyang)).statusCode, 404);
    t.equal((await act(first.id, 'complete', {}, chaoyang)).statusCode, 404);
    t.equal((await get(`/v1/temporary-assistance/${randomUUID()}`)).statusCode, 404);
    const read = await get(`/v1/temporary-assistance/${first.id}`);
    t.equal(read.statusCode, 200);
    t.equal(read.headers.etag, `"${first.id}.1"`);

    const refuse = await act(first.id, 'refuse', { reason: 'changed my mind' });
    t.equal(refuse.statusCode, 409);
    t.match(json<ProblemBody>(refuse), { type: '/problems/invalid-state', currentState: 'granted' });
    t.equal((await act(first.id, 'complete', {}, nanguan, `"${first.id}.7"`)).statusCode, 412);
    t.equal((await act(first.id, 'cancel', {})).statusCode, 400, 'cancel needs a reason');

    const done = await act(first.id, 'complete', { notes: 'Application form signed' }, nanguan, `"${first.id}.1"`);
    t.equal(done.statusCode, 200, done.body);
    t.match(json<Assistance>(done), {
      status: 'completed',
      paperworkOnTime: true,
      closedReason: 'Application form signed',
    });
    const cancel = await act(first.id, 'cancel', { reason: 'error' });
    t.match(json<ProblemBody>(cancel), { status: 409, currentState: 'completed' });
    t.equal((await grant({ ...strandedGrant, region: '220104' }, chaoyang)).statusCode, 409, 'completed still counts');

    const mistaken = json<Assistance>(await grant({ personId: local.id, cashFen: 20_000, reason: 'Lost income' }));
    t.equal(mistaken.policyId, policyId);
    const cancelled = await act(mistaken.id, 'cancel', { reason: 'Granted to the wrong person' });
    t.match(json<Assistance>(cancelled), { status: 'cancelled', closedReason: 'Granted to the wrong person' });
    const regrant = await grant({ personId: local.id, cashFen: 20_000, reason: 'Lost income' });
    t.equal(regrant.statusCode, 201, 'a cancelled grant does not count');
  });

  t.test('lists filter, page and find overdue paperwork', async (t) => {
    const mine = await list('limit=500');
    t.equal(mine.items.length, 5);
    t.same(await list('limit=500', chaoyang), { items: [], nextCursor: null });
    t.same(
      (await list(`personId=${stranded.id}`)).items.map((a) => a.status),
      ['completed'],
    );
    t.equal((await list('status=granted')).items.length, 3);
    t.equal((await list('region=220102003')).items.length, 4);

    const [late] = (await list('status=granted&limit=1')).items;
    await db.execute(
      sql`update temporary_assistance set paperwork_due_date = ${addDays(today, -1)}::date where id = ${late!.id}`,
    );
    const overdue = await list('overduePaperwork=true');
    t.same(
      overdue.items.map((a) => [a.id, a.paperworkOverdue]),
      [[late!.id, true]],
    );
    t.equal((await list('overduePaperwork=false&limit=500')).items.length, 4);
    const done = await act(late!.id, 'complete', {});
    t.equal(json<Assistance>(done).paperworkOnTime, false, 'completed late');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    t.same(
      seen,
      mine.items.map((a) => a.id),
    );
  });

  t.test(
    'two districts grant at once: exactly one succeeds',
    { skip: !onPostgres && 'needs PostgreSQL' },
    async (t) => {
      const traveller = await personFixture(app, { region: '220182', hukouRegion: '220182', name: 'Chen Jie' });
      const body = { ...strandedGrant, personId: traveller.id, strandedReason: 'travel' };
      const answers = await Promise.all([grant(body, nanguan), grant({ ...body, region: '220104' }, chaoyang)]);
      t.same(answers.map((r) => r.statusCode).sort(), [201, 409], answers.map((r) => r.body).join('\n'));
      const refused = json<ProblemBody>(answers.find((r) => r.statusCode === 409)!);
      t.equal(refused.type, '/problems/conflict');
      t.ok(refused.existingGrant?.grantedAt);
      const granted = await rows<{ n: string }>(
        db,
        sql`select count(*) as n from temporary_assistance where person_id = ${traveller.id} and status = 'granted'`,
      );
      t.equal(Number(granted[0]!.n), 1);
    },
  );

  t.test(
    'the unique index stops a grant the check could not see',
    { skip: !onPostgres && 'needs PostgreSQL' },
    async (t) => {
      const traveller = await personFixture(app, { region: '220182', hukouRegion: '220182', name: 'Huang Min' });
      // Another district's grant, inserted but not yet committed: invisible to the API's check.
      const other = new pg.Client({ connectionString: database.url });
      await other.connect();
      t.teardown(() => other.end());
      await other.query('begin');
      await other.query(
        `insert into temporary_assistance (person_id, region, status, policy_id, cash_fen, granted_at, paperwork_due_date, non_local)
       values ($1, '220104', 'granted', $2, 1000, now(), $3, true)`,
        [traveller.id, policyId, addDays(today, 5)],
      );
      const answer = grant({ ...strandedGrant, personId: traveller.id });
      // Wait until the API's insert waits on the unique index, then let the other grant commit.
      for (let tries = 0; ; tries++) {
        const waiting = await rows<{ n: string }>(
          db,
          sql`select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'insert into "temporary_assistance"%'`,
        );
        if (Number(waiting[0]!.n) > 0) break;
        if (tries > 500) throw new Error('the grant never waited on the index');
        await new Promise((r) => setTimeout(r, 10));
      }
      await other.query('commit');
      const res = await answer;
      t.equal(res.statusCode, 409, res.body);
      const problem = json<ProblemBody>(res);
      t.match(problem, {
        type: '/problems/conflict',
        detail: /region 220104/,
        existingGrant: { region: '220104', policyId },
      });
      t.notOk(problem.existingGrant?.id, 'outside the jurisdiction: no id');
    },
  );
});
