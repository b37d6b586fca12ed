import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../errors.js';
import { problems } from '../http.js';
import type { RegionService } from './service.js';

const RegionSchema = z
  .object({
    code: z.string().describe('GB/T 2260 code; jurisdictions and region filters are prefixes of it'),
    name: z.string(),
    nameZh: z.string(),
    level: z.enum(['province', 'city', 'county', 'township', 'community']),
    parentCode: z.string().nullable(),
  })
  .meta({ id: 'Region' });

const allAgencies = ['Civil affairs', 'Finance', 'Bank', 'Data providers', 'Health', 'CDC', 'Portal', 'Admin'];

export const regionRoutes: FastifyPluginAsyncZod<{ regions: RegionService }> = async (app, { regions }) => {
  app.get(
    '/v1/regions',
    {
      config: { scopes: ['regions:read'] },
      schema: {
        operationId: 'listRegions',
        summary: 'List administrative divisions',
        description: 'Reference data: the city and its county-level divisions. Small enough to come in one page.',
        tags: allAgencies,
        querystring: z.object({
          parent: z
            .string()
            .regex(/^\d{2,12}$/)
            .optional()
            .describe('Only the direct children of this code'),
          level: z.enum(['province', 'city', 'county', 'township', 'community']).optional(),
          prefix: z
            .string()
            .regex(/^\d{1,12}$/)
            .optional()
            .describe('Only codes starting with these digits'),
        }),
        response: { 200: z.object({ items: z.array(RegionSchema), nextCursor: z.null() }) },
      },
    },
    async (request) => ({ items: await regions.list(request.query), nextCursor: null }),
  );

  app.get(
    '/v1/regions/:code',
    {
      config: { scopes: ['regions:read'] },
      schema: {
        operationId: 'getRegion',
        summary: 'Read one administrative division',
        tags: allAgencies,
        params: z.object({ code: z.string().regex(/^\d{2,12}$/, 'must be 2 to 12 digits') }),
        response: { 200: RegionSchema, ...problems(404) },
      },
    },
    async (request) => {
      const region = await regions.get(request.params.code);
      if (!region) throw notFound('region');
      return region;
    },
  );
};
