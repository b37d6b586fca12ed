import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { rows } from '../../src/db/client.js';
import { createWebhookDeliverer } from '../../src/platform/events/delivery.js';
import { parseCidrs } from '../../src/platform/events/ssrf.js';
import { createSecretBox, parseSecretsKeys } from '../../src/platform/secrets.js';
import { freshDatabase, json, onPostgres, testApp, type TestApp, type TestClient } from '../helpers.js';

interface EventBody {
  id: string;
  type: string;
  timestamp: string;
  subject: string;
  subjectSeq: number;
  region: string;
  position: number;
  data: Record<string, unknown>;
}

interface SubscriptionBody {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

interface AttemptBody {
  deliveryId: string;
  eventId: string | null;
  attemptedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  deliveryStatus: string;
  attempts: number;
}

interface ProblemBody {
  type: string;
  status: number;
  errors?: { in: string; pointer: string; detail: string }[];
}

/** One POST a receiver got, and what it answered. */
interface Receipt {
  path: string;
  headers: Record<string, string>;
  body: string;
  event: EventBody;
  status: number;
}

type Answer = { status: number; headers?: Record<string, string> };

/** A webhook receiver: a real HTTP server on 127.0.0.1 that records every POST. */
class Receiver {
  receipts: Receipt[] = [];
  /** What to answer; tests change it to play a receiver that is down, gone or busy. */
  answer: (receipt: Receipt) => Answer | Promise<Answer> = () => ({ status: 200 });
  port = 0;
  private server: Server;

  private constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(t: { teardown(fn: () => unknown): void }): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.up();
    t.teardown(() => receiver.down());
    return receiver;
  }

  url(path = '/hook') {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Receipts the receiver answered with 2xx: the ones that count as delivered. */
  accepted(path?: string) {
    return this.receipts.filter((r) => r.status >= 200 && r.status < 300 && (!path || r.path === path));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const receipt: Receipt = { path: req.url ?? '', headers, body, event: JSON.parse(body) as EventBody, status: 0 };
    const answer = await this.answer(receipt);
    receipt.status = answer.status;
    this.receipts.push(receipt);
    res.writeHead(answer.status, answer.headers).end();
  }

  /** Stops listening and drops open connections: senders now get "connection refused". */
  async down() {
    if (!this.server.listening) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again, on the same port once it has one. */
  async up() {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }
}

/** Verifies a receipt as a receiver would, with the standardwebhooks package; throws if it does not verify. */
const verified = (secret: string, receipt: Receipt, signature = receipt.headers['webhook-signature']!) =>
  new Webhook(secret).verify(receipt.body, {
    'webhook-id': receipt.headers['webhook-id']!,
    'webhook-timestamp': receipt.headers['webhook-timestamp']!,
    'webhook-signature': signature,
  }) as EventBody;

const allowLocal = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' };

t.test('webhooks', async (t) => {
  const database = await freshDatabase(t);
  const service: TestApp = await testApp(t, { database, env: allowLocal });
  const { app, admin, client, config } = service;
  const db = database.db;
  const { events, webhooks } = app.services;

  const call = (
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    who: TestClient,
    payload?: unknown,
    headers: Record<string, string> = {},
    target: FastifyInstance = app,
  ) =>
    target.inject({
      method,
      url,
      headers: { ...who.headers, ...headers },
      ...(payload !== undefined && { payload: payload as Record<string, unknown> }),
    });

  async function subscribe(who: TestClient, url: string, eventTypes: string[] = []) {
    const res = await call('POST', '/v1/webhook-subscriptions', who, { url, eventTypes });
    if (res.statusCode !== 201) throw new Error(`subscribing answered ${res.statusCode}: ${res.body}`);
    return json<SubscriptionBody & { secret: string }>(res);
  }
  const getSubscription = async (who: TestClient, id: string) =>
    json<SubscriptionBody>(await call('GET', `/v1/webhook-subscriptions/${id}`, who));
  const attemptsOf = async (who: TestClient, id: string) => {
    const res = await call('GET', `/v1/webhook-subscriptions/${id}/deliveries?limit=500`, who);
    if (res.statusCode !== 200) throw new Error(`deliveries answered ${res.statusCode}: ${res.body}`);
    return json<{ items: AttemptBody[] }>(res).items;
  };
  /** Ends a test's subscription, so that later tests' events do not go to its receiver. */
  const retire = (id: string) =>
    db.execute(sql`update webhook_subscriptions set enabled = false where id = ${id}::uuid`);

  /** A client created through the API, then renamed `renames` times: one subject, 1 + renames events. */
  async function clientWithHistory(jurisdiction: string, renames = 0) {
    const res = await call('POST', '/v1/clients', admin, { name: 'Hospital', agency: 'health', jurisdiction });
    if (res.statusCode !== 201) throw new Error(`creating a client answered ${res.statusCode}: ${res.body}`);
    const id = json<{ client: { id: string } }>(res).client.id;
    for (let i = 1; i <= renames; i++) {
      const renamed = await call('PATCH', `/v1/clients/${id}`, admin, { name: `Hospital ${i}` });
      if (renamed.statusCode !== 200) throw new Error(`renaming answered ${renamed.statusCode}`);
    }
    return id;
  }

  /** Sequences what was published and sends what is due until nothing is. */
  async function deliver(deliverer = webhooks) {
    await events.sequence();
    let sent = 0;
    for (let rounds = 0; rounds < 100; rounds++) {
      const n = await deliverer.drain();
      if (n === 0) return sent;
      sent += n;
    }
    throw new Error('deliveries never ran out');
  }
  /** Time passes: the subscription's pending retries fall due now. */
  const dueNow = (subscriptionId: string) =>
    db.execute(
      sql`update webhook_deliveries set next_attempt_at = now() where subscription_id = ${subscriptionId}::uuid and status = 'pending'`,
    );
  const deliveryRows = (subscriptionId: string) =>
    rows<{ id: string; event_id: string | null; status: string; attempts: number; wait_s: number }>(
      db,
      sql`select id, event_id, status, attempts, extract(epoch from next_attempt_at - now())::float8 as wait_s
          from webhook_deliveries where subscription_id = ${subscriptionId}::uuid order by event_position`,
    );

  /** The feed as this client sees it, from the beginning. */
  async function feedOf(who: TestClient) {
    const seen: EventBody[] = [];
    let after = '0';
    for (;;) {
      const res = await call('GET', `/v1/events?after=${after}&limit=500`, who);
      const page = json<{ items: EventBody[]; nextCursor: string }>(res);
      seen.push(...page.items);
      if (page.items.length < 500) return seen;
      after = page.nextCursor;
    }
  }

  /** A deliverer of our own with a short retry schedule, as a second sender would be. */
  function shortScheduleDeliverer(schedule: number[], overrides: { timeoutMs?: number; allowLocal?: boolean } = {}) {
    const deliverer = createWebhookDeliverer({
      db,
      log: app.log,
      secrets: createSecretBox(parseSecretsKeys(config.SECRETS_KEYS)),
      policy:
        overrides.allowLocal === false
          ? { allowHttp: false, allowedCidrs: [] }
          : { allowHttp: true, allowedCidrs: parseCidrs('127.0.0.0/8') },
      timeoutMs: overrides.timeoutMs ?? 5_000,
      concurrency: 8,
      leaseMs: 60_000,
      pollMs: 50,
      schedule,
    });
    t.teardown(() => deliverer.stop());
    return deliverer;
  }

  /**
   * The sequencer fans an event out to the subscriptions that exist when it runs; tests settle the
   * events of their own set-up (the clients they make) before subscribing, so receivers get only
   * what the test does next.
   */
  const settle = () => events.sequence();
  // Subscribers: admins of one district, so their receivers see that district only.
  const subscriber = async () => {
    const made = await client('admin', { jurisdiction: '220102' });
    await settle();
    return made;
  };

  t.test('subscriptions: create, read, list, change', async (t) => {
    const owner = await subscriber();
    const created = await call('POST', '/v1/webhook-subscriptions', owner, {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['client.created', 'client.updated'],
      description: 'district hospital system',
    });
    t.equal(created.statusCode, 201);
    const body = json<SubscriptionBody & { secret: string }>(created);
    t.match(body, {
      id: /^[0-9a-f-]{36}$/,
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['client.created', 'client.updated'],
      description: 'district hospital system',
      enabled: true,
      disabledReason: null,
      previousSecretExpiresAt: null,
      secret: /^whsec_[A-Za-z0-9+/=]{32,}$/,
    });
    t.equal(created.headers.location, `/v1/webhook-subscriptions/${body.id}`);
    t.ok(created.headers.etag);
    t.doesNotThrow(() => new Webhook(body.secret), 'the secret is one standardwebhooks accepts');

    const read = await call('GET', `/v1/webhook-subscriptions/${body.id}`, owner);
    t.equal(read.statusCode, 200);
    t.notOk('secret' in json(read), 'the secret is not shown again');
    t.notOk(read.body.includes(body.secret.slice(6)));
    t.equal(read.headers.etag, created.headers.etag);

    const listed = await call('GET', '/v1/webhook-subscriptions', owner);
    t.equal(listed.statusCode, 200);
    const items = json<{ items: SubscriptionBody[]; nextCursor: null }>(listed);
    t.same(
      items.items.map((s) => s.id),
      [body.id],
      'only its own subscriptions',
    );
    t.notOk(listed.body.includes(body.secret.slice(6)), 'nor in the list');
    t.equal(items.nextCursor, null);

    const stale = created.headers.etag as string;
    const patched = await call(
      'PATCH',
      `/v1/webhook-subscriptions/${body.id}`,
      owner,
      { eventTypes: ['client.updated'] },
      { 'if-match': stale },
    );
    t.equal(patched.statusCode, 200);
    t.same(json<SubscriptionBody>(patched).eventTypes, ['client.updated']);
    t.not(patched.headers.etag, stale, 'a new ETag');
    const conflict = await call(
      'PATCH',
      `/v1/webhook-subscriptions/${body.id}`,
      owner,
      { description: 'lost update' },
      { 'if-match': stale },
    );
    t.equal(conflict.statusCode, 412, 'a stale If-Match is refused');
    t.equal((await getSubscription(owner, body.id)).description, 'district hospital system');
    const unconditional = await call('PATCH', `/v1/webhook-subscriptions/${body.id}`, owner, { enabled: false });
    t.equal(unconditional.statusCode, 200);
    t.equal(json<SubscriptionBody>(unconditional).enabled, false);
  });

  t.test('event types: unknown ones and those needing a scope the client lacks are 400', async (t) => {
    const owner = await subscriber();
    const unknown = await call('POST', '/v1/webhook-subscriptions', owner, {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['client.created', 'no_such.thing'],
    });
    t.equal(unknown.statusCode, 400);
    t.match(json<ProblemBody>(unknown).errors, [{ in: 'body', pointer: '/eventTypes/1', detail: /no_such\.thing/ }]);

    const bank = await client('bank');
    const unentitled = await call('POST', '/v1/webhook-subscriptions', bank, {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['job.finished', 'client.created'],
    });
    t.equal(unentitled.statusCode, 400);
    t.match(json<ProblemBody>(unentitled).errors, [{ in: 'body', pointer: '/eventTypes/1', detail: /clients:read/ }]);
    t.equal(json<ProblemBody>(unentitled).errors?.length, 1);

    const sub = await subscribe(owner, 'http://127.0.0.1:9/hook');
    const patched = await call('PATCH', `/v1/webhook-subscriptions/${sub.id}`, owner, { eventTypes: ['nope.nope'] });
    t.equal(patched.statusCode, 400);
    t.match(json<ProblemBody>(patched).errors, [{ pointer: '/eventTypes/0' }]);
    await retire(sub.id);
  });

  t.test('URL policy: no loopback, private addresses or plain http unless configured', async (t) => {
    // An instance with the production policy, on the same database.
    const strict = await testApp(t, { database });
    const owner = await strict.client('admin', { jurisdiction: '220102' });
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'https://127.0.0.1/hook',
      'https://10.0.0.1/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[::ffff:10.0.0.1]/hook',
      'https://user:pw@8.8.8.8/hook',
    ]) {
      const res = await call('POST', '/v1/webhook-subscriptions', owner, { url }, {}, strict.app);
      t.equal(res.statusCode, 400, url);
      t.match(json<ProblemBody>(res).errors, [{ in: 'body', pointer: '/url' }], url);
    }
    const notHttp = await call('POST', '/v1/webhook-subscriptions', owner, { url: 'ftp://8.8.8.8/x' }, {}, strict.app);
    t.equal(notHttp.statusCode, 400);
    const fine = await call(
      'POST',
      '/v1/webhook-subscriptions',
      owner,
      { url: 'https://8.8.8.8/hook' },
      {},
      strict.app,
    );
    t.equal(fine.statusCode, 201, 'a public https address is fine');
    const id = json<SubscriptionBody>(fine).id;
    const moved = await call(
      'PATCH',
      `/v1/webhook-subscriptions/${id}`,
      owner,
      { url: 'https://10.1.2.3/hook' },
      {},
      strict.app,
    );
    t.equal(moved.statusCode, 400, 'nor can a subscription be moved to one');
    t.match(json<ProblemBody>(moved).errors, [{ pointer: '/url' }]);
    await retire(id);

    // The tests' instance allows http and 127.0.0.0/8, and nothing else private.
    const local = await subscriber();
    const loopback = await call('POST', '/v1/webhook-subscriptions', local, { url: 'http://127.0.0.1:9/hook' });
    t.equal(loopback.statusCode, 201);
    await retire(json<SubscriptionBody>(loopback).id);
    const privateNet = await call('POST', '/v1/webhook-subscriptions', local, { url: 'https://10.0.0.1/hook' });
    t.equal(privateNet.statusCode, 400);
    t.match(json<ProblemBody>(privateNet).errors, [{ pointer: '/url' }]);
  });

  t.test('another client’s subscription is 404 everywhere; managing needs webhooks:manage', async (t) => {
    const owner = await subscriber();
    const sub = await subscribe(owner, 'http://127.0.0.1:9/hook');
    const stranger = await subscriber();
    const base = `/v1/webhook-subscriptions/${sub.id}`;
    for (const [method, url, payload] of [
      ['GET', base, undefined],
      ['PATCH', base, { enabled: false }],
      ['POST', `${base}/rotate-secret`, {}],
      ['POST', `${base}/ping`, undefined],
      ['GET', `${base}/deliveries`, undefined],
      ['POST', `${base}/redeliver`, { since: '2020-01-01T00:00:00Z' }],
    ] as const) {
      const res = await call(method, url, stranger, payload);
      t.equal(res.statusCode, 404, `${method} ${url}`);
    }
    t.same(json<{ items: unknown[] }>(await call('GET', '/v1/webhook-subscriptions', stranger)).items, []);
    t.equal((await getSubscription(owner, sub.id)).enabled, true, 'untouched');

    const noScope = await client('bank', { scopes: ['events:read'] });
    t.equal((await call('GET', '/v1/webhook-subscriptions', noScope)).statusCode, 403);
    t.equal(
      (await call('POST', '/v1/webhook-subscriptions', noScope, { url: 'http://127.0.0.1:9/hook' })).statusCode,
      403,
    );
    await retire(sub.id);
  });

  t.test('delivery: signed as Standard Webhooks says, the body is the event as the feed shows it', async (t) => {
    const receiver = await Receiver.start(t);
    const owner = await subscriber();
    const everything = await subscribe(owner, receiver.url('/all'));
    const updatesOnly = await subscribe(owner, receiver.url('/updates'), ['client.updated']);
    const cursor = (await feedOf(owner)).at(-1)?.position ?? 0;

    const nanguan = await clientWithHistory('220102', 2);
    const kuancheng = await clientWithHistory('220103', 1);
    t.ok((await deliver()) > 0);

    // What the subscriber may see of what happened since it subscribed, by its own feed.
    const feed = (await feedOf(owner)).filter((e) => e.position > cursor);
    t.ok(feed.some((e) => e.data.clientId === nanguan));
    t.notOk(
      feed.some((e) => e.data.clientId === kuancheng),
      'the feed does not show the other district',
    );

    const all = receiver.accepted('/all');
    t.equal(all.length, feed.length, 'one message per event');
    const bodies = all.map((r) => verified(everything.secret, r));
    t.same(
      [...bodies].sort((a, b) => a.position - b.position),
      feed,
      'each verifies with standardwebhooks and is the event exactly as in the feed',
    );
    t.notOk(
      bodies.some((e) => e.data.clientId === kuancheng || e.region.startsWith('220103')),
      'nothing of the other district',
    );
    t.same(
      bodies.filter((e) => e.subject === `client/${nanguan}`).map((e) => [e.type, e.subjectSeq]),
      [
        ['client.created', 1],
        ['client.updated', 2],
        ['client.updated', 3],
      ],
      'the subject’s events in order',
    );

    for (const r of all) {
      t.match(r.headers, {
        'content-type': /^application\/json/,
        'webhook-id': /^[0-9a-f-]{36}$/,
        'webhook-timestamp': /^\d{10}$/,
        'webhook-signature': /^v1,[A-Za-z0-9+/=]{44}$/,
      });
      t.ok(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000) < 300, 'a current timestamp');
    }
    t.equal(new Set(all.map((r) => r.headers['webhook-id'])).size, all.length, 'one webhook-id per message');

    // standardwebhooks refuses what is not ours: another secret, a changed body, another id.
    const sample = all[0]!;
    t.throws(() => verified(updatesOnly.secret, sample), 'another subscription’s secret does not verify');
    t.throws(() => verified(everything.secret, { ...sample, body: sample.body.replace('220102', '220103') }));
    t.throws(() =>
      verified(everything.secret, {
        ...sample,
        headers: { ...sample.headers, 'webhook-id': all[1]!.headers['webhook-id']! },
      }),
    );

    const updates = receiver.accepted('/updates').map((r) => verified(updatesOnly.secret, r));
    t.same(
      updates.map((e) => e.id).sort(),
      feed
        .filter((e) => e.type === 'client.updated')
        .map((e) => e.id)
        .sort(),
      'a subscription to some types gets those only',
    );

    const attempts = await attemptsOf(owner, everything.id);
    t.equal(attempts.length, all.length, 'every attempt is listed');
    t.same(
      new Set(attempts.map((a) => a.deliveryId)),
      new Set(all.map((r) => r.headers['webhook-id'])),
      'the webhook-id is the delivery’s id',
    );
    t.same(new Set(attempts.map((a) => a.eventId)), new Set(feed.map((e) => e.id)));
    for (const a of attempts) {
      t.match(a, { statusCode: 200, error: null, deliveryStatus: 'delivered', attempts: 1, durationMs: Number });
    }
    t.equal(await webhooks.drain(), 0, 'nothing is sent twice');
    await retire(everything.id);
    await retire(updatesOnly.id);
  });

  t.test('a receiver that is down for a while gets every event when it comes back, in order per subject', async (t) => {
    const receiver = await Receiver.start(t);
    const owner = await subscriber();
    const sub = await subscribe(owner, receiver.url());
    const subjects: string[] = [];

    // First it answers 500.
    receiver.answer = () => ({ status: 500 });
    for (let i = 0; i < 3; i++) subjects.push(await clientWithHistory('220102', 2));
    await deliver();
    t.equal(receiver.receipts.length, 3, 'only the first event of each subject is tried');
    t.same(new Set(receiver.receipts.map((r) => r.event.subjectSeq)), new Set([1]));
    let pending = await deliveryRows(sub.id);
    t.equal(pending.length, 9);
    t.ok(
      pending.every((d) => d.status === 'pending'),
      'all still pending',
    );
    t.ok(
      pending.filter((d) => d.attempts === 1).every((d) => d.wait_s > 2 && d.wait_s < 7),
      'the next attempt after the first schedule step (5 s ± 20%)',
    );
    t.equal(await webhooks.drain(), 0, 'nothing is due before then');

    // Then it is gone altogether: connections are refused.
    await receiver.down();
    await dueNow(sub.id);
    t.equal(await deliver(), 3);
    const refused = (await attemptsOf(owner, sub.id)).filter((a) => a.statusCode === null);
    t.equal(refused.length, 3);
    // Refused, or, on a kept-alive connection the receiver dropped, closed.
    t.ok(
      refused.every((a) => /ECONNREFUSED|closed/.test(a.error ?? '')),
      'the error says why',
    );
    for (let i = 0; i < 2; i++) subjects.push(await clientWithHistory('220102', 1));
    await deliver();
    t.equal(receiver.receipts.length, 3, 'nothing got through');

    // It comes back.
    await receiver.up();
    receiver.answer = () => ({ status: 200 });
    await dueNow(sub.id);
    await deliver();
    pending = await deliveryRows(sub.id);
    t.ok(
      pending.every((d) => d.status === 'delivered'),
      'every delivery is delivered',
    );

    const expected = (await feedOf(owner)).filter((e) => subjects.some((s) => e.subject === `client/${s}`));
    t.equal(expected.length, 3 * 3 + 2 * 2);
    const accepted = receiver.accepted().map((r) => verified(sub.secret, r));
    t.same(
      accepted.map((e) => e.id).sort(),
      expected.map((e) => e.id).sort(),
      'every event arrived, none lost, none twice',
    );
    for (const subject of subjects) {
      const seqs = accepted.filter((e) => e.subject === `client/${subject}`).map((e) => e.subjectSeq);
      t.same(
        seqs,
        seqs.map((_, i) => i + 1),
        `${subject}: in order`,
      );
    }
    // The ones tried while it was down carried the same webhook-id every time.
    const idsByEvent = new Map<string, Set<string>>();
    for (const r of receiver.receipts) {
      const ids = idsByEvent.get(r.event.id) ?? new Set();
      ids.add(r.headers['webhook-id']!);
      idsByEvent.set(r.event.id, ids);
    }
    t.ok(
      [...idsByEvent.values()].every((ids) => ids.size === 1),
      'one webhook-id per event',
    );
    const retried = receiver.receipts.filter((r) => r.status === 500).map((r) => r.event.id);
    t.equal(retried.length, 3);
    for (const id of retried) t.equal(receiver.receipts.filter((r) => r.event.id === id).length, 2);
    await retire(sub.id);
  });

  t.test('after the last attempt a delivery is marked failed, and visible', async (t) => {
    const receiver = await Receiver.start(t);
    receiver.answer = () => ({ status: 500 });
    const owner = await subscriber();
    const sub = await subscribe(owner, receiver.url());
    const sender = shortScheduleDeliverer([0, 0]);
    const subject = await clientWithHistory('220102', 1);
    await deliver(sender);

    const [first, second] = await deliveryRows(sub.id);
    t.match(first, { status: 'failed', attempts: 3 }, 'three attempts, then failed');
    const firstReceipts = receiver.receipts.filter((r) => r.headers['webhook-id'] === first!.id);
    t.equal(firstReceipts.length, 3);
    t.equal(new Set(firstReceipts.map((r) => r.headers['webhook-id'])).size, 1, 'the same webhook-id each time');
    t.ok(firstReceipts.every((r) => r.event.subject === `client/${subject}` && r.event.subjectSeq === 1));
    t.match(second, { status: 'failed', attempts: 3 }, 'the next event of the subject was tried after it');

    const listed = await attemptsOf(owner, sub.id);
    const ofFirst = listed.filter((a) => a.deliveryId === first!.id);
    t.equal(ofFirst.length, 3, 'each attempt is listed');
    t.ok(
      ofFirst.every((a) => a.statusCode === 500 && a.deliveryStatus === 'failed' && a.attempts === 3),
      'with its status code, and the delivery failed',
    );
    t.ok(ofFirst.every((a) => /500/.test(a.error ?? '')));
    t.equal(await sender.drain(), 0, 'and no more attempts are made');
    await retire(sub.id);
  });

  t.test('410 Gone disables the subscription; nothing more is attempted', async (t) => {
    const receiver = await Receiver.start(t);
    receiver.answer = () => ({ status: 410 });
    const owner = await subscriber();
    const sub = await subscribe(owner, receiver.url());
    await clientWithHistory('220102', 2);
    await deliver();
    t.equal(receiver.receipts.length, 1);

    const after = await getSubscription(owner, sub.id);
    t.equal(after.enabled, false);
    t.match(after.disabledReason, /410/);
    const [gone] = await attemptsOf(owner, sub.id);
    t.match(gone, { statusCode: 410, deliveryStatus: 'failed' });

    await clientWithHistory('220102', 1);
    await dueNow(sub.id);
    await deliver();
    t.equal(receiver.receipts.length, 1, 'no more deliveries are attempted');
    t.equal((await deliveryRows(sub.id)).length, 3, 'and events after it was disabled are not queued for it');

    // The owner re-enables it: what was pending goes out.
    receiver.answer = () => ({ status: 200 });
    const enabled = await call('PATCH', `/v1/webhook-subscriptions/${sub.id}`, owner, { enabled: true });
    t.match(json(enabled), { enabled: true, disabledReason: null });
    await deliver();
    t.same(
      receiver.accepted().map((r) => verified(sub.secret, r).subjectSeq),
      [2, 3],
    );
    await retire(sub.id);
  });

  t.test('429 and 503 with Retry-After postpone the next attempt by that long', async (t) => {
    const receiver = await Receiver.start(t);
    const owner = await subscriber();
    const busy = await subscribe(owner, receiver.url('/busy'));
    const unavailable = await subscribe(owner, receiver.url('/unavailable'));
    const failing = await subscribe(owner, receiver.url('/failing'));
    receiver.answer = (r) =>
      r.path === '/busy'
        ? { status: 429, headers: { 'retry-after': '120' } }
        : r.path === '/unavailable'
          ? { status: 503, headers: { 'retry-after': new Date(Date.now() + 600_000).toUTCString() } }
          : { status: 500, headers: { 'retry-after': '120' } };
    await clientWithHistory('220102');
    await deliver();
    t.equal(receiver.receipts.length, 3);

    const waitAfterAttempt = async (id: string) =>
      (
        await rows<{ wait_s: number; status: string; last_status_code: number }>(
          db,
          sql`select extract(epoch from d.next_attempt_at - a.attempted_at)::float8 as wait_s, d.status, d.last_status_code
              from webhook_deliveries d join webhook_attempts a on a.delivery_id = d.id
              where d.subscription_id = ${id}::uuid`,
        )
      )[0]!;
    const busyWait = await waitAfterAttempt(busy.id);
    t.match(busyWait, { status: 'pending', last_status_code: 429 });
    t.ok(busyWait.wait_s >= 119 && busyWait.wait_s <= 121, `429: waits ~120 s (${busyWait.wait_s})`);
    const unavailableWait = await waitAfterAttempt(unavailable.id);
    t.match(unavailableWait, { status: 'pending', last_status_code: 503 });
    t.ok(
      unavailableWait.wait_s >= 590 && unavailableWait.wait_s <= 601,
      `503 with an HTTP date: waits until then (${unavailableWait.wait_s})`,
    );
    const failingWait = await waitAfterAttempt(failing.id);
    t.ok(failingWait.wait_s < 7, `a plain 500 follows the schedule (${failingWait.wait_s})`);
    for (const s of [busy, unavailable, failing]) await retire(s.id);
  });

  t.test('an attempt that takes too long times out and is retried later', async (t) => {
    const receiver = await Receiver.start(t);
    const hang = new Promise<Answer>((resolve) => t.teardown(() => resolve({ status: 200 })));
    receiver.answer = () => hang;
    const owner = await subscriber();
    const sub = await subscribe(owner, receiver.url());
    const sender = shortScheduleDeliverer([3_600], { timeoutMs: 300 });
    await clientWithHistory('220102');
    await deliver(sender);
    const [attempt] = await attemptsOf(owner, sub.id);
    t.match(attempt, { statusCode: null, deliveryStatus: 'pending', error: /timeout|abort/i });
    await retire(sub.id);
  });

  t.test('the sender refuses addresses its policy does not allow, whatever the subscription says', async (t) => {
    const receiver = await Receiver.start(t);
    const owner = await subscriber();
    const literal = await subscribe(owner, receiver.url());
    // A name that resolved to an allowed address when subscribing and now resolves to loopback.
    const named = await subscribe(owner, receiver.url());
    await db.execute(
      sql`update webhook_subscriptions set url = ${`http://localhost:${receiver.port}/hook`} where id = ${named.id}::uuid`,
    );
    const sender = shortScheduleDeliverer([3_600], { allowLocal: false });
    await clientWithHistory('220102');
    await deliver(sender);
    t.equal(receiver.receipts.length, 0, 'nothing reaches the receiver');
    for (const sub of [literal, named]) {
      const [attempt] = await attemptsOf(owner, sub.id);
      t.match(attempt, { statusCode: null, deliveryStatus: 'pending', error: /refusing to connect/ });
      await retire(sub.id);
    }
  });

  t.test('rotate-secret: during the grace period two signatures, each verifying with its own secret', async (t) => {
    const receiver = await Receiver.start(t);
    const owner = await subscriber();
    const sub = await subscribe(owner, receiver.url());
    const oldSecret = sub.secret;

    const rotated = await call('POST', `/v1/webhook-subscriptions/${sub.id}/rotate-secret`, owner, {});
    t.equal(rotated.statusCode, 200);
    const rotatedBody = json<SubscriptionBody & { secret: string }>(rotated);
    const newSecret = rotatedBody.secret;
    t.match(newSecret, /^whsec_/);
    t.not(newSecret, oldSecret);
    const graceHours = (Date.parse(rotatedBody.previousSecretExpiresAt!) - Date.now()) / 3_600_000;
    t.ok(graceHours > 23.9 && graceHours <= 24, 'a grace period of 24 hours by default');
    t.notOk('secret' in (await getSubscription(owner, sub.id)));

    await clientWithHistory('220102');
    await deliver();
    const [message] = receiver.accepted();
    const signatures = message!.headers['webhook-signature']!.split(' ');
    t.equal(signatures.length, 2, 'two signatures');
    t.ok(verified(newSecret, message!), 'the header verifies with the new secret');
    t.ok(verified(oldSecret, message!), 'and with the old one');
    t.ok(verified(newSecret, message!, signatures[0]), 'the first signature is the new secret’s');
    t.throws(() => verified(oldSecret, message!, signatures[0]));
    t.ok(verified(oldSecret, message!, signatures[1]), 'the second the old secret’s');
    t.throws(() => verified(newSecret, message!, signatures[1]));

    // Rotating without grace: the old secret stops signing at once.
    const again = json<SubscriptionBody & { secret: string }>(
      await call('POST', `/v1/webhook-subscriptions/${sub.id}/rotate-secret`, owner, { graceHours: 0 }),
    );
    t.equal(again.previousSecretExpiresAt, null);
    await clientWithHistory('220102');
    await deliver();
    const last = receiver.accepted().at(-1)!;
    t.equal(last.headers['webhook-signature']!.split(' ').length, 1, 'one signature');
    t.ok(verified(again.secret, last));
    t.throws(() => verified(newSecret, last), 'the previous secret no longer verifies');
    await retire(sub.id);
  });

  t.test('ping delivers a signed webhook.pinged', async (t) => {
    const receiver = await Receiver.start(t);
    const owner = await subscriber();
    const sub = await subscribe(owner, receiver.url());
    const res = await call('POST', `/v1/webhook-subscriptions/${sub.id}/ping`, owner);
    t.equal(res.statusCode, 202);
    const { deliveryId } = json<{ deliveryId: string }>(res);
    t.equal(await webhooks.drain(), 1);
    t.equal(receiver.receipts.length, 1);
    const ping = receiver.receipts[0]!;
    t.equal(ping.headers['webhook-id'], deliveryId);
    t.match(verified(sub.secret, ping), {
      type: 'webhook.pinged',
      timestamp: /^\d{4}-/,
      data: { subscriptionId: sub.id, message: String },
    });
    t.match(await attemptsOf(owner, sub.id), [
      { deliveryId, eventId: null, statusCode: 200, deliveryStatus: 'delivered' },
    ]);
    t.notOk(
      (await feedOf(owner)).some((e) => e.type === 'webhook.pinged'),
      'pings are not in the feed',
    );
    await retire(sub.id);
  });

  t.test('redeliver one event, or everything since a time, with the same webhook-id', async (t) => {
    const receiver = await Receiver.start(t);
    const owner = await subscriber();
    const sub = await subscribe(owner, receiver.url());
    // `since` lies between what came before (other tests' events) and this test's events.
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
    await pause();
    const since = new Date().toISOString();
    await pause();
    await clientWithHistory('220102', 1);
    const hidden = await clientWithHistory('220103');
    await deliver();
    const firstRound = receiver.accepted();
    t.equal(firstRound.length, 2);
    const idOf = new Map(firstRound.map((r) => [r.event.id, r.headers['webhook-id']]));

    const one = await call('POST', `/v1/webhook-subscriptions/${sub.id}/redeliver`, owner, {
      eventId: firstRound[1]!.event.id,
    });
    t.equal(one.statusCode, 202);
    t.same(json(one), { queued: 1 });
    await deliver();
    const again = receiver.accepted().slice(2);
    t.equal(again.length, 1);
    t.equal(again[0]!.event.id, firstRound[1]!.event.id);
    t.equal(again[0]!.headers['webhook-id'], idOf.get(again[0]!.event.id), 'the same webhook-id');
    t.ok(verified(sub.secret, again[0]!));

    const everything = await call('POST', `/v1/webhook-subscriptions/${sub.id}/redeliver`, owner, { since });
    t.equal(everything.statusCode, 202);
    t.same(json(everything), { queued: 2 }, 'only the events it may see');
    await deliver();
    const replayed = receiver.accepted().slice(3);
    t.same(
      replayed.map((r) => [r.event.id, r.headers['webhook-id']]),
      firstRound.map((r) => [r.event.id, r.headers['webhook-id']]),
      'each again, in order, with its webhook-id',
    );

    const [hiddenEvent] = await rows<{ id: string }>(
      db,
      sql`select id from events where subject = ${`client/${hidden}`}`,
    );
    const refused = await call('POST', `/v1/webhook-subscriptions/${sub.id}/redeliver`, owner, {
      eventId: hiddenEvent!.id,
    });
    t.equal(refused.statusCode, 404, 'an event it may not see is not found');
    const unknown = await call('POST', `/v1/webhook-subscriptions/${sub.id}/redeliver`, owner, {
      eventId: '00000000-0000-4000-8000-000000000000',
    });
    t.equal(unknown.statusCode, 404);
    await deliver();
    t.notOk(
      receiver.receipts.some((r) => r.event.subject === `client/${hidden}`),
      'the other district’s event never arrives',
    );
    await retire(sub.id);
  });

  t.test('a receiver never gets an event outside its client’s scopes, jurisdiction or audience', async (t) => {
    const receiver = await Receiver.start(t);
    const bank = await client('bank', { jurisdiction: '2201' });
    const starter = await client('admin', { jurisdiction: '2201' });
    const colleague = await client('admin', { jurisdiction: '2201' });
    const district = await subscriber();
    await settle();
    const subs = {
      bank: await subscribe(bank, receiver.url('/bank')),
      starter: await subscribe(starter, receiver.url('/starter')),
      colleague: await subscribe(colleague, receiver.url('/colleague')),
      district: await subscribe(district, receiver.url('/district')),
    };

    await clientWithHistory('220102', 1);
    await clientWithHistory('220103', 1);
    const started = await call('POST', '/v1/audit-events/verifications', starter);
    t.equal(started.statusCode, 202);
    const jobId = json<{ id: string }>(started).id;
    t.equal(await app.services.jobs.drain(), 1);
    await deliver();

    const got = (path: string) => receiver.accepted(path).map((r) => r.event);
    t.same(got('/bank'), [], 'the bank, without clients:read, gets no client events, and not the job');
    t.same(
      got('/starter')
        .filter((e) => e.type === 'job.finished')
        .map((e) => e.data.jobId),
      [jobId],
      'the job’s starter gets job.finished',
    );
    t.equal(got('/starter').length, 5, 'and the city’s client events');
    t.notOk(
      got('/colleague').some((e) => e.type === 'job.finished'),
      'another admin of the same city does not',
    );
    t.equal(got('/colleague').length, 4);
    t.ok(
      got('/district').length === 2 && got('/district').every((e) => e.region === '220102'),
      'the district admin gets its district only',
    );
    for (const [name, sub] of Object.entries(subs)) {
      for (const r of receiver.accepted(`/${name}`)) t.ok(verified(sub.secret, r));
    }

    // The district admin loses clients:read: nothing more of that kind.
    const narrowed = await call('PATCH', `/v1/clients/${district.id}`, admin, {
      scopes: ['events:read', 'webhooks:manage'],
    });
    t.equal(narrowed.statusCode, 200);
    const before = receiver.receipts.length;
    await clientWithHistory('220102');
    await deliver();
    t.equal(receiver.receipts.filter((r) => r.path === '/district').length, 2, 'nothing new for the district');
    t.equal(
      receiver.receipts.length,
      before + 4,
      'the two city admins get the change to the district admin and the new client',
    );

    for (const sub of Object.values(subs)) await retire(sub.id);
  });

  t.test('pending deliveries stop when the client may no longer see them', async (t) => {
    const receiver = await Receiver.start(t);
    receiver.answer = () => ({ status: 500 });
    const narrowed = await client('admin', { jurisdiction: '2201' });
    const disabled = await client('admin', { jurisdiction: '2201' });
    await settle();
    const narrowedSub = await subscribe(narrowed, receiver.url('/narrowed'));
    const disabledSub = await subscribe(disabled, receiver.url('/disabled'));
    const hidden = await clientWithHistory('220103');
    await deliver();
    t.equal(receiver.receipts.length, 2, 'tried once each while the receiver was down');

    // Meanwhile one client is narrowed to another district, the other disabled.
    t.equal((await call('PATCH', `/v1/clients/${narrowed.id}`, admin, { jurisdiction: '220102' })).statusCode, 200);
    t.equal((await call('PATCH', `/v1/clients/${disabled.id}`, admin, { enabled: false })).statusCode, 200);
    receiver.answer = () => ({ status: 200 });
    await dueNow(narrowedSub.id);
    await dueNow(disabledSub.id);
    await deliver();
    t.same(
      receiver.accepted().filter((r) => r.event.subject === `client/${hidden}`),
      [],
      'neither receiver gets the 220103 event any more',
    );
    const [hiddenEvent] = await rows<{ id: string }>(
      db,
      sql`select id from events where subject = ${`client/${hidden}`}`,
    );
    for (const [who, sub] of [
      [narrowed, narrowedSub],
      [disabled, disabledSub],
    ] as const) {
      t.same(
        (await deliveryRows(sub.id)).filter((d) => d.event_id === hiddenEvent!.id).map((d) => d.status),
        ['cancelled'],
        'the delivery is cancelled',
      );
      if (who === narrowed) {
        // The client can still look: the attempt made shows its delivery cancelled.
        t.match(
          (await attemptsOf(who, sub.id)).filter((a) => a.eventId === hiddenEvent!.id),
          [{ statusCode: 500, deliveryStatus: 'cancelled' }],
        );
      }
    }
    await retire(narrowedSub.id);
    await retire(disabledSub.id);
  });

  t.test(
    'PostgreSQL: two instances sending at once deliver each event to each subscription with one webhook-id',
    { skip: !onPostgres && 'needs PostgreSQL' },
    async (t) => {
      const other = await testApp(t, { database, env: allowLocal });
      const receiver = await Receiver.start(t);
      // Every fifth message fails the first time, so some are retried; answers take a moment.
      const failedOnce = new Set<string>();
      let n = 0;
      receiver.answer = async (r) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        const id = r.headers['webhook-id']!;
        if (++n % 5 === 0 && !failedOnce.has(id)) {
          failedOnce.add(id);
          return { status: 500 };
        }
        return { status: 200 };
      };
      const owners = [await subscriber(), await client('admin', { jurisdiction: '2201' })];
      await settle();
      const subs = [await subscribe(owners[0]!, receiver.url('/a')), await subscribe(owners[1]!, receiver.url('/b'))];
      const senders = [shortScheduleDeliverer([0, 0, 0, 0, 0]), shortScheduleDeliverer([0, 0, 0, 0, 0])];
      const instances = [app, other.app];

      // Changes arrive through both instances while both sequence and send.
      let working = true;
      const background = instances.flatMap((instance, i) => [
        (async () => {
          while (working) await instance.services.events.sequence(10);
        })(),
        (async () => {
          while (working) if ((await senders[i]!.drain()) === 0) await new Promise((r) => setTimeout(r, 5));
        })(),
      ]);
      const subjects: string[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let k = 0; k < 2; k++) subjects.push(await clientWithHistory('220102', 4));
        }),
      );
      const pendingLeft = async () =>
        (
          await rows<{ n: number }>(
            db,
            sql`select count(*)::int as n from webhook_deliveries
                where subscription_id in (${subs[0]!.id}::uuid, ${subs[1]!.id}::uuid) and status in ('pending', 'delivering')`,
          )
        )[0]!.n;
      const until = Date.now() + 60_000;
      while ((await pendingLeft()) > 0 || (await rows(db, sql`select 1 from events where position is null`)).length) {
        if (Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      working = false;
      await Promise.all(background);
      t.equal(await pendingLeft(), 0, 'everything was delivered');

      const expectedEvents = subjects.length * 5;
      t.equal(expectedEvents, 100);
      for (const [i, sub] of subs.entries()) {
        const path = i === 0 ? '/a' : '/b';
        const receipts = receiver.receipts.filter((r) => r.path === path);
        const idsPerEvent = new Map<string, Set<string>>();
        for (const r of receipts) {
          verified(sub.secret, r);
          const ids = idsPerEvent.get(r.event.id) ?? new Set();
          ids.add(r.headers['webhook-id']!);
          idsPerEvent.set(r.event.id, ids);
        }
        const mine = [...idsPerEvent.keys()].filter((id) =>
          receipts.some((r) => r.event.id === id && subjects.includes(String(r.event.data.clientId))),
        );
        t.equal(mine.length, expectedEvents, `${path}: every event arrived`);
        t.ok(
          [...idsPerEvent.values()].every((ids) => ids.size === 1),
          `${path}: each event with exactly one webhook-id`,
        );
        const acceptedPerId = new Map<string, number>();
        for (const r of receipts.filter((r) => r.status === 200)) {
          acceptedPerId.set(r.headers['webhook-id']!, (acceptedPerId.get(r.headers['webhook-id']!) ?? 0) + 1);
        }
        t.ok(
          [...acceptedPerId.values()].every((count) => count === 1),
          `${path}: each delivery accepted once, never sent again after it succeeded`,
        );
        const attempts = await rows<{ id: string; n: number }>(
          db,
          sql`select delivery_id as id, count(*)::int as n from webhook_attempts
              where subscription_id = ${sub.id}::uuid group by delivery_id`,
        );
        const received = (id: string) => receipts.filter((r) => r.headers['webhook-id'] === id).length;
        t.ok(
          attempts.every((a) => received(a.id) === a.n),
          `${path}: each delivery received once per recorded attempt`,
        );
        t.ok(
          [...new Set(receipts.map((r) => r.headers['webhook-id']!))].every(
            (id) => received(id) === (failedOnce.has(id) ? 2 : 1),
          ),
          `${path}: a message twice only when its first attempt failed`,
        );
        for (const subject of subjects) {
          const seqs = receipts
            .filter((r) => r.status === 200 && r.event.subject === `client/${subject}`)
            .map((r) => r.event.subjectSeq);
          if (seqs.join() !== '1,2,3,4,5') t.fail(`${path} client/${subject}: out of order ${seqs.join()}`);
        }
      }
      t.ok(failedOnce.size > 0, 'some were retried');
      t.comment(`receipts ${receiver.receipts.length}, retried ${failedOnce.size}`);
    },
  );
});
