/**
 * Fault: the service is SIGKILLed while webhook deliveries are in flight, then started again.
 * Passes when the receiver ends up holding every event (none lost), each event under one
 * webhook-id, every copy of a message with the same body, every signature valid (checked with the
 * standardwebhooks package), and each subject's events first received in order.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/faults/webhooks-sigkill.ts
 *
 * Uses a fresh database `doudi_fault_webhooks` on that server (dropped after a pass, kept after a
 * failure) and loopback addresses only. Gives up, failing, after FAULT_TIMEOUT_S (120) seconds.
 * Knobs: FAULT_EVENTS (3000), FAULT_SUBJECTS (100).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { openSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { rows } from '../../src/db/client.js';
import type { AuthenticatedClient } from '../../src/platform/clients/service.js';
import { clientUpdated } from '../../src/platform/events/catalogue.js';
import { dropDatabase, freePort, freshDatabase, killed, sleep } from './lib.js';

const EVENTS = Number(process.env.FAULT_EVENTS ?? 3_000);
const SUBJECTS = Number(process.env.FAULT_SUBJECTS ?? 100);
const TIMEOUT_S = Number(process.env.FAULT_TIMEOUT_S ?? 120);
const dbName = 'doudi_fault_webhooks';
const started = Date.now();
const log = (message: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);

// A fresh database (on a loopback address only).
const url = await freshDatabase(dbName);

// The receiver: records every message, verifies its signature and answers 204 after a moment;
// just before the kill it answers nothing, so that deliveries are surely in flight when the
// service dies.
interface Message {
  body: string;
  eventId: string;
  subject: string;
  subjectSeq: number;
}
const byWebhookId = new Map<string, Message>();
const webhookIdsByEvent = new Map<string, Set<string>>();
const firstSeqsBySubject = new Map<string, number[]>();
const problems: string[] = [];
let receipts = 0;
let secret = '';
/** While set, messages are held unanswered: deliveries the service has in flight. */
let holding: Map<string, ServerResponse> | null = null;
/** How often each webhook-id arrived. */
const arrivals = new Map<string, number>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const id = String(req.headers['webhook-id']);
    receipts++;
    arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
    try {
      record(body, req.headers);
    } catch (err) {
      problems.push(`a message did not verify: ${(err as Error).message}`);
    }
    if (holding) holding.set(id, res);
    else setTimeout(() => res.writeHead(204).end(), Math.random() * 5);
  });
});
function record(body: string, headers: IncomingHttpHeaders) {
  const id = String(headers['webhook-id']);
  new Webhook(secret).verify(body, {
    'webhook-id': id,
    'webhook-timestamp': String(headers['webhook-timestamp']),
    'webhook-signature': String(headers['webhook-signature']),
  });
  const event = JSON.parse(body) as { id: string; subject: string; subjectSeq: number };
  const seen = byWebhookId.get(id);
  if (seen) {
    if (seen.body !== body) problems.push(`webhook-id ${id} came with two different bodies`);
    return;
  }
  byWebhookId.set(id, { body, eventId: event.id, subject: event.subject, subjectSeq: event.subjectSeq });
  const ids = webhookIdsByEvent.get(event.id) ?? new Set<string>();
  ids.add(id);
  webhookIdsByEvent.set(event.id, ids);
  const seqs = firstSeqsBySubject.get(event.subject) ?? [];
  seqs.push(event.subjectSeq);
  firstSeqsBySubject.set(event.subject, seqs);
}
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

// The service's own code in this process, to set up and to publish (no HTTP, no background work).
const config = {
  DATABASE_URL: url,
  LOG_LEVEL: 'warn',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  // A short timeout, so the lease on deliveries the killed process held (3 × timeout) ends soon.
  WEBHOOK_TIMEOUT_MS: '2000',
};
const app = await buildApp(loadConfig({ ...config, LOG_LEVEL: 'silent', DB_POOL_MAX: '4' }), { background: false });
await app.database.migrate();
const actor = { clientId: null, agency: null, requestId: 'fault' };
const made = await app.services.clients.create({ jurisdiction: '2201' }, actor, {
  name: 'fault receiver',
  agency: 'admin',
  jurisdiction: '2201',
});
const caller: AuthenticatedClient = {
  id: made.client.id,
  name: made.client.name,
  agency: 'admin',
  scopes: made.client.scopes as AuthenticatedClient['scopes'],
  jurisdiction: made.client.jurisdiction,
  keyId: made.apiKey.id,
};
const subscribed = await app.services.subscriptions.create(caller, actor, {
  url: receiverUrl,
  eventTypes: ['client.updated'],
});
secret = subscribed.secret;
const subscriptionId = subscribed.subscription.id;

// The real service, as `npm start` runs it (migrations, sequencer and sender included), in a
// process of its own; its log goes to a file.
const port = await freePort();
const logFile = join(tmpdir(), `doudi-fault-webhooks-${process.pid}.log`);
const logFd = openSync(logFile, 'a');
let service: ChildProcess | null = null;
async function startService() {
  const child = fork(new URL('../../src/server.ts', import.meta.url), [], {
    env: { ...process.env, ...config, HOST: '127.0.0.1', PORT: String(port), JOBS_ENABLED: 'true' },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  service = child;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}; see ${logFile}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
}
let finished = false;
async function cleanUp(passed: boolean) {
  finished = true;
  if (service) await killed(service, 'SIGKILL');
  receiver.closeAllConnections();
  receiver.close();
  await app.close();
  if (passed) {
    await dropDatabase(dbName);
    unlinkSync(logFile);
  } else {
    console.log(`Database ${dbName} kept for inspection; service log: ${logFile}`);
  }
}
const deadline = setTimeout(() => {
  if (finished) return;
  console.log(
    `FAIL: gave up after ${TIMEOUT_S} s with ${byWebhookId.size} of ${EVENTS} events received (${receipts} messages)`,
  );
  void cleanUp(false).finally(() => process.exit(1));
}, TIMEOUT_S * 1000);

// Publish while the service runs; kill it once a quarter of the events have arrived.
log(`service starting (log: ${logFile})`);
await startService();
const subjects = Array.from({ length: SUBJECTS }, () => randomUUID());
let publishedCount = 0;
const publishing = (async () => {
  for (let from = 0; from < EVENTS && !finished; from += 50) {
    await app.database.db.transaction(async (tx) => {
      for (let i = from; i < Math.min(EVENTS, from + 50); i++) {
        const clientId = subjects[i % SUBJECTS]!;
        await app.services.events.publish(tx, clientUpdated, {
          subject: `client/${clientId}`,
          region: '220102',
          data: { clientId, changed: ['name'], enabled: true },
        });
      }
    });
    publishedCount = Math.min(EVENTS, from + 50);
  }
})().catch((err: unknown) => {
  if (!finished) problems.push(`publishing failed: ${(err as Error).message}`);
});
log(`publishing ${EVENTS} client.updated events over ${SUBJECTS} subjects to one subscription`);
while (byWebhookId.size < EVENTS / 4) await sleep(5);
// From now on the receiver answers nothing; kill the service once it holds a message: deliveries
// in flight, which the service cannot have recorded and must send again.
const held = new Map<string, ServerResponse>();
holding = held;
const holdingSince = Date.now();
while (held.size === 0 && Date.now() - holdingSince < 10_000) await sleep(1);
const [state] = await rows<{ delivering: number; pending: number; delivered: number }>(
  app.database.db,
  sql`select count(*) filter (where status = 'delivering')::int as delivering,
             count(*) filter (where status = 'pending')::int as pending,
             count(*) filter (where status = 'delivered')::int as delivered
      from webhook_deliveries where subscription_id = ${subscriptionId}::uuid`,
);
await killed(service!, 'SIGKILL');
holding = null;
const inFlight = [...held.keys()];
for (const res of held.values()) res.destroy();
log(
  `SIGKILL with ${byWebhookId.size} events received, ${inFlight.length} messages received and not answered yet; deliveries: ${state!.delivering} claimed, ${state!.pending} pending, ${state!.delivered} recorded delivered; ${publishedCount} events published so far`,
);
if (inFlight.length === 0) problems.push('no delivery was in flight when the service was killed');
await sleep(500);
log('service starting again');
await startService();
await publishing;
log(`all ${EVENTS} events published; waiting for the receiver to hold them all`);
while (byWebhookId.size < EVENTS) await sleep(20);
// Wait for the messages in flight at the kill to come again (their lease ends 3 × timeout after
// they were claimed), and for the service to record the last attempts.
while (inFlight.some((id) => (arrivals.get(id) ?? 0) < 2)) await sleep(20);
for (let i = 0; i < 100; i++) {
  const [left] = await rows<{ n: number }>(
    app.database.db,
    sql`select count(*)::int as n from webhook_deliveries
        where subscription_id = ${subscriptionId}::uuid and status <> 'delivered'`,
  );
  if (left!.n === 0) break;
  await sleep(50);
}
clearTimeout(deadline);

// Checks.
const published = await rows<{ id: string }>(app.database.db, sql`select id from events where type = 'client.updated'`);
const missing = published.filter((e) => !webhookIdsByEvent.has(e.id));
if (published.length !== EVENTS) problems.push(`${published.length} events in the outbox, ${EVENTS} published`);
if (missing.length > 0) problems.push(`${missing.length} events never arrived (e.g. ${missing[0]!.id})`);
const twoIds = [...webhookIdsByEvent.values()].filter((ids) => ids.size > 1).length;
if (twoIds > 0) problems.push(`${twoIds} events arrived under more than one webhook-id`);
const outOfOrder = [...firstSeqsBySubject].filter(([, seqs]) => seqs.some((s, i) => s !== i + 1));
if (outOfOrder.length > 0) {
  const [subject, seqs] = outOfOrder[0]!;
  problems.push(`${outOfOrder.length} subjects first received out of order (e.g. ${subject}: ${seqs.join(',')})`);
}
const [db] = await rows<{ delivered: number; total: number; attempts: number }>(
  app.database.db,
  sql`select count(*) filter (where status = 'delivered')::int as delivered, count(*)::int as total,
             coalesce(sum(attempts), 0)::int as attempts
      from webhook_deliveries where subscription_id = ${subscriptionId}::uuid`,
);
if (db!.delivered !== EVENTS || db!.total !== EVENTS) {
  problems.push(`the database shows ${db!.delivered} of ${db!.total} deliveries delivered, expected ${EVENTS}`);
}

// At least once: what the killed process had in flight, unanswered, must have come again.
const notResent = inFlight.filter((id) => (arrivals.get(id) ?? 0) < 2);
if (notResent.length > 0) {
  problems.push(`${notResent.length} messages in flight at the kill were never sent again (e.g. ${notResent[0]})`);
}
const duplicates = receipts - byWebhookId.size;
log(
  `receiver: ${receipts} messages, ${byWebhookId.size} distinct webhook-ids for ${webhookIdsByEvent.size} events, ${duplicates} repeats (sent again after the kill); database: ${db!.delivered}/${db!.total} delivered after ${db!.attempts} attempts`,
);
const passed = problems.length === 0;
await cleanUp(passed);
if (passed) {
  console.log(
    'PASS: every event delivered, one webhook-id per event, each webhook-id always with the same body, signatures valid, per-subject order kept',
  );
  process.exit(0);
}
console.log(`FAIL:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
process.exit(1);
