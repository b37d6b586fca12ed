import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { asc, count, eq, inArray, type SQL, sql } from 'drizzle-orm';
import t from 'tap';
import { rows } from '../../src/db/client.js';
import type { AuditActor } from '../../src/platform/audit/service.js';
import { auditChain, auditChainHead, auditEvents, auditUnsealed } from '../../src/platform/audit/tables.js';
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
    // node itself rather than npx: npx would resolve the package and start a shell first.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
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
  /** The hash chain in order, each link with the audit row it seals. */
  const chainLinks = async () => {
    const found = await db
      .select({
        chainSeq: auditChain.chainSeq,
        auditSeq: auditChain.auditSeq,
        prevHash: auditChain.prevHash,
        hash: auditChain.hash,
        event: auditEvents,
      })
      .from(auditChain)
      .innerJoin(auditEvents, eq(auditEvents.seq, auditChain.auditSeq))
      .orderBy(asc(auditChain.chainSeq));
    return found.map(({ event, ...link }) => ({ ...event, ...link }));
  };
  const countRows = async (where?: SQL) => {
    const [found] = await db.select({ n: count() }).from(auditEvents).where(where);
    return found!.n;
  };
  const countQueued = async (where?: SQL) => {
    const [found] = await db.select({ n: count() }).from(auditUnsealed).where(where);
    return found!.n;
  };
  const countLinks = async (where?: SQL) => {
    const [found] = await db.select({ n: count() }).from(auditChain).where(where);
    return found!.n;
  };
  const isQueued = async (seq: number) => (await countQueued(eq(auditUnsealed.seq, seq))) === 1;
  const isChained = async (seq: number) => (await countLinks(eq(auditChain.auditSeq, seq))) === 1;
  /** Runs SQL on a table with its append-only trigger off, as someone tampering would. */
  const tamper = async (table: 'audit_events' | 'audit_chain', statement: SQL) => {
    await db.execute(
      sql`alter table ${sql.identifier(table)} disable trigger ${sql.identifier(`${table}_append_only`)}`,
    );
    try {
      await db.execute(statement);
    } finally {
      await db.execute(
        sql`alter table ${sql.identifier(table)} enable trigger ${sql.identifier(`${table}_append_only`)}`,
      );
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
    });
    t.same(written[0]!.resourceIds, [created.client.id, created.apiKey.id]);
    t.ok(await isQueued(written[0]!.seq), 'queued for sealing');
    t.notOk(await isChained(written[0]!.seq), 'not yet in the chain');

    const page = await list({ operation: 'createClient', clientId: admin.id });
    const shown = page.items.find((e) => e.requestId === requestId);
    t.ok(shown?.resourceIds.includes(created.client.id), 'and the API shows it');
    t.match(shown, { chainSeq: null, hash: null }, 'unsealed: no place in the chain yet');
  });

  t.test('an audit row and its place in the queue exist exactly when its transaction commits', async (t) => {
    const operation = `rollbackProbe-${randomUUID()}`;
    const queuedBefore = await countQueued();
    let inside: { seq: number; queued: boolean } | undefined;
    const failed = await failureOf(
      db.transaction(async (tx) => {
        await audit.record(tx, actor, { operation, resourceType: 'probe' });
        const [row] = await tx
          .select({ seq: auditEvents.seq })
          .from(auditEvents)
          .where(eq(auditEvents.operation, operation));
        const queued = await tx.select().from(auditUnsealed).where(eq(auditUnsealed.seq, row!.seq));
        inside = { seq: row!.seq, queued: queued.length === 1 };
        throw new Error('the change failed');
      }),
    );
    t.match(failed, /the change failed/);
    t.ok(inside?.queued, 'in the transaction, the new row is queued at once');
    t.equal(await countRows(eq(auditEvents.operation, operation)), 0, 'rolled back: no audit row');
    t.equal(await countQueued(eq(auditUnsealed.seq, inside!.seq)), 0, 'and nothing queued for it');
    t.equal(await countQueued(), queuedBefore, 'the queue is as it was');

    await db.transaction(async (tx) => {
      await audit.record(tx, actor, { operation, resourceType: 'probe' });
    });
    const committed = await db.select().from(auditEvents).where(eq(auditEvents.operation, operation));
    t.equal(committed.length, 1, 'committed: one audit row');
    t.ok(await isQueued(committed[0]!.seq), 'queued for sealing');
    t.equal(await countQueued(), queuedBefore + 1);

    const many = await db
      .insert(auditEvents)
      .values([0, 1, 2].map((i) => ({ operation, resourceType: 'probe', outcome: 'success', detail: { i } })))
      .returning({ seq: auditEvents.seq });
    t.equal(many.length, 3);
    t.equal(
      await countQueued(
        inArray(
          auditUnsealed.seq,
          many.map((r) => r.seq),
        ),
      ),
      3,
      'every row of a multi-row insert is queued',
    );
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

  t.test('seal() chains every queued row', async (t) => {
    const unsealed = await countQueued();
    t.ok(unsealed > 10, 'the tests above left rows to seal');
    t.equal(await countLinks(), 0, 'nothing chained yet');
    t.equal(unsealed, await countRows(), 'every row written so far is queued');
    t.equal(await audit.seal(), unsealed, 'returns how many it sealed');
    t.equal(await countQueued(), 0, 'the queue is empty');

    const chain = await chainLinks();
    t.equal(chain.length, unsealed);
    t.equal(await countLinks(), unsealed, 'one link per row, each with its row');
    t.same(
      chain.map((r) => r.chainSeq),
      chain.map((_, i) => i + 1),
      'chainSeq runs 1..n',
    );
    const allSeqs = (await db.select({ seq: auditEvents.seq }).from(auditEvents)).map((r) => r.seq);
    t.same(
      chain.map((r) => r.auditSeq),
      allSeqs.sort((a, b) => a - b),
      'every row is chained once, in the order it was written',
    );
    t.equal(chain[0]!.prevHash, GENESIS, 'the chain starts at the genesis hash');
    for (const [i, link] of chain.entries()) {
      t.match(link.hash, /^[0-9a-f]{64}$/);
      if (i > 0 && link.prevHash !== chain[i - 1]!.hash)
        t.fail(`link ${link.chainSeq} does not point at the one before`);
    }
    t.equal(new Set(chain.map((r) => r.hash)).size, chain.length, 'every hash differs');
    const [head] = await db.select().from(auditChainHead);
    t.match(head, { lastChainSeq: unsealed, lastHash: chain.at(-1)!.hash });

    const page = await list({ limit: '1' });
    t.equal(page.items[0]!.id, chain.at(-1)!.id, 'the newest row is the last link');
    t.equal(page.items[0]!.chainSeq, unsealed, 'the API shows the place in the chain');
    t.equal(page.items[0]!.hash, chain.at(-1)!.hash);
    const [some] = (await list({ operation: 'createClient', clientId: admin.id })).items;
    const itsLink = chain.find((r) => r.id === some!.id);
    t.match(some, { chainSeq: itsLink!.chainSeq, hash: itsLink!.hash }, 'and for any row, its own link');

    t.equal(await audit.seal(), 0, 'nothing left to seal');
  });

  t.test('verify() reports an intact chain', async (t) => {
    const n = await countRows();
    t.same(await audit.verify(), { ok: true, checked: n, unsealed: 0, headChainSeq: n, firstBroken: null });
  });

  t.test('rows written after a seal are sealed next time and the chain still verifies', async (t) => {
    const before = await countRows();
    const [last] = (await chainLinks()).slice(-1);
    for (let i = 0; i < 3; i++)
      await audit.record(db, actor, { operation: 'lateProbe', resourceType: 'probe', detail: { i } });
    t.equal(await countQueued(), 3);
    t.match(await audit.verify(), { ok: true, checked: before, unsealed: 3, headChainSeq: before });
    const pending = await list({ operation: 'lateProbe' });
    t.ok(
      pending.items.length === 3 && pending.items.every((e) => e.chainSeq === null && e.hash === null),
      'the API shows them unsealed',
    );

    t.equal(await audit.seal(), 3);
    t.equal(await countQueued(), 0);
    const chain = await chainLinks();
    t.equal(chain.length, before + 3);
    const added = chain.slice(before);
    t.same(
      added.map((r) => r.chainSeq),
      [before + 1, before + 2, before + 3],
    );
    t.same(
      added.map((r) => r.detail),
      [{ i: 0 }, { i: 1 }, { i: 2 }],
      'the new links seal the new rows',
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
    t.same(
      (await list({ operation: 'lateProbe' })).items.map((e) => e.chainSeq),
      [before + 3, before + 2, before + 1],
    );
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

  t.test('the trail and its chain are append-only', async (t) => {
    const [link] = await chainLinks();
    await audit.record(db, actor, { operation: 'unsealedProbe', resourceType: 'probe' });
    const [unsealed] = await db
      .select()
      .from(auditEvents)
      .where(sql`${auditEvents.seq} in (select ${auditUnsealed.seq} from ${auditUnsealed})`);
    t.ok(link && unsealed);
    t.equal(unsealed!.operation, 'unsealedProbe');

    const refused = (table: string, op: string) => new RegExp(`${table} is append-only: ${op} is not allowed`);
    const events = refused.bind(null, 'audit_events');
    t.match(
      await failureOf(db.execute(sql`update audit_events set outcome = 'failed' where id = ${link!.id}`)),
      events('update'),
    );
    t.match(
      await failureOf(db.execute(sql`update audit_events set detail = '{}' where id = ${link!.id}`)),
      events('update'),
    );
    t.match(await failureOf(db.execute(sql`delete from audit_events where id = ${link!.id}`)), events('delete'));
    t.match(
      await failureOf(db.execute(sql`update audit_events set operation = 'other' where id = ${unsealed!.id}`)),
      events('update'),
      'an unsealed row’s content cannot change either',
    );
    t.match(await failureOf(db.execute(sql`delete from audit_events where id = ${unsealed!.id}`)), events('delete'));
    t.match(await failureOf(db.execute(sql`truncate audit_events`)), events('truncate'));

    const chain = refused.bind(null, 'audit_chain');
    t.match(
      await failureOf(db.execute(sql`update audit_chain set hash = ${GENESIS} where chain_seq = ${link!.chainSeq}`)),
      chain('update'),
      'a link cannot be rewritten',
    );
    t.match(
      await failureOf(
        db.execute(sql`update audit_chain set audit_seq = ${unsealed!.seq} where chain_seq = ${link!.chainSeq}`),
      ),
      chain('update'),
      'nor pointed at another row',
    );
    t.match(
      await failureOf(db.execute(sql`delete from audit_chain where chain_seq = ${link!.chainSeq}`)),
      chain('delete'),
    );
    t.match(await failureOf(db.execute(sql`truncate audit_chain`)), chain('truncate'));

    const [after] = await chainLinks();
    t.same(after, link, 'the sealed row and its link are as they were');
    const [unsealedAfter] = await db.select().from(auditEvents).where(eq(auditEvents.id, unsealed!.id));
    t.same(unsealedAfter, unsealed, 'the unsealed row is as it was');
    t.ok(await isQueued(unsealed!.seq), 'and still queued');
    t.equal(await audit.seal(), 1, 'sealing still works: it only adds links');
    t.ok(await isChained(unsealed!.seq));
    t.match(await audit.verify(), { ok: true, unsealed: 0 });
  });

  t.test('a changed outcome or detail is found at exactly that link', async (t) => {
    const chain = await chainLinks();
    const victim = chain[4]!;
    await tamper('audit_events', sql`update audit_events set outcome = 'failed' where id = ${victim.id}`);
    const report = await audit.verify();
    t.match(report, { ok: false, checked: victim.chainSeq - 1, headChainSeq: chain.length });
    t.equal(report.firstBroken?.chainSeq, victim.chainSeq);
    t.equal(report.firstBroken?.auditEventId, victim.id);
    t.match(report.firstBroken?.reason, /^content changed/);
    await tamper('audit_events', sql`update audit_events set outcome = ${victim.outcome} where id = ${victim.id}`);
    t.match(await audit.verify(), { ok: true }, 'put back, the chain verifies again');

    const withDetail = chain.find((r) => r.detail !== null && r.chainSeq > 2)!;
    await tamper(
      'audit_events',
      sql`update audit_events set detail = detail || '{"tampered": true}' where id = ${withDetail.id}`,
    );
    const detailReport = await audit.verify();
    t.equal(detailReport.ok, false);
    t.equal(detailReport.firstBroken?.chainSeq, withDetail.chainSeq);
    t.equal(detailReport.firstBroken?.auditEventId, withDetail.id);
    t.match(detailReport.firstBroken?.reason, /^content changed/);
    await tamper('audit_events', sql`update audit_events set detail = detail - 'tampered' where id = ${withDetail.id}`);
    t.match(await audit.verify(), { ok: true });
  });

  t.test('a link pointed at another row is found at that link', async (t) => {
    await audit.record(db, actor, { operation: 'substituteProbe', resourceType: 'probe' });
    const [substitute] = await db.select().from(auditEvents).where(eq(auditEvents.operation, 'substituteProbe'));
    const victim = (await chainLinks())[3]!;
    await tamper(
      'audit_chain',
      sql`update audit_chain set audit_seq = ${substitute!.seq} where chain_seq = ${victim.chainSeq}`,
    );
    t.match(await audit.verify(), {
      ok: false,
      checked: victim.chainSeq - 1,
      firstBroken: { chainSeq: victim.chainSeq, auditEventId: substitute!.id, reason: /^content changed/ },
    });
    await tamper(
      'audit_chain',
      sql`update audit_chain set audit_seq = ${victim.auditSeq} where chain_seq = ${victim.chainSeq}`,
    );
    t.match(await audit.verify(), { ok: true, unsealed: 1 });
    t.equal(await audit.seal(), 1, 'the substitute is still queued and gets its own link');
    t.match(await audit.verify(), { ok: true, unsealed: 0 });
  });

  t.test('a rewritten hash or prev_hash is found', async (t) => {
    const chain = await chainLinks();
    const victim = chain[2]!;
    const next = chain[3]!;

    // The row changed and its link re-hashed to match: the link itself holds, the next one does not.
    await tamper('audit_events', sql`update audit_events set outcome = 'denied' where id = ${victim.id}`);
    await tamper(
      'audit_chain',
      sql`update audit_chain c set hash = audit_event_hash(c.prev_hash, c.chain_seq, e)
          from audit_events e where e.seq = c.audit_seq and c.chain_seq = ${victim.chainSeq}`,
    );
    t.not((await chainLinks())[2]!.hash, victim.hash, 'the link was re-hashed');
    const report = await audit.verify();
    t.match(report, { ok: false, checked: victim.chainSeq });
    t.equal(report.firstBroken?.chainSeq, next.chainSeq, 'broken at the next link');
    t.equal(report.firstBroken?.auditEventId, next.id);
    t.match(report.firstBroken?.reason, /^link broken/);
    await tamper('audit_events', sql`update audit_events set outcome = ${victim.outcome} where id = ${victim.id}`);
    await tamper('audit_chain', sql`update audit_chain set hash = ${victim.hash} where chain_seq = ${victim.chainSeq}`);
    t.match(await audit.verify(), { ok: true }, 'put back, the chain verifies again');

    // A hash rewritten on its own no longer matches its row.
    await tamper('audit_chain', sql`update audit_chain set hash = ${GENESIS} where chain_seq = ${victim.chainSeq}`);
    t.match(await audit.verify(), {
      ok: false,
      checked: victim.chainSeq - 1,
      firstBroken: { chainSeq: victim.chainSeq, auditEventId: victim.id, reason: /^content changed/ },
    });
    await tamper('audit_chain', sql`update audit_chain set hash = ${victim.hash} where chain_seq = ${victim.chainSeq}`);

    // A prev_hash rewritten no longer points at the link before.
    await tamper('audit_chain', sql`update audit_chain set prev_hash = ${GENESIS} where chain_seq = ${next.chainSeq}`);
    t.match(await audit.verify(), {
      ok: false,
      checked: next.chainSeq - 1,
      firstBroken: { chainSeq: next.chainSeq, auditEventId: next.id, reason: /^link broken/ },
    });
    await tamper(
      'audit_chain',
      sql`update audit_chain set prev_hash = ${next.prevHash} where chain_seq = ${next.chainSeq}`,
    );
    t.match(await audit.verify(), { ok: true });
  });

  t.test('a deleted audit row is reported at its link', async (t) => {
    const chain = await chainLinks();
    await db.execute(sql`create table audit_events_backup as select * from audit_events where false`);
    t.teardown(() => db.execute(sql`drop table if exists audit_events_backup`));
    const remove = async (chainSeq: number) => {
      const seq = chain[chainSeq - 1]!.auditSeq;
      await db.execute(sql`insert into audit_events_backup select * from audit_events where seq = ${seq}`);
      await tamper('audit_events', sql`delete from audit_events where seq = ${seq}`);
    };
    // Puts the row back as it was, without queueing it again: it already has its link.
    const restore = async () => {
      await db.execute(sql`alter table audit_events disable trigger audit_events_queue`);
      try {
        await db.execute(sql`insert into audit_events overriding system value select * from audit_events_backup`);
      } finally {
        await db.execute(sql`alter table audit_events enable trigger audit_events_queue`);
      }
      await db.execute(sql`delete from audit_events_backup`);
      t.match(await audit.verify(), { ok: true, unsealed: 0 }, 'put back, the chain verifies again');
    };

    const middle = chain[5]!;
    await remove(middle.chainSeq);
    t.equal(await countLinks(eq(auditChain.chainSeq, middle.chainSeq)), 1, 'its link is still there');
    const report = await audit.verify();
    t.match(report, { ok: false, checked: middle.chainSeq - 1 });
    t.equal(report.firstBroken?.chainSeq, middle.chainSeq, 'broken at the link of the deleted row');
    t.equal(report.firstBroken?.auditEventId, null);
    t.match(report.firstBroken?.reason, /^row missing/);
    await restore();

    await remove(1);
    t.match(await audit.verify(), {
      ok: false,
      checked: 0,
      firstBroken: { chainSeq: 1, auditEventId: null, reason: /^row missing/ },
    });
    await restore();

    const last = chain.at(-1)!;
    await remove(last.chainSeq);
    t.match(await audit.verify(), {
      ok: false,
      checked: last.chainSeq - 1,
      firstBroken: { chainSeq: last.chainSeq, auditEventId: null, reason: /^row missing/ },
    });
    await restore();
    t.same(await chainLinks(), chain, 'rows and links all as they were');
  });

  t.test('a deleted link is reported as a gap', async (t) => {
    const chain = await chainLinks();
    const links = chain.map(({ chainSeq, auditSeq, prevHash, hash }) => ({ chainSeq, auditSeq, prevHash, hash }));
    const remove = (chainSeq: number) =>
      tamper('audit_chain', sql`delete from audit_chain where chain_seq = ${chainSeq}`);
    // Links are insert-only: putting one back needs no trigger off.
    const restore = async (chainSeq: number) => {
      await db.insert(auditChain).values(links[chainSeq - 1]!);
      t.match(await audit.verify(), { ok: true }, 'put back, the chain verifies again');
    };

    const middle = chain[5]!;
    await remove(middle.chainSeq);
    const report = await audit.verify();
    t.match(report, { ok: false, checked: middle.chainSeq - 1 });
    t.equal(report.firstBroken?.chainSeq, middle.chainSeq + 1, 'broken at the link after the gap');
    t.equal(report.firstBroken?.auditEventId, chain[6]!.id);
    t.match(report.firstBroken?.reason, /^gap/);
    await restore(middle.chainSeq);

    await remove(1);
    t.match(await audit.verify(), {
      ok: false,
      checked: 0,
      firstBroken: { chainSeq: 2, auditEventId: chain[1]!.id, reason: /^gap/ },
    });
    await restore(1);

    const last = chain.at(-1)!;
    await remove(last.chainSeq);
    t.match(await audit.verify(), {
      ok: false,
      checked: last.chainSeq - 1,
      firstBroken: { chainSeq: last.chainSeq, reason: /^head mismatch: rows are missing at the end/ },
    });
    await restore(last.chainSeq);
    t.same(await chainLinks(), chain, 'all links as they were');
  });

  t.test('a head that does not match the chain is reported', async (t) => {
    const chain = await chainLinks();
    const [last, beforeLast] = [chain.at(-1)!, chain.at(-2)!];
    const setHead = (seq: number, hash: string) =>
      db.execute(sql`update audit_chain_head set last_chain_seq = ${seq}, last_hash = ${hash} where id = 1`);

    await setHead(beforeLast.chainSeq, beforeLast.hash);
    t.match(await audit.verify(), {
      ok: false,
      checked: beforeLast.chainSeq,
      firstBroken: { chainSeq: last.chainSeq, reason: /beyond the head/ },
    });
    await setHead(last.chainSeq, GENESIS);
    t.match(await audit.verify(), {
      ok: false,
      checked: last.chainSeq,
      firstBroken: { chainSeq: last.chainSeq, reason: /does not end where the head says/ },
    });
    await setHead(last.chainSeq + 1, last.hash);
    t.match(await audit.verify(), {
      ok: false,
      checked: last.chainSeq,
      firstBroken: { chainSeq: last.chainSeq + 1, reason: /rows are missing at the end/ },
    });
    await setHead(last.chainSeq, last.hash);
    t.match(await audit.verify(), { ok: true });
  });

  t.test('a row taken out of the sealing queue is reported as outside the chain', async (t) => {
    await audit.record(db, actor, { operation: 'dropped', resourceType: 'test' });
    const [row] = await db.select().from(auditEvents).where(eq(auditEvents.operation, 'dropped'));
    await db.delete(auditUnsealed).where(eq(auditUnsealed.seq, row!.seq));
    t.match(await audit.verify(), {
      ok: false,
      firstBroken: { auditEventId: row!.id, reason: /outside the chain/ },
    });
    await db.insert(auditUnsealed).values({ seq: row!.seq });
    await audit.seal();
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
    t.ok((await countQueued()) >= 2, 'rows are pending before the job runs');

    t.equal(await jobs.drain(), 1);
    t.equal(await countQueued(), 0, 'the job sealed what was pending first');
    const sealed = await countLinks();
    t.equal(sealed, await countRows(), 'every row is chained');
    const done = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: admin.headers });
    t.equal(done.statusCode, 200);
    t.match(json(done), {
      status: 'succeeded',
      progress: { done: sealed, total: sealed },
      result: { ok: true, checked: sealed, unsealed: 0, headChainSeq: sealed, firstBroken: null },
    });

    const victim = (await chainLinks())[7]!;
    await tamper('audit_events', sql`update audit_events set outcome = 'denied' where id = ${victim.id}`);
    const again = await app.inject({ method: 'POST', url: '/v1/audit-events/verifications', headers: admin.headers });
    t.equal(again.statusCode, 202);
    t.equal(await jobs.drain(), 1);
    const broken = await app.inject({
      method: 'GET',
      url: `/v1/jobs/${json<{ id: string }>(again).id}`,
      headers: admin.headers,
    });
    t.match(json(broken), {
      status: 'succeeded',
      result: {
        ok: false,
        checked: victim.chainSeq - 1,
        firstBroken: { chainSeq: victim.chainSeq, auditEventId: victim.id, reason: /^content changed/ },
      },
    });
    await tamper('audit_events', sql`update audit_events set outcome = ${victim.outcome} where id = ${victim.id}`);
    t.match(await audit.verify(), { ok: true });
  });

  t.test(
    'the verify-audit command',
    { skip: onPostgres ? false : 'runs only on PostgreSQL (DATABASE_URL)' },
    async (t) => {
      const env = { DATABASE_URL: database.url!, LOG_LEVEL: 'warn' };
      await audit.record(db, actor, { operation: 'cliProbe', resourceType: 'probe' });
      t.equal(await countQueued(), 1);
      const good = await runCli(['verify-audit'], env);
      t.equal(good.code, 0, good.stderr);
      const total = await countRows();
      t.equal(await countQueued(), 0, 'the command sealed the pending row first');
      t.equal(await countLinks(), total);
      t.same(reportOf(good.stdout), { ok: true, checked: total, unsealed: 0, headChainSeq: total, firstBroken: null });

      const victim = (await chainLinks())[3]!;
      await tamper('audit_events', sql`update audit_events set detail = '{"rewritten": true}' where id = ${victim.id}`);
      const bad = await runCli(['verify-audit'], env);
      t.equal(bad.code, 2, 'exits 2 on a broken chain');
      t.match(reportOf(bad.stdout), {
        ok: false,
        checked: victim.chainSeq - 1,
        firstBroken: { chainSeq: victim.chainSeq, auditEventId: victim.id, reason: /^content changed/ },
      });
      await tamper(
        'audit_events',
        sql`update audit_events set detail = ${victim.detail === null ? null : JSON.stringify(victim.detail)}::jsonb where id = ${victim.id}`,
      );
      t.match(await audit.verify(), { ok: true });
    },
  );

  t.test('the hash covers the row, its place and the link before (SQL and the stored chain agree)', async (t) => {
    const [counts] = await rows<{ links: number; joined: number; mismatched: number }>(
      db,
      sql`select (select count(*) from audit_chain)::int as links,
                 count(*)::int as joined,
                 (count(*) filter (where c.hash is distinct from audit_event_hash(c.prev_hash, c.chain_seq, e)))::int as mismatched
          from audit_chain c join audit_events e on e.seq = c.audit_seq`,
    );
    t.ok(counts!.links > 10);
    t.equal(counts!.joined, counts!.links, 'every link has its row');
    t.equal(counts!.mismatched, 0);
    const [moved] = await rows<{ place: boolean; prev: boolean; same: boolean }>(
      db,
      sql`select audit_event_hash(c.prev_hash, c.chain_seq + 1, e) = c.hash as place,
                 audit_event_hash(${GENESIS.replace(/^0/, '1')}, c.chain_seq, e) = c.hash as prev,
                 audit_event_hash(c.prev_hash, c.chain_seq, e) = c.hash as same
          from audit_chain c join audit_events e on e.seq = c.audit_seq where c.chain_seq = 1`,
    );
    t.equal(moved!.same, true);
    t.equal(moved!.place, false, 'the same row at another place hashes differently');
    t.equal(moved!.prev, false, 'the same row after another link hashes differently');
  });
});
