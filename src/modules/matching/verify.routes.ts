import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, isString, pageOf, pageQuery, problems } from '../../platform/http.js';
import { NewVerificationBody, VerificationSchema, verificationOut } from './verify.schemas.js';
import type { VerificationFilter, VerificationService } from './verify.service.js';

const tags = ['Civil affairs'];

function afterOf(cursor: string | undefined): VerificationFilter['after'] {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(.+)\|([0-9a-f-]{36})$/.exec(key);
  if (!match || Number.isNaN(Date.parse(match[1]!))) {
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  }
  return { createdAt: match[1]!, id: match[2]! };
}

export const verificationRoutes: FastifyPluginAsyncZod<{ verifications: VerificationService }> = async (
  app,
  { verifications },
) => {
  app.post(
    '/v1/matching/verifications',
    {
      // The answer is `verificationOut` of what the service just evaluated and stored, typed against
      // the schema: it is written out as is, without validating it again (with every rule's source
      // records, validating it cost a quarter of the service's time a verification).
      // verify.test.ts checks that answers match the schema.
      serializerCompiler: () => (data) => JSON.stringify(data),
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'verifyHousehold',
        summary: 'Verify a household’s economic situation against the matching sources',
        description:
          'Joins the household’s members (by ID number, through its blind index) with the records of every source’s current snapshot, in one statement: a snapshot replaced meanwhile is read whole or not at all, and the result names the snapshot of each source it read. Evaluates the program’s rules for the household’s region on `date` (default today) with the standard in force (price_subsidy: the dibao rules and standard): per-capita income (wages and pensions; not the housing fund) below the standard, financial assets within `assetMultiple` × standard × members, residential properties, vehicle value and registered businesses within the standard’s limits, and members alive (a member recorded dead no longer counts in the household’s size: flagged, not a refusal). Each rule gives its outcome, figures, a sentence and the source records behind it. A record whose name does not match the member’s (after normalising width, spaces, middle dots, case and traditional characters) is not counted: it is listed under `flags` for a phone check. With `applicationId` (an application of this household and program, status verifying), the result also answers the application (verifying → verified, source matching) in the same request, so its flow continues. 404 for a household outside your jurisdiction; 422 when no standard is in force. Publishes `matching_verification.completed`.',
        tags,
        body: NewVerificationBody,
        response: { 201: VerificationSchema, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const verification = await verifications.verify(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/matching/verifications/${verification.id}`);
      return reply.code(201).send(verificationOut(verification));
    },
  );

  app.get(
    '/v1/matching/verifications',
    {
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'listVerifications',
        summary: 'List verifications, newest first',
        description: 'Verifications of households inside your jurisdiction; `householdId` keeps one household’s.',
        tags,
        querystring: z.object({
          ...pageQuery,
          householdId: z.uuid().optional().describe('Only this household’s verifications'),
        }),
        response: { 200: pageOf(VerificationSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, householdId } = request.query;
      const page = await verifications.list(callerOf(request), { limit, householdId, after: afterOf(cursor) });
      return {
        items: page.items.map(verificationOut),
        nextCursor: page.next ? encodeCursor(`${page.next.createdAt}|${page.next.id}`) : null,
      };
    },
  );

  app.get(
    '/v1/matching/verifications/:id',
    {
      config: { scopes: ['matching:verify'] },
      schema: {
        operationId: 'getVerification',
        summary: 'Read one verification with every rule, figure and source record',
        tags,
        params: z.object({ id: z.uuid() }),
        response: { 200: VerificationSchema, ...problems(404) },
      },
    },
    async (request) => verificationOut(await verifications.get(callerOf(request), actorOf(request), request.params.id)),
  );
};
