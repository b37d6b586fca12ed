import t from 'tap';
import { createReportService } from '../../../src/modules/reports/service.js';
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
} from './fixtures.js';

const D = '2026-03-10';
const D1 = '2026-03-09';
const districts = [
  '220102',
  '220103',
  '220104',
  '220105',
  '220106',
  '220112',
  '220113',
  '220122',
  '220182',
  '220183',
  '220184',
];
const without = (...codes: string[]) => districts.filter((d) => !codes.includes(d));

interface Day {
  date: string;
  onTime: string[];
  late: string[];
  zero: string[];
  missing: string[];
  pending: string[];
}
interface Compliance {
  region: string;
  districts: { district: string; name: string; onTime: number; late: number; zero: number; missing: number }[];
  days: Day[];
}
type Row = Record<string, number> & { date: string | null; district: string | null; name: string | null };
interface Totals {
  region: string;
  districts: number;
  total: Record<string, number>;
  rows: Row[];
}

t.test('deadlines, compliance and totals', async (t) => {
  const { app, admin, client, clock } = await reportsApp(t, shanghai(D, '09:00:00'));
  const { submit, get, feed } = reportCalls(app);
  const city = await client('civil_affairs', { jurisdiction: '2201' });
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const kuancheng = await client('civil_affairs', { jurisdiction: '220103' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const health = await client('health', { jurisdiction: '2201' });
  // The city's reports are due at 10:00; Erdao's own policy gives it until 16:00.
  await cutoffPolicy(app, admin, '2201', '2026-03-01', '10:00');
  await cutoffPolicy(app, admin, '220105', '2026-03-01', '16:00');
  const compliance = async (query: string, who = city) => {
    const res = await get(`/v1/daily-reports/compliance?${query}`, who);
    t.equal(res.statusCode, 200, res.body);
    return json<Compliance>(res);
  };
  const nanguanFigures = {
    ...noFigures,
    suspected: 2,
    confirmed: 1,
    inQuarantine: 4,
    visits: 10,
    emergencyGrantsFen: 500,
  };
  const kuanchengFigures = { ...noFigures, suspected: 1, inQuarantine: 3, visits: 5, keyPersonsWithoutCaregiver: 2 };

  t.test('before the cutoff: pending; a past day never checked: missing', async (t) => {
    const c = await compliance(`from=${D1}&to=${D}`);
    t.same(c.days, [
      { date: D1, onTime: [], late: [], zero: [], missing: districts, pending: [] },
      { date: D, onTime: [], late: [], zero: [], missing: [], pending: districts },
    ]);
  });

  t.test('two districts report before the cutoff, one with a zero report', async (t) => {
    t.equal((await submit(nanguan, { district: '220102', date: D, ...nanguanFigures })).statusCode, 201);
    clock.now = shanghai(D, '09:30:00');
    t.equal((await submit(chaoyang, { district: '220104', date: D, zero: true })).statusCode, 201);
    const early = await app.services.reports.checkDeadlines();
    t.equal(early.length, 2 * 11, 'the two days before: nobody reported them');
    t.same(
      early.filter((m) => m.date === D),
      [],
      'today is not due yet',
    );
  });

  t.test('at the cutoff, each district that has not reported is missing, once', async (t) => {
    clock.now = shanghai(D, '10:00:00');
    const found = await app.services.reports.checkDeadlines();
    t.same(
      found
        .filter((m) => m.date === D)
        .map((m) => m.district)
        .sort(),
      without('220102', '220104', '220105'),
      'Erdao is not due until 16:00',
    );
    t.equal(found.length, 8);
    clock.now = shanghai(D, '10:05:00');
    t.same(await app.services.reports.checkDeadlines(), [], 'not twice');
    const missing = (await feed(city, 'daily_report.missing')).filter((e) => e.data.date === D);
    t.same(missing.map((e) => e.region).sort(), without('220102', '220104', '220105'));
    t.match(missing[0]!.data, {
      dueAt: shanghai(D, '10:00:00').toISOString(),
      detectedAt: shanghai(D, '10:00:00').toISOString(),
    });
    const seen = (await feed(kuancheng, 'daily_report.missing')).filter((e) => e.data.date === D);
    t.same(
      seen.map((e) => e.subject),
      [`daily_report/220103/${D}`],
      'a district sees its own',
    );
    t.equal((await feed(health, 'daily_report.')).length, 0);
  });

  t.test('a district that reports after the cutoff is late', async (t) => {
    clock.now = shanghai(D, '11:00:00');
    const res = await submit(kuancheng, { district: '220103', date: D, ...kuanchengFigures });
    t.equal(res.statusCode, 201, res.body);
    t.match(json<Report>(res), {
      status: 'late',
      version: 1,
      missingAt: shanghai(D, '10:00:00').toISOString(),
      firstSubmittedAt: shanghai(D, '11:00:00').toISOString(),
    });
    const [submitted] = (await feed(city, 'daily_report.submitted')).filter((e) => e.region === '220103');
    t.match(submitted!.data, { late: true, version: 1 });
    const missing = await get(`/v1/daily-reports/220106/${D}`, city);
    t.match(json<Report>(missing), { status: 'missing', version: 0, current: null });
  });

  t.test('two instances checking at once announce Erdao’s missing report once', async (t) => {
    clock.now = shanghai(D, '16:00:30');
    const { audit, events, regions } = app.services;
    const other = createReportService({ db: app.database.db, audit, events, regions, clock: () => clock.now });
    const [a, b] = await Promise.all([app.services.reports.checkDeadlines(), other.checkDeadlines()]);
    t.same(
      [...a, ...b].map((m) => `${m.district}/${m.date}`),
      [`220105/${D}`],
    );
    const missing = (await feed(city, 'daily_report.missing')).filter((e) => e.data.date === D);
    t.equal(missing.length, 9);
    t.equal(new Set(missing.map((e) => e.subject)).size, 9, 'one event per district and day');
  });

  t.test('the city sees who reported on time, late, zero, or not at all', async (t) => {
    const c = await compliance(`from=${D1}&to=${D}`);
    t.equal(c.region, '2201');
    t.same(c.days, [
      { date: D1, onTime: [], late: [], zero: [], missing: districts, pending: [] },
      {
        date: D,
        onTime: ['220102', '220104'],
        late: ['220103'],
        zero: ['220104'],
        missing: without('220102', '220103', '220104'),
        pending: [],
      },
    ]);
    t.same(c.districts.slice(0, 3), [
      { district: '220102', name: 'Nanguan', onTime: 1, late: 0, zero: 0, missing: 1, pending: 0 },
      { district: '220103', name: 'Kuancheng', onTime: 0, late: 1, zero: 0, missing: 1, pending: 0 },
      { district: '220104', name: 'Chaoyang', onTime: 1, late: 0, zero: 1, missing: 1, pending: 0 },
    ]);
    const own = await compliance(`from=${D}&to=${D}`, nanguan);
    t.same(own.days, [{ date: D, onTime: ['220102'], late: [], zero: [], missing: [], pending: [] }]);
    t.equal((await get(`/v1/daily-reports/compliance?from=${D}&to=${D}&region=220103`, nanguan)).statusCode, 404);

    const csv = await get(`/v1/daily-reports/compliance?from=${D}&to=${D}&format=csv`, city);
    t.equal(csv.statusCode, 200);
    t.match(csv.headers['content-type'], /^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    t.equal(lines[0], 'date,district,status,zero');
    t.same(lines.slice(1, 4), [`${D},220102,on_time,false`, `${D},220103,late,false`, `${D},220104,on_time,true`]);
    t.equal(lines.length, 12);
    const accepted = await get(`/v1/daily-reports/compliance?from=${D}&to=${D}`, city, { accept: 'text/csv' });
    t.equal(accepted.body, csv.body, 'Accept: text/csv');
  });

  t.test('totals per day for the city and per district, as JSON and CSV', async (t) => {
    const byDay = await get(`/v1/daily-reports/totals?from=${D1}&to=${D}`, city);
    t.equal(byDay.statusCode, 200, byDay.body);
    const days = json<Totals>(byDay);
    t.equal(days.districts, 11);
    t.match(days.rows[0], { date: D1, reports: 0, zeroReports: 0, notReported: 11, suspected: 0 });
    t.match(days.rows[1], {
      date: D,
      reports: 3,
      zeroReports: 1,
      notReported: 8,
      suspected: 3,
      confirmed: 1,
      inQuarantine: 7,
      visits: 15,
      emergencyGrantsFen: 500,
      keyPersonsWithoutCaregiver: 2,
    });
    t.match(days.total, { reports: 3, zeroReports: 1, suspected: 3, inQuarantine: 7, visits: 15 });

    const byDistrict = json<Totals>(await get(`/v1/daily-reports/totals?from=${D1}&to=${D}&by=district`, city));
    t.equal(byDistrict.rows.length, 11);
    t.match(byDistrict.rows[0], { district: '220102', name: 'Nanguan', reports: 1, notReported: 1, suspected: 2 });
    t.match(byDistrict.rows[1], { district: '220103', reports: 1, inQuarantine: 3, visits: 5 });

    const csv = await get(`/v1/daily-reports/totals?from=${D1}&to=${D}&by=district`, city, { accept: 'text/csv' });
    t.match(csv.headers['content-type'], /^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    t.match(lines[0], /^district,name,reports,zeroReports,notReported,suspected,confirmed,/);
    t.match(lines[1], /^220102,Nanguan,1,0,1,2,1,0,4,/);
    t.equal(lines.length, 12);

    const own = json<Totals>(await get(`/v1/daily-reports/totals?from=${D}&to=${D}`, kuancheng));
    t.match(own, { region: '220103', districts: 1, total: { suspected: 1, reports: 1 } });
  });

  t.test('bad ranges and scopes', async (t) => {
    const before = await counts(app);
    const bad = await get(`/v1/daily-reports/totals?from=${D}&to=${D1}`, city);
    t.equal(bad.statusCode, 400);
    t.same(
      json<ProblemBody>(bad).errors!.map((e) => e.pointer),
      ['/to'],
    );
    const long = await get(`/v1/daily-reports/compliance?from=2025-01-01&to=${D}`, city);
    t.same(
      json<ProblemBody>(long).errors!.map((e) => e.pointer),
      ['/to'],
    );
    const malformed = await get(`/v1/daily-reports/compliance?from=March&to=${D}&by=week`, city);
    t.equal(malformed.statusCode, 400);
    t.equal((await get(`/v1/daily-reports/compliance?from=${D}&to=${D}`, health)).statusCode, 403);
    t.same(await counts(app), before);
  });
});
