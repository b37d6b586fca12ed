import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../auth.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery, problems, timestamp, toIso } from '../http.js';
import type { JobRow, JobService } from './service.js';

export const JobSchema = z
  .object({
    id: z.uuid(),
    type: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    progress: z.object({ done: z.number().int(), total: z.number().int().nullable() }),
    attempts: z.number().int(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    result: z.record(z.string(), z.unknown()).nullable().describe('When succeeded: what the job produced'),
    problem: z.record(z.string(), z.unknown()).nullable().describe('When failed: a problem+json object'),
  })
  .meta({ id: 'Job' });

export const jobOut = (j: JobRow) => ({
  id: j.id,
  type: j.type,
  status: j.status as 'queued' | 'running' | 'succeeded' | 'failed',
  progress: { done: j.progressDone, total: j.progressTotal },
  attempts: j.attempts,
  createdAt: j.createdAt.toISOString(),
  startedAt: toIso(j.startedAt),
  finishedAt: toIso(j.finishedAt),
  result: j.result,
  problem: j.problem,
});

const isUuid = (v: unknown): v is string => z.uuid().safeParse(v).success;

const everyone = ['Civil affairs', 'Finance', 'Bank', 'Data providers', 'Health', 'CDC', 'Portal', 'Admin'];

export const jobRoutes: FastifyPluginAsyncZod<{ jobs: JobService }> = async (app, { jobs }) => {
  app.get(
    '/v1/jobs/:id',
    {
      config: { scopes: ['jobs:read'] },
      schema: {
        operationId: 'getJob',
        summary: 'Status and progress of long work',
        description: 'Operations that take long answer 202 with `Location: /v1/jobs/{id}`; poll it here.',
        tags: everyone,
        params: z.object({ id: z.uuid() }),
        response: { 200: JobSchema, ...problems(404) },
      },
    },
    async (request) => jobOut(await jobs.get(callerOf(request), request.params.id)),
  );

  app.get(
    '/v1/jobs',
    {
      config: { scopes: ['jobs:read'] },
      schema: {
        operationId: 'listJobs',
        summary: 'The jobs your client started, newest first',
        tags: everyone,
        querystring: z.object({
          ...pageQuery,
          status: z.enum(['queued', 'running', 'succeeded', 'failed']).optional(),
        }),
        response: { 200: pageOf(JobSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const page = await jobs.list(callerOf(request), { limit, status, afterId: decodeCursor(cursor, isUuid) });
      const last = page.items.at(-1);
      return { items: page.items.map(jobOut), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );
};
