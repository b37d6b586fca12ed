import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, isString, pageOf, pageQuery, problems } from '../../platform/http.js';
import { receiptOut } from './receipts.service.js';
import { isUuid, NewReceiptBody, ReceiptQuery, ReceiptSchema, StockQuery, StockSchema } from './schemas.js';
import type { InKindService } from './service.js';

const readers = ['Civil affairs', 'Finance'];

function stockCursor(cursor: string | undefined) {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(\d{2,12})\|([a-z][a-z0-9_]{1,49})$/.exec(key);
  if (!match)
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  return { region: match[1]!, itemCode: match[2]! };
}

export const inKindStockRoutes: FastifyPluginAsyncZod<{ inKind: InKindService }> = async (app, { inKind }) => {
  app.post(
    '/v1/in-kind/receipts',
    {
      config: { scopes: ['payments:prepare'] },
      schema: {
        operationId: 'recordInKindReceipt',
        summary: 'Record a delivery of in-kind aid into a region’s stock',
        description:
          'Adds each line’s quantity to the stock of `region` (inside your jurisdiction) in one transaction. `reference` (the delivery note or waybill) makes it idempotent: the same reference and region again with the same source, supplier and lines answers 200 with the receipt already recorded and adds nothing; with other contents, 409 naming `existingReceiptId`. Retired items take no receipts (400 naming the line). Publishes `in_kind_receipt.recorded`.',
        tags: ['Civil affairs'],
        body: NewReceiptBody,
        response: { 200: ReceiptSchema, 201: ReceiptSchema, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const { receipt, created } = await inKind.recordReceipt(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/in-kind/receipts/${receipt.id}`);
      return reply.code(created ? 201 : 200).send(receiptOut(receipt));
    },
  );

  app.get(
    '/v1/in-kind/receipts/:id',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'getInKindReceipt',
        summary: 'Read one receipt',
        tags: readers,
        params: z.object({ id: z.uuid() }),
        response: { 200: ReceiptSchema, ...problems(404) },
      },
    },
    async (request) => receiptOut(await inKind.getReceipt(callerOf(request), request.params.id)),
  );

  app.get(
    '/v1/in-kind/receipts',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'listInKindReceipts',
        summary: 'List receipts',
        description: 'Inside your jurisdiction, newest received first.',
        tags: readers,
        querystring: ReceiptQuery.extend(pageQuery),
        response: { 200: pageOf(ReceiptSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await inKind.listReceipts(callerOf(request), filter, { limit, after: decodeCursor(cursor, isUuid) });
      const last = page.items.at(-1);
      return { items: page.items.map(receiptOut), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/v1/in-kind/stock',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'listInKindStock',
        summary: 'What each region holds of each item',
        description:
          'Inside your jurisdiction, by region then item code: held now (`quantity`), and everything received and handed out. A region and item with no receipt yet has no row (it holds nothing).',
        tags: readers,
        querystring: StockQuery.extend(pageQuery),
        response: { 200: pageOf(StockSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await inKind.listStock(callerOf(request), filter, { limit, after: stockCursor(cursor) });
      const last = page.items.at(-1);
      return {
        items: page.items.map(({ stock, item }) => ({
          region: stock.region,
          itemCode: item.code,
          itemName: item.name,
          unit: item.unit,
          quantity: stock.quantity,
          received: stock.received,
          distributed: stock.distributed,
          updatedAt: stock.updatedAt.toISOString(),
        })),
        nextCursor: page.more && last ? encodeCursor(`${last.stock.region}|${last.item.code}`) : null,
      };
    },
  );
};
