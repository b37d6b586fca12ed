import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
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
import { ifMatchHeader, ReasonBody } from './applications.schemas.js';
import {
  ChangeBenefitBody,
  EndEnrollmentBody,
  EnrollmentListQuery,
  enrollmentOut,
  EnrollmentSchema,
  enrollmentSummaryOut,
  EnrollmentSummarySchema,
} from './enrollments.schemas.js';
import type { EnrollmentAction, EnrollmentFilter, EnrollmentService } from './enrollments.service.js';

const idParams = z.object({ id: z.uuid() });

function afterOf(cursor: string | undefined): EnrollmentFilter['after'] {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(\d{2,12})\|([0-9a-f-]{36})$/.exec(key);
  if (!match)
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  return { region: match[1]!, id: match[2]! };
}

const actions: {
  name: string;
  action: EnrollmentAction;
  operationId: string;
  summary: string;
  description: string;
  body: typeof ReasonBody | typeof EndEnrollmentBody | typeof ChangeBenefitBody;
}[] = [
  {
    name: 'suspend',
    action: 'suspend',
    operationId: 'suspendEnrollment',
    summary: 'Suspend an active enrollment',
    description: 'Payments stop until it is resumed. A review falling due never suspends an enrollment by itself.',
    body: ReasonBody,
  },
  {
    name: 'resume',
    action: 'resume',
    operationId: 'resumeEnrollment',
    summary: 'Resume a suspended enrollment',
    description: 'Payments start again at the current monthly benefit.',
    body: ReasonBody,
  },
  {
    name: 'end',
    action: 'end',
    operationId: 'endEnrollment',
    summary: 'End an enrollment',
    description:
      'From active or suspended; `endDate` (default today) lies between the start date and today. Its open review is closed without being carried out.',
    body: EndEnrollmentBody,
  },
  {
    name: 'change-benefit',
    action: 'changeBenefit',
    operationId: 'changeEnrollmentBenefit',
    summary: 'Change an enrollment’s monthly benefit',
    description:
      'A correction or a change of circumstances outside a review (a completed review may change it too); the history keeps the old amount.',
    body: ChangeBenefitBody,
  },
];

export const enrollmentRoutes: FastifyPluginAsyncZod<{ enrollments: EnrollmentService }> = async (
  app,
  { enrollments },
) => {
  app.get(
    '/v1/enrollments',
    {
      config: { scopes: ['applications:read'] },
      schema: {
        operationId: 'listEnrollments',
        summary: 'List enrollments',
        description:
          'Enrollments of regions inside your jurisdiction (a portal: those created from its own applications), ordered by region.',
        tags: ['Civil affairs', 'Portal'],
        querystring: z.object({ ...pageQuery, ...EnrollmentListQuery.shape }),
        response: { 200: pageOf(EnrollmentSummarySchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await enrollments.list(callerOf(request), { ...filter, limit, after: afterOf(cursor) });
      const last = page.items.at(-1);
      return {
        items: page.items.map(enrollmentSummaryOut),
        nextCursor: page.more && last ? encodeCursor(`${last.region}|${last.id}`) : null,
      };
    },
  );

  app.get(
    '/v1/enrollments/:id',
    {
      config: { scopes: ['applications:read'] },
      schema: {
        operationId: 'getEnrollment',
        summary: 'Read an enrollment with its history and next review',
        tags: ['Civil affairs', 'Portal'],
        params: idParams,
        response: { 200: EnrollmentSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const found = await enrollments.get(callerOf(request), actorOf(request), request.params.id);
      return reply.header('etag', etagOf(found)).send(enrollmentOut(found, enrollments.today()));
    },
  );

  for (const spec of actions) {
    app.post(
      `/v1/enrollments/:id/${spec.name}`,
      {
        config: { scopes: ['applications:decide'] },
        schema: {
          operationId: spec.operationId,
          summary: spec.summary,
          description: `${spec.description} Publishes \`enrollment.changed\`. Send \`If-Match\` to act only on the version you read (412 when it changed); 409 invalid-state with \`currentState\` when not allowed.`,
          tags: ['Civil affairs'],
          params: idParams,
          headers: ifMatchHeader,
          body: spec.body,
          response: { 200: EnrollmentSchema, ...problems(404, 409, 412) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const version = ifMatchVersion(request.headers['if-match'], id, 'enrollment');
        const body = request.body as { reason: string; endDate?: string; monthlyBenefitFen?: number };
        const changed = await enrollments.act(callerOf(request), actorOf(request), id, spec.action, body, version);
        return reply.header('etag', etagOf(changed)).send(enrollmentOut(changed, enrollments.today()));
      },
    );
  }
};
