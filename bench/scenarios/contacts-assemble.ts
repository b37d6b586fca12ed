/**
 * Close-contact handoffs at city scale (issue 8): BENCH_CONTACTS_PERSONS persons (default 400,000)
 * in households of four, a key person in each household, BENCH_CONTACTS_VISITS visits (default
 * 2,000,000) over two years, caregivers, assignments, welfare contacts and dibao enrollments;
 * and one case with a large household (BENCH_CONTACTS_HOUSEHOLD members, default 40) and a long
 * visit history (BENCH_CONTACTS_CASE_VISITS, default 5,000 over three years). Seeded set-based in
 * SQL. Then `POST /v1/contact-handoffs` for the case, from the service in a process of its own,
 * against the same contact list read by a hand-written SQL statement through pg, in alternating
 * rounds; the handoff is revoked (in SQL, untimed) between rounds so that the next one opens.
 */
import pg from 'pg';
import { addDays, businessDateOf } from '../../src/modules/registry/dates.js';
import { mid, type ScenarioResult, start, stop } from '../lib.js';
import { actor, matchingEnv, seedingApp } from '../matching-city.js';

const PERSONS = Number(process.env.BENCH_CONTACTS_PERSONS ?? 400_000);
const VISITS = Number(process.env.BENCH_CONTACTS_VISITS ?? 2_000_000);
const HOUSEHOLD = Number(process.env.BENCH_CONTACTS_HOUSEHOLD ?? 40);
const CASE_VISITS = Number(process.env.BENCH_CONTACTS_CASE_VISITS ?? 5_000);
const ROUNDS = Number(process.env.BENCH_CONTACTS_ROUNDS ?? 20);
const PORT = 3909;
const HOUSEHOLDS = Math.ceil(PERSONS / 4);
/** Key persons: each household's head (every fourth person). */
const KEY = HOUSEHOLDS;
const CAREGIVERS = Math.max(1, Math.ceil(KEY / 50));
const DISTRICTS = ['220102', '220103', '220104', '220105', '220106', '220112', '220113', '220122'];
const CASE_REGION = '220102001001';

const district = (i: string) => `(array[${DISTRICTS.map((d) => `'${d}'`).join(',')}])[1 + ${i} % ${DISTRICTS.length}]`;
/** A community (12 digits) for household h. */
const community = (h: string) =>
  `${district(h)} || lpad((1 + (${h} / ${DISTRICTS.length}) % 10)::text, 3, '0') || lpad((1 + (${h} / 80) % 20)::text, 3, '0')`;
/** A deterministic id (RFC 9562 version 4 layout): md5 of a label and a number. */
const uid = (label: string, n: string) =>
  `overlay(overlay(md5('${label}' || ${n}) placing '4' from 13) placing '8' from 17)::uuid`;
const CASE_ID = `${uid('case', '0')}`;
const CASE_HOUSEHOLD = `${uid('casehh', '0')}`;

/** Everything set-based: generate_series, deterministic ids. Sealed values are placeholders the service copies, never opens. */
async function seed(db: pg.Client) {
  const started = performance.now();
  const step = async (what: string, text: string) => {
    const t0 = performance.now();
    await db.query(text);
    console.error(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  await step(
    'households',
    `insert into households (id, region, address)
     select ${uid('h', 'h')}, ${community('h')}, '人民大街 ' || h || ' 号' from generate_series(0, ${HOUSEHOLDS - 1}) h
     union all select ${CASE_HOUSEHOLD}, '${CASE_REGION}', '自由大路 1 号'`,
  );
  const personColumns = `id, household_id, relationship, name, id_type, id_number_sealed, id_number_index, id_number_masked,
       birth_date, region, phone_sealed, phone_index, phone_masked, sealed_key_id, scattered_extremely_poor`;
  await step(
    'persons',
    `insert into persons (${personColumns})
     select ${uid('p', 'i')}, ${uid('h', 'i / 4')}, case when i % 4 = 0 then 'head' else 'child' end, '居民' || i,
       'resident_id', 'sealed', md5('id' || i), '220102********' || lpad((i % 10000)::text, 4, '0'),
       date '1940-01-01' + (i % 25000), ${community('(i / 4)')}, 'sealed', md5('phone' || i), '138****' || lpad((i % 10000)::text, 4, '0'),
       'bench', i % 4 = 0
     from generate_series(0, ${PERSONS - 1}) i`,
  );
  await step(
    'the case and its household',
    `insert into persons (${personColumns})
     select case when m = 0 then ${CASE_ID} else ${uid('cm', 'm')} end, ${CASE_HOUSEHOLD}, case when m = 0 then 'head' else 'other' end,
       '家属' || m, 'resident_id', 'sealed', md5('case-id' || m), '220102********' || lpad(m::text, 4, '0'),
       date '1950-01-01' + m * 300, '${CASE_REGION}', 'sealed', md5('case-phone' || m), '139****' || lpad(m::text, 4, '0'), 'bench', m = 0
     from generate_series(0, ${HOUSEHOLD - 1}) m`,
  );
  await step(
    'caregivers',
    `insert into caregivers (id, region, name, kind, phone_sealed, phone_index, phone_masked, sealed_key_id)
     select ${uid('c', 'j')}, ${district('j')}, '照料员' || j, 'caseworker', 'sealed', md5('cg-phone' || j), '137****' || lpad((j % 10000)::text, 4, '0'), 'bench'
     from generate_series(0, ${CAREGIVERS - 1}) j`,
  );
  await step(
    'assignments',
    `insert into care_assignments (person_id, caregiver_id, region)
     select ${uid('p', '(h * 4)')}, ${uid('c', `(h % ${CAREGIVERS})`)}, ${community('h')}
     from generate_series(0, ${KEY - 1}) h
     union all select ${CASE_ID}, ${uid('c', '0')}, '${CASE_REGION}'`,
  );
  // Visit v goes to key person (v % KEY), up to two years back; a third in person; by the caregiver or a named visitor.
  const visitRow = (person: string, region: string, v: string, span: number) => `${person}, ${region},
       case when ${v} % 2 = 0 then ${uid('c', `(${v} % ${CAREGIVERS})`)} end,
       case when ${v} % 2 = 1 then '访客' || (${v} % 200) end,
       case when ${v} % 2 = 1 then 'sealed' end, case when ${v} % 2 = 1 then md5('visitor' || (${v} % 200)) end,
       case when ${v} % 2 = 1 then '136****' || lpad((${v} % 200)::text, 4, '0') end, case when ${v} % 2 = 1 then 'bench' end,
       (array['phone','wechat_video','in_person'])[1 + ${v} % 3],
       now() - make_interval(mins => ((${v}::bigint * 7919) % (${span} * 1440))::int), 'well'`;
  const visitColumns = `person_id, region, caregiver_id, visitor_name, visitor_phone_sealed, visitor_phone_index,
       visitor_phone_masked, sealed_key_id, channel, visited_at, health_status`;
  await step(
    'visits',
    `insert into visits (${visitColumns})
     select ${visitRow(uid('p', `((v % ${KEY}) * 4)`), community(`(v % ${KEY})`), 'v', 730)}
     from generate_series(0, ${VISITS - 1}) v`,
  );
  await step(
    'the case’s visits',
    `insert into visits (${visitColumns})
     select ${visitRow(CASE_ID, `'${CASE_REGION}'`, 'v', 1095)} from generate_series(0, ${CASE_VISITS - 1}) v`,
  );
  await step(
    'welfare contacts',
    `insert into welfare_contacts (household_id, region, contacted_at, channel, outcome, caseworker)
     select ${uid('h', `(w % ${HOUSEHOLDS})`)}, ${community(`(w % ${HOUSEHOLDS})`)},
       now() - make_interval(mins => ((w::bigint * 104729) % (730 * 1440))::int), (array['phone','wechat','video','in_person'])[1 + w % 4], 'fine', '社工' || (w % 300)
     from generate_series(0, ${Math.floor(VISITS / 10) - 1}) w
     union all
     select ${CASE_HOUSEHOLD}, '${CASE_REGION}', now() - make_interval(mins => ((w::bigint * 104729) % (1095 * 1440))::int),
       (array['phone','wechat','video','in_person'])[1 + w % 4], 'fine', '社工' || (w % 30)
     from generate_series(0, ${Math.floor(CASE_VISITS / 10) - 1}) w`,
  );
  await step(
    'enrollments',
    `insert into enrollments (program_code, household_id, region, status, monthly_benefit_fen, benefit_basis, start_date)
     select 'dibao', ${uid('h', 'h')}, ${community('h')}, 'active', 72000, '{}'::jsonb, current_date - 90
     from generate_series(0, ${HOUSEHOLDS - 1}, 5) h
     union all select 'dibao', ${CASE_HOUSEHOLD}, '${CASE_REGION}', 'active', 72000, '{}'::jsonb, current_date - 90`,
  );
  await step('vacuum', 'vacuum analyze');
  return (performance.now() - started) / 1000;
}

/**
 * The contact list by hand, as one would write it for this case: the household, the active
 * caregiver, in-person visitors and caseworkers in the window, one row per person.
 */
const baselineSql = `
  with c as (select id, household_id from persons where id = $1)
  select who, min(rel) as rel, max(last) as last from (
    select m.id::text as who, 1 as rel, $3::date as last from persons m, c where m.household_id = c.household_id and m.id <> c.id
    union all
    select a.caregiver_id::text, 3, null from care_assignments a, c where a.person_id = c.id and a.ended_at is null
    union all
    select coalesce(v.caregiver_id::text, 'phone:' || v.visitor_phone_index), 4, (v.visited_at at time zone 'Asia/Shanghai')::date
    from visits v, c where v.person_id = c.id and v.channel = 'in_person' and v.visited_at >= $2::timestamptz and v.visited_at < $4::timestamptz
    union all
    select 'name:' || w.caseworker, 4, (w.contacted_at at time zone 'Asia/Shanghai')::date
    from welfare_contacts w, c where (w.person_id = c.id or w.household_id = c.household_id)
      and w.channel = 'in_person' and w.contacted_at >= $2::timestamptz and w.contacted_at < $4::timestamptz
  ) x group by who`;

const ms = (t0: number) => performance.now() - t0;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;

export async function scenarioContactsAssemble(url: string): Promise<ScenarioResult> {
  const app = await seedingApp(url);
  // Contacts' scopes only: no registry:read_sensitive, so the placeholder sealed values are shown masked, never opened.
  const made = await app.services.clients.create({ jurisdiction: '22' }, actor, {
    name: 'bench caseworker',
    agency: 'civil_affairs',
    jurisdiction: '2201',
    scopes: ['contacts:create', 'contacts:read'],
  });
  await app.close();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const seedSeconds = await seed(db);
  const caseId = (await db.query<{ id: string }>(`select ${CASE_ID} as id`)).rows[0]!.id;
  const today = businessDateOf(new Date());
  const onsetDate = addDays(today, -2);
  const windowFrom = addDays(onsetDate, -14);
  const server = await start('./servers/doudi.ts', { ...matchingEnv(url), PORT: String(PORT), HOST: '127.0.0.1' }, [
    '--max-semi-space-size=32',
  ]);
  try {
    const open = async () => {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${PORT}/v1/contact-handoffs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${made.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ personId: caseId, onsetDate }),
      });
      const body = (await res.json()) as { id: string; contacts: unknown[] };
      const took = ms(t0);
      if (res.status !== 201) throw new Error(`opening answered ${res.status}: ${JSON.stringify(body)}`);
      // Untimed: the next round opens a handoff of its own.
      await db.query(
        `update contact_handoffs set status = 'revoked', closed_reason = 'bench', closed_at = now() where id = $1`,
        [body.id],
      );
      return { ms: took, contacts: body.contacts.length };
    };
    const direct = async () => {
      const t0 = performance.now();
      const { rows } = await db.query(baselineSql, [
        caseId,
        `${windowFrom}T00:00:00+08:00`,
        today,
        `${addDays(today, 1)}T00:00:00+08:00`,
      ]);
      return { ms: ms(t0), contacts: rows.length };
    };
    // Warm both, and check that they agree.
    let api = await open();
    let base = await direct();
    for (let i = 0; i < 2; i++) [api, base] = [await open(), await direct()];
    if (api.contacts !== base.contacts) {
      throw new Error(`the API and the hand-written SQL disagree: ${api.contacts} vs ${base.contacts} contacts`);
    }
    const measured: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push((await direct()).ms);
      measured.push((await open()).ms);
    }
    const fixed = (x: number) => Number(x.toFixed(1));
    const ours = mid(measured);
    const theirs = mid(baseline);
    const [{ n: inWindow }] = (
      await db.query<{ n: number }>(
        `select count(*)::int as n from visits where person_id = $1 and visited_at >= $2::timestamptz`,
        [caseId, `${windowFrom}T00:00:00+08:00`],
      )
    ).rows as [{ n: number }];
    return {
      name: 'contacts-assemble',
      title: `Close-contact handoff: assembling a case’s contacts among ${PERSONS.toLocaleString('en')} persons and ${VISITS.toLocaleString('en')} visits (POST /v1/contact-handoffs)`,
      baselineTitle: 'The same contact list by one hand-written SQL statement run directly through pg',
      notes: [
        `Data: ${PERSONS.toLocaleString('en')} persons in ${HOUSEHOLDS.toLocaleString('en')} households of four in ${DISTRICTS.length} districts, each head a key person with a caregiver (${CAREGIVERS.toLocaleString('en')} caregivers); ${VISITS.toLocaleString('en')} visits over two years (a third in person, half by the caregiver, half by named visitors with phones); ${Math.floor(VISITS / 10).toLocaleString('en')} welfare contacts; every fifth household on dibao. The case: a household of ${HOUSEHOLD}, ${CASE_VISITS.toLocaleString('en')} visits over three years (${inWindow} since the window opened) and ${Math.floor(CASE_VISITS / 10)} welfare contacts. Seeded set-based in SQL (generate_series) in ${seedSeconds.toFixed(0)} s, then vacuumed and analyzed.`,
        `Doudi: \`POST /v1/contact-handoffs\` (onset two days ago, look-back 14 days) as a caseworker, over HTTP to the service in a process of its own: authenticated, scope- and jurisdiction-checked, the policy in force read, the handoff inserted and its ${api.contacts} contacts assembled and written by one INSERT … SELECT (household, caregiver, in-person visits and welfare contacts in the window through their person indexes, merged per person by blind index, recipients by enrollment), the first step, the event and the audit row in the same transaction; then the handoff read back and answered as JSON. Revoked in SQL between rounds (untimed).`,
        `Baseline: the same contacts (${base.contacts}) by a hand-written statement through pg: a read only, no write, no HTTP. ${ROUNDS} alternating rounds, one request at a time after a warm-up; milliseconds.`,
      ],
      persons: PERSONS,
      visits: VISITS,
      household: HOUSEHOLD,
      caseVisits: CASE_VISITS,
      contacts: api.contacts,
      roundsMeasured: measured.map(fixed),
      roundsBaseline: baseline.map(fixed),
      table: {
        columns: ['median ms', 'p95 ms', 'max ms'],
        measured: [fixed(ours), fixed(p95(measured)), fixed(Math.max(...measured))],
        baseline: [fixed(theirs), fixed(p95(baseline)), fixed(Math.max(...baseline))],
      },
      throughputRatio: Number((theirs / ours).toFixed(3)),
      target: 'a handoff assembled (opened, written and answered) in under 100 ms (p95 over the rounds)',
      met: p95(measured) < 100,
    };
  } finally {
    await stop(server);
    await db.end();
  }
}
