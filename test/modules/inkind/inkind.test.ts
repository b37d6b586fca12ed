import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { addDays, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';
import { counts, type Distribution, inKindCalls, personFixture, type ProblemBody } from './fixtures.js';

interface FeedEvent {
  type: string;
  subject: string;
  region: string;
  data: Record<string, unknown>;
}

const today = businessDateOf(new Date());
const yesterdayAt = new Date(Date.now() - 24 * 3600_000).toISOString();
const yesterday = businessDateOf(new Date(yesterdayAt));

t.test('in-kind aid', async (t) => {
  const { app, admin, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const finance = await client('finance');
  const { post, get, receive, distribute, stock } = inKindCalls(app);
  const db = app.database.db;

  const local = await personFixture(app, { region: '220102003', hukouRegion: '220102', name: 'Liu Fang' });
  const neighbour = await personFixture(app, { region: '220102003', hukouRegion: '220102', name: 'Wang Lei' });
  const inChaoyang = await personFixture(app, { region: '220104', hukouRegion: '220104', name: 'Zhao Min' });

  t.test('the catalogue is kept by operators and read by those who hand aid out', async (t) => {
    const items = [
      { code: 'surgical_mask', name: 'Surgical mask', unit: 'piece' },
      { code: 'food_parcel', name: 'Food parcel', unit: 'parcel', description: 'Rice, oil, eggs for a week' },
      { code: 'protective_suit', name: 'Protective suit', unit: 'piece' },
      { code: 'gloves', name: 'Disposable gloves', unit: 'pair' },
    ];
    for (const item of items) {
      const res = await post('/v1/in-kind/items', admin, item);
      t.equal(res.statusCode, 201, res.body);
      t.equal(res.headers.location, `/v1/in-kind/items/${item.code}`);
    }
    t.equal((await post('/v1/in-kind/items', nanguan, { code: 'soap', name: 'Soap', unit: 'bar' })).statusCode, 403);
    const taken = await post('/v1/in-kind/items', admin, { code: 'gloves', name: 'Gloves', unit: 'box' });
    t.match(json<ProblemBody>(taken), { status: 409, type: '/problems/conflict' });
    const bad = await post('/v1/in-kind/items', admin, { code: 'N95 Mask', name: '', unit: 'piece', size: 'L' });
    t.equal(bad.statusCode, 400);
    t.same(
      json<ProblemBody>(bad)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/code', '/name', '/size'],
    );

    const list = json<{ items: { code: string }[]; nextCursor: string | null }>(
      await get('/v1/in-kind/items?limit=3', finance),
    );
    t.same(
      list.items.map((i) => i.code),
      ['food_parcel', 'gloves', 'protective_suit'],
    );
    const rest = json<{ items: { code: string }[] }>(await get(`/v1/in-kind/items?cursor=${list.nextCursor}`, nanguan));
    t.same(
      rest.items.map((i) => i.code),
      ['surgical_mask'],
    );

    const suit = await get('/v1/in-kind/items/protective_suit', nanguan);
    t.equal(suit.statusCode, 200);
    const etag = suit.headers.etag as string;
    const patch = (payload: Record<string, unknown>, ifMatch: string) =>
      app.inject({
        method: 'PATCH',
        url: '/v1/in-kind/items/protective_suit',
        headers: { ...admin.headers, 'if-match': ifMatch },
        payload,
      });
    t.equal((await patch({ active: false }, etag.replace('.1"', '.2"'))).statusCode, 412);
    const retired = await patch({ active: false }, etag);
    t.match(json(retired), { code: 'protective_suit', active: false, unit: 'piece' });
    t.equal((await patch({ unit: 'box' }, retired.headers.etag as string)).statusCode, 400, 'the unit never changes');
    t.same(
      json<{ items: { code: string }[] }>(await get('/v1/in-kind/items?active=true', nanguan)).items.map((i) => i.code),
      ['food_parcel', 'gloves', 'surgical_mask'],
    );
    t.equal((await get('/v1/in-kind/items/soap', nanguan)).statusCode, 404);
  });

  let receiptId = '';
  const delivery = {
    region: '220102',
    source: 'allocation',
    supplier: 'City civil affairs reserve',
    reference: 'DN-2026-0001',
    lines: [
      { itemCode: 'surgical_mask', quantity: 100 },
      { itemCode: 'food_parcel', quantity: 10 },
    ],
  };

  t.test('a receipt adds to the region’s stock, once per reference', async (t) => {
    const res = await receive(nanguan, delivery);
    t.equal(res.statusCode, 201, res.body);
    const receipt = json<{ id: string; lines: unknown[]; receivedAt: string }>(res);
    receiptId = receipt.id;
    t.equal(res.headers.location, `/v1/in-kind/receipts/${receiptId}`);
    t.same(receipt.lines, [
      { itemCode: 'food_parcel', itemName: 'Food parcel', unit: 'parcel', quantity: 10 },
      { itemCode: 'surgical_mask', itemName: 'Surgical mask', unit: 'piece', quantity: 100 },
    ]);
    t.match(Object.fromEntries(await stock(nanguan)), {
      '220102/food_parcel': { quantity: 10, received: 10, distributed: 0, unit: 'parcel' },
      '220102/surgical_mask': { quantity: 100, received: 100, distributed: 0 },
    });

    const before = await counts(app);
    const retry = await receive(nanguan, { ...delivery, lines: [...delivery.lines].reverse() });
    t.equal(retry.statusCode, 200, 'the same delivery again is answered, not added');
    t.equal(json<{ id: string }>(retry).id, receiptId);
    const clash = await receive(nanguan, { ...delivery, lines: [{ itemCode: 'surgical_mask', quantity: 1000 }] });
    t.match(json<ProblemBody>(clash), { status: 409, type: '/problems/conflict', existingReceiptId: receiptId });
    t.same(await counts(app), before, 'nothing added');
    t.equal((await stock(nanguan)).get('220102/surgical_mask')!.quantity, 100);

    // The same reference in another region is another delivery.
    const chaoyangDelivery = { ...delivery, region: '220104', lines: [{ itemCode: 'surgical_mask', quantity: 40 }] };
    t.equal((await receive(chaoyang, chaoyangDelivery)).statusCode, 201);
  });

  t.test('bad receipts: 400 naming every field, nothing written', async (t) => {
    const before = await counts(app);
    const res = await receive(nanguan, {
      region: '220104',
      source: 'gift',
      reference: '',
      lines: [{ itemCode: 'surgical_mask', quantity: 0 }],
    });
    t.equal(res.statusCode, 400);
    t.same(
      json<ProblemBody>(res)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/lines/0/quantity', '/reference', '/source'],
    );

    const ruled = await receive(nanguan, {
      ...delivery,
      region: '220104',
      reference: 'DN-2026-0002',
      receivedAt: new Date(Date.now() + 3600_000).toISOString(),
      lines: [
        { itemCode: 'surgical_mask', quantity: 5 },
        { itemCode: 'surgical_mask', quantity: 5 },
        { itemCode: 'hand_sanitiser', quantity: 5 },
        { itemCode: 'protective_suit', quantity: 5 },
      ],
    });
    t.equal(ruled.statusCode, 400);
    t.match(json<ProblemBody>(ruled).errors, [
      { pointer: '/region', detail: /outside your jurisdiction 220102/ },
      { pointer: '/receivedAt', detail: /future/ },
      { pointer: '/lines/1/itemCode', detail: /earlier line/ },
      { pointer: '/lines/2/itemCode', detail: /not in the catalogue/ },
      { pointer: '/lines/3/itemCode', detail: /retired/ },
    ]);
    const subdistrict = await receive(nanguan, { ...delivery, region: '220102999', reference: 'X' });
    t.equal(subdistrict.statusCode, 201, 'a subdistrict under a known district holds stock of its own');
    const nowhere = await receive(nanguan, { ...delivery, region: '229999', reference: 'Y' });
    t.match(json<ProblemBody>(nowhere).errors, [{ pointer: '/region', detail: /not a region code/ }]);
    const after = await counts(app);
    t.equal(after.receipts, before.receipts! + 1, 'only the good one');
  });

  let first: Distribution;
  t.test('a distribution takes from the stock', async (t) => {
    const res = await distribute(nanguan, {
      region: '220102',
      personId: local.id,
      lines: [
        { itemCode: 'surgical_mask', quantity: 30 },
        { itemCode: 'food_parcel', quantity: 2 },
      ],
      distributedAt: yesterdayAt,
      distributedBy: 'Caseworker Sun',
    });
    t.equal(res.statusCode, 201, res.body);
    first = json<Distribution>(res);
    t.match(first, {
      region: '220102',
      personId: local.id,
      householdId: local.householdId,
      temporaryAssistanceId: null,
      businessDate: yesterday,
      distributedBy: 'Caseworker Sun',
      lines: [
        { itemCode: 'food_parcel', quantity: 2, unit: 'parcel' },
        { itemCode: 'surgical_mask', quantity: 30 },
      ],
    });
    t.match(Object.fromEntries(await stock(nanguan, 'region=220102&')), {
      '220102/food_parcel': { quantity: 8, received: 10, distributed: 2 },
      '220102/surgical_mask': { quantity: 70, received: 100, distributed: 30 },
    });
    const read = await get(`/v1/in-kind/distributions/${first.id}`, nanguan);
    t.same(json(read), json(res));
  });

  t.test('a distribution beyond the stock is refused, naming the line, and nothing is written', async (t) => {
    const before = await counts(app);
    const res = await distribute(nanguan, {
      region: '220102',
      personId: neighbour.id,
      lines: [
        { itemCode: 'surgical_mask', quantity: 71 },
        { itemCode: 'food_parcel', quantity: 8 },
        { itemCode: 'gloves', quantity: 2 },
      ],
      distributedBy: 'Caseworker Sun',
    });
    t.equal(res.statusCode, 409, res.body);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    const problem = json<ProblemBody>(res);
    t.match(problem, { type: '/problems/conflict', detail: /Not enough in stock at 220102/ });
    t.same(
      problem.errors!.map((e) => e.pointer),
      ['/lines/0/quantity', '/lines/2/quantity'],
      'in the order of the lines',
    );
    t.match(
      problem.errors!.find((e) => e.pointer === '/lines/0/quantity'),
      { detail: '71 piece asked, 70 in stock at 220102' },
    );
    t.same(
      problem.shortages!.sort((a, b) => a.itemCode.localeCompare(b.itemCode)),
      [
        { itemCode: 'gloves', requested: 2, available: 0 },
        { itemCode: 'surgical_mask', requested: 71, available: 70 },
      ],
    );
    t.same(await counts(app), before, 'no distribution, no line, no stock change, no event, no audit row');
    t.match(Object.fromEntries(await stock(nanguan, 'region=220102&')), {
      '220102/food_parcel': { quantity: 8 },
      '220102/surgical_mask': { quantity: 70 },
    });

    const exactly = await distribute(nanguan, {
      region: '220102',
      personId: neighbour.id,
      lines: [{ itemCode: 'food_parcel', quantity: 8 }],
      distributedBy: 'Caseworker Sun',
    });
    t.equal(exactly.statusCode, 201, 'the last parcel can go');
    t.equal((await stock(nanguan)).get('220102/food_parcel')!.quantity, 0);
  });

  t.test('bad distributions: 400 naming the fields', async (t) => {
    const before = await counts(app);
    const res = await distribute(nanguan, {
      region: '2201',
      lines: [{ itemCode: 'soap', quantity: 1 }],
      distributedAt: new Date(Date.now() + 3600_000).toISOString(),
      distributedBy: 'Caseworker Sun',
    });
    t.equal(res.statusCode, 400);
    t.same(
      json<ProblemBody>(res).errors!.map((e) => e.pointer),
      ['/region', '/personId', '/distributedAt', '/lines/0/itemCode'],
    );
    const shape = await distribute(nanguan, { region: '220102', personId: 'x', lines: [], distributedBy: '' });
    t.same(
      json<ProblemBody>(shape)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/distributedBy', '/lines', '/personId'],
    );
    t.same(await counts(app), before);
  });

  t.test('jurisdiction: another district sees nothing and hands out nothing of ours', async (t) => {
    t.equal((await get(`/v1/in-kind/distributions/${first.id}`, chaoyang)).statusCode, 404);
    t.equal((await get(`/v1/in-kind/distributions/${randomUUID()}`, nanguan)).statusCode, 404);
    t.equal((await get(`/v1/in-kind/receipts/${receiptId}`, chaoyang)).statusCode, 404);
    t.equal((await get(`/v1/in-kind/receipts/${receiptId}`, nanguan)).statusCode, 200);
    t.same(
      json<{ items: unknown[] }>(await get('/v1/in-kind/distributions', chaoyang)).items,
      [],
      'no distributions of Nanguan listed',
    );
    t.same([...(await stock(chaoyang)).keys()], ['220104/surgical_mask']);
    t.same(json<{ items: unknown[] }>(await get('/v1/in-kind/stock?region=220102', chaoyang)).items, []);
    const before = await counts(app);
    const fromOurs = await distribute(chaoyang, {
      region: '220102',
      personId: inChaoyang.id,
      lines: [{ itemCode: 'surgical_mask', quantity: 1 }],
      distributedBy: 'Caseworker Ma',
    });
    t.match(json<ProblemBody>(fromOurs).errors, [{ pointer: '/region', detail: /outside your jurisdiction 220104/ }]);
    const toOurs = await distribute(chaoyang, {
      region: '220104',
      personId: local.id,
      lines: [{ itemCode: 'surgical_mask', quantity: 1 }],
      distributedBy: 'Caseworker Ma',
    });
    t.equal(toOurs.statusCode, 404, 'a person outside the jurisdiction is not found');
    t.same(await counts(app), before);
    t.equal((await get('/v1/in-kind/distributions', finance)).statusCode, 403, 'persons need registry:read');
  });

  let grantId = '';
  t.test('a distribution hands out a temporary-assistance grant’s in-kind aid', async (t) => {
    // Stranded in Nanguan with the hukou elsewhere in the city: in-kind aid needs no standard;
    // a local gets it here under normal rules.
    const grant = await post('/v1/temporary-assistance', nanguan, {
      personId: neighbour.id,
      region: '220102',
      inKind: [{ item: 'surgical_mask', quantity: 20, unit: 'piece' }],
      reason: 'Out of masks, living alone',
    });
    t.equal(grant.statusCode, 201, grant.body);
    grantId = json<{ id: string }>(grant).id;

    const res = await distribute(nanguan, {
      region: '220102',
      temporaryAssistanceId: grantId,
      lines: [{ itemCode: 'surgical_mask', quantity: 20 }],
      distributedBy: 'Volunteer Qian',
    });
    t.equal(res.statusCode, 201, res.body);
    t.match(json<Distribution>(res), {
      personId: neighbour.id,
      householdId: neighbour.householdId,
      temporaryAssistanceId: grantId,
      businessDate: today,
    });
    const ofGrant = json<{ items: Distribution[] }>(
      await get(`/v1/in-kind/distributions?temporaryAssistanceId=${grantId}`, nanguan),
    );
    t.same(
      ofGrant.items.map((d) => d.temporaryAssistanceId),
      [grantId],
    );

    const wrongPerson = await distribute(nanguan, {
      region: '220102',
      temporaryAssistanceId: grantId,
      personId: local.id,
      lines: [{ itemCode: 'surgical_mask', quantity: 1 }],
      distributedBy: 'Volunteer Qian',
    });
    t.match(json<ProblemBody>(wrongPerson), { status: 400, errors: [{ pointer: '/personId' }] });
    const otherDistrict = await distribute(chaoyang, {
      region: '220104',
      temporaryAssistanceId: grantId,
      lines: [{ itemCode: 'surgical_mask', quantity: 1 }],
      distributedBy: 'Caseworker Ma',
    });
    t.equal(otherDistrict.statusCode, 404, 'a grant of another district is not found');

    const cancel = await post(`/v1/temporary-assistance/${grantId}/cancel`, nanguan, { reason: 'Granted twice' });
    t.equal(cancel.statusCode, 200, cancel.body);
    const afterCancel = await distribute(nanguan, {
      region: '220102',
      temporaryAssistanceId: grantId,
      lines: [{ itemCode: 'surgical_mask', quantity: 1 }],
      distributedBy: 'Volunteer Qian',
    });
    t.match(json<ProblemBody>(afterCancel), {
      status: 409,
      type: '/problems/invalid-state',
      currentState: 'cancelled',
    });
  });

  t.test('a retry with the same Idempotency-Key hands nothing out twice', async (t) => {
    const payload = {
      region: '220102',
      personId: local.id,
      lines: [{ itemCode: 'surgical_mask', quantity: 5 }],
      distributedBy: 'Caseworker Sun',
    };
    const key = { 'idempotency-key': `dist-${randomUUID()}` };
    const once = await distribute(nanguan, payload, key);
    t.equal(once.statusCode, 201);
    const held = (await stock(nanguan)).get('220102/surgical_mask')!.quantity;
    const again = await distribute(nanguan, payload, key);
    t.equal(again.statusCode, 201);
    t.equal(again.headers['idempotent-replayed'], 'true');
    t.equal(json<Distribution>(again).id, json<Distribution>(once).id);
    t.equal((await stock(nanguan)).get('220102/surgical_mask')!.quantity, held, 'taken once');
    const changed = await distribute(nanguan, { ...payload, lines: [{ itemCode: 'surgical_mask', quantity: 6 }] }, key);
    t.equal(changed.statusCode, 422);
  });

  t.test('reports equal what was distributed', async (t) => {
    const all = json<{ items: Distribution[] }>(await get('/v1/in-kind/distributions?limit=500', nanguan)).items;
    t.equal(all.length, 4);
    // What the reports must say, computed from the distributions themselves.
    const expected = new Map<string, { quantity: number; distributions: number; persons: Set<string> }>();
    const perPerson = new Map<string, number>();
    for (const d of all) {
      for (const l of d.lines) {
        const key = `${d.businessDate}|${d.region}|${l.itemCode}`;
        const row = expected.get(key) ?? { quantity: 0, distributions: 0, persons: new Set() };
        row.quantity += l.quantity;
        row.distributions += 1;
        row.persons.add(d.personId);
        expected.set(key, row);
        perPerson.set(`${d.personId}|${l.itemCode}`, (perPerson.get(`${d.personId}|${l.itemCode}`) ?? 0) + l.quantity);
      }
    }
    const range = `from=${yesterday}&to=${today}`;
    const pages: {
      day: string;
      region: string;
      itemCode: string;
      quantity: number;
      distributions: number;
      persons: number;
    }[] = [];
    let cursor: string | null = null;
    let totals: { itemCode: string; quantity: number }[] = [];
    do {
      const res = await get(`/v1/in-kind/reports/daily?${range}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, finance);
      t.equal(res.statusCode, 200, res.body);
      const page = json<{ items: typeof pages; totals: typeof totals; nextCursor: string | null; region: string }>(res);
      t.equal(page.region, '2201');
      pages.push(...page.items);
      totals = page.totals;
      cursor = page.nextCursor;
    } while (cursor);
    t.same(
      Object.fromEntries(
        pages.map((r) => [`${r.day}|${r.region}|${r.itemCode}`, [r.quantity, r.distributions, r.persons]]),
      ),
      Object.fromEntries([...expected].map(([k, v]) => [k, [v.quantity, v.distributions, v.persons.size]])),
    );
    t.same(
      pages.map((r) => `${r.day}|${r.region}|${r.itemCode}`),
      [...expected.keys()].sort(),
      'ordered by day, region, item',
    );
    t.same(Object.fromEntries(totals.map((r) => [r.itemCode, r.quantity])), { food_parcel: 10, surgical_mask: 55 });
    const held = await stock(nanguan, 'region=220102&');
    t.equal(held.get('220102/surgical_mask')!.distributed, 55, 'the stock’s tally agrees');

    const onlyToday = json<{ items: typeof pages }>(
      await get(`/v1/in-kind/reports/daily?from=${today}&to=${today}`, nanguan),
    );
    t.ok(onlyToday.items.every((r) => r.day === today));
    t.same(
      json<{ items: unknown[] }>(await get(`/v1/in-kind/reports/daily?${range}`, chaoyang)).items,
      [],
      'another district’s report holds none of ours',
    );
    const backwards = await get(`/v1/in-kind/reports/daily?from=${today}&to=${yesterday}`, nanguan);
    t.match(json<ProblemBody>(backwards), { status: 400, errors: [{ in: 'query', pointer: '/to' }] });
    const tooLong = await get(`/v1/in-kind/reports/daily?from=${addDays(today, -366)}&to=${today}`, nanguan);
    t.match(json<ProblemBody>(tooLong).errors, [{ pointer: '/to', detail: /at most 366 days/ }]);

    const persons = json<{ items: { personId: string; itemCode: string; quantity: number; distributions: number }[] }>(
      await get(`/v1/in-kind/reports/per-person?${range}&limit=500`, nanguan),
    );
    t.same(
      Object.fromEntries(persons.items.map((r) => [`${r.personId}|${r.itemCode}`, r.quantity])),
      Object.fromEntries(perPerson),
    );
    const one = json<{ items: { itemCode: string; quantity: number; distributions: number }[] }>(
      await get(`/v1/in-kind/reports/per-person?${range}&personId=${local.id}`, nanguan),
    );
    t.same(
      one.items.map((r) => [r.itemCode, r.quantity, r.distributions]),
      [
        ['food_parcel', 2, 1],
        ['surgical_mask', 35, 2],
      ],
    );
    t.equal((await get(`/v1/in-kind/reports/per-person?${range}`, finance)).statusCode, 403);
  });

  t.test('events reach the feed, within jurisdiction, and every change is audited', async (t) => {
    await app.services.events.sequence();
    const feed = async (who: typeof nanguan) =>
      json<{ items: FeedEvent[] }>(
        await get('/v1/events?after=0&limit=500&types=in_kind_receipt.recorded,in_kind_distribution.recorded', who),
      ).items;
    const ours = await feed(nanguan);
    t.same(
      ours.filter((e) => e.type === 'in_kind_receipt.recorded').map((e) => e.data.reference),
      ['DN-2026-0001', 'X'],
      'Nanguan’s delivery and its subdistrict’s, once each',
    );
    const handedOut = ours.filter((e) => e.type === 'in_kind_distribution.recorded');
    t.equal(handedOut.length, 4);
    t.match(
      handedOut.find((e) => e.subject === `in_kind_distribution/${first.id}`),
      {
        region: '220102',
        data: {
          personId: local.id,
          businessDate: yesterday,
          lines: [
            { itemCode: 'food_parcel', quantity: 2, unit: 'parcel' },
            { itemCode: 'surgical_mask', quantity: 30 },
          ],
        },
      },
    );
    t.ok(handedOut.some((e) => e.data.temporaryAssistanceId === grantId));
    const theirs = await feed(chaoyang);
    t.same(
      theirs.map((e) => e.region),
      ['220104'],
      'Chaoyang hears only of its own receipt',
    );
    const financeFeed = await feed(finance);
    t.ok(financeFeed.length > 0 && financeFeed.every((e) => e.type === 'in_kind_receipt.recorded'));

    const audits = await rows<{ operation: string; person_ids: string[] }>(
      db,
      sql`select operation, person_ids from audit_events where resource_type like 'inkind_%' order by seq`,
    );
    const ops = audits.map((a) => a.operation);
    t.equal(ops.filter((o) => o === 'createInKindItem').length, 4);
    t.equal(ops.filter((o) => o === 'recordInKindReceipt').length, 3);
    const distributed = audits.filter((a) => a.operation === 'distributeInKindAid');
    t.equal(distributed.length, 4);
    t.same(distributed[0]!.person_ids, [local.id]);
    t.ok(ops.includes('listInKindDistributions') && ops.includes('reportInKindPerPerson'), 'reads of persons too');
  });

  t.test('the database itself refuses a negative stock', async (t) => {
    await t.rejects(
      db.execute(sql`update inkind_stock set quantity = quantity - 1000, distributed = distributed + 1000`),
      'the CHECK on the stock row',
    );
    await t.rejects(db.execute(sql`update inkind_stock set quantity = quantity + 1`), 'held = received − distributed');
  });
});
