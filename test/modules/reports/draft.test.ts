import { sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../../src/db/client.js';
import { addDays, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json } from '../../helpers.js';
import { careCalls } from '../care/fixtures.js';
import { type ProblemBody, type Report, reportCalls, reportsApp } from './fixtures.js';

interface Draft {
  district: string;
  date: string;
  dueAt: string;
  figures: Record<string, number | null>;
  notHeld: string[];
  zero: boolean;
  current: { version: number } | null;
}

/**
 * The draft counts what the other modules hold: here made through their APIs on the real clock
 * (they keep their own), today and yesterday, and read back through their own reports.
 */
t.test('the draft’s figures are what the other modules hold for the district and day', async (t) => {
  const now = new Date();
  const today = businessDateOf(now);
  const yesterday = addDays(today, -1);
  const { app, admin, client, clock } = await reportsApp(t, now);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const kuancheng = await client('civil_affairs', { jurisdiction: '220103' });
  const city = await client('civil_affairs', { jurisdiction: '2201' });
  const health = await client('health', { jurisdiction: '220102' });
  const care = careCalls(app);
  const { post, get, submit } = reportCalls(app);
  const ok = async (res: Promise<{ statusCode: number; body: string }>, status = 201) => {
    const r = await res;
    if (r.statusCode !== status) throw new Error(`${r.statusCode}: ${r.body}`);
    return json<{ id: string }>(r);
  };

  // Three key persons of Nanguan; one has a caregiver.
  const a = await care.person(nanguan, '220102003', '王大爷');
  const b = await care.person(nanguan, '220102003', '李奶奶', { livesAlone: true });
  const c = await care.person(nanguan, '220102004', '赵大爷', { disabled: true });
  const carer = await care.caregiver(nanguan, '220102003', '刘社工');
  await care.assign(nanguan, a.id, carer.id);

  // A suspected case taken to hospital and confirmed; another reported, then withdrawn.
  const referral = await ok(
    post('/v1/referrals', nanguan, {
      personId: a.id,
      origin: 'direct',
      symptoms: ['fever'],
      locationKind: 'home',
      reporterName: '刘社工',
    }),
  );
  await ok(post(`/v1/referrals/${referral.id}/acknowledge`, health, {}), 200);
  await ok(post(`/v1/referrals/${referral.id}/transfer`, health, { hospital: '长春市传染病医院' }), 200);
  await ok(post(`/v1/referrals/${referral.id}/confirm`, health, {}), 200);
  const withdrawn = await ok(
    post('/v1/referrals', nanguan, {
      personId: b.id,
      origin: 'direct',
      symptomsText: '咳嗽',
      locationKind: 'home',
      reporterName: '刘社工',
    }),
  );
  await ok(post(`/v1/referrals/${withdrawn.id}/cancel`, nanguan, { reason: '误报' }), 200);

  // Visits: one today, one yesterday.
  await care.visit(nanguan, {
    personId: a.id,
    caregiverId: carer.id,
    visitedAt: new Date(now.getTime() - 5_000).toISOString(),
  });
  await care.visit(nanguan, {
    personId: b.id,
    visitorName: '刘社工',
    visitedAt: new Date(now.getTime() - 86_400_000).toISOString(),
  });

  // An emergency grant of cash, and one of masks only.
  await ok(
    post('/v1/programs/temporary_assistance/standards', admin, {
      region: '2201',
      effectiveFrom: addDays(today, -30),
      monthlyStandardFen: 200_000,
    }),
  );
  await ok(post('/v1/temporary-assistance', nanguan, { personId: c.id, cashFen: 30_000, reason: '收入中断' }));
  await ok(
    post('/v1/temporary-assistance', nanguan, {
      personId: b.id,
      inKind: [{ item: 'surgical masks', quantity: 20, unit: 'piece' }],
      reason: '缺口罩',
    }),
  );

  // In-kind aid from Nanguan's stock: one handout of two items.
  await ok(post('/v1/in-kind/items', admin, { code: 'surgical_mask', name: 'Surgical mask', unit: 'piece' }));
  await ok(post('/v1/in-kind/items', admin, { code: 'gloves', name: 'Gloves', unit: 'pair' }));
  await ok(
    post('/v1/in-kind/receipts', nanguan, {
      region: '220102',
      source: 'allocation',
      reference: 'DN-REPORTS-1',
      lines: [
        { itemCode: 'surgical_mask', quantity: 100 },
        { itemCode: 'gloves', quantity: 10 },
      ],
    }),
  );
  await ok(
    post('/v1/in-kind/distributions', nanguan, {
      region: '220102',
      personId: a.id,
      lines: [
        { itemCode: 'surgical_mask', quantity: 30 },
        { itemCode: 'gloves', quantity: 5 },
      ],
      distributedBy: '刘社工',
    }),
  );

  // Close contacts of two more confirmed cases (issue 8's tables, written directly): b twice (one
  // person), c released yesterday, a stranger who is no recipient, a recipient of another district.
  const db = app.database.db;
  const handoff = async (casePersonId: string) => {
    const [row] = await rows<{ id: string }>(
      db,
      sql`insert into contact_handoffs (region, case_person_id, origin, onset_date, look_back_days,
          window_from, window_to, status)
        values ('220102003', ${casePersonId}, 'direct', ${addDays(today, -3)}::date, 14, ${addDays(today, -17)}::date,
          ${today}::date, 'accepted') returning id`,
    );
    return row!.id;
  };
  const contact = (handoffId: string, values: Record<string, unknown>) =>
    db.execute(sql`insert into handoff_contacts (handoff_id, person_id, region, relation, origin, name, recipient, status,
        quarantine_kind, quarantine_from, quarantine_to, released_on)
      values (${handoffId}, ${values.personId ?? null}, ${values.region ?? '220102003'}, 'household', 'assembled',
        ${String(values.name)}, ${Boolean(values.recipient)}, ${String(values.status)}, 'home',
        ${String(values.from)}::date, ${addDays(today, 10)}::date, ${(values.releasedOn as string | undefined) ?? null}::date)`);
  // (a's confirmation opened a handoff of its own: a case has one open handoff at a time.)
  const h1 = await handoff((await care.person(nanguan, '220102004', '孙先生', {})).id);
  const h2 = await handoff((await care.person(nanguan, '220102004', '周女士', {})).id);
  await contact(h1, {
    personId: b.id,
    name: '李奶奶',
    recipient: true,
    status: 'quarantined',
    from: addDays(today, -2),
  });
  await contact(h2, {
    personId: b.id,
    name: '李奶奶',
    recipient: true,
    status: 'quarantined',
    from: addDays(today, -2),
  });
  await contact(h1, {
    personId: c.id,
    name: '赵大爷',
    recipient: true,
    status: 'released',
    from: addDays(today, -4),
    releasedOn: yesterday,
  });
  await contact(h1, { name: '路人', recipient: false, status: 'quarantined', from: addDays(today, -2) });
  await contact(h1, {
    name: '宽城亲戚',
    region: '220103001',
    recipient: true,
    status: 'quarantined',
    from: addDays(today, -2),
  });

  clock.now = new Date();
  const draft = async (district: string, date: string, who = nanguan) => {
    const res = await get(`/v1/daily-reports/draft?district=${district}&date=${date}`, who);
    t.equal(res.statusCode, 200, res.body);
    return json<Draft>(res);
  };

  t.test('today in Nanguan', async (t) => {
    const d = await draft('220102', today);
    t.same(d.figures, {
      suspected: 1,
      confirmed: 1,
      hospitalized: 1,
      inQuarantine: 1,
      recovered: null,
      died: null,
      emergencyGrants: 2,
      emergencyGrantsFen: 30_000,
      inKindHandouts: 1,
      inKindItems: 35,
      visits: 1,
      keyPersonsWithoutCaregiver: 2,
    });
    t.same(d.notHeld, ['recovered', 'died']);
    t.equal(d.zero, false);
    t.equal(d.current, null);

    // The same figures as the modules' own reports.
    const coverage = json<{ total: { withoutCaregiver: number } }>(await get('/v1/coverage?region=220102', nanguan));
    t.equal(d.figures.keyPersonsWithoutCaregiver, coverage.total.withoutCaregiver);
    const inKind = json<{ totals: { quantity: number; distributions: number }[] }>(
      await get(`/v1/in-kind/reports/daily?from=${today}&to=${today}&region=220102`, nanguan),
    );
    t.equal(
      d.figures.inKindItems,
      inKind.totals.reduce((s, x) => s + x.quantity, 0),
    );
    const visits = json<{ items: unknown[] }>(await get(`/v1/visits?region=220102&from=${today}&to=${today}`, nanguan));
    t.equal(d.figures.visits, visits.items.length);
    const grants = json<{ items: { status: string; cashFen: number }[] }>(
      await get('/v1/temporary-assistance?region=220102', nanguan),
    );
    t.equal(d.figures.emergencyGrants, grants.items.filter((g) => g.status === 'granted').length);
    t.equal(
      d.figures.emergencyGrantsFen,
      grants.items.reduce((s, g) => s + g.cashFen, 0),
    );
  });

  t.test('yesterday in Nanguan; the other districts', async (t) => {
    const d = await draft('220102', yesterday);
    t.match(d.figures, { visits: 1, inQuarantine: 2, suspected: 0, emergencyGrants: 0, keyPersonsWithoutCaregiver: 0 });
    const kuanchengDraft = await draft('220103', today, kuancheng);
    t.match(kuanchengDraft.figures, { inQuarantine: 1, suspected: 0, visits: 0 }, 'its own resident in quarantine');
    t.equal(kuanchengDraft.zero, false);
    const quiet = await draft('220104', today, city);
    t.equal(quiet.zero, true);
    t.match(quiet.figures, { suspected: 0, inQuarantine: 0, visits: 0, recovered: null });
  });

  t.test('the draft, completed, is submitted as it is', async (t) => {
    const d = await draft('220102', today);
    const res = await submit(nanguan, { district: '220102', date: today, ...d.figures, recovered: 0, died: 0 });
    t.equal(res.statusCode, 201, res.body);
    t.equal(json<Report>(res).current!.figures.inKindItems, 35);
    t.match((await draft('220102', today)).current, { version: 1 });
  });

  t.test('bad drafts', async (t) => {
    const future = await get(`/v1/daily-reports/draft?district=220102&date=${addDays(today, 1)}`, nanguan);
    t.equal(future.statusCode, 400);
    t.same(
      json<ProblemBody>(future).errors!.map((e) => e.pointer),
      ['/date'],
    );
    t.equal((await get(`/v1/daily-reports/draft?district=220103&date=${today}`, nanguan)).statusCode, 404);
    t.equal((await get(`/v1/daily-reports/draft?district=220102&date=${today}`, health)).statusCode, 403);
    const missing = await get('/v1/daily-reports/draft?district=220102', nanguan);
    t.same(
      json<ProblemBody>(missing).errors!.map((e) => e.pointer),
      ['/date'],
    );
  });
});
