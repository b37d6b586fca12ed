/**
 * Key-person care coverage at city scale (issue 7): BENCH_CARE_KEY_PERSONS key persons (default
 * 100,000) among three times as many ordinary persons, 20 visits a key person (2,000,000 by
 * default), a caregiver for 50 key persons, 95% assigned; seeded set-based in SQL. Then
 * `GET /v1/coverage?region=2201` from the service in a process of its own, against the same
 * figures by a hand-written SQL statement run directly through pg, in alternating rounds.
 */
import pg from 'pg';
import { addDays, businessDateOf } from '../../src/modules/registry/dates.js';
import { mid, type ScenarioResult, start, stop } from '../lib.js';
import { benchClient, matchingEnv, seedingApp } from '../matching-city.js';

const KEY = Number(process.env.BENCH_CARE_KEY_PERSONS ?? 100_000);
const ORDINARY = 3 * KEY;
/** BENCH_CARE_VISITS_PER_PERSON (default 20): coverage reads each person's last visit, not the visits. */
const VISITS = Number(process.env.BENCH_CARE_VISITS_PER_PERSON ?? 20) * KEY;
const ROUNDS = Number(process.env.BENCH_CARE_ROUNDS ?? 20);
const PORT = 3908;
const DISTRICTS = [
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
/** A multiple of the districts, so that each caregiver looks after people of their own district. */
const CAREGIVERS = DISTRICTS.length * Math.ceil(KEY / 50 / DISTRICTS.length);
/** Key persons never visited (the last 5%); the others' visits end 0 to 59 days ago, a week apart. */
const VISITED = Math.floor(KEY * 0.95);

const district = (i: string) => `(array[${DISTRICTS.map((d) => `'${d}'`).join(',')}])[1 + ${i} % ${DISTRICTS.length}]`;
/** A community (12 digits) for person i: district, one of 10 subdistricts, one of 20 communities. */
const community = (i: string) =>
  `${district(i)} || lpad((1 + (${i} / ${DISTRICTS.length}) % 10)::text, 3, '0') || lpad((1 + (${i} / 110) % 20)::text, 3, '0')`;

/** A deterministic id (RFC 9562 version 4 layout, as the API's schemas check): md5 of a label and a number. */
const uid = (label: string, n: string) =>
  `overlay(overlay(md5('${label}' || ${n}) placing '4' from 13) placing '8' from 17)::uuid`;

/** Everything set-based: generate_series, deterministic ids (md5 of a label and the number). */
async function seed(db: pg.Client) {
  const started = performance.now();
  const step = async (what: string, text: string) => {
    const t0 = performance.now();
    await db.query(text);
    console.error(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  // Key persons first (i < KEY): scattered extremely poor, living alone or disabled by turns.
  await step(
    'persons',
    `insert into persons (id, name, id_type, id_number_sealed, id_number_index, id_number_masked, sealed_key_id, region,
       scattered_extremely_poor, lives_alone, disabled)
     select ${uid('p', 'i')}, '居民' || i, 'resident_id', 'sealed', md5('id' || i), '220102********' || lpad((i % 10000)::text, 4, '0'),
       'bench', ${community('i')}, i < ${KEY} and i % 3 = 0, i < ${KEY} and i % 3 = 1, i < ${KEY} and i % 3 = 2
     from generate_series(0, ${KEY + ORDINARY - 1}) i`,
  );
  await step(
    'caregivers',
    `insert into caregivers (id, region, name, kind)
     select ${uid('c', 'j')}, ${district('j')} || lpad((1 + (j / ${DISTRICTS.length}) % 10)::text, 3, '0'), '照料员' || j, 'caseworker'
     from generate_series(0, ${CAREGIVERS - 1}) j`,
  );
  await step(
    'assignments',
    `insert into care_assignments (person_id, caregiver_id, region)
     select ${uid('p', 'i')}, ${uid('c', `(i % ${CAREGIVERS})`)}, ${community('i')}
     from generate_series(0, ${KEY - 1}) i where i % 20 <> 7`,
  );
  // Visit k of person p lies k weeks before the person's last, which is (p * 7919) % 60 days ago.
  await step(
    'visits',
    `insert into visits (person_id, region, caregiver_id, channel, visited_at, health_status)
     select ${uid('p', 'p')}, ${community('p')}, ${uid('c', `(p % ${CAREGIVERS})`)},
       (array['phone','wechat_video','in_person'])[1 + v % 3],
       now() - make_interval(days => (p * 7919) % 60 + 7 * k, hours => v % 10), 'well'
     from generate_series(0, ${VISITS - 1}) v, lateral (select v % ${VISITED} as p, v / ${VISITED} as k) x`,
  );
  await step(
    'last visits',
    `insert into care_last_visits (person_id, visit_id, visited_at)
     select distinct on (person_id) person_id, id, visited_at from visits order by person_id, visited_at desc, id`,
  );
  // The emergency: the city visits every 14 days, Nanguan every 7.
  await step(
    'policies',
    `insert into policies (name, region, effective_from, visit_interval_days) values
       ('bench city', '2201', current_date - 30, 14), ('bench Nanguan', '220102', current_date - 10, 7)`,
  );
  // What autovacuum would have done by morning: statistics, and the visibility map index-only scans use.
  await step('vacuum', 'vacuum analyze');
  return (performance.now() - started) / 1000;
}

/**
 * The figures by hand, as one would write them for this city: the two policies' thresholds as
 * literals (visited since the start of the day 7 days ago in Nanguan, 14 elsewhere), the same joins
 * and grouping sets, no caregiver names.
 */
const baselineSql = (today: string) => {
  const since = (days: number) => `'${addDays(today, -days)}T00:00:00+08:00'::timestamptz`;
  return `
  select left(p.region, 6) as district, a.caregiver_id, count(*)::int as key_persons,
    count(a.caregiver_id)::int as with_caregiver,
    (count(*) filter (where lv.visited_at >= case when p.region like '220102%' then ${since(7)} else ${since(14)} end))::int as visited,
    (count(*) filter (where lv.visited_at is null))::int as never_visited,
    grouping(left(p.region, 6), a.caregiver_id) as level
  from persons p
  left join care_assignments a on a.person_id = p.id and a.ended_at is null
  left join care_last_visits lv on lv.person_id = p.id
  where (p.scattered_extremely_poor or p.lives_alone or p.disabled) and p.region like '2201%'
  group by grouping sets ((left(p.region, 6)), (a.caregiver_id), ())`;
};

interface Total {
  keyPersons: number;
  withCaregiver: number;
  visitedWithinInterval: number;
  neverVisited: number;
}

const ms = (t0: number) => performance.now() - t0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;

export async function scenarioCareCoverage(url: string): Promise<ScenarioResult> {
  const app = await seedingApp(url);
  const caseworker = await benchClient(app, 'civil_affairs', 'bench caseworker');
  await app.close();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const seedSeconds = await seed(db);
  const today = businessDateOf(new Date());
  const server = await start('./servers/doudi.ts', { ...matchingEnv(url), PORT: String(PORT), HOST: '127.0.0.1' }, [
    '--max-semi-space-size=32',
  ]);
  try {
    const ask = async () => {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${PORT}/v1/coverage?region=2201`, {
        headers: { authorization: `Bearer ${caseworker.key}` },
      });
      const body = (await res.json()) as { total: Total; caregivers: unknown[]; regions: unknown[] };
      if (res.status !== 200) throw new Error(`coverage answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms: ms(t0), body };
    };
    const direct = async () => {
      const t0 = performance.now();
      const { rows } = await db.query<{
        level: number;
        key_persons: number;
        with_caregiver: number;
        visited: number;
        never_visited: number;
      }>(baselineSql(today));
      return { ms: ms(t0), total: rows.find((r) => r.level === 3)!, rows: rows.length };
    };
    // Warm both, and check that they agree.
    let api = await ask();
    let base = await direct();
    for (let i = 0; i < 2; i++) [api, base] = [await ask(), await direct()];
    const t = api.body.total;
    const b = base.total;
    if (
      t.keyPersons !== KEY ||
      t.keyPersons !== b.key_persons ||
      t.withCaregiver !== b.with_caregiver ||
      t.visitedWithinInterval !== b.visited ||
      t.neverVisited !== b.never_visited
    ) {
      throw new Error(`the API and the hand-written SQL disagree: ${JSON.stringify(t)} vs ${JSON.stringify(b)}`);
    }
    const measured: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push((await direct()).ms);
      measured.push((await ask()).ms);
    }
    const ours = mid(measured);
    const theirs = mid(baseline);
    const fixed = (x: number) => Number(x.toFixed(1));
    const met = p95(measured) < 300;
    return {
      name: 'care-coverage',
      title: `Key-person care: coverage of a city with ${KEY.toLocaleString('en')} key persons and ${VISITS.toLocaleString('en')} visits (GET /v1/coverage)`,
      baselineTitle: 'The same figures by one hand-written SQL statement run directly through pg',
      notes: [
        `Data: ${(KEY + ORDINARY).toLocaleString('en')} persons in ${DISTRICTS.length} districts of 2201 (12-digit communities), of whom ${KEY.toLocaleString('en')} key persons (scattered extremely poor, living alone or disabled by turns); ${CAREGIVERS.toLocaleString('en')} caregivers, 95% of key persons assigned; ${VISITS.toLocaleString('en')} visits (5% of key persons never visited, the others' last visit 0 to 59 days ago, a week apart before that) and each one's last visit; emergency policies: the city every 14 days, Nanguan every 7. Seeded set-based in SQL (generate_series) in ${seedSeconds.toFixed(0)} s, then vacuumed and analyzed (as autovacuum would have).`,
        `Doudi: \`GET /v1/coverage?region=2201\` as a city caseworker, over HTTP to the service in a process of its own (authenticated, scope- and jurisdiction-checked, answered as JSON with ${api.body.regions.length} districts and ${api.body.caregivers.length} caregivers, checked against the response schema): the policies in force read first (a handful of rows), then one statement over the key persons (the partial index of key persons), each person's interval a CASE over those policies by region prefix, hash-joined to the active assignments and the last visits, grouping sets per district, per caregiver and in total. Found: ${JSON.stringify(t)}.`,
        `Baseline: the same figures by a hand-written statement through pg (${base.rows} rows; the two policies' thresholds as literals, no caregiver names), no HTTP. ${ROUNDS} alternating rounds, one request at a time after a warm-up; milliseconds.`,
      ],
      keyPersons: KEY,
      persons: KEY + ORDINARY,
      visits: VISITS,
      caregivers: CAREGIVERS,
      roundsMeasured: measured.map(fixed),
      roundsBaseline: baseline.map(fixed),
      table: {
        columns: ['median ms', 'p95 ms', 'max ms'],
        measured: [fixed(ours), fixed(p95(measured)), fixed(Math.max(...measured))],
        baseline: [fixed(theirs), fixed(p95(baseline)), fixed(Math.max(...baseline))],
      },
      throughputRatio: Number((theirs / ours).toFixed(3)),
      target: 'coverage of the city answered in under 300 ms (p95 over the rounds)',
      met,
    };
  } finally {
    await stop(server);
    await db.end();
  }
}
