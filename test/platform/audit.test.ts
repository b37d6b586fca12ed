import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { asc, count, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../src/db/client.js';
import type { AuditActor } from '../../src/platform/audit/service.js';
import { auditChainHead, auditEvents } from '../../src/platform/audit/tables.js';
import { freshDatabase, json, onPostgres, testApp } from '../helpers.js';

const GENESIS = '0'.repeat(64);
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

interface AuditEventOut {
  id: string;
  occurredAt: string;
  clientId: string | null;
  agency: string | null;
  operation: string;
  resourceType: string;
  resourceIds: string[];
  personIds: string[];
  outcome: string;
  requestId: string | null;
  detail: Record<string, unknown> | null;
  chainSeq: number | null;
  hash: string | null;
}

interface Page {
  items: AuditEventOut[];
  nextCursor: string | null;
}

/** The message of a failed promise and of every cause under it (drizzle wraps driver errors). */
async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const messages: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
    return messages.join(' | ');
  }
  return 'it did not fail';
}

/** Runs a CLI command in a child process and collects what it printed and how it exited. */
function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/cli.ts', ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pretty-printed JSON report the CLI ends with. */
function reportOf(stdout: string): Record<string, unknown> {
  const start = stdout.indexOf('{\n');
  if (start < 0) throw new Error(`no JSON report in: ${stdout}`);
  return JSON.parse(stdout.slice(start)) as Record<string, unknown>;
}

t.test('audit trail', async (t) => {
  const database = await freshDatabase(t);
  const { app, admin, client } = await testApp(t, { database });
  const { db } = app.database;
  const { audit, jobs } = app.services;
  const actor: AuditActor = { clientId: null, agency: null, requestId: 'audit-test' };

  const list = async (query: Record<string, string>, headers = admin.headers) => {
    const res = await app.inject({ method: 'GET', url: '/v1/audit-events', query, headers });
    if (res.statusCode !== 200) throw new Error(`GET /v1/audit-events answered ${res.statusCode}: ${res.body}`);
    return json<Page>(res);
  };
  const sealedRows = () =>
    db.select().from(auditEvents).where(isNotNull(auditEvents.chainSeq)).orderBy(asc(auditEvents.chainSeq));
  const countRows = async (where?: ReturnType<typeof isNull>) => {
    const [found] = await db.select({ n: count() }).from(auditEvents).where(where);
    return found!.n;
  };
  /** Runs SQL on audit_events with its append-only trigger off, as someone tampering would. */
  const tamper = async (statement: ReturnType<typeof sql>) => {
    await db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    try {
      await db.execute(statement);
    } finally {
      await db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    }
  };

  t.test('POST /v1/clients writes its audit row with the caller and the request id', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: admin.headers,
      payload: { name: 'Audit probe', agency: 'bank', jurisdiction: '220102' },
    });
    t.equal(res.statusCode, 201);
    const requestId = res.headers['x-request-id'];
    t.type(requestId, 'string');
    const created = json<{ client: { id: string }; apiKey: { id: string } }>(res);

    const written = await db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.requestId, String(requestId)));
    t.equal(written.length, 1, 'exactly one audit row for the request');
    t.match(written[0], {
      operation: 'createClient',
      resourceType: 'client',
      clientId: admin.id,
      agency: 'admin',
      outcome: 'success',
      requestId,
      chainSeq: null,
    });
    t.same(written[0]!.resourceIds, [created.client.id, created.apiKey.id]);

    const page = await list({ operation: 'createClient', clientId: admin.id });
    t.ok(
      page.items.some((e) => e.requestId === requestId && e.resourceIds.includes(created.client.id)),
      'and the API shows it',
    );
  });

  t.test('an audit row exists exactly when its transaction commits', async (t) => {
    const operation = `rollbackProbe-${randomUUID()}`;
    const failed = await failureOf(
      db.transaction(async (tx) => {
        await audit.record(tx, actor, { operation, resourceType: 'probe' });
        throw new Error('the change failed');
      }),
    );
    t.match(failed, /the change failed/);
    t.equal(await countRows(eq(auditEvents.operation, operation)), 0, 'rolled back: no audit row');

    await db.transaction(async (tx) => {
      await audit.record(tx, actor, { operation, resourceType: 'probe' });
    });
    t.equal(await countRows(eq(auditEvents.operation, operation)), 1, 'committed: one audit row');
  });

  t.test('reading the trail needs audit:read, and a refusal is audited', async (t) => {
    const bank = await client('bank');
    const limited = await client('admin', { scopes: ['clients:read'] });
    for (const who of [bank, limited]) {
      const res = await app.inject({ method: 'GET', url: '/v1/audit-events', headers: who.headers });
      t.equal(res.statusCode, 403);
      t.match(json(res), { type: '/problems/forbidden', requiredScopes: ['audit:read'] });
    }
    const denied = await list({ clientId: bank.id, operation: 'listAuditEvents' });
    t.equal(denied.items.length, 1);
    t.match(denied.items[0], { outcome: 'denied', agency: 'bank', detail: { missingScopes: ['audit:read'] } });
  });

  t.test('filters by client, operation, resource type and person', async (t) => {
    const other = await client('admin');
    const made = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: other.headers,
      payload: { name: 'Filter probe', agency: 'health', jurisdiction: '2201' },
    });
    t.equal(made.statusCode, 201);
    const byClient = await list({ clientId: other.id });
    t.equal(byClient.items.length, 1, 'only the other admin’s one action');
    t.match(byClient.items[0], {
      clientId: other.id,
      operation: 'createClient',
      requestId: made.headers['x-request-id'],
    });

    const operation = `filterProbe-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await audit.record(db, actor, { operation, resourceType: i === 0 ? 'thing' : 'other' });
    const byOperation = await list({ operation });
    t.equal(byOperation.items.length, 3);
    t.ok(byOperation.items.every((e) => e.operation === operation));
    const byType = await list({ operation, resourceType: 'thing' });
    t.equal(byType.items.length, 1);

    const person = randomUUID();
    const stranger = randomUUID();
    await audit.record(db, actor, { operation: 'readPerson', resourceType: 'person', personIds: [person, stranger] });
    await audit.record(db, actor, { operation: 'readPerson', resourceType: 'person', personIds: [stranger] });
    const byPerson = await list({ personId: person });
    t.equal(byPerson.items.length, 1, 'who has seen this person');
    t.same(byPerson.items[0]!.personIds, [person, stranger]);
    t.equal((await list({ personId: stranger })).items.length, 2);
    t.equal((await list({ personId: randomUUID() })).items.length, 0);

    const bad = await app.inject({ method: 'GET', url: '/v1/audit-events?personId=nope', headers: admin.headers });
    t.equal(bad.statusCode, 400);
  });

  t.test('filters by time: from and to are inclusive', async (t) => {
    const operation = `timeProbe-${randomUUID()}`;
    for (const day of ['2020-01-01', '2020-01-02', '2020-01-03']) {
      await db.insert(auditEvents).values({
        occurredAt: new Date(`${day}T00:00:00Z`),
        operation,
        resourceType: 'probe',
        outcome: 'success',
        detail: { day },
      });
    }
    const days = async (query: Record<string, string>) =>
      (await list({ operation, ...query })).items.map((e) => e.detail?.day).sort();
    t.same(await days({}), ['2020-01-01', '2020-01-02', '2020-01-03']);
    t.same(await days({ from: '2020-01-02T00:00:00Z' }), ['2020-01-02', '2020-01-03']);
    t.same(await days({ to: '2020-01-02T00:00:00Z' }), ['2020-01-01', '2020-01-02']);
    t.same(await days({ from: '2020-01-02T00:00:00Z', to: '2020-01-02T00:00:00Z' }), ['2020-01-02']);
    t.same(await days({ from: '2020-01-02T08:00:00+08:00' }), ['2020-01-02', '2020-01-03'], 'offsets count');
    t.same(await days({ from: '2020-01-02T00:00:00.001Z', to: '2020-01-02T23:59:59Z' }), []);

    // An event's own occurredAt, as the API wrote it, finds that event at either end.
    await audit.record(db, actor, { operation, resourceType: 'probe', detail: { day: 'today' } });
    const [today] = (await list({ operation, from: '2020-01-04T00:00:00Z' })).items;
    t.ok(today);
    t.same(await days({ from: today!.occurredAt, to: today!.occurredAt }), ['today']);

    const bad = await app.inject({ method: 'GET', url: '/v1/audit-events?from=yesterday', headers: admin.headers });
    t.equal(bad.statusCode, 400);
  });

  t.test('pages newest first with nextCursor', async (t) => {
    const operation = `pageProbe-${randomUUID()}`;
    for (let i = 0; i < 7; i++) await audit.record(db, actor, { operation, resourceType: 'probe', detail: { i } });
    const all = await list({ operation, limit: '500' });
    t.same(
      all.items.map((e) => e.detail?.i),
      [6, 5, 4, 3, 2, 1, 0],
      'newest first',
    );
    t.equal(all.nextCursor, null);

    const walked: AuditEventOut[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list({ operation, limit: '3', ...(cursor && { cursor }) });
      walked.push(...page.items);
      sizes.push(page.items.length);
      cursor = page.nextCursor;
    } while (cursor);
    t.same(sizes, [3, 3, 1]);
    t.same(
      walked.map((e) => e.id),
      all.items.map((e) => e.id),
      'the pages together are the whole list, in order',
    );

    const exact = await list({ operation, limit: '7' });
    t.equal(exact.items.length, 7);
    t.equal(exact.nextCursor, null, 'no cursor when nothing is left');

    const bad = await app.inject({ method: 'GET', url: '/v1/audit-events?cursor=garbage', headers: admin.headers });
    t.equal(bad.statusCode, 400);
    t.match(json(bad), { errors: [{ in: 'query', pointer: '/cursor' }] });
  });

  t.test('seal() chains every unsealed row', async (t) => {
    const unsealed = await countRows(isNull(auditEvents.chainSeq));
    t.ok(unsealed > 10, 'the tests above left rows to seal');
    t.equal(await audit.seal(), unsealed, 'returns how many it sealed');
    t.equal(await countRows(isNull(auditEvents.chainSeq)), 0);

    const chain = await sealedRows();
    t.equal(chain.length, unsealed);
    t.same(
      chain.map((r) => r.chainSeq),
      chain.map((_, i) => i + 1),
      'chainSeq runs 1..n',
    );
    t.equal(chain[0]!.prevHash, GENESIS, 'the chain starts at the genesis hash');
    for (const [i, row] of chain.entries()) {
      t.match(row.hash, /^[0-9a-f]{64}$/);
      if (i > 0 && row.prevHash !== chain[i - 1]!.hash) t.fail(`row ${row.chainSeq} does not point at the row before`);
    }
    t.equal(new Set(chain.map((r) => r.hash)).size, chain.length, 'every hash differs');
    const [head] = await db.select().from(auditChainHead);
    t.match(head, { lastChainSeq: unsealed, lastHash: chain.at(-1)!.hash });

    const page = await list({ limit: '1' });
    t.equal(page.items[0]!.chainSeq, unsealed, 'the API shows the place in the chain');
    t.equal(page.items[0]!.hash, chain.at(-1)!.hash);

    t.equal(await audit.seal(), 0, 'nothing left to seal');
  });

  t.test('verify() reports an intact chain', async (t) => {
    const n = await countRows();
    t.same(await audit.verify(), { ok: true, checked: n, unsealed: 0, headChainSeq: n, firstBroken: null });
  });

  t.test('rows written after a seal are sealed next time and the chain still verifies', async (t) => {
    const before = await countRows();
    const [last] = (await sealedRows()).slice(-1);
    for (let i = 0; i < 3; i++)
      await audit.record(db, actor, { operation: 'lateProbe', resourceType: 'probe', detail: { i } });
    t.match(await audit.verify(), { ok: true, checked: before, unsealed: 3, headChainSeq: before });

    t.equal(await audit.seal(), 3);
    const chain = await sealedRows();
    t.equal(chain.length, before + 3);
    const added = chain.slice(before);
    t.same(
      added.map((r) => r.chainSeq),
      [before + 1, before + 2, before + 3],
    );
    t.equal(added[0]!.prevHash, last!.hash, 'the new rows continue the chain');
    t.equal(added[1]!.prevHash, added[0]!.hash);
    t.equal(added[2]!.prevHash, added[1]!.hash);
    t.same(await audit.verify(), {
      ok: true,
      checked: before + 3,
      unsealed: 0,
      headChainSeq: before + 3,
      firstBroken: null,
    });
  });

  t.test('verify() is not misled by rows sealed while it runs', async (t) => {
    // The sealer runs every second next to a verification; what it seals meanwhile is not a break.
    const report = await audit.verify(async () => {
      await audit.record(db, actor, { operation: 'concurrentProbe', resourceType: 'probe' });
      t.equal(await audit.seal(), 1);
    });
    t.match(report, { ok: true, firstBroken: null });
    t.same(await audit.verify(), { ...report, checked: report.checked + 1, headChainSeq: report.headChainSeq + 1 });
  });

  t.test('the trail is append-only', async (t) => {
    const [sealed] = await sealedRows();
    await audit.record(db, actor, { operation: 'unsealedProbe', resourceType: 'probe' });
    const [unsealed] = await db.select().from(auditEvents).where(isNull(auditEvents.chainSeq));
    t.ok(sealed && unsealed);

    t.match(
      await failureOf(db.execute(sql`update audit_events set outcome = 'failed' where id = ${sealed!.id}`)),
      /append-only/,
    );
    t.match(
      await failureOf(db.execute(sql`update audit_events set detail = '{}' where id = ${sealed!.id}`)),
      /append-only/,
    );
    t.match(
      await failureOf(db.execute(sql`update audit_events set hash = ${GENESIS} where id = ${sealed!.id}`)),
      /append-only/,
      'a sealed row cannot be resealed',
    );
    t.match(await failureOf(db.execute(sql`delete from audit_events where id = ${sealed!.id}`)), /append-only/);
    t.match(
      await failureOf(db.execute(sql`update audit_events set operation = 'other' where id = ${unsealed!.id}`)),
      /append-only/,
      'an unsealed row’s content cannot change either',
    );
    t.match(await failureOf(db.execute(sql`delete from audit_events where id = ${unsealed!.id}`)), /append-only/);
    t.match(await failureOf(db.execute(sql`truncate audit_events`)), /append-only/);

    const [after] = await db.select().from(auditEvents).where(eq(auditEvents.id, sealed!.id));
    t.same(after, sealed, 'the sealed row is as it was');
    t.equal(await audit.seal(), 1, 'sealing is the one change allowed');
    t.match(await audit.verify(), { ok: true });
  });

  t.test('a changed outcome or detail is found at exactly that row', async (t) => {
    const chain = await sealedRows();
    const victim = chain[4]!;
    await tamper(sql`update audit_events set outcome = 'failed' where id = ${victim.id}`);
    const report = await audit.verify();
    t.match(report, { ok: false, checked: victim.chainSeq! - 1, headChainSeq: chain.length });
    t.equal(report.firstBroken?.chainSeq, victim.chainSeq);
    t.equal(report.firstBroken?.auditEventId, victim.id);
    t.match(report.firstBroken?.reason, /content/);
    await tamper(sql`update audit_events set outcome = ${victim.outcome} where id = ${victim.id}`);
    t.match(await audit.verify(), { ok: true }, 'put back, the chain verifies again');

    const withDetail = chain.find((r) => r.detail !== null && r.chainSeq! > 2)!;
    await tamper(sql`update audit_events set detail = detail || '{"tampered": true}' where id = ${withDetail.id}`);
    const detailReport = await audit.verify();
    t.equal(detailReport.ok, false);
    t.equal(detailReport.firstBroken?.chainSeq, withDetail.chainSeq);
    t.match(detailReport.firstBroken?.reason, /content/);
    await tamper(sql`update audit_events set detail = detail - 'tampered' where id = ${withDetail.id}`);
    t.match(await audit.verify(), { ok: true });
  });

  t.test('a row re-hashed after a change breaks the link to the next row', async (t) => {
    const chain = await sealedRows();
    const victim = chain[2]!;
    const rehash = sql`update audit_events set hash = audit_event_hash(prev_hash, chain_seq, audit_events) where id = ${victim.id}`;
    await tamper(sql`update audit_events set outcome = 'denied' where id = ${victim.id}`);
    await tamper(rehash);
    const report = await audit.verify();
    t.equal(report.ok, false);
    t.equal(report.firstBroken?.chainSeq, victim.chainSeq! + 1);
    t.match(report.firstBroken?.reason, /link/);
    await tamper(sql`update audit_events set outcome = ${victim.outcome} where id = ${victim.id}`);
    await tamper(rehash);
    t.match(await audit.verify(), { ok: true });
  });

  t.test('a deleted row is reported where it was', async (t) => {
    const chain = await sealedRows();
    await db.execute(sql`create table audit_events_backup as select * from audit_events where false`);
    t.teardown(() => db.execute(sql`drop table if exists audit_events_backup`));
    const restore = async () => {
      await db.execute(sql`insert into audit_events overriding system value select * from audit_events_backup`);
      await db.execute(sql`delete from audit_events_backup`);
    };
    const remove = async (chainSeq: number) => {
      await db.execute(sql`insert into audit_events_backup select * from audit_events where chain_seq = ${chainSeq}`);
      await tamper(sql`delete from audit_events where chain_seq = ${chainSeq}`);
    };

    const middle = chain[5]!.chainSeq!;
    await remove(middle);
    const report = await audit.verify();
    t.match(report, { ok: false, checked: middle - 1 });
    t.equal(report.firstBroken?.chainSeq, middle + 1, 'broken at the row after the gap');
    t.equal(report.firstBroken?.auditEventId, chain[6]!.id);
    t.match(report.firstBroken?.reason, /missing/);
    await restore();
    t.match(await audit.verify(), { ok: true });

    await remove(1);
    const first = await audit.verify();
    t.match(first, { ok: false, checked: 0, firstBroken: { chainSeq: 2, reason: /missing/ } });
    await restore();

    const last = chain.at(-1)!.chainSeq!;
    await remove(last);
    const end = await audit.verify();
    t.match(end, { ok: false, firstBroken: { chainSeq: last } });
    t.match(end.firstBroken?.reason, /head|missing/);
    await restore();
    t.same((await audit.verify()).ok, true, 'all put back');
  });

  t.test('a head that does not match the chain is reported', async (t) => {
    const chain = await sealedRows();
    const [last, beforeLast] = [chain.at(-1)!, chain.at(-2)!];
    const setHead = (seq: number, hash: string) =>
      db.execute(sql`update audit_chain_head set last_chain_seq = ${seq}, last_hash = ${hash} where id = 1`);

    await setHead(beforeLast.chainSeq!, beforeLast.hash!);
    t.match(await audit.verify(), {
      ok: false,
      checked: beforeLast.chainSeq,
      firstBroken: { chainSeq: last.chainSeq, reason: /beyond the head/ },
    });
    await setHead(last.chainSeq!, GENESIS);
    t.match(await audit.verify(), {
      ok: false,
      checked: last.chainSeq,
      firstBroken: { chainSeq: last.chainSeq, reason: /does not end where the head says/ },
    });
    await setHead(last.chainSeq!, last.hash!);
    t.match(await audit.verify(), { ok: true });
  });

  t.test('POST /v1/audit-events/verifications verifies in a job', async (t) => {
    const bank = await client('bank');
    const refused = await app.inject({ method: 'POST', url: '/v1/audit-events/verifications', headers: bank.headers });
    t.equal(refused.statusCode, 403);

    await audit.record(db, actor, { operation: 'pendingProbe', resourceType: 'probe' });
    const res = await app.inject({ method: 'POST', url: '/v1/audit-events/verifications', headers: admin.headers });
    t.equal(res.statusCode, 202);
    const job = json<{ id: string; status: string }>(res);
    t.equal(res.headers.location, `/v1/jobs/${job.id}`);
    t.equal(job.status, 'queued');
    const requested = await list({ operation: 'verifyAuditChain', clientId: admin.id });
    t.equal(requested.items.length, 1, 'the request is audited');
    t.same(requested.items[0]!.resourceIds, [job.id]);

    t.equal(await jobs.drain(), 1);
    const sealed = await countRows(isNotNull(auditEvents.chainSeq));
    t.equal(sealed, await countRows(), 'the job sealed what was pending first');
    const done = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin.headers });
    t.equal(done.statusCode, 200);
    t.match(json(done), {
      status: 'succeeded',
      progress: { done: sealed, total: sealed },
      result: { ok: true, checked: sealed, unsealed: 0, headChainSeq: sealed, firstBroken: null },
    });

    const victim = (await sealedRows())[7]!;
    await tamper(sql`update audit_events set outcome = 'denied' where id = ${victim.id}`);
    const again = await app.inject({ method: 'POST', url: '/v1/audit-events/verifications', headers: admin.headers });
    t.equal(await jobs.drain(), 1);
    const broken = await app.inject({
      method: 'GET',
      url: `/v1/jobs/${json<{ id: string }>(again).id}`,
      headers: admin.headers,
    });
    t.match(json(broken), {
      status: 'succeeded',
      result: { ok: false, firstBroken: { chainSeq: victim.chainSeq, auditEventId: victim.id, reason: /content/ } },
    });
    await tamper(sql`update audit_events set outcome = ${victim.outcome} where id = ${victim.id}`);
    t.match(await audit.verify(), { ok: true });
  });

  t.test(
    'the verify-audit command',
    { skip: onPostgres ? false : 'runs only on PostgreSQL (DATABASE_URL)' },
    async (t) => {
      const env = { DATABASE_URL: database.url!, LOG_LEVEL: 'warn' };
      await audit.record(db, actor, { operation: 'cliProbe', resourceType: 'probe' });
      const good = await runCli(['verify-audit'], env);
      t.equal(good.code, 0, good.stderr);
      const total = await countRows();
      t.same(reportOf(good.stdout), { ok: true, checked: total, unsealed: 0, headChainSeq: total, firstBroken: null });

      const victim = (await sealedRows())[3]!;
      await tamper(sql`update audit_events set detail = '{"rewritten": true}' where id = ${victim.id}`);
      const bad = await runCli(['verify-audit'], env);
      t.equal(bad.code, 2, 'exits 2 on a broken chain');
      t.match(reportOf(bad.stdout), {
        ok: false,
        checked: victim.chainSeq! - 1,
        firstBroken: { chainSeq: victim.chainSeq, auditEventId: victim.id, reason: /content/ },
      });
      await tamper(
        sql`update audit_events set detail = ${victim.detail === null ? null : JSON.stringify(victim.detail)}::jsonb where id = ${victim.id}`,
      );
      t.match(await audit.verify(), { ok: true });
    },
  );

  t.test('the hash covers the row and its place (SQL and the stored chain agree)', async (t) => {
    const [mismatch] = await rows<{ n: number }>(
      db,
      sql`select count(*)::int as n from audit_events e
          where e.chain_seq is not null and e.hash is distinct from audit_event_hash(e.prev_hash, e.chain_seq, e)`,
    );
    t.equal(mismatch!.n, 0);
    const [moved] = await rows<{ same: boolean }>(
      db,
      sql`select audit_event_hash(e.prev_hash, e.chain_seq + 1, e) = e.hash as same from audit_events e where e.chain_seq = 1`,
    );
    t.equal(moved!.same, false, 'the same row at another place hashes differently');
  });
});
