import t from 'tap';
import { json } from '../../helpers.js';
import {
  counts,
  cutoffPolicy,
  noFigures,
  type ProblemBody,
  type Report,
  reportCalls,
  reportsApp,
  shanghai,
  type Version,
} from './fixtures.js';

const D = '2026-03-10';
const figures = {
  ...noFigures,
  suspected: 2,
  confirmed: 1,
  hospitalized: 1,
  inQuarantine: 5,
  emergencyGrants: 3,
  emergencyGrantsFen: 150_000,
  inKindHandouts: 4,
  inKindItems: 120,
  visits: 37,
  keyPersonsWithoutCaregiver: 2,
};

t.test('daily reports: submission, idempotence, corrections with history, zero reports', async (t) => {
  const { app, admin, client, clock } = await reportsApp(t, shanghai(D, '09:00:00'));
  const { submit, get, feed } = reportCalls(app);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const kuancheng = await client('civil_affairs', { jurisdiction: '220103' });
  const city = await client('civil_affairs', { jurisdiction: '2201' });
  const health = await client('health', { jurisdiction: '220102' });
  const reader = await client('civil_affairs', { jurisdiction: '2201', scopes: ['reports:read', 'events:read'] });
  await cutoffPolicy(app, admin, '2201', '2026-03-01', '10:00');

  let etag = '';
  t.test('a district submits before the cutoff: version 1, on time', async (t) => {
    const res = await submit(nanguan, { district: '220102', date: D, ...figures, notes: '两例疑似已转运' });
    t.equal(res.statusCode, 201, res.body);
    t.equal(res.headers.location, `/v1/daily-reports/220102/${D}`);
    const report = json<Report>(res);
    t.match(report, {
      district: '220102',
      date: D,
      dueAt: shanghai(D, '10:00:00').toISOString(),
      status: 'on_time',
      version: 1,
      firstSubmittedAt: shanghai(D, '09:00:00').toISOString(),
      missingAt: null,
      current: { version: 1, zero: false, figures, notes: '两例疑似已转运', submittedBy: nanguan.id },
    });
    etag = res.headers.etag as string;
    t.equal(etag, `"${report.id}.1"`);
    const read = await get(`/v1/daily-reports/220102/${D}`, city);
    t.equal(read.statusCode, 200);
    t.same(json(read), report);
    t.equal(read.headers.etag, etag);
  });

  t.test('the same content again changes nothing; an Idempotency-Key replays', async (t) => {
    const before = await counts(app);
    const again = await submit(nanguan, { district: '220102', date: D, ...figures, notes: '两例疑似已转运' });
    t.equal(again.statusCode, 200, again.body);
    t.equal(json<Report>(again).version, 1);
    t.same(await counts(app), before, 'no version, event or audit row');

    clock.now = shanghai(D, '09:10:00');
    const body = { district: '220102', date: D, ...figures, visits: 38, notes: '两例疑似已转运' };
    const first = await submit(nanguan, body, { 'idempotency-key': 'nanguan-0310-a' });
    t.equal(first.statusCode, 201);
    t.equal(json<Report>(first).version, 2);
    const replay = await submit(nanguan, body, { 'idempotency-key': 'nanguan-0310-a' });
    t.equal(replay.statusCode, 201, 'the stored answer');
    t.same(json(replay), json(first));
    const other = await submit(nanguan, { ...body, visits: 39 }, { 'idempotency-key': 'nanguan-0310-a' });
    t.equal(other.statusCode, 422, 'same key, another body');
    etag = first.headers.etag as string;
  });

  t.test('a correction after the cutoff is a new version; the report stays on time; history kept', async (t) => {
    clock.now = shanghai(D, '15:00:00');
    const stale = await submit(
      nanguan,
      { district: '220102', date: D, ...figures, confirmed: 2 },
      { 'if-match': etag.replace('.2"', '.1"') },
    );
    t.equal(stale.statusCode, 412, 'If-Match of an older version');
    const res = await submit(
      nanguan,
      { district: '220102', date: D, ...figures, confirmed: 2, notes: '下午确诊一例' },
      { 'if-match': etag },
    );
    t.equal(res.statusCode, 201, res.body);
    t.match(json<Report>(res), {
      version: 3,
      status: 'on_time',
      firstSubmittedAt: shanghai(D, '09:00:00').toISOString(),
      current: { version: 3, figures: { confirmed: 2 }, notes: '下午确诊一例' },
    });
    const history = await get(`/v1/daily-reports/220102/${D}/versions`, reader);
    t.equal(history.statusCode, 200);
    const items = json<{ items: Version[] }>(history).items;
    t.same(
      items.map((v) => [v.version, v.figures.confirmed, v.figures.visits, v.submittedAt]),
      [
        [1, 1, 37, shanghai(D, '09:00:00').toISOString()],
        [2, 1, 38, shanghai(D, '09:10:00').toISOString()],
        [3, 2, 37, shanghai(D, '15:00:00').toISOString()],
      ],
    );
    const events = await feed(city, 'daily_report.');
    t.same(
      events.map((e) => [e.type, e.data.version, e.data.late]),
      [
        ['daily_report.submitted', 1, false],
        ['daily_report.corrected', 2, false],
        ['daily_report.corrected', 3, false],
      ],
    );
    t.match(events[2]!.data, { previousVersion: 2, figures: { confirmed: 2 }, district: '220102', date: D });
    t.equal((await feed(kuancheng, 'daily_report.')).length, 0, 'another district sees none of it');
    t.equal((await feed(health, 'daily_report.')).length, 0, 'nor does health');
  });

  t.test('a zero report is an explicit submission', async (t) => {
    clock.now = shanghai(D, '09:30:00');
    const res = await submit(kuancheng, { district: '220103', date: D, zero: true, notes: '无新增情况' });
    t.equal(res.statusCode, 201, res.body);
    t.match(json<Report>(res), { status: 'on_time', version: 1, current: { zero: true, figures: noFigures } });
    const zeros = await submit(kuancheng, { district: '220103', date: '2026-03-09', zero: true, ...noFigures });
    t.equal(zeros.statusCode, 201, 'zeros may be sent');
    t.equal(json<Report>(zeros).status, 'late', 'the day before was due at its 10:00');
  });

  t.test('bad submissions: 400 naming the fields, nothing written', async (t) => {
    const before = await counts(app);
    const problem = async (payload: Record<string, unknown>, who = nanguan) => {
      const res = await submit(who, payload);
      t.equal(res.statusCode, 400, res.body);
      t.match(res.headers['content-type'], /^application\/problem\+json/);
      return json<ProblemBody>(res)
        .errors!.map((e) => e.pointer)
        .sort();
    };
    t.same(await problem({ district: '220102', date: D, zero: true, visits: 3 }), ['/visits']);
    t.same(await problem({ district: '220102', date: D, suspected: 1 }), [
      '/confirmed',
      '/died',
      '/emergencyGrants',
      '/emergencyGrantsFen',
      '/hospitalized',
      '/inKindHandouts',
      '/inKindItems',
      '/inQuarantine',
      '/keyPersonsWithoutCaregiver',
      '/recovered',
      '/visits',
    ]);
    t.same(await problem({ district: '220102', date: D, ...noFigures }), ['/zero']);
    t.same(await problem({ district: '220102', date: '2026-03-11', zero: true }), ['/date']);
    t.same(await problem({ district: '220102', date: D, ...figures, visits: -1, colour: 'red' }), [
      '/colour',
      '/visits',
    ]);
    t.same(await problem({ district: '220102003', date: D, zero: true }), ['/district']);
    t.same(await problem({ district: '220199', date: D, zero: true }), ['/district'], 'not a district');
    t.same(await problem({ district: '220103', date: D, zero: true }), ['/district'], 'another district');
    t.same(await problem({ district: '2201', date: 'yesterday', zero: true }), ['/date', '/district']);
    t.same(await counts(app), before);
  });

  t.test('scopes and jurisdiction', async (t) => {
    t.equal((await submit(health, { district: '220102', date: D, zero: true })).statusCode, 403);
    t.equal((await submit(reader, { district: '220102', date: D, zero: true })).statusCode, 403);
    t.equal((await get(`/v1/daily-reports/220102/${D}`, kuancheng)).statusCode, 404);
    t.equal((await get(`/v1/daily-reports/220102/${D}/versions`, kuancheng)).statusCode, 404);
    t.equal((await get(`/v1/daily-reports/220104/${D}`, city)).statusCode, 404, 'nothing submitted, not marked');
    t.equal((await get(`/v1/daily-reports/220102/${D}`, health)).statusCode, 403);
  });

  t.test('every change audited', async (t) => {
    const c = await counts(app);
    t.equal(c.versions, 5, 'nanguan 3, kuancheng 2');
    t.equal(c.audits, 5);
    t.equal(c.events, 5);
  });
});
