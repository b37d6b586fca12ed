import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import { isUuid } from '../registry/welfare-contacts.routes.js';
import { referralActionRoutes } from './actions.routes.js';
import { FHIR_CONTENT_TYPE } from './fhir.js';
import { NewReferralBody, ReferralDetailSchema, ReferralQuery, ReferralSchema } from './schemas.js';
import type { ReferralService } from './service.js';

const idParams = z.object({ id: z.uuid() });
const readTags = ['Civil affairs', 'Health', 'CDC'];
const views =
  'Health and disease-control clients see of the person only name, sex, birth date and age, phone (whole: they call), address, residence region and a masked ID number; nothing about payments, income, bank accounts or enrollments. Civil affairs sees the same, with the ID number whole when it holds registry:read_sensitive. Every read is audited with the person it shows.';

/** Suspected-case referrals: report, read, list, FHIR; the lifecycle's actions in actions.routes.ts. */
export const referralRoutes: FastifyPluginAsyncZod<{ referrals: ReferralService }> = async (app, { referrals }) => {
  app.post(
    '/v1/referrals',
    {
      config: { scopes: ['referrals:create'] },
      schema: {
        operationId: 'reportReferral',
        summary: 'Report a suspected case to health',
        description:
          'Measure 5: a person with suspected symptoms, living inside your jurisdiction (404 otherwise), found by a visit, a welfare contact or directly. From a visit the symptoms default to the visit’s; from a welfare contact the text defaults to its notes; the visit’s or contact’s person must be this person (400 otherwise). ' +
          'Routed by the person’s residence region to the health and disease-control clients covering it. `ackDueAt` is now plus the emergency policy’s `referralAckHours` for the region, else 24 hours. ' +
          'One referral under way per person: a second is a 409 naming `openReferralId`. Send `Idempotency-Key` so that a retry reports once. Publishes `referral.reported`.',
        tags: ['Civil affairs'],
        body: NewReferralBody,
        response: { 201: ReferralDetailSchema, ...problems(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await referrals.report(callerOf(request), actorOf(request), request.body);
      return reply.code(201).header('location', `/v1/referrals/${body.id}`).header('etag', etag).send(body);
    },
  );

  app.get(
    '/v1/referrals',
    {
      config: { scopes: ['referrals:read'] },
      schema: {
        operationId: 'listReferrals',
        summary: 'List referrals',
        description: `Referrals of regions inside your jurisdiction, newest first. \`overdue=true\`: still \`reported\` after \`ackDueAt\`, the longest overdue first. ${views}`,
        tags: readTags,
        querystring: ReferralQuery.extend(pageQuery),
        response: { 200: pageOf(ReferralSchema), ...problems(400) },
      },
    },
    async (request) => {
      const { limit, cursor, overdue, ...filter } = request.query;
      const page = await referrals.list(callerOf(request), actorOf(request), {
        ...filter,
        overdue: overdue === undefined ? undefined : overdue === 'true',
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      return { items: page.items, nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/v1/referrals/:id',
    {
      config: { scopes: ['referrals:read'] },
      schema: {
        operationId: 'getReferral',
        summary: 'Read one referral with its steps',
        description: `With every step so far (who, when, from which status to which, the note). ${views}`,
        tags: readTags,
        params: idParams,
        response: { 200: ReferralDetailSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await referrals.get(callerOf(request), actorOf(request), request.params.id);
      return reply.header('etag', etag).send(body);
    },
  );

  app.get(
    '/v1/referrals/:id/fhir',
    {
      config: { scopes: ['referrals:read'] },
      schema: {
        operationId: 'getReferralFhir',
        summary: 'Read one referral as an HL7 FHIR R4 Bundle',
        description:
          'A Bundle of type `collection` (`application/fhir+json`, FHIR 4.0.1): the Patient (name, gender, birth date, phone, address; no identifier), the ServiceRequest (status active, completed or revoked; intent order; SNOMED CT 3457005 Patient referral; reasonCode from the symptoms), the Task tracking it (reported → requested, acknowledged → accepted, transferred → in-progress, confirmed/excluded → completed, rejected, cancelled; `businessStatus` the referral’s status; `output` the hospital and the outcome) and one Observation per coded symptom (SNOMED CT, status final, effective at onset). Audited like any read.',
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
      const { bundle, etag } = await referrals.fhir(callerOf(request), actorOf(request), request.params.id);
      // Sent as text: the FHIR document is not this API's JSON and goes out exactly as built.
      return reply
        .header('content-type', FHIR_CONTENT_TYPE)
        .header('etag', etag)
        .send(JSON.stringify(bundle) as never);
    },
  );

  await app.register(referralActionRoutes, { referrals });
};
