import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, etagOf, isString, pageOf, pageQuery, problems } from '../../platform/http.js';
import { itemOut } from './items.service.js';
import { ItemPatchBody, ItemSchema, itemCode, NewItemBody } from './schemas.js';
import type { InKindService } from './service.js';

/** Who handles in-kind aid reads the catalogue; operators keep it. */
const readers = ['Civil affairs', 'Finance', 'Admin'];
const codeParams = z.object({ code: itemCode });

const codeCursor = (cursor: string | undefined) => {
  const code = decodeCursor(cursor, isString);
  if (code !== undefined && !/^[a-z][a-z0-9_]{1,49}$/.test(code)) {
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  }
  return code;
};

export const inKindItemRoutes: FastifyPluginAsyncZod<{ inKind: InKindService }> = async (app, { inKind }) => {
  app.post(
    '/v1/in-kind/items',
    {
      config: { scopes: ['programs:manage'] },
      schema: {
        operationId: 'createInKindItem',
        summary: 'Add an item to the in-kind catalogue',
        description:
          'Masks, protective items, food parcels, …: a code, a name and the unit quantities are counted in. The catalogue is city-wide; codes are unique (409 when taken) and, like the unit, never change.',
        tags: ['Admin'],
        body: NewItemBody,
        response: { 201: ItemSchema, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const row = await inKind.createItem(actorOf(request), request.body);
      reply.header('location', `/v1/in-kind/items/${row.code}`);
      return reply.code(201).header('etag', etagOf(row)).send(itemOut(row));
    },
  );

  app.get(
    '/v1/in-kind/items',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'listInKindItems',
        summary: 'List the in-kind catalogue',
        description: 'By code. `active=true` leaves out retired items.',
        tags: readers,
        querystring: z.object({ ...pageQuery, active: z.enum(['true', 'false']).optional() }),
        response: { 200: pageOf(ItemSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, active } = request.query;
      const page = await inKind.listItems({
        limit,
        after: codeCursor(cursor),
        active: active === undefined ? undefined : active === 'true',
      });
      const last = page.items.at(-1);
      return { items: page.items.map(itemOut), nextCursor: page.more && last ? encodeCursor(last.code) : null };
    },
  );

  app.get(
    '/v1/in-kind/items/:code',
    {
      config: { scopes: ['payments:read'] },
      schema: {
        operationId: 'getInKindItem',
        summary: 'Read one catalogue item',
        tags: readers,
        params: codeParams,
        response: { 200: ItemSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const row = await inKind.getItem(request.params.code);
      return reply.header('etag', etagOf(row)).send(itemOut(row));
    },
  );

  app.patch(
    '/v1/in-kind/items/:code',
    {
      config: { scopes: ['programs:manage'] },
      schema: {
        operationId: 'updateInKindItem',
        summary: 'Rename, describe or retire a catalogue item',
        description:
          'Only the fields given change. A retired item (`active: false`) takes no more receipts; what is left in stock may still be handed out. Send `If-Match` with the ETag you read (412 when it changed meanwhile).',
        tags: ['Admin'],
        params: codeParams,
        headers: z.object({ 'if-match': z.string().max(100).optional() }),
        body: ItemPatchBody,
        response: { 200: ItemSchema, ...problems(400, 404, 412) },
      },
    },
    async (request, reply) => {
      const row = await inKind.updateItem(
        actorOf(request),
        request.params.code,
        request.body,
        request.headers['if-match'],
      );
      return reply.header('etag', etagOf(row)).send(itemOut(row));
    },
  );
};
