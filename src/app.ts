import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import { auditRoutes } from './platform/audit/routes.js';
import { type AuditService, createAuditService } from './platform/audit/service.js';
import { authPlugin } from './platform/auth.js';
import { clientRoutes } from './platform/clients/routes.js';
import { type ClientService, createClientService } from './platform/clients/service.js';
import { databasePlugin } from './platform/database.js';
import { createWebhookDeliverer, type WebhookDeliverer } from './platform/events/delivery.js';
import { eventRoutes } from './platform/events/routes.js';
import { createEventService, type EventService } from './platform/events/service.js';
import { parseCidrs } from './platform/events/ssrf.js';
import { createSubscriptionService, type SubscriptionService } from './platform/events/subscriptions.js';
import { createSecretBox, parseSecretsKeys } from './platform/secrets.js';
import { ProblemError } from './platform/errors.js';
import { healthRoutes } from './platform/health.js';
import { idempotencyPlugin } from './platform/idempotency/plugin.js';
import { jobRoutes } from './platform/jobs/routes.js';
import { createJobService, type JobService } from './platform/jobs/service.js';
import { genRequestId, loggerOptions } from './platform/logging.js';
import { metricsPlugin } from './platform/metrics.js';
import { openapiPlugin } from './platform/openapi.js';
import { frameworkErrorAnswer, MAX_PARAM_LENGTH, problemHandler } from './platform/problem-handler.js';
import { problemRoutes } from './platform/problem-routes.js';
import { regionRoutes } from './platform/regions/routes.js';
import { createRegionService, type RegionService } from './platform/regions/service.js';
import { peopleRoutes } from './modules/registry/people.routes.js';
import { createPeopleService, type PeopleService } from './modules/registry/people.service.js';
import { createPiiProtector, type PiiProtector } from './modules/registry/sensitive.js';
import { programRoutes } from './modules/registry/programs.routes.js';
import { createProgramService, type ProgramService } from './modules/registry/programs.service.js';
import { createPolicyService, type PolicyService } from './modules/registry/policies.service.js';
import { temporaryAssistanceRoutes } from './modules/registry/temporary-assistance.routes.js';
import {
  createTemporaryAssistanceService,
  type TemporaryAssistanceService,
} from './modules/registry/temporary-assistance.service.js';
import { welfareContactRoutes } from './modules/registry/welfare-contacts.routes.js';
import {
  createWelfareContactService,
  type WelfareContactService,
} from './modules/registry/welfare-contacts.service.js';
import { applicationRoutes } from './modules/registry/applications.routes.js';
import { type ApplicationService, createApplicationService } from './modules/registry/applications.service.js';
import { enrollmentRoutes } from './modules/registry/enrollments.routes.js';
import { createEnrollmentService, type EnrollmentService } from './modules/registry/enrollments.service.js';
import { reviewRoutes } from './modules/registry/reviews.routes.js';
import { createReviewService, type ReviewService } from './modules/registry/reviews.service.js';
import { policyRoutes } from './modules/registry/policies.routes.js';
import { verificationRoutes } from './modules/matching/verify.routes.js';
import { createVerificationService, type VerificationService } from './modules/matching/verify.service.js';
import { sourceRoutes } from './modules/matching/sources.routes.js';
import { createSourceService, type SourceService } from './modules/matching/sources.service.js';
import { runRoutes } from './modules/matching/runs.routes.js';
import { textGuard } from './platform/text-guard.js';
import { timeoutsPlugin } from './platform/timeouts.js';
import { createRunService, MATCHING_RUN_JOB, type RunService } from './modules/matching/runs.service.js';
import { inKindRoutes } from './modules/inkind/routes.js';
import { careRoutes } from './modules/care/routes.js';
import { type CareService, createCareService } from './modules/care/service.js';
import { createInKindService, type InKindService } from './modules/inkind/service.js';
import { paymentBatchActionRoutes } from './modules/payments/batch-actions.routes.js';
import { paymentBatchRoutes } from './modules/payments/batches.routes.js';
import { paymentRoutes } from './modules/payments/payments.routes.js';
import { createPaymentService, type PaymentService } from './modules/payments/service.js';
import { bankRoutes } from './modules/payments/bank.routes.js';
import { type BankService, createBankService } from './modules/payments/bank.service.js';
import { PAIN001_RENDER_JOB } from './modules/payments/bank.render.js';
import { referralRoutes } from './modules/referrals/routes.js';
import { createReferralService, type ReferralService } from './modules/referrals/service.js';
import { contactHandoffRoutes } from './modules/contacts/routes.js';
import { type ContactService, createContactService } from './modules/contacts/service.js';
import { reportRoutes } from './modules/reports/routes.js';
import { createReportService, type ReportService } from './modules/reports/service.js';
import { DEADLINE_CHECK_MS } from './modules/reports/deadlines.js';
import { STALE_LOAD_SWEEP_MS } from './modules/matching/load.js';

export const version = '0.1.0';

export interface Services {
  audit: AuditService;
  regions: RegionService;
  clients: ClientService;
  jobs: JobService;
  events: EventService;
  subscriptions: SubscriptionService;
  webhooks: WebhookDeliverer;
  people: PeopleService;
  programs: ProgramService;
  policies: PolicyService;
  temporaryAssistance: TemporaryAssistanceService;
  welfareContacts: WelfareContactService;
  applications: ApplicationService;
  enrollments: EnrollmentService;
  reviews: ReviewService;
  /** The registry's protection of personal information: its blind index keys matching records too. */
  pii: PiiProtector;
  verifications: VerificationService;
  matchingSources: SourceService;
  matchingRuns: RunService;
  payments: PaymentService;
  bank: BankService;
  inKind: InKindService;
  care: CareService;
  referrals: ReferralService;
  contacts: ContactService;
  reports: ReportService;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export interface BuildOptions {
  /** An open database to use (tests); otherwise one is opened from the config and closed with the app. */
  database?: Database;
  /** Run background work (job worker, audit sealer) in this process. Tests drive it by hand. */
  background?: boolean;
  /** Where log lines go (tests capture them); stdout otherwise. */
  logStream?: NodeJS.WritableStream;
  /** The clock of the modules that take one from here (reporting's deadlines); the system clock otherwise. Tests set it. */
  clock?: () => Date;
}

/** The service's table of contents: platform first, then each module, in order. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { ...loggerOptions(config.LOG_LEVEL), ...(options.logStream && { stream: options.logStream }) },
    genReqId: genRequestId,
    // One line per request, written when it is answered (below), instead of fastify's two.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Each request's own limit instead (platform/timeouts.ts): streamed uploads may run long.
    requestTimeout: 0,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    trustProxy: config.TRUST_PROXY,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrorAnswer,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        req: request,
        res: { statusCode: reply.statusCode },
        responseTime: reply.elapsedTime,
        clientId: request.client?.id,
      },
      'request completed',
    );
  });

  const database =
    options.database ??
    (await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: config.DB_POOL_MAX }));
  await app.register(databasePlugin, { database, owned: !options.database });
  const db = database.db;

  const audit = createAuditService({ db });
  const events = createEventService({ db });
  const regions = createRegionService({ db });
  const clients = createClientService({
    db,
    audit,
    events,
    regions,
    pepper: config.API_KEY_PEPPER,
    authCacheTtlMs: config.AUTH_CACHE_TTL_MS,
  });
  const jobs = createJobService({
    db,
    events,
    log: app.log,
    leaseMs: config.JOBS_LEASE_MS,
    pollMs: config.JOBS_POLL_MS,
  });
  const secrets = createSecretBox(parseSecretsKeys(config.SECRETS_KEYS));
  const policy = { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowedCidrs: parseCidrs(config.WEBHOOK_ALLOWED_CIDRS ?? '') };
  const subscriptions = createSubscriptionService({ db, audit, secrets, policy });
  const webhooks = createWebhookDeliverer({
    db,
    log: app.log,
    secrets,
    policy,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    leaseMs: config.WEBHOOK_TIMEOUT_MS * 3,
    pollMs: config.EVENTS_POLL_MS,
  });
  // Modules' services, in the order they depend on each other.
  const pii = createPiiProtector({
    keys: parseSecretsKeys(config.SECRETS_KEYS),
    blindIndexKey: Buffer.from(config.BLIND_INDEX_KEY, 'base64'),
  });
  const people = createPeopleService({ db, audit, events, regions, pii });
  const programs = createProgramService({ db, audit, events, regions });
  const policies = createPolicyService({ db, audit, events, regions });
  // Before temporary assistance: cancelling a grant withdraws its payment.
  const payments = createPaymentService({
    db,
    audit,
    events,
    regions,
    policies,
    pii,
    // The bank's file is written out once finance approves, so that downloads stream stored bytes.
    onApproved: (tx, batch) =>
      jobs.enqueue(tx, {
        type: PAIN001_RENDER_JOB,
        payload: { batchId: batch.id },
        clientId: null,
        region: batch.region,
      }),
  });
  const temporaryAssistance = createTemporaryAssistanceService({
    db,
    audit,
    events,
    regions,
    programs,
    policies,
    payments,
  });
  const welfareContacts = createWelfareContactService({ db, audit, events, assistance: temporaryAssistance });
  const applications = createApplicationService({ db, audit, events, programs, policies, people });
  const enrollments = createEnrollmentService({ db, audit, events });
  const reviews = createReviewService({ db, audit, events, programs });
  const verifications = createVerificationService({ db, audit, events, programs, applications });
  const matchingSources = createSourceService({ database, audit, events, regions, clients, pii });
  const matchingRuns = createRunService({ db, audit, events, jobs, regions, programs });
  const bank = createBankService({ db, audit, regions, pii, programs, payments });
  const inKind = createInKindService({ db, audit, events, regions, people, assistance: temporaryAssistance });
  const care = createCareService({ db, audit, events, regions, pii });
  // Before referrals: a referral's outcome confirmed opens the case's close-contact handoff in its transaction.
  const contacts = createContactService({ db, audit, events, pii, policies });
  const referrals = createReferralService({
    db,
    audit,
    events,
    pii,
    policies,
    welfareContacts,
    onConfirmed: contacts.onReferralConfirmed,
  });
  const reports = createReportService({ db, audit, events, regions, clock: options.clock });
  jobs.register(MATCHING_RUN_JOB, matchingRuns.perform, { onFailure: matchingRuns.failed });
  jobs.register(PAIN001_RENDER_JOB, bank.renderJob);
  app.decorate('services', {
    audit,
    regions,
    clients,
    jobs,
    events,
    subscriptions,
    webhooks,
    people,
    programs,
    policies,
    temporaryAssistance,
    welfareContacts,
    applications,
    enrollments,
    reviews,
    pii,
    verifications,
    matchingSources,
    matchingRuns,
    payments,
    bank,
    inKind,
    care,
    referrals,
    contacts,
    reports,
  });
  app.addHook('onClose', async () => webhooks.stop());

  // Platform: errors, docs, metrics, who is calling, how often, and at most once.
  await app.register(problemHandler);
  await app.register(textGuard);
  await app.register(timeoutsPlugin, {
    requestMs: config.REQUEST_TIMEOUT_MS,
    uploadIdleMs: config.UPLOAD_IDLE_TIMEOUT_MS,
  });
  await app.register(openapiPlugin, { version });
  await app.register(metricsPlugin);
  await app.register(authPlugin, { clients, audit });
  await app.register(rateLimit, {
    // Before the body is read (after authentication, a global hook, so the key is the client): a
    // client over its limit cannot make the service parse and validate bodies, bad ones included.
    hook: 'onRequest',
    max: config.RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (request) => request.client?.id ?? request.ip,
    allowList: (request) => !request.url.startsWith('/v1/'),
    errorResponseBuilder: (_request, context) =>
      new ProblemError(
        429,
        'rate-limited',
        `Rate limit of ${context.max} requests a minute exceeded; retry in ${context.after}.`,
      ),
  });
  await app.register(idempotencyPlugin, {
    ttlHours: config.IDEMPOTENCY_TTL_HOURS,
    waitMs: config.IDEMPOTENCY_WAIT_MS,
    pepper: config.API_KEY_PEPPER,
  });

  // Platform routes.
  await app.register(healthRoutes);
  await app.register(problemRoutes);
  await app.register(regionRoutes, { regions });
  await app.register(clientRoutes, { clients, audit });
  await app.register(jobRoutes, { jobs });
  await app.register(auditRoutes, { audit, jobs });
  await app.register(eventRoutes, { events, subscriptions });

  // Modules come here, in the order they depend on each other.
  await app.register(peopleRoutes, { people });
  await app.register(programRoutes, { programs, regions });
  await app.register(temporaryAssistanceRoutes, { assistance: temporaryAssistance });
  await app.register(welfareContactRoutes, { contacts: welfareContacts });
  await app.register(applicationRoutes, { applications });
  await app.register(enrollmentRoutes, { enrollments });
  await app.register(reviewRoutes, { reviews });
  await app.register(policyRoutes, { policies, regions });
  await app.register(verificationRoutes, { verifications });
  await app.register(sourceRoutes, { sources: matchingSources });
  await app.register(runRoutes, { runs: matchingRuns, audit });
  await app.register(paymentBatchRoutes, { payments });
  await app.register(paymentBatchActionRoutes, { payments });
  await app.register(paymentRoutes, { payments });
  await app.register(bankRoutes, { bank });
  await app.register(inKindRoutes, { inKind });
  await app.register(careRoutes, { care });
  await app.register(referralRoutes, { referrals });
  await app.register(contactHandoffRoutes, { contacts });
  await app.register(reportRoutes, { reports });

  if (options.background ?? config.JOBS_ENABLED) startBackground(app, config);
  return app;
}

/** The job worker, the audit sealer, the event sequencer and the webhook sender; stopped before the database closes. */
function startBackground(app: FastifyInstance, config: Config) {
  const { jobs, audit, events, webhooks } = app.services;
  // Runs work every `ms`, skipping a tick while the previous run is still going.
  const every = (ms: number, name: string, work: () => Promise<unknown>) => {
    let busy: Promise<unknown> | null = null;
    const timer = setInterval(() => {
      busy ??= work()
        .catch((err: unknown) => app.log.warn({ err }, `${name} could not run`))
        .finally(() => (busy = null));
    }, ms);
    return async () => {
      clearInterval(timer);
      await busy;
    };
  };
  const stopSealer = every(config.AUDIT_SEAL_INTERVAL_MS, 'audit sealer', () => audit.seal());
  const stopSequencer = every(config.EVENTS_POLL_MS, 'event sequencer', () => events.sequence());
  // Daily reports: announces each district's missing report once its deadline has passed.
  const stopDeadlines = every(DEADLINE_CHECK_MS, 'daily report deadlines', () => app.services.reports.checkDeadlines());
  // Snapshot loads whose process died (SIGKILL, a crash) are marked failed rather than loading forever.
  const stopLoadSweep = every(STALE_LOAD_SWEEP_MS, 'stale load sweep', () =>
    app.services.matchingSources.sweepStaleLoads(),
  );
  app.addHook('onReady', async () => {
    jobs.start();
    webhooks.start();
  });
  app.addHook('preClose', async () => {
    await Promise.all([stopSealer(), stopSequencer(), stopDeadlines(), stopLoadSweep(), jobs.stop(), webhooks.stop()]);
  });
}
