import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { etagOf, problems } from '../../platform/http.js';
import { businessDate } from '../registry/programs.schemas.js';
import { complianceRoutes } from './compliance.routes.js';
import { deadline } from './deadlines.js';
import { notHeld } from './draft.sql.js';
import {
  DailyReportBody,
  DailyReportSchema,
  DailyReportVersionsSchema,
  districtCode,
  DraftQuery,
  DraftSchema,
} from './schemas.js';
import type { ReportService } from './service.js';
import { urgentReportRoutes } from './urgent.routes.js';

const tags = ['Civil affairs'];
const params = z.object({ district: districtCode, date: businessDate });
const ifMatch = z.object({ 'if-match': z.string().max(100).optional() });

/** Daily reports: draft, submit (and correct), read, history; compliance and totals; urgent reports. */
export const reportRoutes: FastifyPluginAsyncZod<{ reports: ReportService }> = async (app, { reports }) => {
  app.get(
    '/v1/daily-reports/draft',
    {
      config: { scopes: ['reports:write'] },
      schema: {
        operationId: 'draftDailyReport',
        summary: 'A district’s daily report as the service would fill it in',
        description: `Measure 7: so that districts do not spend the morning counting what the service already knows. Each figure is what the service holds for the district and the day (each figure’s definition is in the schema); ${notHeld.map((n) => `\`${n}\``).join(' and ')} it does not hold: they are null, to fill in. A draft of today grows as the day goes on. Submit it as it is, completed or corrected. 404 for a district outside your jurisdiction.`,
        tags,
        querystring: DraftQuery,
        response: { 200: DraftSchema, ...problems(400, 404) },
      },
    },
    async (request) => reports.draft(callerOf(request), request.query),
  );

  app.post(
    '/v1/daily-reports',
    {
      config: { scopes: ['reports:write'] },
      schema: {
        operationId: 'submitDailyReport',
        summary: 'Submit (or correct) a district’s daily report, or its zero report',
        description: `One report per district and day, keyed on both. The first submission is version 1 (201, \`daily_report.submitted\`); a submission with other content is a correction, the next version (201, \`daily_report.corrected\`), every earlier version kept (\`…/versions\`); the same content as the current version changes nothing (200, no event). A zero report (\`zero: true\`, every figure 0 or omitted) says explicitly that there is nothing to report, and counts as reported; any other report states every figure (400 naming each missing one), and one whose figures are all 0 must be sent as a zero report. ${deadline} The report is on time when its first version was submitted by then, late otherwise; corrections do not change that. Send \`Idempotency-Key\` so that a retry submits once, and \`If-Match\` (the report’s ETag) to correct only the version you read (412 otherwise). The district must be a county-level region inside your jurisdiction; the day not in the future.`,
        tags,
        headers: ifMatch,
        body: DailyReportBody,
        response: { 200: DailyReportSchema, 201: DailyReportSchema, ...problems(400, 412) },
      },
    },
    async (request, reply) => {
      const { report, created } = await reports.submitDaily(
        callerOf(request),
        actorOf(request),
        request.body,
        request.headers['if-match'],
      );
      return reply
        .code(created ? 201 : 200)
        .header('location', `/v1/daily-reports/${report.district}/${report.date}`)
        .header('etag', etagOf(report))
        .send(report);
    },
  );

  app.get(
    '/v1/daily-reports/:district/:date',
    {
      config: { scopes: ['reports:read'] },
      schema: {
        operationId: 'getDailyReport',
        summary: 'Read a district’s daily report for a day',
        description: `Its deadline, where it stands (on time, late, missing, pending) and its current version. 404 when nothing was submitted and the deadline check has not marked it missing yet (see the compliance report), or outside your jurisdiction. ${deadline}`,
        tags,
        params,
        response: { 200: DailyReportSchema, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const report = await reports.getDaily(callerOf(request), request.params.district, request.params.date);
      return reply.header('etag', etagOf(report)).send(report);
    },
  );

  app.get(
    '/v1/daily-reports/:district/:date/versions',
    {
      config: { scopes: ['reports:read'] },
      schema: {
        operationId: 'listDailyReportVersions',
        summary: 'Every version of a daily report',
        description:
          'The history of corrections: every version as submitted, the first first, who submitted it and when.',
        tags,
        params,
        response: { 200: DailyReportVersionsSchema, ...problems(400, 404) },
      },
    },
    async (request) => reports.dailyVersions(callerOf(request), request.params.district, request.params.date),
  );

  await app.register(complianceRoutes, { reports });
  await app.register(urgentReportRoutes, { reports });
};
