import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, etagOf, pageOf, pageQuery, problems } from '../../platform/http.js';
import { isUuid } from '../registry/welfare-contacts.routes.js';
import type { BatchRow } from './common.js';
import {
  BatchListQuery,
  BatchSchema,
  BatchSummarySchema,
  EmergencyPaymentBody,
  FollowUpBody,
  NewBatchBody,
} from './schemas.js';
import type { PaymentService } from './service.js';
import { batchOut, batchSummaryOut } from './view.js';

const idParams = z.object({ id: z.uuid() });
const bool = (v: 'true' | 'false' | undefined) => (v === undefined ? undefined : v === 'true');

/** A batch as answered: with its payments by status, its history and its ETag. */
export async function sendBatch(payments: PaymentService, reply: FastifyReply, batch: BatchRow, status = 200) {
  const view = await payments.viewOf(batch);
  return reply.code(status).header('etag', etagOf(batch)).send(batchOut(view, payments.now()));
}

/** Batches: generation (a month's, an emergency payment, a follow-up), the finance queue, reads. */
export const paymentBatchRoutes: FastifyPluginAsyncZod<{ payments: PaymentService }> = async (app, { payments }) => {
  const send = (reply: FastifyReply, batch: BatchRow, status = 200) => sendBatch(payments, reply, batch, status);
  const generated = (reply: FastifyReply, made: { batch: BatchRow; created: boolean }) => {
    if (made.created) reply.header('location', `/v1/payment-batches/${made.batch.id}`);
    return send(reply, made.batch, made.created ? 201 : 200);
  };

  app.post(
    '/v1/payment-batches',
    {
      config: { scopes: ['payments:prepare'] },
      schema: {
        operationId: 'generatePaymentBatch',
        summary: 'Generate a month’s payment batch for a program and region',
        description:
          'One set-based statement pays every active enrollment of the program in the region (a prefix) for the period: dibao and tekun their monthly benefit, the price subsidy its standard in force on the period’s first day times the recipients. The payee is the person supported (tekun) or the household’s head, at the bank account on file (copied, sealed). Enrollments that cannot be paid (no bank account, no standard, nothing due) are left out and listed (`…/exclusions`); one already paid for the period elsewhere is skipped. 201 with the new batch (`draft`); **200 with the existing batch** when one for the same program, period and region exists (not rejected). 422 when nobody can be paid. `expedited`: green channel, due within the policy’s `greenChannelHours`. Publishes `payment_batch.generated`.',
        tags: ['Civil affairs'],
        body: NewBatchBody,
        response: { 200: BatchSchema, 201: BatchSchema, ...problems(400, 422) },
      },
    },
    async (request, reply) =>
      generated(reply, await payments.generate(callerOf(request), actorOf(request), request.body)),
  );

  app.post(
    '/v1/payment-batches/emergency',
    {
      config: { scopes: ['payments:prepare'] },
      schema: {
        operationId: 'payTemporaryAssistance',
        summary: 'Pay a temporary-assistance grant through the green channel',
        description:
          'A batch of one payment, the grant’s cash to the person aided, `submitted` to finance at once, due `greenChannelHours` after the grant (the grant’s policy, or the one in force there that day; no deadline without one). 201 with the batch; 200 with the existing one when the grant is being paid already. 422 when the person has no bank account. Publishes `payment_batch.generated` and `payment_batch.submitted`.',
        tags: ['Civil affairs'],
        body: EmergencyPaymentBody,
        response: { 200: BatchSchema, 201: BatchSchema, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      generated(
        reply,
        await payments.emergency(callerOf(request), actorOf(request), request.body.temporaryAssistanceId),
      ),
  );

  app.get(
    '/v1/payment-batches',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'listPaymentBatches',
        summary: 'List payment batches',
        description:
          'Inside your jurisdiction, newest first. `overdue=true`: expedited batches past their deadline and not completed.',
        tags: ['Civil affairs', 'Finance', 'Bank'],
        querystring: BatchListQuery.extend(pageQuery),
        response: { 200: pageOf(BatchSummarySchema) },
      },
    },
    async (request) => {
      const { limit, cursor, expedited, overdue, ...filter } = request.query;
      const page = await payments.listBatches(callerOf(request), {
        ...filter,
        expedited: bool(expedited),
        overdue: bool(overdue),
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      const now = payments.now();
      return {
        items: page.items.map((b) => batchSummaryOut(b, now)),
        nextCursor: page.more && last ? encodeCursor(last.id) : null,
      };
    },
  );

  app.get(
    '/v1/payment-batches/awaiting-approval',
    {
      config: { scopes: ['payments:approve'] },
      schema: {
        operationId: 'listPaymentBatchesAwaitingApproval',
        summary: 'What waits for finance: submitted batches, most urgent first',
        description:
          'Submitted batches inside your jurisdiction: by deadline (the green channel’s first, `overdue` flagged), then in the order submitted.',
        tags: ['Finance'],
        querystring: z.object({ region: BatchListQuery.shape.region, ...pageQuery }),
        response: { 200: pageOf(BatchSummarySchema) },
      },
    },
    async (request) => {
      const { limit, cursor, region } = request.query;
      const page = await payments.awaitingApproval(callerOf(request), {
        region,
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      const now = payments.now();
      return {
        items: page.items.map((b) => batchSummaryOut(b, now)),
        nextCursor: page.more && last ? encodeCursor(last.id) : null,
      };
    },
  );

  app.get(
    '/v1/payment-batches/:id',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'getPaymentBatch',
        summary: 'Read a payment batch with its payments by status and its history',
        tags: ['Civil affairs', 'Finance', 'Bank'],
        params: idParams,
        response: { 200: BatchSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const view = await payments.getBatch(callerOf(request), request.params.id);
      return reply.header('etag', etagOf(view.batch)).send(batchOut(view, payments.now()));
    },
  );

  app.post(
    '/v1/payment-batches/:id/follow-up',
    {
      config: { scopes: ['payments:prepare'] },
      schema: {
        operationId: 'followUpPaymentBatch',
        summary: 'Re-issue a batch’s failed and returned payments in a follow-up batch',
        description:
          'A new `draft` batch (same program, period and region) re-issuing each failed or returned payment not re-issued yet, to the same payee at the same amount and the account on file now, and paying the enrollments the batch left out that can be paid now. A payment is re-issued at most once (a unique index): 409 naming the follow-up batches when nothing is left. From dispatched, completed or reconciled. Publishes `payment_batch.generated`.',
        tags: ['Civil affairs'],
        params: idParams,
        body: FollowUpBody,
        response: { 201: BatchSchema, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const batch = await payments.followUp(
        callerOf(request),
        actorOf(request),
        request.params.id,
        request.body.itemIds ?? null,
      );
      reply.header('location', `/v1/payment-batches/${batch.id}`);
      return send(reply, batch, 201);
    },
  );
};
