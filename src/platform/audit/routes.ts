import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../auth.js';
import { decodeCursor, encodeCursor, isNumber, pageOf, pageQuery, timestamp } from '../http.js';
import { JobSchema, jobOut } from '../jobs/routes.js';
import type { JobService } from '../jobs/service.js';
import type { AuditService } from './service.js';
import type { auditEvents } from './tables.js';

const AuditEventSchema = z
  .object({
    id: z.uuid(),
    occurredAt: timestamp,
    clientId: z.uuid().nullable(),
    agency: z.string().nullable(),
    operation: z.string(),
    resourceType: z.string(),
    resourceIds: z.array(z.string()),
    personIds: z.array(z.uuid()),
    outcome: z.enum(['success', 'denied', 'failed']),
    requestId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    chainSeq: z.number().int().nullable().describe('Place in the hash chain; null until sealed (within seconds)'),
    hash: z.string().nullable(),
  })
  .meta({ id: 'AuditEvent' });

const eventOut = (e: typeof auditEvents.$inferSelect & { chainSeq: number | null; hash: string | null }) => ({
  id: e.id,
  occurredAt: e.occurredAt.toISOString(),
  clientId: e.clientId,
  agency: e.agency,
  operation: e.operation,
  resourceType: e.resourceType,
  resourceIds: e.resourceIds,
  personIds: e.personIds,
  outcome: e.outcome as 'success' | 'denied' | 'failed',
  requestId: e.requestId,
  detail: e.detail,
  chainSeq: e.chainSeq,
  hash: e.hash,
});

export const AUDIT_VERIFY_JOB = 'audit.verify';

export const auditRoutes: FastifyPluginAsyncZod<{ audit: AuditService; jobs: JobService }> = async (
  app,
  { audit, jobs },
) => {
  jobs.register(AUDIT_VERIFY_JOB, async ({ progress }) => {
    await audit.seal();
    const report = await audit.verify((done, total) => progress(done, total));
    return { ...report };
  });

  app.get(
    '/v1/audit-events',
    {
      config: { scopes: ['audit:read'] },
      schema: {
        operationId: 'listAuditEvents',
        summary: 'Read the audit trail, newest first',
        description:
          'Who did or read what, and with what outcome. Filter by person to answer “who has seen this person’s data”.',
        tags: ['Admin'],
        querystring: z.object({
          ...pageQuery,
          personId: z.uuid().optional(),
          clientId: z.uuid().optional(),
          operation: z.string().max(100).optional(),
          resourceType: z.string().max(100).optional(),
          from: timestamp.optional().describe('Only events at or after this time'),
          to: timestamp.optional().describe('Only events at or before this time'),
        }),
        response: { 200: pageOf(AuditEventSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, from, to, ...filters } = request.query;
      const page = await audit.list({
        ...filters,
        jurisdiction: callerOf(request).jurisdiction,
        limit,
        ...(from !== undefined && { from: new Date(from) }),
        ...(to !== undefined && { to: new Date(to) }),
        ...(cursor !== undefined && { beforeSeq: decodeCursor(cursor, isNumber) }),
      });
      const last = page.items.at(-1);
      return { items: page.items.map(eventOut), nextCursor: page.more && last ? encodeCursor(last.seq) : null };
    },
  );

  app.post(
    '/v1/audit-events/verifications',
    {
      config: { scopes: ['audit:verify'] },
      schema: {
        operationId: 'verifyAuditChain',
        summary: 'Verify the audit hash chain',
        description:
          'Seals what is pending, then recomputes every link. Answers 202 with a job; its result says `ok`, how many rows were checked and, if any, the first broken link.',
        tags: ['Admin'],
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const job = await app.database.db.transaction(async (tx) => {
        const queued = await jobs.enqueue(tx, {
          type: AUDIT_VERIFY_JOB,
          payload: {},
          clientId: caller.id,
          region: caller.jurisdiction,
          maxAttempts: 1,
        });
        await audit.record(tx, actorOf(request), {
          operation: 'verifyAuditChain',
          resourceType: 'job',
          resourceIds: [queued.id],
        });
        return queued;
      });
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(jobOut(job));
    },
  );
};
