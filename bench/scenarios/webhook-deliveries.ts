/**
 * Webhook deliveries per second to a local receiver, end to end: events published through the
 * outbox in the bench process, sequenced, fanned out, signed, sent and recorded by the real service
 * in its own process, received by a plain node:http receiver in another. Baseline: the same
 * receiver, driven by a bare undici sender with the same concurrency and body size.
 */
import type { ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { rows } from '../../src/db/client.js';
import { awaitMessage, mid, ROUNDS, type ScenarioResult, start, startWithMessage, stop } from '../lib.js';
import { benchActor, benchReader, openBenchApp, publishEvents } from './events-setup.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 4);
const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 1_000);
const ROUND_TIMEOUT_MS = Number(process.env.BENCH_ROUND_TIMEOUT_MS ?? 300_000);
const TARGET_PER_S = 1_000;

interface Done {
  done: string;
  received: number;
  duplicates: number;
  requests: number;
  meanBodyBytes: number;
}

export interface DeliveryRound {
  deliveries: number;
  deliveriesPerSec: number;
  seconds: number;
  /** Doudi only: how long publishing took, and how long the last deliveries took after it. */
  publishSeconds?: number;
  drainAfterPublishSeconds?: number;
  /** Doudi only: until every delivery was recorded as delivered in the database. */
  recordedSeconds?: number;
  duplicates: number;
  meanBodyBytes: number;
}

let tags = 0;

/** Tells the receiver how many distinct webhook-ids to expect; resolves with a wait for them all. */
async function expect(receiver: ChildProcess, count: number) {
  const tag = `r${++tags}`;
  const ready = awaitMessage<{ ready?: string }>(receiver, (m) => m.ready === tag, 10_000);
  receiver.send({ expect: count, tag });
  await ready;
  return () => awaitMessage<Done>(receiver, (m) => m.done === tag, ROUND_TIMEOUT_MS);
}

async function doudiRound(
  app: FastifyInstance,
  receiver: ChildProcess,
  receiverUrl: string,
  caller: Awaited<ReturnType<typeof benchReader>>['caller'],
  events: number,
): Promise<DeliveryRound> {
  const db = app.database.db;
  // Fresh subscriptions each round; the previous round's stop receiving (the sequencer fans out to
  // enabled subscriptions only), so each round starts from the same state.
  await db.execute(sql`update webhook_subscriptions set enabled = false where enabled`);
  const subscriptionIds: string[] = [];
  const round = ++tags;
  for (let k = 0; k < SUBSCRIPTIONS; k++) {
    const { subscription } = await app.services.subscriptions.create(caller, benchActor, {
      url: `${receiverUrl}/round-${round}/subscription-${k}`,
      eventTypes: ['client.updated'],
    });
    subscriptionIds.push(subscription.id);
  }
  const deliveries = events * SUBSCRIPTIONS;
  const all = await expect(receiver, deliveries);
  const started = performance.now();
  const received = all();
  await publishEvents(app, { count: events, subjects: SUBJECTS });
  const published = performance.now();
  const done = await received;
  const finished = performance.now();
  // Wait until the service has recorded every delivery, so its bookkeeping does not spill into the next round.
  for (;;) {
    const [left] = await rows<{ n: number; total: number }>(
      db,
      sql`select count(*) filter (where status <> 'delivered')::int as n, count(*)::int as total
          from webhook_deliveries where subscription_id = any(${sql.param(subscriptionIds)}::uuid[])`,
    );
    if (left!.n === 0 && left!.total === deliveries) break;
    if (performance.now() - finished > 60_000) throw new Error(`deliveries not recorded: ${JSON.stringify(left)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const recorded = performance.now();
  const seconds = (finished - started) / 1000;
  return {
    deliveries,
    deliveriesPerSec: Math.round(deliveries / seconds),
    seconds: Number(seconds.toFixed(2)),
    publishSeconds: Number(((published - started) / 1000).toFixed(2)),
    drainAfterPublishSeconds: Number(((finished - published) / 1000).toFixed(2)),
    recordedSeconds: Number(((recorded - started) / 1000).toFixed(2)),
    duplicates: done.duplicates,
    meanBodyBytes: Math.round(done.meanBodyBytes),
  };
}

async function baselineRound(
  sender: ChildProcess,
  receiver: ChildProcess,
  receiverUrl: string,
  deliveries: number,
  concurrency: number,
  bodyBytes: number,
): Promise<DeliveryRound> {
  const all = await expect(receiver, deliveries);
  const started = performance.now();
  const received = all();
  const sent = awaitMessage<{ sent?: number }>(sender, (m) => m.sent !== undefined, ROUND_TIMEOUT_MS);
  sender.send({ url: `${receiverUrl}/baseline`, count: deliveries, concurrency, bodyBytes });
  const done = await received;
  const finished = performance.now();
  await sent;
  const seconds = (finished - started) / 1000;
  return {
    deliveries,
    deliveriesPerSec: Math.round(deliveries / seconds),
    seconds: Number(seconds.toFixed(2)),
    duplicates: done.duplicates,
    meanBodyBytes: Math.round(done.meanBodyBytes),
  };
}

export async function scenarioWebhookDeliveries(url: string): Promise<ScenarioResult> {
  const app = await openBenchApp(url);
  const { caller } = await benchReader(app, 'bench webhook receiver');
  const concurrency = loadConfig({}).WEBHOOK_CONCURRENCY;
  const { child: receiver, first } = await startWithMessage<{ port: number }>('./servers/receiver.ts', {});
  const receiverUrl = `http://127.0.0.1:${first.port}`;
  const service = await start(
    './servers/doudi.ts',
    {
      DATABASE_URL: url,
      LOG_LEVEL: 'silent',
      PORT: '3903',
      HOST: '127.0.0.1',
      JOBS_ENABLED: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    },
    process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [],
  );
  const sender = await start('./servers/sender.ts', {});
  try {
    // Warm-up: a small round of each. The Doudi one tells the body size the baseline sends.
    const warm = await doudiRound(app, receiver, receiverUrl, caller, Math.ceil(EVENTS / 5));
    const bodyBytes = warm.meanBodyBytes;
    await baselineRound(sender, receiver, receiverUrl, warm.deliveries, concurrency, bodyBytes);
    const measuredRounds: DeliveryRound[] = [];
    const baselineRounds: DeliveryRound[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baselineRounds.push(
        await baselineRound(sender, receiver, receiverUrl, EVENTS * SUBSCRIPTIONS, concurrency, bodyBytes),
      );
      measuredRounds.push(await doudiRound(app, receiver, receiverUrl, caller, EVENTS));
      console.error(
        `webhook-deliveries round ${round + 1}: baseline ${baselineRounds.at(-1)!.deliveriesPerSec}/s, Doudi ${measuredRounds.at(-1)!.deliveriesPerSec}/s`,
      );
    }
    await app.database.db.execute(sql`update webhook_subscriptions set enabled = false where enabled`);
    const med = (rounds: DeliveryRound[], key: keyof DeliveryRound) => mid(rounds.map((r) => Number(r[key] ?? 0)));
    const measured = {
      deliveriesPerSec: med(measuredRounds, 'deliveriesPerSec'),
      seconds: med(measuredRounds, 'seconds'),
      publishSeconds: med(measuredRounds, 'publishSeconds'),
      drainAfterPublishSeconds: med(measuredRounds, 'drainAfterPublishSeconds'),
      recordedSeconds: med(measuredRounds, 'recordedSeconds'),
      duplicates: measuredRounds.reduce((n, r) => n + r.duplicates, 0),
    };
    const baseline = {
      deliveriesPerSec: med(baselineRounds, 'deliveriesPerSec'),
      seconds: med(baselineRounds, 'seconds'),
      duplicates: baselineRounds.reduce((n, r) => n + r.duplicates, 0),
    };
    const ratio = measured.deliveriesPerSec / baseline.deliveriesPerSec;
    return {
      name: 'webhook-deliveries',
      title: 'Webhook deliveries per second to a local receiver, end to end',
      baselineTitle: 'Bare undici sender, same receiver, same number of same-size bodies, same concurrency',
      notes: [
        `Per round: ${EVENTS.toLocaleString('en')} client.updated events over ${SUBJECTS.toLocaleString('en')} subjects, published through \`app.services.events.publish\` in transactions of 100 (4 at a time) from the bench process, for ${SUBSCRIPTIONS} fresh subscriptions: ${(EVENTS * SUBSCRIPTIONS).toLocaleString('en')} deliveries. The clock runs from the first publish until the receiver holds every webhook-id; it includes publishing, sequencing, fan-out, signing, sending and the service's bookkeeping (which the receiver does not wait for). The service is the real one (\`bench/servers/doudi.ts\`: sequencer and sender running, WEBHOOK_CONCURRENCY=${concurrency}); the receiver is a node:http server in its own process answering 204.`,
        `Baseline: the same receiver, driven by a bare sender in its own process POSTing the same number of ${bodyBytes}-byte bodies with headers of the same sizes, ${concurrency} requests in flight through an undici Agent; no database, no signing. ${ROUNDS} alternating rounds after a warm-up round of each; medians over the rounds.`,
      ],
      events: EVENTS,
      subscriptions: SUBSCRIPTIONS,
      subjects: SUBJECTS,
      concurrency,
      bodyBytes,
      rounds: ROUNDS,
      roundsMeasured: measuredRounds,
      roundsBaseline: baselineRounds,
      measured,
      baseline,
      table: {
        columns: ['deliveries/s', 'seconds', 'publishing s', 'last delivery after publishing s', 'duplicates'],
        measured: [
          measured.deliveriesPerSec,
          measured.seconds,
          measured.publishSeconds,
          measured.drainAfterPublishSeconds,
          measured.duplicates,
        ],
        baseline: [baseline.deliveriesPerSec, baseline.seconds, '–', '–', baseline.duplicates],
      },
      throughputRatio: Number(ratio.toFixed(3)),
      target: `at least ${TARGET_PER_S.toLocaleString('en')} deliveries/s`,
      met: measured.deliveriesPerSec >= TARGET_PER_S,
    };
  } finally {
    await stop(sender);
    await stop(service);
    await stop(receiver);
    await app.close();
  }
}
