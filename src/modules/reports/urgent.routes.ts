import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery, problems } from '../../platform/http.js';
import { isUuid } from '../registry/welfare-contacts.routes.js';
import { UrgentReportBody, UrgentReportQuery, UrgentReportSchema } from './schemas.js';
import type { ReportService } from './service.js';

const tags = ['Civil affairs'];

/** Urgent reports (measure 7, item 3): filed at any time, pushed at once. */
export const urgentReportRoutes: FastifyPluginAsyncZod<{ reports: ReportService }> = async (app, { reports }) => {
  app.post(
    '/v1/urgent-reports',
    {
      config: { scopes: ['reports:write'] },
      schema: {
        operationId: 'fileUrgentReport',
        summary: 'File an urgent report',
        description:
          'Measure 7: urgent matters are reported at once, whatever the hour and whatever the daily report says. Published at once as `urgent_report.filed` to civil affairs of the district and the city (scope reports:read); `infection` and `death` also as `urgent_report.sent_to_health` to the health and disease-control clients covering the district (scope referrals:receive), `quarantine_hardship` as `urgent_report.sent_to_cdc` to disease control (scope contacts:receive). The events carry the ids of the persons involved, never their names. The district must be a county-level region inside your jurisdiction, the persons registry persons inside it (400 naming each that is not). Send `Idempotency-Key` so that a retry files once.',
        tags,
        body: UrgentReportBody,
        response: { 201: UrgentReportSchema, ...problems(400) },
      },
    },
    async (request, reply) => {
      const report = await reports.fileUrgent(callerOf(request), actorOf(request), request.body);
      return reply.code(201).header('location', `/v1/urgent-reports/${report.id}`).send(report);
    },
  );

  app.get(
    '/v1/urgent-reports',
    {
      config: { scopes: ['reports:read'] },
      schema: {
        operationId: 'listUrgentReports',
        summary: 'List urgent reports',
        description:
          'Urgent reports of districts inside your jurisdiction (or `region`, a prefix inside it), newest first. Audited with the persons they involve.',
        tags,
        querystring: UrgentReportQuery.extend(pageQuery),
        response: { 200: pageOf(UrgentReportSchema), ...problems(400) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await reports.listUrgent(callerOf(request), actorOf(request), {
        ...filter,
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      return { items: page.items, nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/v1/urgent-reports/:id',
    {
      config: { scopes: ['reports:read'] },
      schema: {
        operationId: 'getUrgentReport',
        summary: 'Read an urgent report',
        description: '404 outside your jurisdiction. Audited with the persons it involves.',
        tags,
        params: z.object({ id: z.uuid() }),
        response: { 200: UrgentReportSchema, ...problems(404) },
      },
    },
    async (request) => reports.getUrgent(callerOf(request), actorOf(request), request.params.id),
  );
};
