import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const Health = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() });

/** /healthz: the process answers. /readyz: the database answers and every migration is applied. */
export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getLiveness',
        summary: 'Liveness: the process is up',
        tags: ['Operations'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database is reachable and migrated',
        tags: ['Operations'],
        response: { 200: Health, 503: Health },
      },
    },
    async (_request, reply) => {
      try {
        await app.database.ping();
        const pending = await app.database.pendingMigrations();
        if (pending > 0) {
          return reply
            .code(503)
            .send({ status: 'unavailable', checks: { database: 'ok', migrations: `${pending} pending` } });
        }
        return { status: 'ok' as const, checks: { database: 'ok', migrations: 'ok' } };
      } catch {
        return reply.code(503).send({ status: 'unavailable', checks: { database: 'unreachable' } });
      }
    },
  );
};
