import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../../platform/auth.js';
import { problems } from '../../platform/http.js';
import { RANGE_DAYS_MAX } from './compliance.service.js';
import { deadline } from './deadlines.js';
import { complianceCsv, CSV_CONTENT_TYPE, totalsCsv, wantsCsv } from './csv.js';
import { ComplianceSchema, RangeQuery, TotalsQuery, TotalsSchema } from './schemas.js';
import type { ReportService } from './service.js';

const tags = ['Civil affairs'];
const range = `Over the business days \`from\` to \`to\` (included, at most ${RANGE_DAYS_MAX}; 400 naming \`/to\` otherwise), for the districts (county-level regions) of \`region\`, which defaults to your jurisdiction and is narrowed to it (404 when wholly outside). JSON, or CSV with \`Accept: text/csv\` or \`format=csv\`.`;
const withCsv = <T extends z.ZodType>(schema: T, csv: string) => ({
  description: 'The report, as JSON or CSV',
  content: {
    'application/json': { schema },
    'text/csv': { schema: z.string().describe(csv) },
  },
});

/** Compliance and totals for city clients (measure 7, item 2). */
export const complianceRoutes: FastifyPluginAsyncZod<{ reports: ReportService }> = async (app, { reports }) => {
  app.get(
    '/v1/daily-reports/compliance',
    {
      config: { scopes: ['reports:read'] },
      schema: {
        operationId: 'getDailyReportCompliance',
        summary: 'Who reported, on time or late, with a zero report, or not at all',
        description: `Per day, the districts that reported on time, late, with a zero report (also counted as on time or late: a zero report is a report), that have not reported although the deadline has passed (missing), and whose deadline is still ahead (pending); per district, how many days of each. ${deadline} ${range} The CSV has one row a day and district: date, district, status (on_time, late, missing, pending), zero.`,
        tags,
        querystring: RangeQuery,
        response: {
          200: withCsv(ComplianceSchema, 'date,district,status,zero; one row a day and district'),
          ...problems(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { format, ...query } = request.query;
      const answer = await reports.compliance(callerOf(request), query);
      if (!wantsCsv(request, format)) return reply.send(answer);
      return reply
        .header('content-type', CSV_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="daily-report-compliance-${query.from}-${query.to}.csv"`)
        .send(Buffer.from(complianceCsv(answer.days)) as never);
    },
  );

  app.get(
    '/v1/daily-reports/totals',
    {
      config: { scopes: ['reports:read'] },
      schema: {
        operationId: 'getDailyReportTotals',
        summary: 'The figures of the daily reports, per day for the city or per district',
        description: `Summed from the current version of each report (a zero report adds zeros; a district that did not report adds nothing and counts in \`notReported\`). \`by=day\`: one row a day, the districts summed. \`by=district\`: one row a district over the range, flows summed and the two states (inQuarantine, keyPersonsWithoutCaregiver) the highest day’s. \`total\`: the whole range over every district, flows summed and states the highest day’s. ${range} The CSV has the rows, one a line: date (or district and name), reports, zeroReports, notReported, then the figures.`,
        tags,
        querystring: TotalsQuery,
        response: {
          200: withCsv(TotalsSchema, 'One row a day or district, then the figures'),
          ...problems(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { format, ...query } = request.query;
      const answer = await reports.totals(callerOf(request), query);
      if (!wantsCsv(request, format)) return reply.send(answer);
      return reply
        .header('content-type', CSV_CONTENT_TYPE)
        .header(
          'content-disposition',
          `attachment; filename="daily-report-totals-by-${query.by}-${query.from}-${query.to}.csv"`,
        )
        .send(Buffer.from(totalsCsv(query.by, answer.rows)) as never);
    },
  );
};
