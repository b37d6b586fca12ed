import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { decodeCursor, encodeCursor, isNumber, pageOf, pageQuery, problems } from '../../platform/http.js';
import { isUuid } from '../registry/welfare-contacts.routes.js';
import type { Caller } from './common.js';
import {
  BatchReconciliationSchema,
  ExclusionSchema,
  ItemListQuery,
  PaymentListQuery,
  PaymentSchema,
  PeriodReconciliationSchema,
  ReconciliationQuery,
} from './schemas.js';
import type { PaymentService } from './service.js';
import type { PaymentRow } from './view.js';

const idParams = z.object({ id: z.uuid() });
const tags = ['Civil affairs', 'Finance', 'Bank'];
const accounts =
  'Payees’ account numbers are whole for finance and banks (`payments:approve` or `payments:execute`) and masked to the last four for everyone else; every read naming payees is audited.';

/** Payments (a batch's or anyone's), what a generation left out, and reconciliation. */
export const paymentRoutes: FastifyPluginAsyncZod<{ payments: PaymentService }> = async (app, { payments }) => {
  const page = (caller: Caller, found: { items: PaymentRow[]; more: boolean }) => {
    const last = found.items.at(-1);
    return {
      items: found.items.map((i) => payments.paymentOut(i, caller)),
      nextCursor: found.more && last ? encodeCursor(last.id) : null,
    };
  };

  app.get(
    '/v1/payment-batches/:id/payments',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'listPaymentBatchPayments',
        summary: 'List a batch’s payments',
        description: `By id (cursor pages), each with its payee, EndToEndId and result. ${accounts}`,
        tags,
        params: idParams,
        querystring: ItemListQuery.extend(pageQuery),
        response: { 200: pageOf(PaymentSchema), ...problems(404) },
      },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const found = await payments.listBatchPayments(callerOf(request), actorOf(request), request.params.id, {
        status,
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      return page(callerOf(request), found);
    },
  );

  app.get(
    '/v1/payment-batches/:id/exclusions',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'listPaymentBatchExclusions',
        summary: 'List what a generation left out, and why',
        description:
          '`no_bank_account` (record one on the person), `no_payee` (a household without a head), `no_standard` (no price-subsidy standard in force), `zero_amount`. A follow-up batch pays those that can be paid by then.',
        tags: ['Civil affairs', 'Finance'],
        params: idParams,
        querystring: z.object(pageQuery),
        response: { 200: pageOf(ExclusionSchema), ...problems(404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const found = await payments.listExclusions(callerOf(request), request.params.id, {
        limit,
        after: decodeCursor(cursor, isNumber),
      });
      const last = found.items.at(-1);
      return {
        items: found.items.map((x) => ({
          enrollmentId: x.enrollmentId,
          failedPaymentId: x.failedItemId,
          householdId: x.householdId,
          personId: x.personId,
          region: x.region,
          reason: x.reason,
        })),
        nextCursor: found.more && last ? encodeCursor(last.id) : null,
      };
    },
  );

  app.get(
    '/v1/payment-batches/:id/reconciliation',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'getPaymentBatchReconciliation',
        summary: 'Reconcile a batch: declared = paid + failed + returned + pending, to the fen',
        description: 'From the batch’s payments and its ledger entries, as they stand now.',
        tags,
        params: idParams,
        response: { 200: BatchReconciliationSchema, ...problems(404) },
      },
    },
    async (request) => payments.batchReconciliation(callerOf(request), request.params.id),
  );

  app.get(
    '/v1/payments/reconciliation',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'getPaymentPeriodReconciliation',
        summary: 'Reconcile a program’s period in a region, batch by batch and in total',
        description:
          'Every batch (not rejected) of the program and period generated for a region inside `region` (your jurisdiction when omitted), each reconciled, and their sum.',
        tags,
        querystring: ReconciliationQuery,
        response: { 200: PeriodReconciliationSchema },
      },
    },
    async (request) => payments.periodReconciliation(callerOf(request), request.query),
  );

  app.get(
    '/v1/payments',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'listPayments',
        summary: 'List payments',
        description: `Payments to payees in your jurisdiction, by id (cursor pages); filter by person, enrollment, grant, batch, program, period or status. ${accounts}`,
        tags,
        querystring: PaymentListQuery.extend(pageQuery),
        response: { 200: pageOf(PaymentSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const found = await payments.listPayments(callerOf(request), actorOf(request), {
        ...filter,
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      return page(callerOf(request), found);
    },
  );

  app.get(
    '/v1/payments/:id',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'getPayment',
        summary: 'Read a payment',
        description: accounts,
        tags,
        params: idParams,
        response: { 200: PaymentSchema, ...problems(404) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return payments.paymentOut(await payments.getPayment(caller, actorOf(request), request.params.id), caller);
    },
  );
};
