import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
import {
  decodeCursor,
  encodeCursor,
  etagOf,
  ifMatchVersion,
  isString,
  pageOf,
  pageQuery,
  problems,
} from '../../platform/http.js';
import { ifMatchHeader } from './applications.schemas.js';
import { CompleteReviewBody, ReviewListQuery, reviewOut, ReviewSchema } from './enrollments.schemas.js';
import type { ReviewFilter, ReviewService } from './reviews.service.js';

const idParams = z.object({ id: z.uuid() });

function afterOf(cursor: string | undefined): ReviewFilter['after'] {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})\|([0-9a-f-]{36})$/.exec(key);
  if (!match)
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  return { effectiveDueDate: match[1]!, id: match[2]! };
}

const postponed =
  'Payments never stop because a review is postponed or overdue: a review falling due changes nothing about its enrollment, whose status only a completed review (or an explicit enrollment action) changes.';

export const reviewRoutes: FastifyPluginAsyncZod<{ reviews: ReviewService }> = async (app, { reviews }) => {
  app.get(
    '/v1/reviews',
    {
      config: { scopes: ['applications:read'] },
      schema: {
        operationId: 'listReviews',
        summary: 'Who is due for review, and when',
        description: `Reviews of enrollments inside your jurisdiction, ordered by effective due date. Each shows its original \`dueDate\` and, when the emergency policy in force for its region on that date extends reviews, the \`extendedDueDate\` (moved by the policy's months) and the policy (\`extendedByPolicy\`); \`effectiveDueDate\` is the one that applies. The extension is worked out when read, so a policy declared or ended later moves the dates with it. \`dueBefore\` and the order use the effective date. ${postponed}`,
        tags: ['Civil affairs'],
        querystring: z.object({ ...pageQuery, ...ReviewListQuery.shape }),
        response: { 200: pageOf(ReviewSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await reviews.list(callerOf(request), { ...filter, limit, after: afterOf(cursor) });
      const last = page.items.at(-1);
      const today = reviews.today();
      return {
        items: page.items.map((r) => reviewOut(r, today)),
        nextCursor: page.more && last ? encodeCursor(`${last.effectiveDueDate}|${last.id}`) : null,
      };
    },
  );

  app.get(
    '/v1/reviews/:id',
    {
      config: { scopes: ['applications:read'] },
      schema: {
        operationId: 'getReview',
        summary: 'Read a review with its original, extended and effective due dates',
        description: postponed,
        tags: ['Civil affairs'],
        params: idParams,
        response: { 200: ReviewSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const found = await reviews.get(callerOf(request), request.params.id);
      return reply.header('etag', etagOf(found)).send(reviewOut(found, reviews.today()));
    },
  );

  app.post(
    '/v1/reviews/:id/complete',
    {
      config: { scopes: ['applications:decide'] },
      schema: {
        operationId: 'completeReview',
        summary: 'Complete a review and schedule the next one',
        description: `\`continued\` keeps the enrollment as it is; \`benefit_changed\` sets \`newMonthlyBenefitFen\` (required then, refused otherwise); \`ended\` ends the enrollment today. Unless it ended, the next review is due the program's review interval after today. A review already completed answers 409 invalid-state. Send \`If-Match\` to act only on the version you read. Publishes \`review.completed\` (and \`enrollment.changed\` when the enrollment changes). ${postponed}`,
        tags: ['Civil affairs'],
        params: idParams,
        headers: ifMatchHeader,
        body: CompleteReviewBody,
        response: { 200: ReviewSchema, ...problems(404, 409, 412) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const version = ifMatchVersion(request.headers['if-match'], id, 'review');
      const done = await reviews.complete(callerOf(request), actorOf(request), id, request.body, version);
      return reply.header('etag', etagOf(done)).send(reviewOut(done, reviews.today()));
    },
  );
};
