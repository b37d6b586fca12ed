import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import { idCursor } from './common.js';
import { NORMAL_VISIT_INTERVAL_DAYS } from './interval.js';
import type { CareService } from './service.js';
import { GeneratedSchema, GenerateTasksBody, TaskQuery, TaskSchema } from './tasks.schemas.js';
import { taskOut } from './tasks.service.js';

const tags = ['Civil affairs'];

export const taskRoutes: FastifyPluginAsyncZod<{ care: CareService }> = async (app, { care }) => {
  app.post(
    '/v1/visit-tasks/generate',
    {
      config: { scopes: ['care:write'] },
      schema: {
        operationId: 'generateVisitTasks',
        summary: 'Generate the visit tasks of a region',
        description:
          'One statement for the whole region: every key person without an open task gets one, whose window starts on their last visit’s day (on `date` when never visited) and is due the visit interval later: ' +
          `the \`visitIntervalDays\` of the emergency policy in force for the person’s region on \`date\` (a district’s beats the city’s), or ${NORMAL_VISIT_INTERVAL_DAYS} days when it sets none. ` +
          'The task goes to the person’s active caregiver or, with none, to the civil-affairs office of their subdistrict (`fallbackRegion`, the first 9 digits of their region). ' +
          'Idempotent: one task per person and window (a unique index), so repeating it, even concurrently, creates nothing more (`alreadyPresent` counts them). ' +
          'A window never starts on the day an earlier one of the person did: when a visit completed a task on the day its window opened, the next opens the day after, still due the interval after that visit. ' +
          'Open tasks of persons no longer key persons are cancelled. `region` must lie inside your jurisdiction (400 otherwise).',
        tags,
        body: GenerateTasksBody,
        response: { 200: GeneratedSchema, ...problems(400) },
      },
    },
    async (request) => care.generateTasks(callerOf(request), actorOf(request), request.body),
  );

  app.get(
    '/v1/visit-tasks',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'listVisitTasks',
        summary: 'List visit tasks',
        description:
          'Inside your jurisdiction, earliest due first: a caregiver’s work with `caregiverId&status=open`, a subdistrict office’s with `fallbackRegion`, what is late with `overdue=true`. Audited.',
        tags,
        querystring: TaskQuery.extend(pageQuery),
        response: { 200: pageOf(TaskSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, overdue, ...filter } = request.query;
      const page = await care.listTasks(
        callerOf(request),
        actorOf(request),
        { ...filter, overdue: overdue === undefined ? undefined : overdue === 'true' },
        { limit, after: idCursor(cursor) },
      );
      const last = page.items.at(-1);
      return {
        items: page.items.map((t) => taskOut(t, page.today)),
        nextCursor: page.more && last ? encodeCursor(last.id) : null,
      };
    },
  );
};
