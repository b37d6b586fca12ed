/**
 * Fault: the service is SIGKILLed while it writes a bulk registration (`POST /v1/households/bulk`,
 * 1,000 households a request, each request with its Idempotency-Key) in the middle of loading a
 * registry, then started again and the load finished. Passes when the killed request left nothing
 * or everything (all or nothing: never some of its households), every request answered before the
 * kill is whole, the load finished afterwards registers every household once (each document once,
 * one household.registered event each), and repeats answer as promised: the same key gives the
 * stored answer, the same households under a new key a 409 naming every document.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/faults/registry-bulk-sigkill.ts
 *
 * Uses a fresh database `doudi_fault_registry_bulk` on that server (dropped after a pass, kept
 * after a failure) and loopback addresses only. Gives up, failing, after FAULT_TIMEOUT_S (180)
 * seconds. Knobs: FAULT_HOUSEHOLDS (20000, sent 1,000 a request).
 */
import { benchClient, seedingApp } from '../../bench/matching-city.js';
import { BULK_MAX, type NewHousehold } from '../../src/modules/registry/people.schemas.js';
import { syntheticHouseholds } from '../../src/modules/registry/people.seed.js';
import { type Answer, bulkServiceEnv, type Fault, knob, runFault } from './lib.js';

const HOUSEHOLDS = knob('FAULT_HOUSEHOLDS', 20_000);
const TIMEOUT_S = knob('FAULT_TIMEOUT_S', 180);
const REGION = '220104';

interface Chunk {
  households: NewHousehold[];
  members: number;
  /** The blind index of each member's ID number, as the registry stores it. */
  indexes: string[];
  key: string;
  /** The answer before the kill, if any. */
  answer?: Answer<Created>;
}
interface Created {
  households: { id: string; memberIds: string[] }[];
}

await runFault({ name: 'registry_bulk', timeoutS: TIMEOUT_S, serviceEnv: bulkServiceEnv }, async (fault) => {
  const { log, check, query } = fault;
  fault.stage = 'setting up';
  const app = await seedingApp(fault.url);
  const registrar = await benchClient(app, 'civil_affairs', 'fault registrar');
  const chunks: Chunk[] = [];
  for (let from = 0; from < HOUSEHOLDS; from += BULK_MAX) {
    const households = syntheticHouseholds({ region: REGION, seed: 11 }, from, Math.min(BULK_MAX, HOUSEHOLDS - from));
    const ids = households.flatMap((h) => h.members.map((m) => m.idNumber!));
    chunks.push({
      households,
      members: ids.length,
      indexes: ids.map((id) => app.services.pii.index('document', id)),
      key: `fault-bulk-${from}`,
    });
  }
  await app.close();
  const persons = chunks.reduce((n, c) => n + c.members, 0);
  log(`${HOUSEHOLDS} households with ${persons} members in ${REGION}, in ${chunks.length} requests`);
  const send = (c: Chunk, key: string | null = c.key) =>
    fault.api<Created>(
      registrar.key,
      'POST',
      '/v1/households/bulk',
      { households: c.households },
      key ? { 'idempotency-key': key } : {},
    );
  const registered = async (c: Chunk) =>
    (
      await query<{ n: number }>(`select count(*)::int as n from persons where id_number_index = any($1)`, [c.indexes])
    )[0]!.n;

  // Send the requests one after another; from the middle on, kill once one is inside its transaction.
  fault.stage = 'starting the service';
  await fault.start();
  const killedStart = fault.generation;
  const from = Math.floor(chunks.length / 2);
  let inFlight = -1;
  for (let i = 0; i < chunks.length && inFlight < 0; i++) {
    const c = chunks[i]!;
    if (i < from) {
      c.answer = await send(c);
      check(c.answer.status === 201, `request ${i} answered ${c.answer.status}: ${c.answer.text.slice(0, 300)}`);
      continue;
    }
    let answered = false;
    const sending = send(c).catch((err: unknown) => err as Error);
    void sending.then(() => (answered = true));
    const writing = await fault.waitFor(
      `request ${i} to write households`,
      async () => (answered ? 'answered' : fault.busyWith('%insert into persons%', { active: false })),
      2,
    );
    if (writing === 'answered') {
      const a = await sending;
      if (a instanceof Error) throw a;
      c.answer = a;
      check(a.status === 201, `request ${i} answered ${a.status}: ${a.text.slice(0, 300)}`);
      continue;
    }
    await fault.kill();
    const a = await sending;
    check(a instanceof Error, `the killed request ${i} answered ${a instanceof Error ? '' : a.status}`);
    inFlight = i;
    log(
      `SIGKILL while request ${i} (households ${i * BULK_MAX}…) wrote its persons (backend ${writing.pid}, ${writing.state})`,
    );
  }
  if (inFlight < 0) {
    fault.problem('no request was caught inside its transaction: the kill never came');
    return '';
  }

  // Service down, its connections gone: every request answered is whole, the killed one all or nothing.
  await fault.orphansGone(killedStart);
  const acknowledged = chunks.slice(0, inFlight);
  for (const [i, c] of acknowledged.entries()) {
    const n = await registered(c);
    check(n === c.members, `request ${i}, answered 201 before the kill: ${n} of its ${c.members} members registered`);
  }
  const killed = chunks[inFlight]!;
  const left = await registered(killed);
  check(
    left === 0 || left === killed.members,
    `the killed request left ${left} of its ${killed.members} members: a partial write`,
  );
  const [counts] = await query<{ households: number; events: number }>(
    `select (select count(*)::int from households) as households,
              (select count(*)::int from events where type = 'household.registered') as events`,
  );
  const expected = (acknowledged.length + (left > 0 ? 1 : 0)) * BULK_MAX;
  check(
    counts!.households === expected && counts!.events === expected,
    `after the kill: ${counts!.households} households and ${counts!.events} household.registered events, expected ${expected}`,
  );
  log(
    `after the kill: ${acknowledged.length} requests whole, the killed one ${left === 0 ? 'left nothing' : 'committed whole'}; ${counts!.households} households`,
  );

  // Started again: the killed request sent again (its key, then none), then the rest.
  fault.stage = 'starting the service again';
  await fault.start();
  const withKey = await send(killed);
  log(
    `the killed request again with its Idempotency-Key: ${withKey.status} ${(withKey.body as unknown as { type?: string }).type ?? ''}`,
  );
  check(
    withKey.status === 201 || (withKey.status === 409 && withKey.text.includes('idempotency-key-in-flight')),
    `the killed request again with its key answered ${withKey.status}: ${withKey.text.slice(0, 300)}`,
  );
  if (withKey.status !== 201) {
    const without = await send(killed, null);
    const conflicts = (without.body as unknown as { conflicts?: unknown[] }).conflicts?.length ?? 0;
    check(
      left === 0 ? without.status === 201 : without.status === 409 && conflicts === killed.members,
      `the killed request again without a key answered ${without.status} (${conflicts} conflicts), expected ${left === 0 ? '201' : `409 naming all ${killed.members} documents`}`,
    );
    log(`… and without a key: ${without.status}${without.status === 409 ? ` naming ${conflicts} documents` : ''}`);
  }
  fault.stage = 'sending the rest';
  for (let i = inFlight + 1; i < chunks.length; i++) {
    const a = await send(chunks[i]!);
    check(a.status === 201, `request ${i} after the restart answered ${a.status}: ${a.text.slice(0, 300)}`);
  }

  // Every household once; repeats answered as promised.
  await wholeRegistry(fault, persons);
  const replay = await send(chunks[0]!);
  check(
    replay.status === 201 &&
      replay.headers.get('idempotent-replayed') === 'true' &&
      JSON.stringify(replay.body) === JSON.stringify(chunks[0]!.answer?.body),
    `request 0 repeated with its key answered ${replay.status} (replayed: ${replay.headers.get('idempotent-replayed')}), expected its stored answer`,
  );
  const again = await send(chunks[1]!, 'fault-bulk-new-key');
  const conflicts = (again.body as unknown as { conflicts?: unknown[] }).conflicts?.length ?? 0;
  check(
    again.status === 409 && conflicts === chunks[1]!.members,
    `request 1 under a new key answered ${again.status} naming ${conflicts} documents, expected 409 naming ${chunks[1]!.members}`,
  );
  await wholeRegistry(fault, persons);
  return `every request answered before the kill whole, the killed one ${left === 0 ? 'left nothing (all or nothing)' : 'committed whole'}; after the restart the load finished with all ${HOUSEHOLDS} households and ${persons} persons registered once, one household.registered event each; a repeat with its key answered from the store, a repeat under a new key refused naming every document`;
});

/** Every household of the load once, each member once, one event each. */
async function wholeRegistry(fault: Fault, persons: number) {
  const [s] = await fault.query<{ households: number; persons: number; twice: number; events: number; empty: number }>(
    `select (select count(*)::int from households) as households,
            (select count(*)::int from persons) as persons,
            (select count(*)::int from (select 1 from persons group by id_type, id_number_index having count(*) > 1) d) as twice,
            (select count(*)::int from events where type = 'household.registered') as events,
            (select count(*)::int from households h where not exists (select 1 from persons p where p.household_id = h.id)) as empty`,
  );
  fault.check(
    s!.households === HOUSEHOLDS &&
      s!.persons === persons &&
      s!.twice === 0 &&
      s!.empty === 0 &&
      s!.events === HOUSEHOLDS,
    `the registry holds ${s!.households} households (${s!.empty} without members), ${s!.persons} persons (${s!.twice} documents twice), ${s!.events} household.registered events; expected ${HOUSEHOLDS} households, ${persons} persons`,
  );
}
