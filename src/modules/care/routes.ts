import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { assignmentRoutes } from './assignments.routes.js';
import { caregiverRoutes } from './caregivers.routes.js';
import { coverageRoutes } from './coverage.routes.js';
import type { CareService } from './service.js';
import { taskRoutes } from './tasks.routes.js';
import { visitRoutes } from './visits.routes.js';

/** Key-person care: `/v1/caregivers`, `/v1/care-assignments`, `/v1/visits`, `/v1/visit-tasks`, `/v1/coverage`. */
export const careRoutes: FastifyPluginAsyncZod<{ care: CareService }> = async (app, options) => {
  await app.register(caregiverRoutes, options);
  await app.register(assignmentRoutes, options);
  await app.register(visitRoutes, options);
  await app.register(taskRoutes, options);
  await app.register(coverageRoutes, options);
};
