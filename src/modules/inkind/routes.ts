import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { inKindDistributionRoutes } from './distributions.routes.js';
import { inKindItemRoutes } from './items.routes.js';
import { inKindReportRoutes } from './reports.routes.js';
import type { InKindService } from './service.js';
import { inKindStockRoutes } from './stock.routes.js';

/** `/v1/in-kind/…`: catalogue, receipts and stock, distributions, reports. */
export const inKindRoutes: FastifyPluginAsyncZod<{ inKind: InKindService }> = async (app, options) => {
  await app.register(inKindItemRoutes, options);
  await app.register(inKindStockRoutes, options);
  await app.register(inKindDistributionRoutes, options);
  await app.register(inKindReportRoutes, options);
};
