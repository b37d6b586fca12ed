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
import { EndPolicyBody, NewPolicyBody, PolicySchema, policyOut } from './policies.schemas.js';
import type { PolicyFilter, PolicyService } from './policies.service.js';
import { businessDate, regionCode } from './programs.schemas.js';

/** Policies are public rules: every module's callers read them. */
const readers = ['Admin', 'Civil affairs', 'Finance', 'Portal'];
const idParams = z.object({ id: z.uuid() });

function afterOf(cursor: string | undefined): PolicyFilter['after'] {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})\|([0-9a-f-]{36})$/.exec(key);
  if (!match)
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  return { effectiveFrom: match[1]!, id: match[2]! };
}

export const policyRoutes: FastifyPluginAsyncZod<{ policies: PolicyService; regions: RegionService }> = async (
  app,
  { policies, regions },
) => {
  app.get(
    '/v1/policies',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'listPolicies',
        summary: 'List emergency policies',
        description:
          'Policies are public rules: every client with `programs:read` sees all of them. `region` keeps the policies of regions containing it or inside it; `date` keeps those in force that day. Newest start first.',
        tags: readers,
        querystring: z.object({
          ...pageQuery,
          region: regionCode.optional().describe('Policies of regions containing this one or inside it'),
          date: businessDate.optional().describe('Only policies in force on this day'),
        }),
        response: { 200: pageOf(PolicySchema) },
      },
    },
    async (request) => {
      const { limit, cursor, region, date } = request.query;
      const page = await policies.list({ limit, region, date, after: afterOf(cursor) });
      const last = page.items.at(-1);
      return {
        items: page.items.map(policyOut),
        nextCursor: page.more && last ? encodeCursor(`${last.effectiveFrom}|${last.id}`) : null,
      };
    },
  );

  app.get(
    '/v1/policies/in-force',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'getPolicyInForce',
        summary: 'The emergency policy in force for a region on a day',
        description:
          'The one answer every module uses: of the policies in force that day whose region contains the given one, the most specific (a district’s beats the city’s; among equals, the latest to start). 404 when none is in force: normal rules apply.',
        tags: readers,
        querystring: z.object({
          region: regionCode.describe('Where, e.g. a district or a subdistrict'),
          date: businessDate.optional().describe('Which day; today (Asia/Shanghai) when omitted'),
        }),
        response: { 200: PolicySchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const { region, date } = request.query;
      await regions.assertKnown(region, { in: 'query', pointer: '/region' });
      const policy = await policies.inForce(region, date ?? policies.today());
      if (!policy) throw notFound('emergency policy in force there on that day (normal rules apply)');
      return reply.header('etag', etagOf(policy)).send(policyOut(policy));
    },
  );

  app.get(
    '/v1/policies/:id',
    {
      config: { scopes: ['programs:read'] },
      schema: {
        operationId: 'getPolicy',
        summary: 'Read one emergency policy',
        tags: readers,
        params: idParams,
        response: { 200: PolicySchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const policy = await policies.get(request.params.id);
      return reply.header('etag', etagOf(policy)).send(policyOut(policy));
    },
  );

  app.post(
    '/v1/policies',
    {
      config: { scopes: ['programs:manage'] },
      schema: {
        operationId: 'createPolicy',
        summary: 'Declare an emergency policy for a region',
        description:
          'For a region inside your jurisdiction, over a half-open period (`effectiveTo` is the first day no longer in force). Switches left out are off: normal rules. Policies may overlap; where they do, the most specific region’s applies. Policies are history: end one and declare the next rather than changing it. Publishes `policy.created`.',
        tags: ['Admin'],
        body: NewPolicyBody,
        response: { 201: PolicySchema },
      },
    },
    async (request, reply) => {
      const policy = await policies.create(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/policies/${policy.id}`);
      return reply.code(201).header('etag', etagOf(policy)).send(policyOut(policy));
    },
  );

  app.post(
    '/v1/policies/:id/end',
    {
      config: { scopes: ['programs:manage'] },
      schema: {
        operationId: 'endPolicy',
        summary: 'End an open-ended emergency policy',
        description:
          'Sets `effectiveTo`, the first day the policy no longer applies: today or later. A policy that already has an end answers 409 invalid-state (`currentState: ended`). Only for policies of regions inside your jurisdiction (403 otherwise). Send `If-Match` to act only on the version you read. Publishes `policy.ended`.',
        tags: ['Admin'],
        params: idParams,
        headers: z.object({ 'if-match': z.string().max(100).optional() }),
        body: EndPolicyBody,
        response: { 200: PolicySchema, ...problems(404, 412) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const ended = await policies.end(
        callerOf(request),
        actorOf(request),
        id,
        request.body.effectiveTo,
        ifMatchVersion(request.headers['if-match'], id, 'policy'),
      );
      return reply.header('etag', etagOf(ended)).send(policyOut(ended));
    },
  );
};
