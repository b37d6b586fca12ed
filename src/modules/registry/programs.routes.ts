import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { notFound, validationError } from '../../platform/errors.js';
import {
  decodeCursor,
  encodeCursor,
  etagOf,
  ifMatchVersion,
  isString,
  pageOf,
  pageQuery,
  problems,
} from '../../platform/http.js';
import type { RegionService } from '../../platform/regions/service.js';
import {
  businessDate,
  EndProgramStandardBody,
  NewProgramStandardBody,
  programCode,
  programOut,
  ProgramSchema,
  ProgramStandardSchema,
  regionCode,
  standardOut,
} from './programs.schemas.js';
import type { ProgramService, StandardFilter } from './programs.service.js';

/** Who reads the programs' rules: admins, caseworkers, finance (paying them), portals (telling residents). */
const readers = ['Admin', 'Civil affairs', 'Finance', 'Portal'];

const codeParams = z.object({ code: programCode });
const standardParams = z.object({ code: programCode, id: z.uuid() });

const cursorOf = (s: { region: string; effectiveFrom: string; id: string }) =>
  encodeCursor(`${s.region}|${s.effectiveFrom}|${s.id}`);

function afterOf(cursor: string | undefined): StandardFilter['after'] {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(\d{2,12})\|(\d{4}-\d{2}-\d{2})\|([0-9a-f-]{36})$/.exec(key);
  if (!match)
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  return { region: match[1]!, effectiveFrom: match[2]!, id: match[3]! };
}

export const programRoutes: FastifyPluginAsyncZod<{ programs: ProgramService; regions: RegionService }> = async (
  app,
  { programs, regions },
) => {
  app.get(
    '/v1/programs',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'listPrograms',
        summary: 'List the assistance programs',
        description: 'The four programs are fixed by policy; their amounts are in their standards.',
        tags: readers,
        response: { 200: z.object({ items: z.array(ProgramSchema), nextCursor: z.null() }) },
      },
    },
    async () => ({ items: (await programs.listPrograms()).map(programOut), nextCursor: null }),
  );

  app.get(
    '/v1/programs/:code',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'getProgram',
        summary: 'Read one assistance program',
        tags: readers,
        params: codeParams,
        response: { 200: ProgramSchema },
      },
    },
    async (request) => programOut(await programs.getProgram(request.params.code)),
  );

  app.get(
    '/v1/programs/:code/standards',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'listProgramStandards',
        summary: 'List a program’s standards',
        description:
          'Standards are public rules: every client with `programs:read` sees all of them, whatever its jurisdiction (a district office needs the city’s standard). `region` keeps the standards that apply in or under that region: those of regions containing it (the city’s, for a district) and those of regions inside it. `date` keeps those in force that day. Ordered by region, then start date.',
        tags: readers,
        params: codeParams,
        querystring: z.object({
          ...pageQuery,
          region: regionCode.optional().describe('Standards of regions containing this one or inside it'),
          date: businessDate.optional().describe('Only standards in force on this day'),
        }),
        response: { 200: pageOf(ProgramStandardSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, region, date } = request.query;
      const page = await programs.listStandards(request.params.code, { limit, region, date, after: afterOf(cursor) });
      const last = page.items.at(-1);
      return { items: page.items.map(standardOut), nextCursor: page.more && last ? cursorOf(last) : null };
    },
  );

  app.get(
    '/v1/programs/:code/standards/in-force',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'getProgramStandardInForce',
        summary: 'The standard that applies in a region on a day',
        description:
          'Of the standards in force that day whose region contains the given one, the most specific: a district’s standard beats the city’s. 404 when none applies.',
        tags: readers,
        params: codeParams,
        querystring: z.object({
          region: regionCode.describe('Where, e.g. a district or a subdistrict'),
          date: businessDate.optional().describe('Which day; today (Asia/Shanghai) when omitted'),
        }),
        response: { 200: ProgramStandardSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const { region, date } = request.query;
      await regions.assertKnown(region, { in: 'query', pointer: '/region' });
      const standard = await programs.standardInForce(request.params.code, region, date ?? programs.today());
      if (!standard) throw notFound(`standard of ${request.params.code} in force there on that day`);
      return reply.header('etag', etagOf(standard)).send(standardOut(standard));
    },
  );

  app.get(
    '/v1/programs/:code/standards/:id',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'getProgramStandard',
        summary: 'Read one program standard',
        tags: readers,
        params: standardParams,
        response: { 200: ProgramStandardSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const standard = await programs.getStandard(request.params.code, request.params.id);
      return reply.header('etag', etagOf(standard)).send(standardOut(standard));
    },
  );

  app.post(
    '/v1/programs/:code/standards',
    {
      config: { scopes: ['programs:manage'] },
      schema: {
        operationId: 'createProgramStandard',
        summary: 'Create a program standard for a region',
        description:
          'For a region inside your jurisdiction. Standards are history: amounts are never changed; end a standard and create the next one. Two standards of one program and region are never in force on the same day (409 naming the one in the way). The period is half-open: `effectiveTo` is the first day no longer in force. Publishes `program_standard.created`.',
        tags: ['Admin'],
        params: codeParams,
        body: NewProgramStandardBody,
        response: { 201: ProgramStandardSchema },
      },
    },
    async (request, reply) => {
      const standard = await programs.createStandard(
        callerOf(request),
        actorOf(request),
        request.params.code,
        request.body,
      );
      reply.header('location', `/v1/programs/${standard.program}/standards/${standard.id}`);
      return reply.code(201).header('etag', etagOf(standard)).send(standardOut(standard));
    },
  );

  app.post(
    '/v1/programs/:code/standards/:id/end',
    {
      config: { scopes: ['programs:manage'] },
      schema: {
        operationId: 'endProgramStandard',
        summary: 'End an open-ended program standard',
        description:
          'Sets `effectiveTo`, the first day the standard is no longer in force: today or later (the past stays as it was). A standard that already has an end answers 409 invalid-state (`currentState: ended`). Only for standards of regions inside your jurisdiction (403 otherwise). Send `If-Match` to act only on the version you read. Publishes `program_standard.ended`.',
        tags: ['Admin'],
        params: standardParams,
        headers: z.object({ 'if-match': z.string().max(100).optional() }),
        body: EndProgramStandardBody,
        response: { 200: ProgramStandardSchema, ...problems(404, 412) },
      },
    },
    async (request, reply) => {
      const { code, id } = request.params;
      const ended = await programs.endStandard(
        callerOf(request),
        actorOf(request),
        code,
        id,
        request.body.effectiveTo,
        ifMatchVersion(request.headers['if-match'], id, 'standard'),
      );
      return reply.header('etag', etagOf(ended)).send(standardOut(ended));
    },
  );
};
