import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, isString, pageOf, pageQuery, problems } from '../../platform/http.js';
import { idCursor } from './common.js';
import { CoveragePersonSchema, CoverageQuery, CoverageSchema } from './coverage.schemas.js';
import { overdueKey } from './coverage.service.js';
import { NORMAL_VISIT_INTERVAL_DAYS } from './interval.js';
import type { CareService } from './service.js';

const tags = ['Civil affairs'];
const interval = `The interval is the \`visitIntervalDays\` of the emergency policy in force for each person’s region on the day (a district’s beats the city’s), or ${NORMAL_VISIT_INTERVAL_DAYS} days where it sets none.`;
const scope =
  '`region` defaults to your jurisdiction and is narrowed to it; a region wholly outside it is a 404. `date` defaults to today (Asia/Shanghai); for a past day the last visits are those made by its end.';

export const coverageRoutes: FastifyPluginAsyncZod<{ care: CareService }> = async (app, { care }) => {
  app.get(
    '/v1/coverage',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'getCareCoverage',
        summary: 'Key-person care coverage: no blind spots',
        description: `Measure 4, the view a district head opens every morning. Key persons (the registry marks them scattered extremely poor, living alone or disabled), in total, per region one level below the one asked and per caregiver: how many have a caregiver and how many do not, how many were visited within the interval and how many are overdue (never visited included), and the share visited. ${interval} ${scope}`,
        tags,
        querystring: CoverageQuery,
        response: { 200: CoverageSchema, ...problems(400, 404) },
      },
    },
    async (request) => care.coverage(callerOf(request), request.query),
  );

  app.get(
    '/v1/coverage/unassigned',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'listUnassignedKeyPersons',
        summary: 'Key persons without a caregiver',
        description: `The blind spots to assign (\`POST /v1/care-assignments\`), by region then id, with their last visit. ${scope} Audited with the persons shown.`,
        tags,
        querystring: CoverageQuery.extend(pageQuery),
        response: { 200: pageOf(CoveragePersonSchema), ...problems(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor, ...query } = request.query;
      const page = await care.unassigned(callerOf(request), actorOf(request), query, {
        limit,
        after: idCursor(cursor),
      });
      const last = page.items.at(-1);
      return { items: page.items, nextCursor: page.more && last ? encodeCursor(last.personId) : null };
    },
  );

  app.get(
    '/v1/coverage/overdue',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'listOverdueKeyPersons',
        summary: 'Key persons overdue for a visit',
        description: `Key persons not visited within the interval, with their caregiver, last visit and how many days overdue: those never visited first, then the longest overdue. ${interval} ${scope} Audited with the persons shown.`,
        tags,
        querystring: CoverageQuery.extend(pageQuery),
        response: { 200: pageOf(CoveragePersonSchema), ...problems(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor, ...query } = request.query;
      const after = decodeCursor(cursor, isString);
      const page = await care.overdue(callerOf(request), actorOf(request), query, { limit, after });
      const last = page.items.at(-1);
      return { items: page.items, nextCursor: page.more && last ? encodeCursor(overdueKey(last)) : null };
    },
  );
};
