import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { ifMatchVersion, problems } from '../../platform/http.js';
import type { Scope } from '../../platform/scopes.js';
import { sendBatch } from './batches.routes.js';
import type { BatchRow } from './common.js';
import { ApproveBody, BatchSchema, NoteBody, RejectBody, ResultsAnswerSchema, ResultsBody } from './schemas.js';
import type { PaymentService } from './service.js';

const idParams = z.object({ id: z.uuid() });
const ifMatch = z.object({ 'if-match': z.string().max(100).optional() });

/** The batch's lifecycle, one action each (scope, If-Match, history, event), and the bank's results. */
export const paymentBatchActionRoutes: FastifyPluginAsyncZod<{ payments: PaymentService }> = async (
  app,
  { payments },
) => {
  type Acting = Parameters<PaymentService['submit']>[0];
  const action = <B extends z.ZodType>(spec: {
    name: string;
    operationId: string;
    summary: string;
    description: string;
    scope: Scope;
    tags: string[];
    body: B;
    act: (s: Acting, body: z.infer<B>) => Promise<BatchRow>;
    statuses?: number[];
  }) =>
    app.post(
      `/v1/payment-batches/:id/${spec.name}`,
      {
        config: { scopes: [spec.scope] },
        schema: {
          operationId: spec.operationId,
          summary: spec.summary,
          description: `${spec.description} 409 invalid-state (with \`currentState\`) from any other state. Send \`If-Match\` to act only on the version you read (412 when it changed).`,
          tags: spec.tags,
          params: idParams,
          headers: ifMatch,
          body: spec.body,
          response: { 200: BatchSchema, ...problems(400, 404, 409, 412, ...(spec.statuses ?? [])) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const version = ifMatchVersion(request.headers['if-match'], id, 'payment batch');
        const { note } = request.body as { note?: string };
        const s = { caller: callerOf(request), actor: actorOf(request), id, version, note };
        return sendBatch(payments, reply, await spec.act(s, request.body as z.infer<B>));
      },
    );

  action({
    name: 'submit',
    operationId: 'submitPaymentBatch',
    summary: 'Submit a draft batch to finance',
    description: '`draft` → `submitted`. Publishes `payment_batch.submitted`.',
    scope: 'payments:prepare',
    tags: ['Civil affairs'],
    body: NoteBody,
    act: (s) => payments.submit(s),
  });
  action({
    name: 'approve',
    operationId: 'approvePaymentBatch',
    summary: 'Approve a submitted batch, echoing its count and total',
    description:
      '`submitted` → `approved`. `itemCount` and `totalFen` must be the batch’s declared ones: a mismatch is a 409 whose `errors` name the field, and nothing changes. Allocates the funds in the ledger (allocated → pending). Publishes `payment_batch.approved`.',
    scope: 'payments:approve',
    tags: ['Finance'],
    body: ApproveBody,
    act: (s, body) => payments.approve(s, body),
  });
  action({
    name: 'reject',
    operationId: 'rejectPaymentBatch',
    summary: 'Reject a submitted batch, with a reason',
    description:
      '`submitted` → `rejected`; its payments are cancelled, and the batch can be generated again. Publishes `payment_batch.rejected`.',
    scope: 'payments:approve',
    tags: ['Finance'],
    body: RejectBody,
    act: (s, body) => payments.reject(s, body.reason),
  });
  action({
    name: 'dispatch',
    operationId: 'dispatchPaymentBatch',
    summary: 'Collect an approved batch for payment',
    description:
      '`approved` → `dispatched`: the bank takes the batch; its payments are `sent`. Only when a payer account is set for the batch’s program and region (the account its pain.001 debits: the program’s account whose region is the longest prefix of the batch’s): otherwise 422 `unprocessable-request` naming the `program` and `region` missing one (finance sets it with `POST /v1/payment-payer-accounts`), and the batch stays `approved`. Publishes `payment_batch.dispatched`.',
    scope: 'payments:execute',
    tags: ['Bank'],
    body: NoteBody,
    act: (s) => payments.dispatch(s),
    statuses: [422],
  });
  action({
    name: 'complete',
    operationId: 'completePaymentBatch',
    summary: 'Declare a dispatched batch done',
    description:
      '`dispatched` → `completed`, once every payment has its result (409 `stillSent` otherwise). `metDeadline` tells whether an expedited batch made its deadline. Publishes `payment_batch.completed`.',
    scope: 'payments:execute',
    tags: ['Bank'],
    body: NoteBody,
    act: (s) => payments.complete(s),
  });
  action({
    name: 'reconcile',
    operationId: 'reconcilePaymentBatch',
    summary: 'Reconcile a completed batch',
    description:
      '`completed` → `reconciled` when declared = paid + failed + returned to the fen and the ledger agrees with the payments (409 with the `reconciliation` otherwise); the report is kept. Publishes `payment_batch.reconciled`.',
    scope: 'payments:approve',
    tags: ['Finance'],
    body: NoteBody,
    act: (s) => payments.reconcile(s),
  });

  app.post(
    '/v1/payment-batches/:id/results',
    {
      config: { scopes: ['payments:execute'] },
      // 10,000 results with references and times are about 1.5 MiB, over the service's default.
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        operationId: 'postPaymentResults',
        summary: 'Report payments’ results (JSON), by EndToEndId',
        description:
          'For a `dispatched` batch: each payment `sent` → `paid`, `failed` or `returned` (a reason code required for the last two), up to 10,000 a request. Idempotent by payment: a result already recorded is counted `unchanged`; a different result for a payment that has one is a 409 naming it. All or nothing: any bad result (400, 409) leaves every payment as it was. Moves the amounts in the ledger. Publishes `payment_batch.results_recorded`, and `payment.failed` for each failed or returned payment.',
        tags: ['Bank'],
        params: idParams,
        body: ResultsBody,
        response: { 200: ResultsAnswerSchema, ...problems(400, 404, 409) },
      },
    },
    async (request) => ({
      batchId: request.params.id,
      ...(await payments.postResults(callerOf(request), actorOf(request), request.params.id, request.body.results)),
    }),
  );
};
