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
import type { Scope } from '../../platform/scopes.js';
import {
  ApplicationListQuery,
  applicationOut,
  ApplicationSchema,
  applicationSummaryOut,
  ApplicationSummarySchema,
  ifMatchHeader,
  NewApplicationBody,
  ReasonBody,
  ReasonsBody,
  SurveyBody,
  VerificationBody,
} from './applications.schemas.js';
import type { ApplicationFilter, ApplicationService } from './applications.service.js';

const idParams = z.object({ id: z.uuid() });
const readers = ['Civil affairs', 'Portal'];

function afterOf(cursor: string | undefined): ApplicationFilter['after'] {
  const key = decodeCursor(cursor, isString);
  if (key === undefined) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|([0-9a-f-]{36})$/.exec(key);
  if (!match)
    throw validationError([{ in: 'query', pointer: '/cursor', detail: 'is not a cursor this list gave out' }]);
  return { submittedAt: match[1]!, id: match[2]! };
}

const stateful = (...statuses: number[]) => problems(404, 409, 412, ...statuses);

export const applicationRoutes: FastifyPluginAsyncZod<{ applications: ApplicationService }> = async (
  app,
  { applications },
) => {
  app.post(
    '/v1/applications',
    {
      config: { scopes: ['applications:write'] },
      schema: {
        operationId: 'submitApplication',
        summary: 'Submit an application for dibao, tekun or the price subsidy',
        description:
          'For a household inside your jurisdiction: a registered one by `householdId` (`personId`: a member; required for tekun, the person to support), or one described by its members in `household` (`memberIndex`: the applicant; the head when omitted), as a portal does: when none of its documents is registered yet it is registered with the application in one transaction; when all its members are registered together in one household of your jurisdiction, that household applies; anything in between is a 409 for a caseworker to reconcile. A portal’s application has channel `portal`, a caseworker’s `caseworker`. When the emergency policy in force for the household’s region has fast track, the application needs no home visit and is decided within the policy’s shortened deadline; otherwise the program’s deadline applies and a home visit is required. It starts `verifying`: economic verification is requested. One open application per household and program (per person for tekun), and none while an enrollment is live: 409 naming it. Publishes `application.submitted`.',
        tags: readers,
        body: NewApplicationBody,
        response: { 201: ApplicationSchema, ...problems(400, 409) },
      },
    },
    async (request, reply) => {
      const created = await applications.submit(callerOf(request), actorOf(request), request.body);
      reply.header('location', `/v1/applications/${created.id}`).header('etag', etagOf(created));
      return reply.code(201).send(applicationOut(created, applications.today()));
    },
  );

  app.get(
    '/v1/applications',
    {
      config: { scopes: ['applications:read'] },
      schema: {
        operationId: 'listApplications',
        summary: 'List applications',
        description:
          'Newest first. Caseworkers see every application inside their jurisdiction; a portal sees only the applications it submitted. `overdue=true`: undecided applications past their decision due date.',
        tags: readers,
        querystring: z.object({ ...pageQuery, ...ApplicationListQuery.shape }),
        response: { 200: pageOf(ApplicationSummarySchema) },
      },
    },
    async (request) => {
      const { limit, cursor, overdue, ...filter } = request.query;
      const page = await applications.list(callerOf(request), {
        ...filter,
        overdue: overdue === undefined ? undefined : overdue === 'true',
        limit,
        after: afterOf(cursor),
      });
      const last = page.items.at(-1);
      const today = applications.today();
      return {
        items: page.items.map((a) => applicationSummaryOut(a, today)),
        nextCursor: page.more && last ? encodeCursor(`${last.submittedAt.toISOString()}|${last.id}`) : null,
      };
    },
  );

  app.get(
    '/v1/applications/:id',
    {
      config: { scopes: ['applications:read'] },
      schema: {
        operationId: 'getApplication',
        summary: 'Read an application with its full history',
        description:
          'Every action (submission, surveys, verification, decision) with who and when. A portal reads only the applications it submitted: any other answers 404, as does one outside your jurisdiction.',
        tags: readers,
        params: idParams,
        response: { 200: ApplicationSchema, ...problems(404) },
      },
    },
    async (request, reply) => {
      const found = await applications.get(callerOf(request), actorOf(request), request.params.id);
      return reply.header('etag', etagOf(found)).send(applicationOut(found, applications.today()));
    },
  );

  /** An action on an application: POST /v1/applications/{id}/<name>, If-Match honoured, the new ETag returned. */
  function action<B extends z.ZodType>(spec: {
    name: string;
    operationId: string;
    summary: string;
    description: string;
    scope: Scope;
    tags: string[];
    body: B;
    extraProblems?: number[];
    run: (
      caller: ReturnType<typeof callerOf>,
      actor: ReturnType<typeof actorOf>,
      id: string,
      body: z.infer<B>,
      version: number | undefined,
    ) => ReturnType<ApplicationService['reject']>;
  }) {
    app.post(
      `/v1/applications/:id/${spec.name}`,
      {
        config: { scopes: [spec.scope] },
        schema: {
          operationId: spec.operationId,
          summary: spec.summary,
          description: `${spec.description} Send \`If-Match\` to act only on the version you read (412 when it changed); 409 invalid-state with \`currentState\` when the action is not allowed.`,
          tags: spec.tags,
          params: idParams,
          headers: ifMatchHeader,
          body: spec.body,
          response: { 200: ApplicationSchema, ...stateful(...(spec.extraProblems ?? [])) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const version = ifMatchVersion(request.headers['if-match'], id, 'application');
        const changed = await spec.run(callerOf(request), actorOf(request), id, request.body as z.infer<B>, version);
        return reply.header('etag', etagOf(changed)).send(applicationOut(changed, applications.today()));
      },
    );
  }

  action({
    name: 'phone-survey',
    operationId: 'recordApplicationPhoneSurvey',
    summary: 'Record the phone survey (电话调查) of an application',
    description:
      'Who called, when, and what they found; any time before the decision (a second one replaces the first; both stay in the history).',
    scope: 'applications:decide',
    tags: ['Civil affairs'],
    body: SurveyBody,
    run: (caller, actor, id, body, version) => applications.recordPhoneSurvey(caller, actor, id, body, version),
  });

  action({
    name: 'home-visit',
    operationId: 'recordApplicationHomeVisit',
    summary: 'Record the home visit of an application',
    description:
      'Who visited, when, and what they found; required before approval unless the application is fast-tracked.',
    scope: 'applications:decide',
    tags: ['Civil affairs'],
    body: SurveyBody,
    run: (caller, actor, id, body, version) => applications.recordHomeVisit(caller, actor, id, body, version),
  });

  action({
    name: 'verification',
    operationId: 'recordApplicationVerification',
    summary: 'Record economic verification’s answer for an application',
    description:
      'Verified household income and financial assets, whether the household passed, and every rule with its outcome and sources. The matching module records its answers itself; this operation is for a verification answered by hand (`source: manual`) or by an external system. Moves the application from `verifying` to `verified`.',
    scope: 'matching:verify',
    tags: ['Civil affairs'],
    body: VerificationBody,
    run: (caller, actor, id, body, version) =>
      applications.recordVerification(id, body, actor, { caller, expectedVersion: version }),
  });

  action({
    name: 'approve',
    operationId: 'approveApplication',
    summary: 'Approve an application, creating the enrollment',
    description:
      'Only from `verified`, with verification passed, a phone survey recorded and, unless fast-tracked, a home visit (422 listing what is `missing`). Creates the enrollment in the same transaction: its monthly benefit by the standard in force for the household’s region today (422 when none is, or when dibao would pay nothing), starting today, with its first review due after the program’s review interval. Publishes `application.decided` and `enrollment.created`.',
    scope: 'applications:decide',
    tags: ['Civil affairs'],
    body: ReasonsBody,
    extraProblems: [422],
    run: (caller, actor, id, body, version) => applications.approve(caller, actor, id, body.reasons, version),
  });

  action({
    name: 'reject',
    operationId: 'rejectApplication',
    summary: 'Reject an application, with reasons',
    description: 'From `verifying` or `verified`. Publishes `application.decided`.',
    scope: 'applications:decide',
    tags: ['Civil affairs'],
    body: ReasonsBody,
    run: (caller, actor, id, body, version) => applications.reject(caller, actor, id, body.reasons, version),
  });

  action({
    name: 'withdraw',
    operationId: 'withdrawApplication',
    summary: 'Withdraw an application before its decision',
    description:
      'At the resident’s request; a portal withdraws only what it submitted. Publishes `application.withdrawn`.',
    scope: 'applications:write',
    tags: readers,
    body: ReasonBody,
    run: (caller, actor, id, body, version) => applications.withdraw(caller, actor, id, body.reason, version),
  });
};
