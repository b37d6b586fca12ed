import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import { isUuid } from '../registry/welfare-contacts.routes.js';
import { handoffActionRoutes } from './actions.routes.js';
import { FHIR_CONTENT_TYPE } from './fhir.js';
import {
  FollowUpQuery,
  FollowUpSchema,
  HandoffDetailSchema,
  HandoffQuery,
  HandoffSchema,
  NewHandoffBody,
} from './schemas.js';
import type { ContactService } from './service.js';

const idParams = z.object({ id: z.uuid() });
const readTags = ['Civil affairs', 'CDC'];
export const views =
  'The CDC sees handoffs of regions inside its jurisdiction once they are sent, and of each person only what tracing needs: name, sex, age, phone (whole: it calls), address, residence region and a masked ID number; nothing about payments, income, bank accounts or enrollments (`recipient` is null). Civil affairs sees drafts too, whether each contact is an assistance recipient, and ID numbers whole with registry:read_sensitive. Every read is audited with the persons it shows.';

/** Close-contact handoffs: open, read, list, FHIR, follow-up; the lifecycle's actions in actions.routes.ts. */
export const contactHandoffRoutes: FastifyPluginAsyncZod<{ contacts: ContactService }> = async (app, { contacts }) => {
  app.post(
    '/v1/contact-handoffs',
    {
      config: { scopes: ['contacts:create'] },
      schema: {
        operationId: 'createContactHandoff',
        summary: 'Open a close-contact handoff for a case confirmed another way',
        description:
          'Measure 5. A referral whose outcome is `confirmed` opens its handoff by itself; this is for a confirmation learnt another way (the CDC’s notice, a hospital). The case is a registry person living inside your jurisdiction (404 otherwise); onset not in the future and within the last 60 days. ' +
          'The handoff opens as a `draft` with its contact list assembled at once from what the service knows: household members (`household`), the active responsible caregiver (`care`), and everyone who made an in-person visit (care’s visits) or an in-person welfare contact with the case or the household (`visit`) from onset minus the emergency policy’s `contactLookBackDays` (else 14) until today; phone and video contacts are not exposures. Each with the last contact date, phone and address, and whether they receive assistance. ' +
          'One handoff under way per case: a second is a 409 naming `openHandoffId`. Send `Idempotency-Key` so that a retry opens one. Publishes `contact_handoff.drafted` (civil affairs only).',
        tags: ['Civil affairs'],
        body: NewHandoffBody,
        response: { 201: HandoffDetailSchema, ...problems(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await contacts.create(callerOf(request), actorOf(request), request.body);
      return reply.code(201).header('location', `/v1/contact-handoffs/${body.id}`).header('etag', etag).send(body);
    },
  );

  app.get(
    '/v1/contact-handoffs',
    {
      config: { scopes: ['contacts:read'] },
      schema: {
        operationId: 'listContactHandoffs',
        summary: 'List close-contact handoffs',
        description: `Handoffs of regions inside your jurisdiction, newest first, with their contacts counted by status. ${views}`,
        tags: readTags,
        querystring: HandoffQuery.extend(pageQuery),
        response: { 200: pageOf(HandoffSchema), ...problems(400) },
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
      return { items: page.items, nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/v1/contact-handoffs/follow-up',
    {
      config: { scopes: ['contacts:create'] },
      schema: {
        operationId: 'listContactFollowUp',
        summary: 'Quarantined contacts who need support',
        description:
          'Measure 5 with measure 1: registry persons living inside your jurisdiction who are in quarantine now and are assistance recipients (an active enrollment of theirs or of their household), or whose household loses its earner (they are of working age, 16 to 59, and every other working-age member of the household is in quarantine or a case). One row per person, with any temporary assistance opened since the quarantine began and how to open emergency aid (`openTemporaryAssistance`: POST /v1/temporary-assistance). Civil affairs only. Audited.',
        tags: ['Civil affairs'],
        querystring: FollowUpQuery.extend(pageQuery),
        response: { 200: pageOf(FollowUpSchema), ...problems(400) },
      },
    },
    async (request) => {
      const { limit, cursor, region } = request.query;
      const page = await contacts.followUp(callerOf(request), actorOf(request), {
        region,
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      return { items: page.items, nextCursor: page.more && last ? encodeCursor(last.contactId) : null };
    },
  );

  app.get(
    '/v1/contact-handoffs/:id',
    {
      config: { scopes: ['contacts:read'] },
      schema: {
        operationId: 'getContactHandoff',
        summary: 'Read one handoff with its contacts, steps and comments',
        description: `Every contact (removed ones too, with the reason) with its tracing status and \`otherHandoffs\`: the same person (by the blind index of the ID document, else of the phone) as a contact of other handoffs you may see. ${views}`,
        tags: readTags,
        params: idParams,
        response: { 200: HandoffDetailSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await contacts.get(callerOf(request), actorOf(request), request.params.id);
      return reply.header('etag', etag).send(body);
    },
  );

  app.get(
    '/v1/contact-handoffs/:id/fhir',
    {
      config: { scopes: ['contacts:read'] },
      schema: {
        operationId: 'getContactHandoffFhir',
        summary: 'Read one handoff as an HL7 FHIR R4 Bundle',
        description:
          'A Bundle of type `collection` (`application/fhir+json`, FHIR 4.0.1): the case as a Patient (name, gender, birth date, phone, address; no identifier); for each contact on the list (removed ones left out) a RelatedPerson of the case (relationship: household, family, care or visit; period: the contact period) and a Patient of their own linked to it (`seealso`), and an exposure Observation (subject the contact, focus the case, `effectivePeriod` the first to the last contact, value the relation; components: the tracing status, the quarantine kind and period). `meta.tag` carries the handoff’s status. Audited like any read.',
        tags: readTags,
        params: idParams,
        response: {
          200: {
            description: 'The FHIR R4 Bundle',
            content: { 'application/fhir+json': { schema: z.object({ resourceType: z.literal('Bundle') }).loose() } },
          },
          ...problems(404),
        },
      },
    },
    async (request, reply) => {
      const { bundle, etag } = await contacts.fhir(callerOf(request), actorOf(request), request.params.id);
      // Sent as text: the FHIR document is not this API's JSON and goes out exactly as built.
      return reply
        .header('content-type', FHIR_CONTENT_TYPE)
        .header('etag', etag)
        .send(JSON.stringify(bundle) as never);
    },
  );

  await app.register(handoffActionRoutes, { contacts });
};
