/** Shared by the event scenarios: the service's own code in the bench process, to seed and publish. */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { rows } from '../../src/db/client.js';
import type { AuthenticatedClient } from '../../src/platform/clients/service.js';
import { clientUpdated } from '../../src/platform/events/catalogue.js';

export const benchActor = { clientId: null, agency: null, requestId: 'bench' };

/** The service as a library (no HTTP, no background work): its services publish and subscribe. */
export async function openBenchApp(url: string): Promise<FastifyInstance> {
  const app = await buildApp(
    loadConfig({
      DATABASE_URL: url,
      LOG_LEVEL: 'silent',
      DB_POOL_MAX: '8',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    }),
    { background: false },
  );
  await app.database.migrate();
  return app;
}

/** A client of the city (2201) that may read the feed and see client.* events: an admin. */
export async function benchReader(
  app: FastifyInstance,
  name: string,
): Promise<{ caller: AuthenticatedClient; key: string }> {
  const created = await app.services.clients.create({ jurisdiction: '2201' }, benchActor, {
    name,
    agency: 'admin',
    jurisdiction: '2201',
  });
  const c = created.client;
  return {
    caller: {
      id: c.id,
      name: c.name,
      agency: 'admin',
      scopes: c.scopes as AuthenticatedClient['scopes'],
      jurisdiction: c.jurisdiction,
      keyId: created.apiKey.id,
    },
    key: created.key,
  };
}

const districts = ['220102', '220103', '220104', '220105', '220106'];

/**
 * Publishes `count` client.updated events through app.services.events.publish, `batch` to a
 * transaction, `parallel` transactions at a time, spread round-robin over `subjects` subjects.
 */
export async function publishEvents(
  app: FastifyInstance,
  {
    count,
    subjects,
    batch = 100,
    parallel = 4,
  }: { count: number; subjects: number; batch?: number; parallel?: number },
) {
  const ids = Array.from({ length: subjects }, () => randomUUID());
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + batch);
      next = to;
      await app.database.db.transaction(async (tx) => {
        for (let i = from; i < to; i++) {
          const clientId = ids[i % subjects]!;
          await app.services.events.publish(tx, clientUpdated, {
            subject: `client/${clientId}`,
            region: districts[i % districts.length]!,
            data: { clientId, changed: ['name', 'scopes'], enabled: true },
          });
        }
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export async function sequencedEvents(app: FastifyInstance): Promise<{ n: number; last: number }> {
  const [found] = await rows<{ n: number; last: number }>(
    app.database.db,
    sql`select count(position)::int as n, coalesce(max(position), 0)::float8 as last from events`,
  );
  return found!;
}
