import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import type { PiiProtector } from '../registry/sensitive.js';
import { idCursor, phoneView, revealsTo } from './common.js';
import { NORMAL_VISIT_INTERVAL_DAYS } from './interval.js';
import type { CareService } from './service.js';
import { NewVisitBody, VisitQuery, VisitSchema, type VisitOut } from './visits.schemas.js';
import type { VisitRow } from './visits.service.js';

const tags = ['Civil affairs'];

export function visitOut(pii: PiiProtector, v: VisitRow, reveal: boolean): VisitOut {
  const { phone, phoneMasked } = phoneView(pii, v.visitorPhoneSealed, v.visitorPhoneMasked, reveal);
  return {
    id: v.id,
    personId: v.personId,
    region: v.region,
    caregiverId: v.caregiverId,
    visitorName: v.visitorName,
    visitorPhone: phone,
    visitorPhoneMasked: phoneMasked,
    channel: v.channel as VisitOut['channel'],
    visitedAt: v.visitedAt.toISOString(),
    healthStatus: v.healthStatus as VisitOut['healthStatus'],
    symptoms: v.symptoms as VisitOut['symptoms'],
    symptomsText: v.symptomsText,
    needs: v.needs as VisitOut['needs'],
    needsText: v.needsText,
    followUp: v.followUp,
    followUpDate: v.followUpDate,
    taskId: v.taskId,
    recordedBy: v.recordedByClientId,
    createdAt: v.createdAt.toISOString(),
  };
}

export const visitRoutes: FastifyPluginAsyncZod<{ care: CareService }> = async (app, { care }) => {
  const { pii } = care;

  app.post(
    '/v1/visits',
    {
      config: { scopes: ['care:write'] },
      schema: {
        operationId: 'recordVisit',
        summary: 'Record a visit to a key person',
        description:
          `Measure 4: a caregiver (\`caregiverId\`) or someone else (\`visitorName\`, \`visitorPhone\`) checked on a key person by phone, WeChat video or in person. The person must be inside your jurisdiction (404) and a key person (422); the caregiver inside your jurisdiction (404). ` +
          `In one transaction the visit completes the person’s open visit task whose window has begun by the visit’s day (a late visit completes an overdue task; \`taskId\` names it), becomes the person’s last visit when it is their latest (coverage counts from it; key persons are to be visited every ${NORMAL_VISIT_INTERVAL_DAYS} days, or as often as the emergency policy in force says with \`visitIntervalDays\`), and publishes \`visit.recorded\`. ` +
          'Any coded symptom, or health status `symptomatic`, also publishes `visit.symptoms_reported`, the cue to refer the person to health (`/v1/referrals`). Send `Idempotency-Key` so that a retry records the visit once.',
        tags,
        body: NewVisitBody,
        response: { 201: VisitSchema, ...problems(400, 404, 422) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const visit = await care.recordVisit(caller, actorOf(request), request.body);
      reply.header('location', `/v1/visits/${visit.id}`);
      return reply.code(201).send(visitOut(pii, visit, revealsTo(caller)));
    },
  );

  app.get(
    '/v1/visits/:id',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'getVisit',
        summary: 'Read one visit',
        description: 'Audited with the person visited.',
        tags,
        params: z.object({ id: z.uuid() }),
        response: { 200: VisitSchema, ...problems(404) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return visitOut(pii, await care.getVisit(caller, actorOf(request), request.params.id), revealsTo(caller));
    },
  );

  app.get(
    '/v1/visits',
    {
      config: { scopes: ['care:read'] },
      schema: {
        operationId: 'listVisits',
        summary: 'List visits',
        description:
          'Inside your jurisdiction (by the person’s region at the visit), newest first; `from` and `to` are days (Asia/Shanghai), both included. Audited with the persons shown.',
        tags,
        querystring: VisitQuery.extend(pageQuery),
        response: { 200: pageOf(VisitSchema) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor, ...filter } = request.query;
      const page = await care.listVisits(caller, actorOf(request), filter, { limit, after: idCursor(cursor) });
      const last = page.items.at(-1);
      return {
        items: page.items.map((v) => visitOut(pii, v, revealsTo(caller))),
        nextCursor: page.more && last ? encodeCursor(last.id) : null,
      };
    },
  );
};
