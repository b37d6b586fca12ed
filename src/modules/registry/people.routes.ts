import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { validationError } from '../../platform/errors.js';
import {
  decodeCursor,
  encodeCursor,
  ifMatchVersion,
  isString,
  pageOf,
  pageQuery,
  problems,
} from '../../platform/http.js';
import type { RegionPage } from './people.reads.js';
import {
  BULK_MAX,
  BulkCreatedSchema,
  BulkHouseholdsBody,
  HouseholdSchema,
  MemberBody,
  NewHouseholdBody,
  NewPersonBody,
  PersonPatchBody,
  PersonSchema,
  PersonSearchBody,
} from './people.schemas.js';
import type { PeopleService } from './people.service.js';
import { regionCode } from './programs.schemas.js';

const tags = ['Civil affairs'];
const idParams = z.object({ id: z.uuid() });
const ifMatch = z.object({ 'if-match': z.string().max(100).optional() });
const masking =
  'ID numbers, phones and bank accounts are masked unless the caller holds `registry:read_sensitive` (`idNumberMasked`, `phoneMasked`, `accountNumberMasked` say which). Every read is audited with the persons it showed.';

const cursorOf = (last: { region: string; id: string } | undefined, more: boolean) =>
  more && last ? encodeCursor(`${last.region}|${last.id}`) : null;

function afterOf(cursor: string | undefined): RegionPage['after'] {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(\d{2,12})\|([0-9a-f-]{36})$/.exec(key);
  if (!match)
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  return { region: match[1]!, id: match[2]! };
}

const listQuery = z.object({
  ...pageQuery,
  region: regionCode.optional().describe('Region-code prefix, inside your jurisdiction'),
});

export const peopleRoutes: FastifyPluginAsyncZod<{ people: PeopleService }> = async (app, { people }) => {
  app.post(
    '/v1/households',
    {
      config: { scopes: ['registry:write'] },
      schema: {
        operationId: 'registerHousehold',
        summary: 'Register a household with its members',
        description: `The residence region must be a known region of county level or below inside your jurisdiction. Exactly one member is the head. A resident ID number is checked (GB 11643: length, birth date, check character) and gives the member's birth date and sex; for other documents they may be given. One person per identity document: a document registered already answers 409 naming the existing person when it lies in your jurisdiction (\`existingPersonId\`, \`existingHouseholdId\`), or saying only that it is registered elsewhere. Publishes \`household.registered\`. ${masking}`,
        tags,
        body: NewHouseholdBody,
        response: { 201: HouseholdSchema, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await people.registerHousehold(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/households/${body.id}`).header('etag', etag);
      return reply.code(201).send(body);
    },
  );

  app.post(
    '/v1/households/bulk',
    {
      bodyLimit: 16 * 1024 * 1024,
      config: { scopes: ['registry:write'] },
      schema: {
        operationId: 'registerHouseholdsBulk',
        summary: `Register up to ${BULK_MAX} households at once`,
        description: `For loading a registry at scale: each household as in registerHousehold. All are checked before anything is written (every bad field named, e.g. \`/households/12/members/0/idNumber\`), then inserted set-based in one transaction: all or nothing. Documents registered already answer 409 with \`conflicts\`, one entry per conflicting member (pointer, and the existing person when in your jurisdiction). Answers the new ids in the order of the request. Publishes \`household.registered\` for each. Bodies up to 16 MiB.`,
        tags,
        body: BulkHouseholdsBody,
        response: { 201: BulkCreatedSchema, ...problems(400, 409, 413) },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await people.registerHouseholdsBulk(callerOf(request), actorOf(request), request.body.households)),
  );

  app.get(
    '/v1/households',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'listHouseholds',
        summary: 'List households with their members',
        description: `Households whose residence region lies in your jurisdiction (and under \`region\`), ordered by region then id. ${masking}`,
        tags,
        querystring: listQuery,
        response: { 200: pageOf(HouseholdSchema), ...problems(400) },
      },
    },
    async (request) => {
      const { limit, cursor, region } = request.query;
      const page = await people.listHouseholds(callerOf(request), actorOf(request), {
        limit,
        region,
        after: afterOf(cursor),
      });
      return { items: page.items, nextCursor: cursorOf(page.last, page.more) };
    },
  );

  app.get(
    '/v1/households/:id',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'getHousehold',
        summary: 'Read a household with its members',
        description: `Members living outside your jurisdiction are left out. ${masking}`,
        tags,
        params: idParams,
        response: { 200: HouseholdSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await people.getHousehold(callerOf(request), actorOf(request), request.params.id);
      return reply.header('etag', etag).send(body);
    },
  );

  app.post(
    '/v1/households/:id/members',
    {
      config: { scopes: ['registry:write'] },
      schema: {
        operationId: 'addHouseholdMember',
        summary: 'Add a member to a household',
        description:
          'The member lives at the household’s region and address. A second head is refused (400 `/relationship`). Send the household’s `If-Match` to add only to the version you read. Publishes `person.registered`.',
        tags,
        params: idParams,
        headers: ifMatch,
        body: MemberBody,
        response: { 201: PersonSchema, ...problems(400, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { body, etag } = await people.addMember(
        callerOf(request),
        actorOf(request),
        id,
        request.body,
        ifMatchVersion(request.headers['if-match'], id, 'household'),
      );
      reply.header('location', `/v1/persons/${body.id}`).header('etag', etag);
      return reply.code(201).send(body);
    },
  );

  app.post(
    '/v1/persons',
    {
      config: { scopes: ['registry:write'] },
      schema: {
        operationId: 'registerPerson',
        summary: 'Register a person without a household',
        description:
          'E.g. a person stranded away from their place of household registration: `region` is where they are now, `hukouRegion` where they are registered (anywhere in China). Same document rules and 409 as registerHousehold. Publishes `person.registered`.',
        tags,
        body: NewPersonBody,
        response: { 201: PersonSchema, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await people.registerPerson(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/persons/${body.id}`).header('etag', etag);
      return reply.code(201).send(body);
    },
  );

  app.get(
    '/v1/persons',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'listPersons',
        summary: 'List persons',
        description: `Persons whose residence region lies in your jurisdiction (and under \`region\`), ordered by region then id. To find one by document or phone use searchPersons. ${masking}`,
        tags,
        querystring: listQuery,
        response: { 200: pageOf(PersonSchema), ...problems(400) },
      },
    },
    async (request) => {
      const { limit, cursor, region } = request.query;
      const page = await people.listPersons(callerOf(request), actorOf(request), {
        limit,
        region,
        after: afterOf(cursor),
      });
      return { items: page.items, nextCursor: cursorOf(page.last, page.more) };
    },
  );

  app.post(
    '/v1/persons/search',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'searchPersons',
        summary: 'Find persons by identity document or phone',
        description: `Give \`idNumber\` (with \`idType\`, resident_id when omitted) or \`phone\`. A POST so that the number travels in the body, never in a URL that proxies and access logs keep. Found through a keyed hash (blind index), within your jurisdiction only: a document registered elsewhere is not shown. At most 100 persons. ${masking}`,
        tags,
        body: PersonSearchBody,
        response: { 200: z.object({ items: z.array(PersonSchema), nextCursor: z.null() }), ...problems(400) },
      },
    },
    async (request) => {
      const { idType, idNumber, phone } = request.body;
      if ((idNumber === undefined) === (phone === undefined)) {
        throw validationError([{ in: 'body', pointer: '', detail: 'give either idNumber (with idType) or phone' }]);
      }
      const search = phone !== undefined ? { phone } : { idType: idType ?? 'resident_id', idNumber: idNumber! };
      return { ...(await people.searchPersons(callerOf(request), actorOf(request), search)), nextCursor: null };
    },
  );

  app.get(
    '/v1/persons/:id',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'getPerson',
        summary: 'Read a person',
        description: masking,
        tags,
        params: idParams,
        response: { 200: PersonSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const { body, etag } = await people.getPerson(callerOf(request), actorOf(request), request.params.id);
      return reply.header('etag', etag).send(body);
    },
  );

  app.patch(
    '/v1/persons/:id',
    {
      config: { scopes: ['registry:write'] },
      schema: {
        operationId: 'updatePerson',
        summary: 'Change a person’s contact, bank account, flags, address or region',
        description:
          'Only the fields given change; null removes an optional one. Name and document are not changed here. A new region must lie in your jurisdiction. Send `If-Match` with the ETag you read (412 when it changed meanwhile). Publishes `person.updated` naming the changed fields.',
        tags,
        params: idParams,
        headers: ifMatch,
        body: PersonPatchBody,
        response: { 200: PersonSchema, ...problems(400, 404, 412) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { body, etag } = await people.updatePerson(
        callerOf(request),
        actorOf(request),
        id,
        request.body,
        ifMatchVersion(request.headers['if-match'], id, 'person'),
      );
      return reply.header('etag', etag).send(body);
    },
  );
};
