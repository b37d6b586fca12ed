import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import { AssignmentQuery, AssignmentSchema, EndAssignmentBody, NewAssignmentBody } from './assignments.schemas.js';
import { assignmentOut } from './assignments.service.js';
import { idCursor } from './common.js';
import type { CareService } from './service.js';

const tags = ['Civil affairs'];
const params = z.object({ id: z.uuid() });

export const assignmentRoutes: FastifyPluginAsyncZod<{ care: CareService }> = async (app, { care }) => {
  app.post(
    '/v1/care-assignments',
    {
      config: { scopes: ['care:write'] },
      schema: {
        operationId: 'assignCaregiver',
        summary: 'Make a caregiver responsible for a key person',
        description:
          'The person must be inside your jurisdiction (404 otherwise) and a key person: the registry marks them scattered extremely poor, living alone or disabled (422 otherwise). The caregiver must be inside your jurisdiction (404) and active (409 `invalid-state`). ' +
          'A person has one active assignment at a time, enforced by the database even between concurrent requests. When they have one to another caregiver, this is a **reassignment**: `reason` is required (400 naming `/reason`), the old assignment ends with it in the same transaction and stays in the history. The same caregiver again answers 200 with the active assignment. ' +
          'The person’s open visit tasks move to the new caregiver. Publishes `care_assignment.started` (and `care_assignment.ended` for the one replaced).',
        tags,
        body: NewAssignmentBody,
        response: { 200: AssignmentSchema, 201: AssignmentSchema, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const { row, created } = await care.assign(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/care-assignments/${row.id}`);
      return reply.code(created ? 201 : 200).send(assignmentOut(row));
    },
  );

  app.post(
    '/v1/care-assignments/:id/end',
    {
      config: { scopes: ['care:write'] },
      schema: {
        operationId: 'endCareAssignment',
        summary: 'End a caregiver’s responsibility for a person',
        description:
          'The person is then without a caregiver (and shows in `GET /v1/coverage/unassigned`); their open visit tasks go to the civil-affairs office of their subdistrict. To hand them to someone else, reassign instead (`POST /v1/care-assignments` with a `reason`). 409 `invalid-state` when ended already. Publishes `care_assignment.ended`.',
        tags,
        params,
        body: EndAssignmentBody,
        response: { 200: AssignmentSchema, ...problems(400, 404, 409) },
      },
    },
    async (request) =>
      assignmentOut(
        await care.endAssignment(callerOf(request), actorOf(request), request.params.id, request.body.reason),
      ),
  );

  app.get(
    '/v1/care-assignments/:id',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'getCareAssignment',
        summary: 'Read one care assignment',
        tags,
        params,
        response: { 200: AssignmentSchema, ...problems(404) },
      },
    },
    async (request) => assignmentOut(await care.getAssignment(callerOf(request), actorOf(request), request.params.id)),
  );

  app.get(
    '/v1/care-assignments',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'listCareAssignments',
        summary: 'List care assignments, current and past',
        description:
          'Inside your jurisdiction (by the person’s region when assigned), newest first: a person’s history with `personId`, a caregiver’s people with `caregiverId&active=true`. Audited.',
        tags,
        querystring: AssignmentQuery.extend(pageQuery),
        response: { 200: pageOf(AssignmentSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, active, ...filter } = request.query;
      const page = await care.listAssignments(
        callerOf(request),
        actorOf(request),
        { ...filter, active: active === undefined ? undefined : active === 'true' },
        { limit, after: idCursor(cursor) },
      );
      const last = page.items.at(-1);
      return { items: page.items.map(assignmentOut), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );
};
