import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound, type ProblemKind, problemKinds } from './errors.js';
import { problems } from './http.js';

/** Each problem `type` URI answers with what it means, so an integrator can follow the link. */
export const problemRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/problems/:kind',
    {
      schema: {
        operationId: 'getProblemType',
        summary: 'What a problem type means',
        tags: ['Operations'],
        params: z.object({ kind: z.string().max(64) }),
        response: { 200: z.object({ type: z.string(), description: z.string() }), ...problems(404) },
      },
    },
    async (request) => {
      const kind = request.params.kind as ProblemKind;
      if (!Object.hasOwn(problemKinds, kind)) throw notFound('problem type');
      return { type: `/problems/${kind}`, description: problemKinds[kind] };
    },
  );
};
