/**
 * The authorization matrix (issue 10, item 1): for every operation of the OpenAPI document, the
 * scopes it needs and so the agencies that may call it, and what the id in its path names. The test
 * beside it (authorization.test.ts) walks the whole document against this table: an operation
 * without a row, or a row without an operation, fails it; so does any answer that differs.
 *
 * The rules every row follows unless it says otherwise (API.md, "Who is calling"):
 * - no credentials: 401; a scope the client lacks: 403 problem+json (checked before anything else);
 * - an agency may call an operation when its default scopes (src/platform/scopes.ts) hold every
 *   scope of `scopes`, and one of `anyOf` when the handler asks for one more;
 * - an object outside the caller's jurisdiction answers 404, as one that does not exist would.
 */
import { type Agency, agencies, defaultScopes, type Scope } from '../../src/platform/scopes.js';

/** What an id in a path names, when it is kept by jurisdiction (or by owner): one of each is made in district 220102. */
export const resourceKinds = [
  'client',
  'clientKey',
  'job',
  'webhookSubscription',
  'household',
  'person',
  'programStandard',
  'policy',
  'temporaryAssistance',
  'welfareContact',
  'application',
  'enrollment',
  'review',
  'verification',
  'matchingSource',
  'matchingSnapshot',
  'matchingUpload',
  'matchingRun',
  'paymentBatch',
  'payment',
  'payerAccount',
  'inKindReceipt',
  'inKindDistribution',
  'caregiver',
  'careAssignment',
  'visit',
  'referral',
  'contactHandoff',
  'handoffContact',
  'dailyReport',
  'urgentReport',
] as const;
export type ResourceKind = (typeof resourceKinds)[number];

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OperationRule {
  /** `METHOD /path`, the path as the OpenAPI document writes it. */
  operation: `${Method} /${string}`;
  operationId: string;
  /** The scopes the route demands, every one of them; `public`: no credentials needed. */
  scopes: Scope[] | 'public';
  /** The handler demands one of these as well (a 403 too, after the route's check). */
  anyOf?: Scope[];
  /** Who may call it, where that is not what the scopes say (none today: every gate is a scope). */
  agencies?: Agency[];
  /** What the path's id names, made in 220102 and asked for from another district: 404 expected. */
  resource?: ResourceKind;
  /** The path names something that belongs to no jurisdiction: why. Not tried from another one. */
  global?: string;
  /** Asked from another district, the answer is not 404 by design: the status and why. */
  outside?: { status: number; reason: string };
  /**
   * A city-wide client (2201) of these agencies, allowed the operation, must still get 404: the
   * object is visible to its owner only, not to its whole jurisdiction.
   */
  hiddenFrom?: Agency[];
  /** Who sees what inside the jurisdiction, beyond it (documentation). */
  visibility?: string;
  /** An answer that differs from the rule, recorded rather than fixed here. */
  knownIssue?: string;
}

type Extra = Omit<OperationRule, 'operation' | 'operationId' | 'scopes'>;

const op = (
  operation: OperationRule['operation'],
  operationId: string,
  scopes: Scope[] | 'public',
  extra: Extra = {},
): OperationRule => ({ operation, operationId, scopes, ...extra });

const publicRules =
  'public rules: every client with programs:read reads all of them, whatever its jurisdiction (a district office needs the city’s)';
const endOutside = {
  status: 403,
  reason: `documented: ${publicRules}, so their existence is no secret; ending one outside the jurisdiction is forbidden`,
};
const ownSubscription = {
  resource: 'webhookSubscription' as const,
  hiddenFrom: [...agencies],
  visibility: 'the client’s own subscriptions only',
};
const portalOwn = 'a portal sees only what its own applications started';
const sourceReaders: Scope[] = ['matching:load', 'matching:verify', 'programs:manage'];
const sourceVisibility =
  'a data provider its own sources; matching:verify and programs:manage holders those of regions overlapping their jurisdiction';
const handoffVisibility = 'drafts are civil affairs’ only; CDC sees a handoff once it is sent';

export const authorizationMatrix: OperationRule[] = [
  // ── Operations (outside /v1) ──────────────────────────────────────────────
  op('GET /healthz', 'getLiveness', 'public'),
  op('GET /readyz', 'getReadiness', 'public'),
  op('GET /problems/{kind}', 'getProblemType', 'public', { global: 'problem types are documentation' }),

  // ── Platform: regions, clients, jobs, audit ───────────────────────────────
  op('GET /v1/regions', 'listRegions', ['regions:read']),
  op('GET /v1/regions/{code}', 'getRegion', ['regions:read'], {
    global: 'administrative divisions are reference data (GB/T 2260) every client reads',
  }),
  op('POST /v1/clients', 'createClient', ['clients:write']),
  op('GET /v1/clients', 'listClients', ['clients:read']),
  op('GET /v1/clients/me', 'getCurrentClient', [], { visibility: 'the caller itself' }),
  op('GET /v1/clients/{id}', 'getClient', ['clients:read'], { resource: 'client' }),
  op('PATCH /v1/clients/{id}', 'updateClient', ['clients:write'], { resource: 'client' }),
  op('GET /v1/clients/{id}/keys', 'listClientKeys', ['clients:read'], { resource: 'client' }),
  op('POST /v1/clients/{id}/keys', 'issueClientKey', ['clients:write'], { resource: 'client' }),
  op('POST /v1/clients/{id}/keys/{keyId}/revoke', 'revokeClientKey', ['clients:write'], { resource: 'clientKey' }),
  op('GET /v1/jobs/{id}', 'getJob', ['jobs:read'], {
    resource: 'job',
    hiddenFrom: ['civil_affairs', 'finance', 'bank', 'data_provider', 'health', 'cdc', 'portal'],
    visibility: 'the jobs the client started; an admin also every job of its jurisdiction',
  }),
  op('GET /v1/jobs', 'listJobs', ['jobs:read'], { visibility: 'the jobs the client started' }),
  op('GET /v1/audit-events', 'listAuditEvents', ['audit:read']),
  op('POST /v1/audit-events/verifications', 'verifyAuditChain', ['audit:verify']),

  // ── Events and webhooks ───────────────────────────────────────────────────
  op('GET /v1/events', 'listEvents', ['events:read'], {
    visibility: 'events whose scope the client holds, of regions inside its jurisdiction',
  }),
  op('POST /v1/webhook-subscriptions', 'createWebhookSubscription', ['webhooks:manage']),
  op('GET /v1/webhook-subscriptions', 'listWebhookSubscriptions', ['webhooks:manage'], {
    visibility: 'the client’s own subscriptions only',
  }),
  op('GET /v1/webhook-subscriptions/{id}', 'getWebhookSubscription', ['webhooks:manage'], ownSubscription),
  op('PATCH /v1/webhook-subscriptions/{id}', 'updateWebhookSubscription', ['webhooks:manage'], ownSubscription),
  op('POST /v1/webhook-subscriptions/{id}/rotate-secret', 'rotateWebhookSecret', ['webhooks:manage'], ownSubscription),
  op('POST /v1/webhook-subscriptions/{id}/ping', 'pingWebhookSubscription', ['webhooks:manage'], ownSubscription),
  op(
    'GET /v1/webhook-subscriptions/{id}/deliveries',
    'listWebhookDeliveryAttempts',
    ['webhooks:manage'],
    ownSubscription,
  ),
  op('POST /v1/webhook-subscriptions/{id}/redeliver', 'redeliverWebhooks', ['webhooks:manage'], ownSubscription),

  // ── Registry: households and persons ──────────────────────────────────────
  op('POST /v1/households', 'registerHousehold', ['registry:write']),
  op('GET /v1/households', 'listHouseholds', ['registry:read']),
  op('POST /v1/households/bulk', 'registerHouseholdsBulk', ['registry:write']),
  op('GET /v1/households/{id}', 'getHousehold', ['registry:read'], { resource: 'household' }),
  op('POST /v1/households/{id}/members', 'addHouseholdMember', ['registry:write'], { resource: 'household' }),
  op('POST /v1/persons', 'registerPerson', ['registry:write']),
  op('GET /v1/persons', 'listPersons', ['registry:read']),
  op('POST /v1/persons/search', 'searchPersons', ['registry:read']),
  op('GET /v1/persons/{id}', 'getPerson', ['registry:read'], { resource: 'person' }),
  op('PATCH /v1/persons/{id}', 'updatePerson', ['registry:write'], { resource: 'person' }),

  // ── Registry: programs, standards, policies ───────────────────────────────
  op('GET /v1/programs', 'listPrograms', ['programs:read']),
  op('GET /v1/programs/{code}', 'getProgram', ['programs:read'], {
    global: 'the four programs are fixed by policy, the same city-wide',
  }),
  op('GET /v1/programs/{code}/standards', 'listProgramStandards', ['programs:read'], {
    global: 'the four programs are fixed by policy, the same city-wide',
  }),
  op('POST /v1/programs/{code}/standards', 'createProgramStandard', ['programs:manage'], {
    global: 'the four programs are fixed by policy; the new standard’s region must lie inside the jurisdiction (400)',
  }),
  op('GET /v1/programs/{code}/standards/in-force', 'getProgramStandardInForce', ['programs:read'], {
    global: 'the four programs are fixed by policy, the same city-wide',
  }),
  op('GET /v1/programs/{code}/standards/{id}', 'getProgramStandard', ['programs:read'], {
    resource: 'programStandard',
    outside: { status: 200, reason: publicRules },
  }),
  op('POST /v1/programs/{code}/standards/{id}/end', 'endProgramStandard', ['programs:manage'], {
    resource: 'programStandard',
    outside: endOutside,
  }),
  op('GET /v1/policies', 'listPolicies', ['programs:read']),
  op('POST /v1/policies', 'createPolicy', ['programs:manage']),
  op('GET /v1/policies/in-force', 'getPolicyInForce', ['programs:read']),
  op('GET /v1/policies/{id}', 'getPolicy', ['programs:read'], {
    resource: 'policy',
    outside: { status: 200, reason: publicRules },
  }),
  op('POST /v1/policies/{id}/end', 'endPolicy', ['programs:manage'], { resource: 'policy', outside: endOutside }),

  // ── Registry: temporary assistance, welfare contacts ──────────────────────
  op('POST /v1/temporary-assistance', 'grantTemporaryAssistanceOnSpot', ['assistance:write']),
  op('GET /v1/temporary-assistance', 'listTemporaryAssistance', ['registry:read']),
  op('GET /v1/temporary-assistance/{id}', 'getTemporaryAssistance', ['registry:read'], {
    resource: 'temporaryAssistance',
  }),
  op('POST /v1/temporary-assistance/{id}/grant', 'grantTemporaryAssistance', ['assistance:write'], {
    resource: 'temporaryAssistance',
  }),
  op('POST /v1/temporary-assistance/{id}/complete', 'completeTemporaryAssistance', ['assistance:write'], {
    resource: 'temporaryAssistance',
  }),
  op('POST /v1/temporary-assistance/{id}/refuse', 'refuseTemporaryAssistance', ['assistance:write'], {
    resource: 'temporaryAssistance',
  }),
  op('POST /v1/temporary-assistance/{id}/cancel', 'cancelTemporaryAssistance', ['assistance:write'], {
    resource: 'temporaryAssistance',
  }),
  op('POST /v1/welfare-contacts', 'recordWelfareContact', ['assistance:write']),
  op('GET /v1/welfare-contacts', 'listWelfareContacts', ['registry:read']),
  op('GET /v1/welfare-contacts/{id}', 'getWelfareContact', ['registry:read'], { resource: 'welfareContact' }),

  // ── Registry: applications, enrollments, reviews ──────────────────────────
  op('POST /v1/applications', 'submitApplication', ['applications:write']),
  op('GET /v1/applications', 'listApplications', ['applications:read'], { visibility: portalOwn }),
  op('GET /v1/applications/{id}', 'getApplication', ['applications:read'], {
    resource: 'application',
    hiddenFrom: ['portal'],
    visibility: portalOwn,
  }),
  op('POST /v1/applications/{id}/phone-survey', 'recordApplicationPhoneSurvey', ['applications:decide'], {
    resource: 'application',
  }),
  op('POST /v1/applications/{id}/home-visit', 'recordApplicationHomeVisit', ['applications:decide'], {
    resource: 'application',
  }),
  op('POST /v1/applications/{id}/verification', 'recordApplicationVerification', ['matching:verify'], {
    resource: 'application',
  }),
  op('POST /v1/applications/{id}/approve', 'approveApplication', ['applications:decide'], { resource: 'application' }),
  op('POST /v1/applications/{id}/reject', 'rejectApplication', ['applications:decide'], { resource: 'application' }),
  op('POST /v1/applications/{id}/withdraw', 'withdrawApplication', ['applications:write'], {
    resource: 'application',
    hiddenFrom: ['portal'],
    visibility: portalOwn,
  }),
  op('GET /v1/enrollments', 'listEnrollments', ['applications:read'], { visibility: portalOwn }),
  op('GET /v1/enrollments/{id}', 'getEnrollment', ['applications:read'], {
    resource: 'enrollment',
    hiddenFrom: ['portal'],
    visibility: portalOwn,
  }),
  op('POST /v1/enrollments/{id}/suspend', 'suspendEnrollment', ['applications:decide'], { resource: 'enrollment' }),
  op('POST /v1/enrollments/{id}/resume', 'resumeEnrollment', ['applications:decide'], { resource: 'enrollment' }),
  op('POST /v1/enrollments/{id}/end', 'endEnrollment', ['applications:decide'], { resource: 'enrollment' }),
  op('POST /v1/enrollments/{id}/change-benefit', 'changeEnrollmentBenefit', ['applications:decide'], {
    resource: 'enrollment',
  }),
  op('GET /v1/reviews', 'listReviews', ['applications:read'], { visibility: portalOwn }),
  op('GET /v1/reviews/{id}', 'getReview', ['applications:read'], {
    resource: 'review',
    hiddenFrom: ['portal'],
    visibility: portalOwn,
  }),
  op('POST /v1/reviews/{id}/complete', 'completeReview', ['applications:decide'], { resource: 'review' }),

  // ── Matching ──────────────────────────────────────────────────────────────
  op('POST /v1/matching/verifications', 'verifyHousehold', ['matching:verify']),
  op('GET /v1/matching/verifications', 'listVerifications', ['matching:verify']),
  op('GET /v1/matching/verifications/{id}', 'getVerification', ['matching:verify'], { resource: 'verification' }),
  op('GET /v1/matching/source-kinds', 'listMatchingSourceKinds', [], { visibility: 'a fixed list, to anyone' }),
  op('POST /v1/matching/sources', 'createMatchingSource', ['programs:manage']),
  op('GET /v1/matching/sources', 'listMatchingSources', [], { anyOf: sourceReaders, visibility: sourceVisibility }),
  op('GET /v1/matching/sources/{id}', 'getMatchingSource', [], {
    anyOf: sourceReaders,
    resource: 'matchingSource',
    hiddenFrom: ['data_provider'],
    visibility: sourceVisibility,
  }),
  op('GET /v1/matching/sources/{id}/snapshots', 'listMatchingSnapshots', [], {
    anyOf: sourceReaders,
    resource: 'matchingSource',
    hiddenFrom: ['data_provider'],
    visibility: sourceVisibility,
  }),
  op('GET /v1/matching/sources/{id}/snapshots/{snapshotId}', 'getMatchingSnapshot', [], {
    anyOf: sourceReaders,
    resource: 'matchingSnapshot',
    hiddenFrom: ['data_provider'],
    visibility: sourceVisibility,
  }),
  op('PUT /v1/matching/sources/{id}/snapshots/{uploadKey}', 'loadMatchingSnapshot', ['matching:load'], {
    resource: 'matchingUpload',
    hiddenFrom: ['data_provider'],
    visibility: 'only the source’s own provider loads it',
  }),
  op('POST /v1/matching/runs', 'startMatchingRun', ['matching:verify']),
  op('GET /v1/matching/runs', 'listMatchingRuns', ['matching:verify']),
  op('GET /v1/matching/runs/{id}', 'getMatchingRun', ['matching:verify'], { resource: 'matchingRun' }),
  op('GET /v1/matching/runs/{id}/results', 'listMatchingRunResults', ['matching:verify'], { resource: 'matchingRun' }),
  op('GET /v1/matching/runs/{id}/export', 'exportMatchingRunResults', ['matching:verify'], {
    resource: 'matchingRun',
  }),

  // ── Payments ──────────────────────────────────────────────────────────────
  op('POST /v1/payment-batches', 'generatePaymentBatch', ['payments:prepare']),
  op('GET /v1/payment-batches', 'listPaymentBatches', ['payments:read']),
  op('POST /v1/payment-batches/emergency', 'payTemporaryAssistance', ['payments:prepare']),
  op('GET /v1/payment-batches/awaiting-approval', 'listPaymentBatchesAwaitingApproval', ['payments:approve']),
  op('GET /v1/payment-batches/{id}', 'getPaymentBatch', ['payments:read'], { resource: 'paymentBatch' }),
  op('POST /v1/payment-batches/{id}/follow-up', 'followUpPaymentBatch', ['payments:prepare'], {
    resource: 'paymentBatch',
  }),
  op('POST /v1/payment-batches/{id}/submit', 'submitPaymentBatch', ['payments:prepare'], { resource: 'paymentBatch' }),
  op('POST /v1/payment-batches/{id}/approve', 'approvePaymentBatch', ['payments:approve'], {
    resource: 'paymentBatch',
  }),
  op('POST /v1/payment-batches/{id}/reject', 'rejectPaymentBatch', ['payments:approve'], { resource: 'paymentBatch' }),
  op('POST /v1/payment-batches/{id}/dispatch', 'dispatchPaymentBatch', ['payments:execute'], {
    resource: 'paymentBatch',
  }),
  op('POST /v1/payment-batches/{id}/complete', 'completePaymentBatch', ['payments:execute'], {
    resource: 'paymentBatch',
  }),
  op('POST /v1/payment-batches/{id}/reconcile', 'reconcilePaymentBatch', ['payments:approve'], {
    resource: 'paymentBatch',
  }),
  op('POST /v1/payment-batches/{id}/results', 'postPaymentResults', ['payments:execute'], {
    resource: 'paymentBatch',
  }),
  op('GET /v1/payment-batches/{id}/payments', 'listPaymentBatchPayments', ['payments:read'], {
    resource: 'paymentBatch',
  }),
  op('GET /v1/payment-batches/{id}/exclusions', 'listPaymentBatchExclusions', ['payments:read'], {
    resource: 'paymentBatch',
  }),
  op('GET /v1/payment-batches/{id}/reconciliation', 'getPaymentBatchReconciliation', ['payments:read'], {
    resource: 'paymentBatch',
  }),
  op('GET /v1/payments/reconciliation', 'getPaymentPeriodReconciliation', ['payments:read']),
  op('GET /v1/payments', 'listPayments', ['payments:read']),
  op('GET /v1/payments/{id}', 'getPayment', ['payments:read'], { resource: 'payment' }),
  op('GET /v1/payment-payer-accounts', 'listPayerAccounts', ['payments:approve']),
  op('POST /v1/payment-payer-accounts', 'createPayerAccount', ['payments:approve']),
  op('GET /v1/payment-payer-accounts/{id}', 'getPayerAccount', ['payments:approve'], { resource: 'payerAccount' }),
  op('PUT /v1/payment-payer-accounts/{id}', 'replacePayerAccount', ['payments:approve'], {
    resource: 'payerAccount',
  }),
  op('GET /v1/payment-batches/{id}/pain.001', 'downloadPaymentBatchPain001', ['payments:read'], {
    anyOf: ['payments:execute', 'payments:approve'],
    resource: 'paymentBatch',
    visibility: 'the file holds payees’ whole accounts: the bank and finance only',
  }),
  op('POST /v1/payment-batches/{id}/pain.002', 'postPaymentStatusReport', ['payments:execute'], {
    resource: 'paymentBatch',
  }),

  // ── In-kind aid ───────────────────────────────────────────────────────────
  op('POST /v1/in-kind/items', 'createInKindItem', ['programs:manage']),
  op('GET /v1/in-kind/items', 'listInKindItems', ['payments:read']),
  op('GET /v1/in-kind/items/{code}', 'getInKindItem', ['payments:read'], {
    global: 'the item catalogue is the city’s, one list for every district',
  }),
  op('PATCH /v1/in-kind/items/{code}', 'updateInKindItem', ['programs:manage'], {
    global: 'the item catalogue is the city’s, one list for every district',
  }),
  op('POST /v1/in-kind/receipts', 'recordInKindReceipt', ['payments:prepare']),
  op('GET /v1/in-kind/receipts', 'listInKindReceipts', ['payments:read']),
  op('GET /v1/in-kind/receipts/{id}', 'getInKindReceipt', ['payments:read'], { resource: 'inKindReceipt' }),
  op('GET /v1/in-kind/stock', 'listInKindStock', ['payments:read']),
  op('POST /v1/in-kind/distributions', 'distributeInKindAid', ['payments:prepare']),
  op('GET /v1/in-kind/distributions', 'listInKindDistributions', ['payments:read', 'registry:read']),
  op('GET /v1/in-kind/distributions/{id}', 'getInKindDistribution', ['payments:read', 'registry:read'], {
    resource: 'inKindDistribution',
  }),
  op('GET /v1/in-kind/reports/daily', 'reportInKindDaily', ['payments:read']),
  op('GET /v1/in-kind/reports/per-person', 'reportInKindPerPerson', ['payments:read', 'registry:read']),

  // ── Key-person care ───────────────────────────────────────────────────────
  op('POST /v1/caregivers', 'createCaregiver', ['care:write']),
  op('GET /v1/caregivers', 'listCaregivers', ['care:read']),
  op('GET /v1/caregivers/{id}', 'getCaregiver', ['care:read'], { resource: 'caregiver' }),
  op('PATCH /v1/caregivers/{id}', 'updateCaregiver', ['care:write'], { resource: 'caregiver' }),
  op('POST /v1/caregivers/{id}/deactivate', 'deactivateCaregiver', ['care:write'], { resource: 'caregiver' }),
  op('POST /v1/caregivers/{id}/reactivate', 'reactivateCaregiver', ['care:write'], { resource: 'caregiver' }),
  op('POST /v1/care-assignments', 'assignCaregiver', ['care:write']),
  op('GET /v1/care-assignments', 'listCareAssignments', ['care:read']),
  op('POST /v1/care-assignments/{id}/end', 'endCareAssignment', ['care:write'], { resource: 'careAssignment' }),
  op('GET /v1/care-assignments/{id}', 'getCareAssignment', ['care:read'], { resource: 'careAssignment' }),
  op('POST /v1/visits', 'recordVisit', ['care:write']),
  op('GET /v1/visits', 'listVisits', ['care:read']),
  op('GET /v1/visits/{id}', 'getVisit', ['care:read'], { resource: 'visit' }),
  op('POST /v1/visit-tasks/generate', 'generateVisitTasks', ['care:write']),
  op('GET /v1/visit-tasks', 'listVisitTasks', ['care:read']),
  op('GET /v1/coverage', 'getCareCoverage', ['care:read']),
  op('GET /v1/coverage/unassigned', 'listUnassignedKeyPersons', ['care:read']),
  op('GET /v1/coverage/overdue', 'listOverdueKeyPersons', ['care:read']),

  // ── Suspected-case referrals ──────────────────────────────────────────────
  op('POST /v1/referrals', 'reportReferral', ['referrals:create']),
  op('GET /v1/referrals', 'listReferrals', ['referrals:read']),
  op('GET /v1/referrals/{id}', 'getReferral', ['referrals:read'], { resource: 'referral' }),
  op('GET /v1/referrals/{id}/fhir', 'getReferralFhir', ['referrals:read'], { resource: 'referral' }),
  op('POST /v1/referrals/{id}/acknowledge', 'acknowledgeReferral', ['referrals:receive'], { resource: 'referral' }),
  op('POST /v1/referrals/{id}/transfer', 'transferReferral', ['referrals:receive'], { resource: 'referral' }),
  op('POST /v1/referrals/{id}/confirm', 'confirmReferral', ['referrals:receive'], { resource: 'referral' }),
  op('POST /v1/referrals/{id}/exclude', 'excludeReferral', ['referrals:receive'], { resource: 'referral' }),
  op('POST /v1/referrals/{id}/reject', 'rejectReferral', ['referrals:receive'], { resource: 'referral' }),
  op('POST /v1/referrals/{id}/cancel', 'cancelReferral', ['referrals:create'], { resource: 'referral' }),

  // ── Close-contact handoffs ────────────────────────────────────────────────
  op('POST /v1/contact-handoffs', 'createContactHandoff', ['contacts:create']),
  op('GET /v1/contact-handoffs', 'listContactHandoffs', ['contacts:read'], { visibility: handoffVisibility }),
  op('GET /v1/contact-handoffs/follow-up', 'listContactFollowUp', ['contacts:create']),
  ...(
    [
      ['GET', '', 'getContactHandoff', ['contacts:read']],
      ['GET', '/fhir', 'getContactHandoffFhir', ['contacts:read']],
      ['POST', '/send', 'sendContactHandoff', ['contacts:create']],
      ['POST', '/accept', 'acceptContactHandoff', ['contacts:receive']],
      ['POST', '/reject', 'rejectContactHandoff', ['contacts:receive']],
      ['POST', '/reopen', 'reopenContactHandoff', ['contacts:create']],
      ['POST', '/revoke', 'revokeContactHandoff', ['contacts:create']],
      ['POST', '/close', 'closeContactHandoff', ['contacts:receive']],
      ['POST', '/contacts', 'addHandoffContact', ['contacts:create']],
    ] as const
  ).map(([method, suffix, id, scopes]) =>
    op(`${method} /v1/contact-handoffs/{id}${suffix}`, id, [...scopes], {
      resource: 'contactHandoff',
      visibility: handoffVisibility,
    }),
  ),
  op('POST /v1/contact-handoffs/{id}/comments', 'commentContactHandoff', ['contacts:read'], {
    anyOf: ['contacts:create', 'contacts:receive'],
    resource: 'contactHandoff',
    visibility: handoffVisibility,
  }),
  ...(
    [
      ['remove', 'removeHandoffContact', 'contacts:create'],
      ['reach', 'reachContact', 'contacts:receive'],
      ['quarantine', 'quarantineContact', 'contacts:receive'],
      ['release', 'releaseContact', 'contacts:receive'],
      ['mark-unreachable', 'markContactUnreachable', 'contacts:receive'],
      ['mark-case', 'markContactCase', 'contacts:receive'],
    ] as const
  ).map(([action, id, scope]) =>
    op(`POST /v1/contact-handoffs/{id}/contacts/{contactId}/${action}`, id, [scope], { resource: 'handoffContact' }),
  ),

  // ── Reports ───────────────────────────────────────────────────────────────
  op('GET /v1/daily-reports/draft', 'draftDailyReport', ['reports:write'], {
    visibility: 'a district inside the jurisdiction (404 otherwise)',
  }),
  op('POST /v1/daily-reports', 'submitDailyReport', ['reports:write']),
  op('GET /v1/daily-reports/{district}/{date}', 'getDailyReport', ['reports:read'], { resource: 'dailyReport' }),
  op('GET /v1/daily-reports/{district}/{date}/versions', 'listDailyReportVersions', ['reports:read'], {
    resource: 'dailyReport',
  }),
  op('GET /v1/daily-reports/compliance', 'getDailyReportCompliance', ['reports:read']),
  op('GET /v1/daily-reports/totals', 'getDailyReportTotals', ['reports:read']),
  op('POST /v1/urgent-reports', 'fileUrgentReport', ['reports:write']),
  op('GET /v1/urgent-reports', 'listUrgentReports', ['reports:read']),
  op('GET /v1/urgent-reports/{id}', 'getUrgentReport', ['reports:read'], { resource: 'urgentReport' }),
];

/** Whether a client holding `scopes` passes the row's scope gate. */
export function scopesAllow(rule: OperationRule, scopes: readonly Scope[]): boolean {
  if (rule.scopes === 'public') return true;
  if (!rule.scopes.every((s) => scopes.includes(s))) return false;
  return !rule.anyOf || rule.anyOf.some((s) => scopes.includes(s));
}

/** The agencies whose clients, with their default scopes, may call the operation. */
export function allowedAgencies(rule: OperationRule): Agency[] {
  return rule.agencies ?? agencies.filter((agency) => scopesAllow(rule, defaultScopes[agency]));
}

/** The path's parameters, in order: `{id}`, `{keyId}`, … */
export const pathParams = (rule: OperationRule): string[] =>
  [...rule.operation.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
