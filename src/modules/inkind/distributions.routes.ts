import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import { distributionOut } from './distributions.service.js';
import { DistributionQuery, DistributionSchema, isUuid, NewDistributionBody } from './schemas.js';
import type { InKindService } from './service.js';

const tags = ['Civil affairs'];

export const inKindDistributionRoutes: FastifyPluginAsyncZod<{ inKind: InKindService }> = async (app, { inKind }) => {
  app.post(
    '/v1/in-kind/distributions',
    {
      config: { scopes: ['payments:prepare'] },
      schema: {
        operationId: 'distributeInKindAid',
        summary: 'Hand in-kind aid to a person from a region’s stock',
        description:
          'Takes every line out of the stock of `region` (inside your jurisdiction) or nothing at all. Under a temporary-assistance grant (`temporaryAssistanceId`, granted or completed, inside your jurisdiction; 409 `invalid-state` otherwise) the person is the grant’s, who may be registered anywhere; without one, `personId` names a person inside your jurisdiction (404 otherwise). ' +
          'The stock never goes negative, however many distributions run at once: a line asking for more than the region holds is refused with 409 `conflict`, `errors` naming each such `/lines/<i>/quantity` and `shortages` giving what is held. ' +
          'Send `Idempotency-Key` so that a retry hands nothing out twice. Publishes `in_kind_distribution.recorded`.',
        tags,
        body: NewDistributionBody,
        response: { 201: DistributionSchema, ...problems(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const view = await inKind.distribute(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/in-kind/distributions/${view.id}`);
      return reply.code(201).send(distributionOut(view));
    },
  );

  app.get(
    '/v1/in-kind/distributions/:id',
    {
      config: { scopes: ['payments:read', 'registry:read'] },
      schema: {
        operationId: 'getInKindDistribution',
        summary: 'Read one distribution',
        description: 'It names a person, so reading it needs `registry:read` too, and is audited.',
        tags,
        params: z.object({ id: z.uuid() }),
        response: { 200: DistributionSchema, ...problems(404) },
      },
    },
    async (request) =>
      distributionOut(await inKind.getDistribution(callerOf(request), actorOf(request), request.params.id)),
  );

  app.get(
    '/v1/in-kind/distributions',
    {
      config: { scopes: ['payments:read', 'registry:read'] },
      schema: {
        operationId: 'listInKindDistributions',
        summary: 'List distributions',
        description:
          'From the stock of regions inside your jurisdiction, newest handed out first; `from`/`to` are business days. Audited with the persons shown.',
        tags,
        querystring: DistributionQuery.extend(pageQuery),
        response: { 200: pageOf(DistributionSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await inKind.listDistributions(callerOf(request), actorOf(request), filter, {
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      return { items: page.items.map(distributionOut), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );
};
