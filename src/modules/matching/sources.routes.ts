import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { ProblemError, unprocessable, validationError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, isString, pageOf, pageQuery, problems } from '../../platform/http.js';
import { regionCode } from '../registry/programs.schemas.js';
import type { UploadFormat } from './load.parse.js';
import { recordSchemas } from './records.js';
import {
  NewSourceBody,
  RecordSchemaSchema,
  recordSchemaOut,
  SnapshotSchema,
  SourceSchema,
  snapshotOut,
  sourceKind,
  sourceOut,
  uploadKey,
} from './sources.schemas.js';
import { type SourceService, sourceReaderScopes } from './sources.service.js';

const readers = ['Data providers', 'Civil affairs', 'Admin'];
const readersNote =
  'Scopes: any of `matching:load` (a provider: its own sources), `matching:verify` or `programs:manage` (sources of regions overlapping your jurisdiction).';
const idParams = z.object({ id: z.uuid() });
/** Uploads are streamed, never buffered: the limit only bounds what one load may send. */
const UPLOAD_LIMIT_BYTES = 2 * 1024 ** 3;
const mediaTypes: Record<string, UploadFormat> = { 'application/x-ndjson': 'ndjson', 'text/csv': 'csv' };

const badCursor = () =>
  validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);

function snapshotAfter(cursor: string | undefined) {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const [startedAt, id] = key.split('|');
  if (!startedAt || !id || Number.isNaN(Date.parse(startedAt)) || !z.uuid().safeParse(id).success) throw badCursor();
  return { startedAt, id };
}

function sourceAfter(cursor: string | undefined) {
  const key = decodeCursor(cursor, isString);
  if (key !== undefined && !z.uuid().safeParse(key).success) throw badCursor();
  return key;
}

export const sourceRoutes: FastifyPluginAsyncZod<{ sources: SourceService }> = async (app, { sources }) => {
  // The upload's body reaches the handler as the request stream itself (this plugin's routes only).
  app.addContentTypeParser(Object.keys(mediaTypes), (_request, payload, done) => done(null, payload));

  app.get(
    '/v1/matching/source-kinds',
    {
      schema: {
        operationId: 'listMatchingSourceKinds',
        summary: 'The record schema of each kind of matching source',
        description:
          'For each kind: the fields of one record (NDJSON keys or CSV header names), their types, which are required, and what `amountFen` means for that kind. Every record has `idNumber` and `name`; `ref` is optional.',
        tags: readers,
        response: { 200: z.object({ items: z.array(RecordSchemaSchema) }) },
      },
    },
    async () => ({ items: recordSchemas().map(recordSchemaOut) }),
  );

  app.post(
    '/v1/matching/sources',
    {
      config: { scopes: ['programs:manage'] },
      schema: {
        operationId: 'createMatchingSource',
        summary: 'Register a data provider’s source',
        description:
          'A source of one kind for one region, loaded by one data_provider client (at most one per provider, kind and region: 409 otherwise). The region and the provider must be in your jurisdiction.',
        tags: ['Admin'],
        body: NewSourceBody,
        response: { 201: SourceSchema, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const source = await sources.create(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/matching/sources/${source.id}`);
      return reply.code(201).send(sourceOut({ source, current: null }));
    },
  );

  app.get(
    '/v1/matching/sources',
    {
      config: { anyOfScopes: sourceReaderScopes },
      schema: {
        operationId: 'listMatchingSources',
        summary: 'List matching sources',
        description: `Ordered by id. ${readersNote}`,
        tags: readers,
        querystring: z.object({
          ...pageQuery,
          kind: sourceKind.optional(),
          region: regionCode.optional().describe('Sources of regions containing this one or inside it'),
        }),
        response: { 200: pageOf(SourceSchema), ...problems(403) },
      },
    },
    async (request) => {
      const { limit, cursor, kind, region } = request.query;
      const page = await sources.list(callerOf(request), { limit, kind, region, after: sourceAfter(cursor) });
      const last = page.items.at(-1);
      return { items: page.items.map(sourceOut), nextCursor: page.more && last ? encodeCursor(last.source.id) : null };
    },
  );

  app.get(
    '/v1/matching/sources/:id',
    {
      config: { anyOfScopes: sourceReaderScopes },
      schema: {
        operationId: 'getMatchingSource',
        summary: 'Read a matching source, its current snapshot and its record schema',
        description: readersNote,
        tags: readers,
        params: idParams,
        response: { 200: SourceSchema, ...problems(403, 404) },
      },
    },
    async (request) => sourceOut(await sources.get(callerOf(request), request.params.id)),
  );

  app.get(
    '/v1/matching/sources/:id/snapshots',
    {
      config: { anyOfScopes: sourceReaderScopes },
      schema: {
        operationId: 'listMatchingSnapshots',
        summary: 'The loads of a source, newest first',
        description: readersNote,
        tags: readers,
        params: idParams,
        querystring: z.object(pageQuery),
        response: { 200: pageOf(SnapshotSchema), ...problems(403, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await sources.snapshots(callerOf(request), request.params.id, {
        limit,
        after: snapshotAfter(cursor),
      });
      const last = page.items.at(-1);
      return {
        items: page.items.map(snapshotOut),
        nextCursor: page.more && last ? encodeCursor(`${last.startedAt.toISOString()}|${last.id}`) : null,
      };
    },
  );

  app.get(
    '/v1/matching/sources/:id/snapshots/:snapshotId',
    {
      config: { anyOfScopes: sourceReaderScopes },
      schema: {
        operationId: 'getMatchingSnapshot',
        summary: 'Read one load of a source: status, counts, report of bad lines',
        description: `While a load runs on PostgreSQL, \`lines\` shows its progress. ${readersNote}`,
        tags: readers,
        params: z.object({ id: z.uuid(), snapshotId: z.uuid() }),
        response: { 200: SnapshotSchema, ...problems(403, 404) },
      },
    },
    async (request) => {
      const { id, snapshotId } = request.params;
      return snapshotOut((await sources.snapshot(callerOf(request), id, snapshotId)).snapshot);
    },
  );

  app.put(
    '/v1/matching/sources/:id/snapshots/:uploadKey',
    {
      bodyLimit: UPLOAD_LIMIT_BYTES,
      config: { scopes: ['matching:load'], streamedUpload: true },
      schema: {
        operationId: 'loadMatchingSnapshot',
        summary: 'Load a new snapshot of your source (NDJSON or CSV, streamed)',
        description: [
          'Body `application/x-ndjson` (one JSON object a line) or `text/csv` (a header row naming the fields, then one record a row), with the fields of the source kind’s record schema (`GET /v1/matching/source-kinds`). The body is read as it streams and validated line by line; records go in under a new snapshot that nobody reads until it is complete.',
          'All lines good: the snapshot becomes the source’s current one in one step (the previous one is superseded) and the answer is 201. Any line bad: the whole load is refused, 422 with the snapshot and its report (line, field, reason of each bad line, the first 1,000; `badLines` counts them all); the previous snapshot stays in force.',
          'Idempotent by upload key: loading again with a key already answered gives the same snapshot and the same answer, without reading the body. A load that broke off can be retried with its key. One load of a source at a time (409).',
          'Only the source’s own provider may load it (404 for anyone else). Publishes `matching_snapshot.completed` or `matching_snapshot.rejected`.',
        ].join('\n\n'),
        tags: ['Data providers'],
        params: z.object({ id: z.uuid(), uploadKey }),
        // Documentation only: the body reaches the handler as a stream, read there line by line.
        consumes: Object.keys(mediaTypes),
        body: z
          .any()
          .describe('The records: NDJSON, one JSON object a line, or CSV with a header row naming the fields'),
        response: { 201: SnapshotSchema, ...problems(400, 404, 409, 415, 422) },
      },
    },
    async (request, reply) => {
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const format = mediaTypes[mediaType];
      if (!format) {
        throw new ProblemError(415, 'unsupported-media-type', 'Send the records as application/x-ndjson or text/csv.');
      }
      const { id, uploadKey: key } = request.params;
      const result = await sources.load(callerOf(request), actorOf(request), id, {
        uploadKey: key,
        format,
        body: request.body as Readable,
      });
      const snapshot = snapshotOut(result.snapshot);
      reply.header('location', `/v1/matching/sources/${id}/snapshots/${snapshot.id}`);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      if (snapshot.status === 'rejected') {
        throw unprocessable(
          `The load was refused: ${snapshot.badLines} bad line${snapshot.badLines === 1 ? '' : 's'}; the previous snapshot stays in force.`,
          { snapshot },
        );
      }
      return reply.code(201).send(snapshot);
    },
  );
};
