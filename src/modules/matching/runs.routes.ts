import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditService } from '../../platform/audit/service.js';
import { actorOf, callerOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, isString, pageOf, pageQuery, problems } from '../../platform/http.js';
import { allResults, csvColumns, csvRows, resultPage } from './runs.results.js';
import { NewRunBody, ResultsQuery, RunResultSchema, RunSchema, runOut } from './runs.schemas.js';
import type { RunService } from './runs.service.js';

const tags = ['Civil affairs'];
const params = z.object({ id: z.uuid() });
const isUuid = (v: unknown): v is string => typeof v === 'string' && z.uuid().safeParse(v).success;

function afterOf(cursor: string | undefined) {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(.+)\|([0-9a-f-]{36})$/.exec(key);
  if (!match || Number.isNaN(Date.parse(match[1]!))) {
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  }
  return { createdAt: match[1]!, id: match[2]! };
}

export const runRoutes: FastifyPluginAsyncZod<{ runs: RunService; audit: AuditService }> = async (
  app,
  { runs, audit },
) => {
  app.post(
    '/v1/matching/runs',
    {
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'startMatchingRun',
        summary: 'Re-verify every enrolled household of a region',
        description:
          'Queues a bulk re-verification of every household of `region` (inside your jurisdiction) with a live enrollment (active or suspended) in `program`, or in any monthly program (dibao, tekun, price_subsidy) when omitted, on `asOf` (default today). Answers 202 with the run and `Location: /v1/jobs/{id}`. The job verifies the households set-based inside the database, in chunks (its progress counts households), with the same rules, figures and sentences as `POST /v1/matching/verifications`, once per program a household is enrolled in: each source is read at the snapshot current when the run starts, whatever is loaded meanwhile. Rules carry their source records when they fail. Besides name mismatches, `flags` holds `recipient_deceased` when a recipient is recorded dead while their enrollment is live (tekun: the enrolled person; dibao and price subsidy: the head, or the only member). When it is done the run holds its counts and `matching_run.completed` is published; read the households at `/v1/matching/runs/{id}/results` or export them.',
        tags,
        body: NewRunBody,
        response: { 202: RunSchema, ...problems(400) },
      },
    },
    async (request, reply) => {
      const run = await runs.create(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/jobs/${run.jobId}`);
      return reply.code(202).send(runOut(run));
    },
  );

  app.get(
    '/v1/matching/runs',
    {
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'listMatchingRuns',
        summary: 'List bulk re-verifications, newest first',
        description: 'Runs of regions inside your jurisdiction, with their counts and jobs.',
        tags,
        querystring: z.object({ ...pageQuery }),
        response: { 200: pageOf(RunSchema) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await runs.list(callerOf(request), { limit, after: afterOf(cursor) });
      return {
        items: page.items.map(runOut),
        nextCursor: page.next ? encodeCursor(`${page.next.createdAt}|${page.next.id}`) : null,
      };
    },
  );

  app.get(
    '/v1/matching/runs/:id',
    {
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'getMatchingRun',
        summary: 'Read a bulk re-verification: status, counts and job',
        tags,
        params,
        response: { 200: RunSchema, ...problems(404) },
      },
    },
    async (request) => runOut(await runs.get(callerOf(request), request.params.id)),
  );

  app.get(
    '/v1/matching/runs/:id/results',
    {
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'listMatchingRunResults',
        summary: 'The households a run verified, by outcome',
        description:
          'By household id (keyset pages). Each household with its verifications (the rules that failed with their sentences, figures and source records; its flags) and the enrollments it holds now. `outcome`: failing (no longer qualifies for a program it is enrolled in), deceased_paid, data_errors (name mismatches), all.',
        tags,
        params,
        querystring: z.object({ ...pageQuery, ...ResultsQuery }),
        response: { 200: pageOf(RunResultSchema), ...problems(404) },
      },
    },
    async (request) => {
      const { limit, cursor, outcome } = request.query;
      const run = await runs.get(callerOf(request), request.params.id);
      const after = decodeCursor(cursor, isUuid) ?? null;
      const items = await resultPage(app.database.db, run.id, outcome, after, limit + 1);
      await audit.recordRead(actorOf(request), {
        operation: 'listMatchingRunResults',
        resourceType: 'matching_run',
        resourceIds: [run.id],
      });
      const page = items.slice(0, limit);
      return { items: page, nextCursor: items.length > limit ? encodeCursor(page.at(-1)!.householdId) : null };
    },
  );

  app.get(
    '/v1/matching/runs/:id/export',
    {
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'exportMatchingRunResults',
        summary: 'Export a run’s results as NDJSON or CSV, streamed',
        description:
          'The households of `/results` with the same `outcome`, streamed as they are read (keyset pages of 500): `format=ndjson` one household a line, as `/results` gives them; `format=csv` one row a verification: householdId, region, program, verificationId, passed, failedRules (;-separated), reasons (the failed rules’ sentences, | -separated), deceasedPersonIds, nameMismatches, enrollmentIds (of that program).',
        tags,
        params,
        querystring: z.object({ ...ResultsQuery, format: z.enum(['ndjson', 'csv']).default('ndjson') }),
        response: {
          200: {
            description: 'The results, streamed',
            content: {
              'application/x-ndjson': { schema: z.string().describe('One household a line') },
              'text/csv': { schema: z.string().describe('A header row, then one verification a row') },
            },
          },
          ...problems(404),
        },
      },
    },
    async (request, reply) => {
      const { outcome, format } = request.query;
      const run = await runs.get(callerOf(request), request.params.id);
      await audit.recordRead(actorOf(request), {
        operation: 'exportMatchingRunResults',
        resourceType: 'matching_run',
        resourceIds: [run.id],
      });
      const db = app.database.db;
      const lines = async function* () {
        if (format === 'csv') yield `${csvColumns.join(',')}\r\n`;
        for await (const item of allResults(db, run.id, outcome))
          yield format === 'csv' ? csvRows(item) : `${JSON.stringify(item)}\n`;
      };
      reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="matching-run-${run.id}-${outcome}.${format}"`);
      // The schema documents the body as text; fastify pipes a stream as it is, unserialised.
      return reply.send(Readable.from(lines(), { objectMode: false }) as unknown as string);
    },
  );
};
