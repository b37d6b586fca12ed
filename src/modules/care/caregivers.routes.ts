import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { encodeCursor, etagOf, pageOf, pageQuery, problems } from '../../platform/http.js';
import {
  CaregiverPatchBody,
  CaregiverQuery,
  CaregiverSchema,
  DeactivateBody,
  NewCaregiverBody,
} from './caregivers.schemas.js';
import { caregiverView } from './caregivers.view.js';
import { idCursor, revealsTo } from './common.js';
import type { CareService } from './service.js';

const tags = ['Civil affairs'];
const params = z.object({ id: z.uuid() });
const ifMatch = z.object({ 'if-match': z.string().max(100).optional() });
const phoneNote =
  'The phone is sealed at rest, found by a blind index and answered masked (`138****5678`) unless the caller holds `registry:read_sensitive`.';

export const caregiverRoutes: FastifyPluginAsyncZod<{ care: CareService }> = async (app, { care }) => {
  const { pii } = care;

  app.post(
    '/v1/caregivers',
    {
      config: { scopes: ['care:write'] },
      schema: {
        operationId: 'createCaregiver',
        summary: 'Register a caregiver (照料服务人)',
        description: `Someone who looks after key persons by phone, WeChat or in person: a caseworker, community cadre, volunteer, relative or neighbour, working in \`region\` (inside your jurisdiction; 400 naming \`/region\` otherwise). \`personId\` links a caregiver who is a registered person (404 outside your jurisdiction). ${phoneNote}`,
        tags,
        body: NewCaregiverBody,
        response: { 201: CaregiverSchema, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const row = await care.createCaregiver(caller, actorOf(request), request.body);
      reply.header('location', `/v1/caregivers/${row.id}`).header('etag', etagOf(row));
      return reply.code(201).send(caregiverView(pii, row, revealsTo(caller)));
    },
  );

  app.get(
    '/v1/caregivers/:id',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'getCaregiver',
        summary: 'Read one caregiver',
        description: `With how many key persons they are responsible for now. ${phoneNote} Audited.`,
        tags,
        params,
        response: { 200: CaregiverSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const row = await care.getCaregiver(caller, actorOf(request), request.params.id);
      return reply.header('etag', etagOf(row)).send(caregiverView(pii, row, revealsTo(caller)));
    },
  );

  app.get(
    '/v1/caregivers',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'listCaregivers',
        summary: 'List caregivers',
        description: 'Inside your jurisdiction, by region then id. Audited.',
        tags,
        querystring: CaregiverQuery.extend(pageQuery),
        response: { 200: pageOf(CaregiverSchema) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor, region, active } = request.query;
      const page = await care.listCaregivers(
        caller,
        actorOf(request),
        { region, active: active === undefined ? undefined : active === 'true' },
        { limit, after: idCursor(cursor) },
      );
      const last = page.items.at(-1);
      return {
        items: page.items.map((r) => caregiverView(pii, r, revealsTo(caller))),
        nextCursor: page.more && last ? encodeCursor(last.id) : null,
      };
    },
  );

  app.patch(
    '/v1/caregivers/:id',
    {
      config: { scopes: ['care:write'] },
      schema: {
        operationId: 'updateCaregiver',
        summary: 'Change a caregiver’s name, kind, organisation or phone',
        description:
          'Only the fields given change. Send `If-Match` with the ETag you read (412 when it changed meanwhile). To stop someone taking assignments, deactivate them.',
        tags,
        params,
        headers: ifMatch,
        body: CaregiverPatchBody,
        response: { 200: CaregiverSchema, ...problems(400, 404, 412) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const row = await care.updateCaregiver(
        caller,
        actorOf(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
      );
      return reply.header('etag', etagOf(row)).send(caregiverView(pii, row, revealsTo(caller)));
    },
  );

  for (const active of [false, true]) {
    app.post(
      `/v1/caregivers/:id/${active ? 'reactivate' : 'deactivate'}`,
      {
        config: { scopes: ['care:write'] },
        schema: {
          operationId: active ? 'reactivateCaregiver' : 'deactivateCaregiver',
          summary: active ? 'Let an inactive caregiver take assignments again' : 'Deactivate a caregiver',
          description: active
            ? '409 `invalid-state` when they are active already. `If-Match` makes it conditional.'
            : 'An inactive caregiver takes no new assignments. A caregiver still responsible for key persons cannot be deactivated: 409 `conflict` with `activeAssignments`, the number to reassign (`POST /v1/care-assignments` with a `reason`) or end first, so that nobody loses their caregiver by accident. 409 `invalid-state` when inactive already. `If-Match` makes it conditional.',
          tags,
          params,
          headers: ifMatch,
          body: DeactivateBody,
          response: { 200: CaregiverSchema, ...problems(404, 409, 412) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const row = await care.setCaregiverActive(
          caller,
          actorOf(request),
          request.params.id,
          active,
          request.body.reason,
          request.headers['if-match'],
        );
        return reply.header('etag', etagOf(row)).send(caregiverView(pii, row, revealsTo(caller)));
      },
    );
  }
};
