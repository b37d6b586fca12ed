import t from 'tap';
import { json } from '../../helpers.js';
import { careCalls } from '../care/fixtures.js';
import { counts, type ProblemBody, reportCalls, reportsApp } from './fixtures.js';

interface Urgent {
  id: string;
  district: string;
  type: string;
  severity: string;
  personIds: string[];
  description: string;
  occurredAt: string;
  audience: string[];
  filedAt: string;
  filedBy: string | null;
}

t.test('urgent reports are pushed at once to the city and the agencies they concern', async (t) => {
  const now = new Date('2026-03-10T03:00:00Z');
  const { app, client, clock } = await reportsApp(t, now);
  const { post, get, feed } = reportCalls(app);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const kuancheng = await client('civil_affairs', { jurisdiction: '220103' });
  const city = await client('civil_affairs', { jurisdiction: '2201' });
  const nanguanHealth = await client('health', { jurisdiction: '220102' });
  const kuanchengHealth = await client('health', { jurisdiction: '220103' });
  const cdc = await client('cdc', { jurisdiction: '2201' });
  const finance = await client('finance', { jurisdiction: '2201' });
  const care = careCalls(app);
  const a = await care.person(nanguan, '220102003', '王大爷');
  const b = await care.person(nanguan, '220102003', '李奶奶');
  const stranger = await care.person(kuancheng, '220103001', '张先生');
  const file = (payload: Record<string, unknown>, who = nanguan, headers: Record<string, string> = {}) =>
    post('/v1/urgent-reports', who, payload, headers);

  let infectionId = '';
  t.test('an infection: civil affairs, health and disease control of the district learn of it', async (t) => {
    const res = await file(
      {
        district: '220102',
        type: 'infection',
        severity: 'major',
        personIds: [b.id, a.id],
        description: '同一楼栋两名低保对象发热，疑似聚集性疫情',
        occurredAt: '2026-03-10T10:30:00+08:00',
      },
      nanguan,
      { 'idempotency-key': 'urgent-1' },
    );
    t.equal(res.statusCode, 201, res.body);
    const u = json<Urgent>(res);
    infectionId = u.id;
    t.equal(res.headers.location, `/v1/urgent-reports/${u.id}`);
    t.match(u, {
      district: '220102',
      type: 'infection',
      severity: 'major',
      personIds: [a.id, b.id].sort(),
      occurredAt: '2026-03-10T02:30:00.000Z',
      audience: ['health', 'cdc'],
      filedAt: now.toISOString(),
      filedBy: nanguan.id,
    });
    const other = await file(
      { district: '220102', type: 'other', severity: 'general', description: '另一件事' },
      nanguan,
      { 'idempotency-key': 'urgent-1' },
    );
    t.equal(other.statusCode, 422, 'the key belongs to another body');

    const types = async (who: typeof city) => (await feed(who, 'urgent_report.')).map((e) => e.type);
    t.same(await types(city), ['urgent_report.filed']);
    t.same(await types(nanguan), ['urgent_report.filed']);
    t.same(await types(kuancheng), [], 'another district');
    t.same(await types(nanguanHealth), ['urgent_report.sent_to_health']);
    t.same(await types(cdc), ['urgent_report.sent_to_health'], 'disease control receives referrals too');
    t.same(await types(kuanchengHealth), [], 'health of another district');
    t.same(await types(finance), []);
    const [event] = await feed(nanguanHealth, 'urgent_report.');
    t.match(event!.data, {
      urgentReportId: u.id,
      district: '220102',
      personIds: [a.id, b.id].sort(),
      severity: 'major',
    });
    t.notOk(JSON.stringify(event!.data).includes('王大爷'), 'ids, no names');
  });

  t.test('hardship in quarantine goes to disease control; a care gap stays with civil affairs', async (t) => {
    clock.now = new Date('2026-03-10T04:00:00Z');
    const quarantine = await file({
      district: '220102',
      type: 'quarantine_hardship',
      severity: 'serious',
      personIds: [a.id],
      description: '居家隔离老人断粮',
    });
    t.equal(quarantine.statusCode, 201, quarantine.body);
    t.same(json<Urgent>(quarantine).audience, ['cdc']);
    clock.now = new Date('2026-03-10T04:05:00Z');
    const gap = await file({ district: '220102', type: 'care_gap', severity: 'general', description: '照料员确诊' });
    t.equal(gap.statusCode, 201, gap.body);
    t.same(json<Urgent>(gap).audience, []);
    const seen = async (who: typeof city) => (await feed(who, 'urgent_report.')).map((e) => e.type);
    t.same(await seen(cdc), ['urgent_report.sent_to_health', 'urgent_report.sent_to_cdc']);
    t.same(await seen(nanguanHealth), ['urgent_report.sent_to_health']);
    t.same(await seen(city), ['urgent_report.filed', 'urgent_report.filed', 'urgent_report.filed']);
  });

  t.test('bad urgent reports: 400 naming the fields, nothing written', async (t) => {
    const before = await counts(app);
    const problem = async (payload: Record<string, unknown>, who = nanguan) => {
      const res = await file(payload, who);
      t.equal(res.statusCode, 400, res.body);
      return json<ProblemBody>(res)
        .errors!.map((e) => e.pointer)
        .sort();
    };
    const base = { district: '220102', type: 'death', severity: 'critical', description: '独居老人死亡' };
    t.same(await problem({ ...base, type: 'fire', severity: 'huge', description: '' }), [
      '/description',
      '/severity',
      '/type',
    ]);
    t.same(await problem({ ...base, personIds: [a.id, stranger.id, a.id] }), ['/personIds/1', '/personIds/2']);
    t.same(await problem({ ...base, occurredAt: '2026-03-10T13:00:00+08:00' }), ['/occurredAt']);
    t.same(await problem({ ...base, district: '220103' }), ['/district']);
    t.same(await counts(app), before);
    t.equal((await file(base, nanguanHealth)).statusCode, 403);
  });

  t.test('read and listed within the jurisdiction, audited', async (t) => {
    const one = await get(`/v1/urgent-reports/${infectionId}`, city);
    t.equal(one.statusCode, 200);
    t.match(json<Urgent>(one), { id: infectionId, personIds: [a.id, b.id].sort() });
    t.equal((await get(`/v1/urgent-reports/${infectionId}`, kuancheng)).statusCode, 404);
    t.equal((await get(`/v1/urgent-reports/${infectionId}`, nanguanHealth)).statusCode, 403);
    const page = json<{ items: Urgent[]; nextCursor: string | null }>(await get('/v1/urgent-reports?limit=2', nanguan));
    t.same(
      page.items.map((u) => u.type),
      ['care_gap', 'quarantine_hardship'],
    );
    const rest = json<{ items: Urgent[]; nextCursor: string | null }>(
      await get(`/v1/urgent-reports?limit=2&cursor=${page.nextCursor}`, nanguan),
    );
    t.same(
      rest.items.map((u) => u.type),
      ['infection'],
    );
    t.equal(rest.nextCursor, null);
    t.same(json<{ items: Urgent[] }>(await get('/v1/urgent-reports?type=infection', city)).items.length, 1);
    t.same(json<{ items: Urgent[] }>(await get('/v1/urgent-reports', kuancheng)).items, []);
    const c = await counts(app);
    t.equal(c.urgent, 3);
    t.equal(c.urgentPersons, 3);
    t.equal(c.audits, 3, 'each filing audited');
  });
});
