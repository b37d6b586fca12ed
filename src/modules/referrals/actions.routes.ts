import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { ifMatchVersion, problems } from '../../platform/http.js';
import type { Scope } from '../../platform/scopes.js';
import type { Act } from './lifecycle.js';
import { NoteBody, ReasonBody, ReferralDetailSchema, TransferBody } from './schemas.js';
import type { ReferralService } from './service.js';

const idParams = z.object({ id: z.uuid() });
const ifMatch = z.object({ 'if-match': z.string().max(100).optional() });
const receiverTags = ['Health', 'CDC'];
const receiverOnly =
  ' Once a receiving client has acknowledged the referral, only that client answers it: another gets 409 `conflict` naming `receiverClientId`.';

type Answer = Awaited<ReturnType<ReferralService['get']>>;

/** The referral's lifecycle, one action each (scope, If-Match, step, event, audit row). */
export const referralActionRoutes: FastifyPluginAsyncZod<{ referrals: ReferralService }> = async (
  app,
  { referrals },
) => {
  const action = <B extends z.ZodType>(spec: {
    name: string;
    operationId: string;
    summary: string;
    description: string;
    scope: Scope;
    tags: string[];
    body: B;
    act: (s: Act, body: z.infer<B>) => Promise<Answer>;
    statuses?: number[];
  }) =>
    app.post(
      `/v1/referrals/:id/${spec.name}`,
      {
        config: { scopes: [spec.scope] },
        schema: {
          operationId: spec.operationId,
          summary: spec.summary,
          description: `${spec.description} 409 invalid-state (with \`currentState\`) from any other state. Send \`If-Match\` to act only on the version you read (412 when it changed). 404 outside your jurisdiction.`,
          tags: spec.tags,
          params: idParams,
          headers: ifMatch,
          body: spec.body,
          response: { 200: ReferralDetailSchema, ...problems(400, 404, 409, 412, ...(spec.statuses ?? [])) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const version = ifMatchVersion(request.headers['if-match'], id, 'referral');
        const s = { caller: callerOf(request), actor: actorOf(request), id, version };
        const { body, etag } = await spec.act(s, request.body as z.infer<B>);
        return reply.header('etag', etag).send(body);
      },
    );

  action({
    name: 'acknowledge',
    operationId: 'acknowledgeReferral',
    summary: 'Acknowledge a referral: take it on',
    description:
      '`reported` → `acknowledged`. Your client becomes the referral’s receiver and answers it from now on. Publishes `referral.acknowledged`.',
    scope: 'referrals:receive',
    tags: receiverTags,
    body: NoteBody,
    act: (s, body) => referrals.acknowledge(s, body.note),
  });
  action({
    name: 'transfer',
    operationId: 'transferReferral',
    summary: 'Record the transfer to a designated hospital',
    description: `\`acknowledged\` → \`transferred\`, with the hospital and when (now when omitted). Publishes \`referral.transferred\`.${receiverOnly}`,
    scope: 'referrals:receive',
    tags: receiverTags,
    body: TransferBody,
    act: (s, body) => referrals.transfer(s, body),
  });
  action({
    name: 'confirm',
    operationId: 'confirmReferral',
    summary: 'Report the outcome: confirmed',
    description: `\`transferred\` → \`confirmed\`. Publishes \`referral.confirmed\` (referralId, personId, householdId, onsetDate, region: what the close-contact handoff to the CDC starts from).${receiverOnly}`,
    scope: 'referrals:receive',
    tags: receiverTags,
    body: NoteBody,
    act: (s, body) => referrals.confirm(s, body.note),
  });
  action({
    name: 'exclude',
    operationId: 'excludeReferral',
    summary: 'Report the outcome: excluded',
    description: `\`transferred\` → \`excluded\`: not a case. Publishes \`referral.excluded\`.${receiverOnly}`,
    scope: 'referrals:receive',
    tags: receiverTags,
    body: NoteBody,
    act: (s, body) => referrals.exclude(s, body.note),
  });
  action({
    name: 'reject',
    operationId: 'rejectReferral',
    summary: 'Send a referral back to civil affairs: not ours',
    description: `\`reported\` or \`acknowledged\` → \`rejected\`, with the reason (e.g. the person lives in another district). Civil affairs may then report it again, rightly routed. Publishes \`referral.rejected\`.${receiverOnly}`,
    scope: 'referrals:receive',
    tags: receiverTags,
    body: ReasonBody,
    act: (s, body) => referrals.reject(s, body.reason),
  });
  action({
    name: 'cancel',
    operationId: 'cancelReferral',
    summary: 'Withdraw a referral, with a reason',
    description: '`reported`, `acknowledged` or `transferred` → `cancelled`. Publishes `referral.cancelled`.',
    scope: 'referrals:create',
    tags: ['Civil affairs'],
    body: ReasonBody,
    act: (s, body) => referrals.cancel(s, body.reason),
  });
};
