import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { ProblemError } from '../../platform/errors.js';
import {
  decodeCursor,
  encodeCursor,
  etagOf,
  ifMatchVersion,
  pageOf,
  pageQuery,
  problems,
} from '../../platform/http.js';
import type { Scope } from '../../platform/scopes.js';
import { isUuid } from '../registry/welfare-contacts.routes.js';
import { type Pain002Report, readPain002 } from './bank.pain002.js';
import {
  PayerAccountBody,
  PayerAccountQuery,
  PayerAccountReplaceBody,
  PayerAccountSchema,
  payerAccountOut,
  StatusReportAnswerSchema,
} from './bank.schemas.js';
import type { BankService } from './bank.service.js';

const idParams = z.object({ id: z.uuid() });
const xmlTypes = ['application/xml', 'text/xml'];
const accountScopes: Scope[] = ['payments:execute', 'payments:approve'];

/** Bank exchange: the payer accounts finance keeps, the pain.001 a bank collects, the pain.002 it answers with. */
export const bankRoutes: FastifyPluginAsyncZod<{ bank: BankService }> = async (app, { bank }) => {
  // A status report is read as it arrives (this plugin's routes only); the handler gets the report.
  app.addContentTypeParser(xmlTypes, async (_request: unknown, payload: AsyncIterable<Buffer>) => readPain002(payload));

  app.get(
    '/v1/payment-payer-accounts',
    {
      config: { scopes: ['payments:approve'] },
      schema: {
        operationId: 'listPayerAccounts',
        summary: 'List the fund accounts payments are made from',
        tags: ['Finance'],
        querystring: PayerAccountQuery.extend(pageQuery),
        response: { 200: pageOf(PayerAccountSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await bank.accounts.list(callerOf(request), {
        ...filter,
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      return { items: page.items.map(payerAccountOut), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  app.post(
    '/v1/payment-payer-accounts',
    {
      config: { scopes: ['payments:approve'] },
      schema: {
        operationId: 'createPayerAccount',
        summary: 'Set the fund account a program’s payments in a region are made from',
        description:
          'One account per program and region (409 with `existingId` when there is one: change it with PUT). A batch is paid from its program’s account whose region is the longest prefix of the batch’s region: a district’s own, else the city’s. Its pain.001 names it as the debtor (Dbtr, DbtrAcct, DbtrAgt).',
        tags: ['Finance'],
        body: PayerAccountBody,
        response: { 201: PayerAccountSchema, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const row = await bank.accounts.create(callerOf(request), actorOf(request), request.body);
      return reply
        .code(201)
        .header('location', `/v1/payment-payer-accounts/${row.id}`)
        .header('etag', etagOf(row))
        .send(payerAccountOut(row));
    },
  );

  app.get(
    '/v1/payment-payer-accounts/:id',
    {
      config: { scopes: ['payments:approve'] },
      schema: {
        operationId: 'getPayerAccount',
        summary: 'Read a payer account',
        tags: ['Finance'],
        params: idParams,
        response: { 200: PayerAccountSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const row = await bank.accounts.get(callerOf(request), request.params.id);
      return reply.header('etag', etagOf(row)).send(payerAccountOut(row));
    },
  );

  app.put(
    '/v1/payment-payer-accounts/:id',
    {
      config: { scopes: ['payments:approve'] },
      schema: {
        operationId: 'replacePayerAccount',
        summary: 'Change a payer account',
        description:
          'Replaces the account’s name, number and bank (its program and region stay). Batches whose file the bank has collected keep the account they were sent with. Send `If-Match` to change only the version you read (412 when it changed).',
        tags: ['Finance'],
        params: idParams,
        headers: z.object({ 'if-match': z.string().max(100).optional() }),
        body: PayerAccountReplaceBody,
        response: { 200: PayerAccountSchema, ...problems(400, 404, 412) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const version = ifMatchVersion(request.headers['if-match'], id, 'payer account');
      const row = await bank.accounts.replace(callerOf(request), actorOf(request), id, version, request.body);
      return reply.header('etag', etagOf(row)).send(payerAccountOut(row));
    },
  );

  app.get(
    '/v1/payment-batches/:id/pain.001',
    {
      // A HEAD would be a download too (audited, accounts opened) with nothing to show for it.
      exposeHeadRoute: false,
      config: { scopes: ['payments:read'], anyOfScopes: accountScopes },
      schema: {
        operationId: 'downloadPaymentBatchPain001',
        summary: 'Collect a dispatched batch as ISO 20022 pain.001.001.03 XML, streamed',
        description:
          'The file holds payees’ account numbers whole: it needs `payments:execute` (banks) or `payments:approve` (finance) besides `payments:read` (403 otherwise). For a batch that is `dispatched` (or later): one group header (MsgId, CreDtTm, NbOfTxs, CtrlSum, InitgPty), one PmtInf debiting the payer account set for the batch’s program and region (dispatching needs one; 422 for a batch dispatched without), one CdtTrfTxInf per payment with its EndToEndId, amount in yuan (CNY), creditor agent, name and account. The first collection fixes MsgId, CreDtTm and the payer account; every later one is the same file (the bank tells repeats by MsgId). Streamed as it is read; every collection is audited. 409 invalid-state before dispatch.',
        tags: ['Bank', 'Finance'],
        params: idParams,
        response: {
          200: {
            description: 'The pain.001 document',
            content: { 'application/xml': { schema: z.string().describe('pain.001.001.03 XML') } },
          },
          ...problems(403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const file = await bank.openFile(caller, actorOf(request), request.params.id);
      reply
        .header('content-type', 'application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .header('cache-control', 'no-store');
      // The schema documents the body as text; fastify pipes a stream as it is, unserialised.
      return reply.send(Readable.from(file.body(), { objectMode: false }) as unknown as string);
    },
  );

  app.post(
    '/v1/payment-batches/:id/pain.002',
    {
      config: { scopes: ['payments:execute'] },
      schema: {
        operationId: 'postPaymentStatusReport',
        summary: 'Report payments’ results as an ISO 20022 pain.002.001.03 status report',
        description: [
          'Body `application/xml`: a CstmrPmtStsRpt whose OrgnlGrpInfAndSts names the batch’s pain.001 (OrgnlMsgId, OrgnlMsgNmId pain.001.001.03). Each TxInfAndSts is matched by OrgnlEndToEndId; its TxSts (else PmtInfSts, else GrpSts) says what happened: ACSC (settlement completed) and ACWC (accepted with change) mark the payment `paid`, RJCT `failed` with StsRsnInf/Rsn/Cd (else the block’s or group’s reason) as reason code and AddtlInf as detail; ACTC, ACCP (AcceptedCustomerProfile: technical and profile checks passed, nothing settled), ACSP and PDNG are not final and record nothing (`interim`): the bank reports again once the payment is settled or rejected. AccptncDtTm is when it was settled (China Standard Time when it has no offset), AcctSvcrRef the bank’s reference. A final PmtInfSts or GrpSts with no TxInfAndSts listed settles every payment of the file still awaiting its result.',
          'Recorded as `POST …/results` records JSON results: for a `dispatched` batch, idempotent by payment (a repeated report is counted `unchanged`), all or nothing. Any problem refuses the whole report: a body that is not well-formed XML or not a pain.002 is a 400 `malformed-request` naming line and column; wrong or unknown elements (an unknown OrgnlEndToEndId, a missing reason) a 400 `validation-error` whose `errors` point at each element by XPath; a result contradicting one recorded a 409. At most 100,000 TxInfAndSts and 64 MiB a report (413).',
        ].join('\n\n'),
        tags: ['Bank'],
        params: idParams,
        // Documentation only: the body is read by the XML parser above as it streams.
        consumes: xmlTypes,
        body: z.any().describe('A pain.002.001.03 Document (CstmrPmtStsRpt)'),
        response: { 200: StatusReportAnswerSchema, ...problems(400, 404, 409, 413, 415) },
      },
    },
    async (request) => {
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!xmlTypes.includes(mediaType)) {
        throw new ProblemError(415, 'unsupported-media-type', 'Send the status report as application/xml.');
      }
      const report = request.body as Pain002Report;
      return bank.postStatusReport(callerOf(request), actorOf(request), request.params.id, report);
    },
  );
};
