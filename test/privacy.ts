/**
 * The privacy proof (issue 10, item 6). Imported by test/helpers.ts, so it watches every test
 * process that builds the service:
 *
 * - every response of every Fastify instance that carries the service's `services` (bodies as
 *   strings, buffers or streams: JSON, CSV, pain.001 XML, FHIR; and headers) is scanned for whole
 *   ID numbers, phone numbers and bank accounts. Each one found must be allowed by a row of
 *   `disclosureRules` for the caller (agency and scopes on `request.client`) and the route;
 *   otherwise the test that made the request fails (kind, route, caller; never the value);
 * - every log line of a test app (testApp's log stream, at `info` unless the test chose a level)
 *   is scanned the same way, and any whole value in it fails the test: no caller may see a log;
 * - when an app closes, its audit chain is sealed and verified; a chain that does not verify
 *   fails the test file (exit code 1, the broken link on stderr: the test itself has ended).
 *
 * What counts as a whole value: a GB 11643 number with a valid check character and birth date, a
 * mainland mobile number (1[3-9] and nine digits, also after 86), and any value the suite put in:
 * everything the registry's PII protector sealed (its kind known) and every phone, document and
 * account number field of a JSON request body. Only whole runs of 8 to 34 digits between
 * non-alphanumeric characters are looked at: masked values (`220102********123X`, `138****5678`),
 * UUIDs, hashes and timestamps never match.
 */
import { channel } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { pipeline, type Readable, Transform, Writable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../src/app.js';
import { residentIdCheckCharacter } from '../src/modules/registry/identity.js';

export type SecretKind = 'ID number' | 'phone' | 'bank account';

/** Who asked: the authenticated client's agency and scopes; null agency and no scopes when nobody. */
export interface Caller {
  agency: string | null;
  scopes: readonly string[];
}

export interface DisclosureRule {
  kind: SecretKind;
  /** Route patterns (`request.routeOptions.url`) the rule covers. */
  route: RegExp;
  allows: (caller: Caller) => boolean;
  /** Where the README (or the design) says so. */
  reason: string;
}

const holds =
  (...scopes: string[]) =>
  (c: Caller) =>
    scopes.some((s) => c.scopes.includes(s));
/**
 * Every route but the event feed and the audit trail: events carry masked values only (README
 * "Sensitive data"), the audit trail names persons by id; neither ever holds a whole value.
 */
const exceptEventsAndAudit = /^(?!\/v1\/(events|audit-events)(\/|$))/;

/**
 * Who may receive which whole value. Anything not allowed here is a leak. Each row names its reason;
 * a new disclosure needs a row (and a reason) before the suite passes again.
 */
export const disclosureRules: DisclosureRule[] = [
  {
    kind: 'ID number',
    route: exceptEventsAndAudit,
    allows: (c) => holds('registry:read_sensitive')(c) && c.agency !== 'health' && c.agency !== 'cdc',
    reason:
      'README "Sensitive data": ID numbers masked unless the caller holds registry:read_sensitive; referrals and handoffs: never whole for health or disease control',
  },
  {
    kind: 'phone',
    route: exceptEventsAndAudit,
    allows: holds('registry:read_sensitive'),
    reason: 'README "Sensitive data" and "Caregivers": phones masked unless the caller holds registry:read_sensitive',
  },
  {
    kind: 'phone',
    route: /^\/v1\/referrals(\/|$)/,
    allows: holds('referrals:receive'),
    reason:
      'README "What receivers see": the person’s and the reporter’s phones whole for health and the CDC (they must call)',
  },
  {
    kind: 'phone',
    route: /^\/v1\/contact-handoffs(\/|$)/,
    allows: holds('contacts:receive'),
    reason: 'README "The CDC’s view": whole phones for the CDC, which calls the contacts',
  },
  {
    kind: 'bank account',
    route: /^\/v1\/(households|persons)(\/|$)/,
    allows: holds('registry:read_sensitive'),
    reason: 'README "Sensitive data": a person’s bank account masked to the last four unless registry:read_sensitive',
  },
  {
    kind: 'bank account',
    route: /^\/v1\/(payments|payment-batches|payment-payer-accounts)(\/|$)/,
    allows: holds('payments:approve', 'payments:execute'),
    reason:
      'README "Accounts" and "Bank exchange": payee accounts whole for finance and banks (payments:approve, payments:execute), in reads and in pain.001; payer accounts are finance’s',
  },
];

// ---------------------------------------------------------------------------------------------
// What is a whole value

/** Values the suite put in, normalised (digits, a final X), with their kind. */
const secrets = new Map<string, SecretKind>();

const MIN_DIGITS = 8;
const MAX_DIGITS = 34;

/**
 * Remembers a value the suite put in. Shorter than eight digits is too likely to be some other
 * number (an amount in fen, a count), so those are not remembered; nor is anything not a number.
 */
export function rememberSecret(kind: SecretKind, value: unknown): void {
  if (typeof value !== 'string' && typeof value !== 'number') return;
  const normal = String(value)
    .replace(/[\s-]+/g, '')
    .replace(/^\+/, '')
    .toUpperCase();
  if (normal.length < MIN_DIGITS || normal.length > MAX_DIGITS + 1 || !/^\d+X?$/.test(normal)) return;
  if (!secrets.has(normal)) secrets.set(normal, kind);
}

function isResidentId(token: string): boolean {
  if (token.length !== 18 || residentIdCheckCharacter(token) !== token[17]) return false;
  const year = Number(token.slice(6, 10));
  const month = Number(token.slice(10, 12));
  const day = Number(token.slice(12, 14));
  return token[0] !== '0' && year >= 1880 && year <= 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

const mobile = /^(86)?1[3-9]\d{9}$/;

/** The kind of a whole digit run, or null when it is nothing sensitive. */
export function classify(token: string): SecretKind | null {
  const upper = token.toUpperCase();
  const known = secrets.get(upper);
  if (known) return known;
  if (upper.length === 18 && isResidentId(upper)) return 'ID number';
  if ((upper.length === 11 || upper.length === 13) && mobile.test(upper)) return 'phone';
  return null;
}

/**
 * Whole runs of 8 to 34 digits (an ID number's final X included) between non-alphanumerics, not
 * the fraction of a decimal number (a log line's `responseTime` of 528.13912345678 ms holds no phone).
 */
const tokenPattern = /(?<![0-9A-Za-z])(?<!\d\.)\d{8,34}[Xx]?(?![0-9A-Za-z])/g;

/** The kinds of whole values in a text. */
export function findSecrets(text: string): Set<SecretKind> {
  const found = new Set<SecretKind>();
  for (const m of text.matchAll(tokenPattern)) {
    const kind = classify(m[0]);
    if (kind) found.add(kind);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Who sees a violation

/** The slice of a tap Test used here. */
interface TapTest {
  fail(message: string, extra?: Record<string, unknown>): unknown;
  fullname?: string;
  name?: string;
  beforeEach?(fn: (t: TapTest) => unknown): void;
  afterEach?(fn: (t: TapTest) => unknown): void;
}

export interface Violation {
  test: string;
  where: 'response' | 'log' | 'audit chain';
  /** The kind of whole value found (not for the audit chain). */
  kind?: SecretKind;
  /** Why the audit chain failed: its first broken link, or the error verifying it. */
  detail?: string;
  method?: string;
  route?: string;
  status?: number;
  agency?: string | null;
}

/** The test owning an app or a database (freshDatabase, testApp). */
const owners = new WeakMap<object, TapTest>();
/** The subtests running now, innermost last (tap's beforeEach/afterEach, inherited by all descendants). */
const running: TapTest[] = [];
const tracked = new WeakSet<object>();
/** Apps whose violations a test collects instead of failing (the scanner's own test). */
const diverted = new WeakMap<object, Violation[]>();
const stats = {
  responses: 0,
  logLines: 0,
  violations: 0,
  chainsVerified: 0,
  auditMs: 0,
  allowed: {} as Record<string, number>,
};

/** Ties an app or a database to the test that made it, and follows that test's subtests. */
export function ownedBy(thing: object, t: unknown): void {
  const test = t as TapTest;
  if (typeof test?.fail !== 'function') return;
  owners.set(thing, test);
  if (tracked.has(test) || typeof test.beforeEach !== 'function' || typeof test.afterEach !== 'function') return;
  tracked.add(test);
  test.beforeEach((sub) => {
    running.push(sub);
  });
  test.afterEach((sub) => {
    const at = running.lastIndexOf(sub);
    if (at >= 0) running.splice(at, 1);
  });
}

/** The scanner's own test: this app's violations are returned to it instead of failing the test. */
export function divertViolations(app: FastifyInstance): Violation[] {
  const list: Violation[] = [];
  diverted.set(app, list);
  return list;
}

function ownerOf(app: FastifyInstance): TapTest | undefined {
  return owners.get(app) ?? (app.hasDecorator('database') ? owners.get(app.database) : undefined);
}

const describe = (v: Violation) =>
  v.where === 'audit chain'
    ? `privacy: the audit chain does not verify: ${v.detail}`
    : v.where === 'log'
      ? `privacy: a whole ${v.kind} in a log line`
      : `privacy: a whole ${v.kind} in the answer to ${v.agency ?? 'an unauthenticated caller'} on ${v.method} ${v.route} (${v.status})`;

function report(app: FastifyInstance | undefined, owner: TapTest | undefined, v: Omit<Violation, 'test'>): void {
  const test = running.at(-1) ?? owner;
  const violation = { test: test?.fullname ?? test?.name ?? process.argv[1] ?? 'unknown', ...v };
  const divert = app && diverted.get(app);
  if (divert) {
    divert.push(violation);
    return;
  }
  stats.violations++;
  process.exitCode = 1;
  // An app closes in its test's teardown, after the test has ended: no assertion is taken then,
  // and a teardown that throws skips the others. The exit code fails the file instead.
  if (test && v.where !== 'audit chain') test.fail(describe(violation), { privacy: violation });
  else process.stderr.write(`privacy proof failed: ${describe(violation)} (test ${violation.test})\n`);
}

process.on('exit', () => {
  if (stats.violations > 0) process.exitCode = 1;
  const file = process.env.PRIVACY_PROOF_STATS;
  if (file) appendFileSync(file, `${JSON.stringify({ file: process.argv[1], ...stats })}\n`);
});

// ---------------------------------------------------------------------------------------------
// Responses

const callerOf = (request: FastifyRequest): Caller => ({
  agency: request.client?.agency ?? null,
  scopes: request.client?.scopes ?? [],
});

function checkResponse(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  found: Set<SecretKind>,
): void {
  if (found.size === 0) return;
  const caller = callerOf(request);
  const route = request.routeOptions.url ?? request.url.split('?')[0]!;
  for (const kind of found) {
    const rule = disclosureRules.findIndex((r) => r.kind === kind && r.route.test(route) && r.allows(caller));
    if (rule >= 0) {
      const key = `rule ${rule} (${kind}): ${request.method} ${route}`;
      stats.allowed[key] = (stats.allowed[key] ?? 0) + 1;
      continue;
    }
    report(app, ownerOf(app), {
      where: 'response',
      kind,
      method: request.method,
      route,
      status: reply.statusCode,
      agency: caller.agency,
    });
  }
}

/**
 * A copy of a streamed body that scans it on the way. Each chunk is scanned up to its trailing
 * alphanumeric run, which is carried into the next one, so a number cut by a chunk boundary is
 * read whole (and a half of one is never taken for something shorter).
 */
function scanningStream(source: Readable, onEnd: (found: Set<SecretKind>) => void): Readable {
  const found = new Set<SecretKind>();
  let carry = '';
  const scan = (text: string) => {
    for (const kind of findSecrets(text)) found.add(kind);
  };
  const copy = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const text = carry + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
      const cut = text.search(/[0-9A-Za-z]*$/);
      scan(text.slice(0, cut));
      carry = text.slice(cut);
      // A long alphanumeric run holds no token; remember only that one is under way.
      if (carry.length > 64) carry = 'Z';
      done(null, chunk);
    },
    flush(done) {
      scan(carry);
      onEnd(found);
      done();
    },
  });
  pipeline(source, copy, () => {});
  return copy;
}

function collectFromBody(body: unknown, depth = 0): void {
  if (depth > 8 || body === null || typeof body !== 'object') return;
  if (Array.isArray(body)) {
    for (const item of body) collectFromBody(item, depth + 1);
    return;
  }
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (value !== null && typeof value === 'object') collectFromBody(value, depth + 1);
    else if (/account/i.test(key)) rememberSecret('bank account', value);
    else if (/phone/i.test(key)) rememberSecret('phone', value);
    else if (/^(idNumber|documentNumber)$/i.test(key)) rememberSecret('ID number', value);
  }
}

type Pii = Services['pii'];
const piiKinds: Record<Parameters<Pii['protect']>[0], SecretKind> = {
  document: 'ID number',
  phone: 'phone',
  bank_account: 'bank account',
};

/** The service's services, or undefined for any other Fastify instance (a test's fake server). */
const servicesOf = (app: FastifyInstance) => (app as { services?: Services }).services;

function instrument(app: FastifyInstance): void {
  app.addHook('onReady', async () => {
    const pii = servicesOf(app)?.pii;
    if (!pii) return;
    // Every value the registry seals is one the suite put in: remember it with its kind.
    const protect = pii.protect;
    pii.protect = (kind, value, idType) => {
      rememberSecret(piiKinds[kind], value);
      return protect(kind, value, idType);
    };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!servicesOf(app)) return payload;
    stats.responses++;
    collectFromBody(request.body);
    const headers = Object.values(reply.getHeaders()).join(' ');
    const found = findSecrets(headers);
    if (typeof payload === 'string') {
      for (const kind of findSecrets(payload)) found.add(kind);
    } else if (Buffer.isBuffer(payload)) {
      for (const kind of findSecrets(payload.toString('latin1'))) found.add(kind);
    } else if (payload && typeof (payload as Readable).pipe === 'function') {
      return scanningStream(payload as Readable, (inBody) => {
        for (const kind of inBody) found.add(kind);
        checkResponse(app, request, reply, found);
      });
    }
    checkResponse(app, request, reply, found);
    return payload;
  });

  // The audit chain, sealed and verified when the app closes. A failure fails the file (see
  // report) rather than close(): a teardown that throws skips the ones after it (the database's).
  app.addHook('preClose', async () => {
    const audit = servicesOf(app)?.audit;
    if (!audit) return;
    const start = performance.now();
    let detail: string | undefined;
    try {
      await audit.seal();
      const verified = await audit.verify();
      if (!verified.ok) detail = JSON.stringify(verified.firstBroken);
    } catch (err) {
      detail = `verifying it failed: ${(err as Error).message}`;
    }
    stats.chainsVerified++;
    stats.auditMs += performance.now() - start;
    if (detail) report(app, ownerOf(app), { where: 'audit chain', detail });
  });
}

channel('fastify.initialization').subscribe((message) => {
  instrument((message as { fastify: FastifyInstance }).fastify);
});

// ---------------------------------------------------------------------------------------------
// Logs

/**
 * A log stream that scans every line for whole values (also grouped by spaces or dashes) and
 * passes it on to `forward` (the test's own stream) when there is one. `bind` names the app once
 * it is built.
 */
export function scannedLog(t: unknown, forward?: NodeJS.WritableStream) {
  let app: FastifyInstance | undefined;
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, done) {
      stats.logLines++;
      const line = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      // Also as written by hand (`138 1234 5678`, `6222-0202-…`): a free-text message may quote one so.
      for (const kind of findSecrets(`${line}\n${line.replace(/(?<=\d)[ -](?=\d)/g, '')}`)) {
        report(app, app ? ownerOf(app) : (t as TapTest), { where: 'log', kind });
      }
      if (forward) forward.write(chunk, done);
      else done();
    },
  });
  return { stream, bind: (built: FastifyInstance) => void (app = built) };
}
