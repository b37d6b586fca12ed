import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditActor } from '../../platform/audit/service.js';
import { actorOf, callerOf } from '../../platform/auth.js';
import type { Jurisdictional } from '../../platform/jurisdiction.js';
import {
  decodeCursor,
  encodeCursor,
  etagOf,
  ifMatchVersion,
  pageOf,
  pageQuery,
  problems,
} from '../../platform/http.js';
import {
  CloseTemporaryAssistanceBody,
  CompleteTemporaryAssistanceBody,
  GrantTemporaryAssistanceBody,
  NewTemporaryAssistanceBody,
  TemporaryAssistanceQuery,
  TemporaryAssistanceSchema,
} from './assistance.schemas.js';
import { assistanceOut } from './temporary-assistance.queries.js';
import type { AssistanceRow } from './temporary-assistance.rules.js';
import type { TemporaryAssistanceService } from './temporary-assistance.service.js';
import { isUuid } from './welfare-contacts.routes.js';

type Caller = Jurisdictional;
const tags = ['Civil affairs'];
const idParams = z.object({ id: z.uuid() });
const ifMatch = z.object({ 'if-match': z.string().max(100).optional() });

const grantRules =
  'Cash may not exceed the `temporary_assistance` standard in force for the region (its `monthlyStandardFen` is the largest one-off grant; 400 on `/cashFen`, and 422 when no standard is in force); in-kind aid alone needs no standard. ' +
  'A person whose hukou is outside the district of the place of emergency is non-local: refused with 422 under normal rules (aid is granted where the hukou is); under an emergency policy that relaxes hukou they may be aided here, and `strandedReason` and `infectionStatus` are then required. ' +
  'Under an emergency policy, a person already granted aid for that emergency anywhere is refused with 409 `existingGrant: { region, grantedAt }` (its `id` only when it lies in your jurisdiction). ' +
  'Paperwork is due within the program’s `paperworkDeadlineDays`. Publishes `temporary_assistance.granted`.';

export const temporaryAssistanceRoutes: FastifyPluginAsyncZod<{ assistance: TemporaryAssistanceService }> = async (
  app,
  { assistance },
) => {
  const out = (row: AssistanceRow) => assistanceOut(row, assistance.today());

  app.post(
    '/v1/temporary-assistance',
    {
      config: { scopes: ['assistance:write'] },
      schema: {
        operationId: 'grantTemporaryAssistanceOnSpot',
        summary: 'Grant temporary assistance on the spot',
        description: `Aid first, paperwork after: the assistance is \`granted\` at once. \`region\` is the place of emergency, inside your jurisdiction; the person may be registered anywhere in the city. ${grantRules}`,
        tags,
        body: NewTemporaryAssistanceBody,
        response: { 201: TemporaryAssistanceSchema, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const row = await assistance.grantOnSpot(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/temporary-assistance/${row.id}`);
      return reply.code(201).header('etag', etagOf(row)).send(out(row));
    },
  );

  app.get(
    '/v1/temporary-assistance/:id',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'getTemporaryAssistance',
        summary: 'Read one temporary assistance',
        tags,
        params: idParams,
        response: { 200: TemporaryAssistanceSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const row = await assistance.get(callerOf(request), actorOf(request), request.params.id);
      return reply.header('etag', etagOf(row)).send(out(row));
    },
  );

  app.get(
    '/v1/temporary-assistance',
    {
      config: { scopes: ['registry:read'] },
      schema: {
        operationId: 'listTemporaryAssistance',
        summary: 'List temporary assistance',
        description:
          'Inside your jurisdiction (by place of emergency), newest opened first. `overduePaperwork=true`: granted, and the paperwork is past its due date.',
        tags,
        querystring: TemporaryAssistanceQuery.extend(pageQuery),
        response: { 200: pageOf(TemporaryAssistanceSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, overduePaperwork, ...filter } = request.query;
      const page = await assistance.list(callerOf(request), actorOf(request), {
        ...filter,
        overduePaperwork: overduePaperwork === undefined ? undefined : overduePaperwork === 'true',
        limit,
        after: decodeCursor(cursor, isUuid),
      });
      const last = page.items.at(-1);
      return { items: page.items.map(out), nextCursor: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  type Acting<B> = { caller: Caller; actor: AuditActor; id: string; body: B; version: number | undefined };
  const action = <B extends z.ZodType>(
    name: string,
    summary: string,
    description: string,
    body: B,
    act: (a: Acting<z.infer<B>>) => Promise<AssistanceRow>,
    statuses: number[] = [],
  ) =>
    app.post(
      `/v1/temporary-assistance/:id/${name}`,
      {
        config: { scopes: ['assistance:write'] },
        schema: {
          operationId: `${name}TemporaryAssistance`,
          summary,
          description: `${description} 409 invalid-state (with \`currentState\`) from any other state. Send \`If-Match\` to act only on the version you read.`,
          tags,
          params: idParams,
          headers: ifMatch,
          body,
          response: { 200: TemporaryAssistanceSchema, ...problems(404, 409, 412, ...statuses) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const version = ifMatchVersion(request.headers['if-match'], id, 'temporary assistance');
        const row = await act({
          caller: callerOf(request),
          actor: actorOf(request),
          id,
          body: request.body as z.infer<B>,
          version,
        });
        return reply.header('etag', etagOf(row)).send(out(row));
      },
    );

  action(
    'grant',
    'Grant opened temporary assistance',
    `Grants assistance a hardship finding opened: \`opened\` → \`granted\`, at its region. ${grantRules}`,
    GrantTemporaryAssistanceBody,
    ({ caller, actor, id, body, version }) => assistance.grant(caller, actor, id, body, version),
    [400, 422],
  );
  action(
    'complete',
    'Record that a grant’s paperwork is done',
    '`granted` → `completed`; `paperworkOnTime` says whether it was done by `paperworkDueDate` (Asia/Shanghai). Publishes `temporary_assistance.completed`.',
    CompleteTemporaryAssistanceBody,
    ({ caller, actor, id, body, version }) => assistance.complete(caller, actor, id, body.notes, version),
  );
  action(
    'refuse',
    'Refuse opened temporary assistance',
    '`opened` → `refused`, with the reason. Publishes `temporary_assistance.refused`.',
    CloseTemporaryAssistanceBody,
    ({ caller, actor, id, body, version }) => assistance.refuse(caller, actor, id, body.reason, version),
  );
  action(
    'cancel',
    'Cancel a temporary assistance grant',
    '`granted` → `cancelled`, e.g. granted in error: what was not yet paid must not be. A payment of the grant still waiting for the bank (its batch `draft`, `submitted` or `approved`) is withdrawn at once: the batch becomes `cancelled`, its payment `cancelled` (never written into a pain.001; counted `cancelled` in reconciliation) and, once approved, its funds are given back in the ledger; publishes `payment_batch.cancelled`. A payment the bank has (its batch dispatched) or has paid: 409 `conflict` naming the `batchId`, `paymentId` and `paymentStatus`, and nothing changes; once the bank reports it failed or returned the grant can be cancelled, and it is not re-issued. Publishes `temporary_assistance.cancelled`.',
    CloseTemporaryAssistanceBody,
    ({ caller, actor, id, body, version }) => assistance.cancel(caller, actor, id, body.reason, version),
  );
};
