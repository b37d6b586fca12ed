import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import { NewWelfareContactBody, WelfareContactQuery, WelfareContactSchema } from './assistance.schemas.js';
import { welfareContactOut, type WelfareContactService } from './welfare-contacts.service.js';

export const isUuid = (v: unknown): v is string =>
  typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v);

export const welfareContactRoutes: FastifyPluginAsyncZod<{ contacts: WelfareContactService }> = async (
  app,
  { contacts },
) => {
  app.post(
    '/v1/welfare-contacts',
    {
      config: { scopes: ['assistance:write'] },
      schema: {
        operationId: 'recordWelfareContact',
        summary: 'Record a contact with a household or person',
        description:
          'Measure 1: a caseworker reaches a dibao household or a patient’s family by phone, WeChat, video or in person. ' +
          'The contact’s region is the household’s residence region (the person’s when only the person is given) and must lie in your jurisdiction (404 otherwise). ' +
          'Outcome `hardship` opens temporary assistance (status `opened`) at once, for the person given or else the household’s head, with the needs copied: `temporaryAssistanceId` names it; grant it with `POST /v1/temporary-assistance/{id}/grant`. ' +
          'Outcome `symptoms` publishes `welfare_contact.symptoms_reported` for a referral to health. Every contact publishes `welfare_contact.recorded`.',
        tags: ['Civil affairs'],
        body: NewWelfareContactBody,
        response: { 201: WelfareContactSchema, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const contact = await contacts.record(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/welfare-contacts/${contact.id}`);
      return reply.code(201).send(welfareContactOut(contact));
    },
  );

  app.get(
    '/v1/welfare-contacts/:id',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'getWelfareContact',
        summary: 'Read one welfare contact',
        tags: ['Civil affairs'],
        params: z.object({ id: z.uuid() }),
        response: { 200: WelfareContactSchema, ...problems(404) },
      },
    },
    async (request) => welfareContactOut(await contacts.get(callerOf(request), actorOf(request), request.params.id)),
  );

  app.get(
    '/v1/welfare-contacts',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'listWelfareContacts',
        summary: 'List welfare contacts',
        description: 'Inside your jurisdiction, newest contact first. `from` is inclusive, `to` exclusive.',
        tags: ['Civil affairs'],
        querystring: WelfareContactQuery.extend(pageQuery),
        response: { 200: pageOf(WelfareContactSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await contacts.list(callerOf(request), actorOf(request), {
        ...filter,
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      return { items: page.items.map(welfareContactOut), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );
};
