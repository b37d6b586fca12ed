import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, isString, pageQuery, problems } from '../../platform/http.js';
import { DailyReportSchema, PersonReportSchema, ReportQuery } from './schemas.js';
import type { InKindService } from './service.js';

const readers = ['Civil affairs', 'Finance'];

/** A cursor holding `parts` fields joined by `|`, each matching its pattern. */
function keyCursor(cursor: string | undefined, patterns: RegExp[]): string[] | undefined {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const parts = key.split('|');
  if (parts.length !== patterns.length || !parts.every((p, i) => patterns[i]!.test(p))) {
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  }
  return parts;
}

const day = /^\d{4}-\d{2}-\d{2}$/;
const region = /^\d{2,12}$/;
const code = /^[a-z][a-z0-9_]{1,49}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const inKindReportRoutes: FastifyPluginAsyncZod<{ inKind: InKindService }> = async (app, { inKind }) => {
  app.get(
    '/v1/in-kind/reports/daily',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'reportInKindDaily',
        summary: 'What was handed out, per day, region and item',
        description:
          'Summed from the distributions from the stock of regions inside your jurisdiction (or `region`, a prefix inside it), over the business days `from` to `to` (included, at most 366 days; 400 naming `/to` otherwise). Rows by day, region, item code, in cursor pages; `totals` gives each item over the whole range. No persons are named.',
        tags: readers,
        querystring: ReportQuery.extend(pageQuery),
        response: { 200: DailyReportSchema, ...problems(400) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const after = keyCursor(cursor, [day, region, code]);
      const report = await inKind.dailyReport(callerOf(request), filter, {
        limit,
        after: after && { day: after[0]!, region: after[1]!, itemCode: after[2]! },
      });
      const last = report.items.at(-1);
      return {
        from: filter.from,
        to: filter.to,
        region: report.region,
        items: report.items,
        totals: report.totals,
        nextCursor: report.more && last ? encodeCursor(`${last.day}|${last.region}|${last.itemCode}`) : null,
      };
    },
  );

  app.get(
    '/v1/in-kind/reports/per-person',
    {
      config: { scopes: ['payments:read', 'registry:read'] },
      schema: {
        operationId: 'reportInKindPerPerson',
        summary: 'What each person received, per item',
        description:
          'Like the daily report, summed per person and item (by person id, then item code), with the first and last time each was handed out. It names persons: it needs `registry:read` too and is audited.',
        tags: ['Civil affairs'],
        querystring: ReportQuery.extend({ ...pageQuery, personId: z.uuid().optional() }),
        response: { 200: PersonReportSchema, ...problems(400) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const after = keyCursor(cursor, [uuid, code]);
      const report = await inKind.personReport(callerOf(request), actorOf(request), filter, {
        limit,
        after: after && { personId: after[0]!, itemCode: after[1]! },
      });
      const last = report.items.at(-1);
      return {
        from: filter.from,
        to: filter.to,
        region: report.region,
        items: report.items.map((r) => ({
          ...r,
          firstDistributedAt: r.firstDistributedAt.toISOString(),
          lastDistributedAt: r.lastDistributedAt.toISOString(),
        })),
        nextCursor: report.more && last ? encodeCursor(`${last.personId}|${last.itemCode}`) : null,
      };
    },
  );
};
