/** Pages of the pull feed (GET /v1/events) from random cursors, against a bare SELECT of 100 rows by position. */
import type autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import {
  CONNECTIONS,
  DURATION_S,
  type Figures,
  httpTable,
  load,
  median,
  ROUNDS,
  type ScenarioResult,
  start,
  stop,
} from '../lib.js';
import { benchReader, openBenchApp, publishEvents, sequencedEvents } from './events-setup.js';

const FEED_EVENTS = Number(process.env.BENCH_FEED_EVENTS ?? 50_000);
const LIMIT = 100;

export async function scenarioFeedReads(url: string): Promise<ScenarioResult> {
  // Seed: at least FEED_EVENTS sequenced events (those of earlier scenarios count), all visible to the reader.
  const app = await openBenchApp(url);
  const { key } = await benchReader(app, 'bench feed reader');
  let { n } = await sequencedEvents(app);
  if (n < FEED_EVENTS) {
    await publishEvents(app, { count: FEED_EVENTS - n, subjects: 5_000 });
    // No webhook subscription is enabled here, so sequencing only gives positions.
    await app.database.db.execute(sql`update webhook_subscriptions set enabled = false where enabled`);
    await app.services.events.sequence();
  }
  // A database in service has statistics (autovacuum); a table filled a moment ago has none yet.
  await app.database.db.execute(sql`analyze`);
  const head = await sequencedEvents(app);
  n = head.n;
  await app.close();
  const lastAfter = Math.max(0, head.last - LIMIT);
  const randomPath = (prefix: string) => () =>
    `${prefix}?after=${Math.floor(Math.random() * lastAfter)}&limit=${LIMIT}`;
  const paged = (path: () => string): Partial<autocannon.Options> => ({
    requests: [{ setupRequest: (request) => ({ ...request, path: path() }) }],
  });

  const env = {
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: process.env.BENCH_POOL ?? '20',
    RATE_LIMIT_PER_MINUTE: '100000000',
  };
  const bare = await start('./servers/bare-feed.ts', { ...env, PORT: '3904' });
  const real = await start('./servers/doudi.ts', { ...env, PORT: '3905', HOST: '127.0.0.1' });
  const bareUrl = 'http://127.0.0.1:3904/events';
  const realUrl = 'http://127.0.0.1:3905/v1/events';
  const bareOptions = paged(randomPath('/events'));
  const realOptions = paged(randomPath('/v1/events'));
  const auth = { authorization: `Bearer ${key}` };
  try {
    await load(bareUrl, {}, 3, bareOptions);
    await load(realUrl, auth, 3, realOptions);
    const baselineRounds: Figures[] = [];
    const measuredRounds: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baselineRounds.push(await load(bareUrl, {}, DURATION_S, bareOptions));
      measuredRounds.push(await load(realUrl, auth, DURATION_S, realOptions));
    }
    const baseline = median(baselineRounds);
    const measured = median(measuredRounds);
    return {
      name: 'feed-reads',
      title: `Feed reads: pages of ${LIMIT} events from a random cursor (GET /v1/events?after=…&limit=${LIMIT})`,
      baselineTitle: `Bare fastify + pg route, SELECT of ${LIMIT} events by position`,
      notes: [
        `${n.toLocaleString('en')} sequenced events in the feed, all visible to the reader (an admin of the city), so every page holds ${LIMIT} events; tables analyzed after seeding. Each request starts at a random position.`,
        `Baseline: bare fastify + pg route selecting ${LIMIT} rows of the same table by position (no auth, no visibility rule, no response validation). ${CONNECTIONS} connections; ${ROUNDS} alternating rounds of ${DURATION_S} s each after a 3 s warm-up; medians over the rounds.`,
      ],
      feedEvents: n,
      limit: LIMIT,
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      roundsMeasured: measuredRounds,
      roundsBaseline: baselineRounds,
      measured,
      baseline,
      table: httpTable(measured, baseline),
      throughputRatio: Number((measured.requestsPerSec / baseline.requestsPerSec).toFixed(3)),
      target: 'none set by the issue (the figure is recorded)',
      met: null,
    };
  } finally {
    await stop(bare);
    await stop(real);
  }
}
