/**
 * Walks the OpenAPI document against the authorization matrix (authorization.matrix.ts):
 * 1. every operation has its row, every row its operation, with the scopes the document states;
 * 2. every operation × every agency (a city-wide client with the agency's default scopes) answers
 *    as the row says: allowed, anything but 401/403; denied, 403 problem+json; no key, 401;
 * 3. every operation whose path names an object is tried, by each agency allowed to call it, from
 *    another district with a real object of 220102: 404 (or the row's documented exception); the
 *    same objects are found by their own district first, so that a wrong id cannot pass;
 * 4. every list and report, asked by another district (for 220102 or for itself), shows none of them;
 * 5. an object visible to its owner only (`hiddenFrom`) answers 404 to the rest of its jurisdiction.
 */
import type { LightMyRequestResponse } from 'fastify';
import t from 'tap';
import { type Agency, agencies, type Scope } from '../../src/platform/scopes.js';
import { testApp, type TestClient } from '../helpers.js';
import {
  allowLocalWebhooks,
  district,
  madeUp,
  makeWorld,
  otherDistrict,
  validRequest,
  type World,
} from './authorization.fixtures.js';
import {
  allowedAgencies,
  authorizationMatrix,
  type OperationRule,
  pathParams,
  type ResourceKind,
  resourceKinds,
} from './authorization.matrix.js';

interface DocumentOperation {
  operation: string;
  method: string;
  path: string;
  operationId: string;
  /** The scopes of each of its security requirements (any one suffices); null when it has none (public). */
  security: string[][] | null;
  /** Its query parameters. */
  query: { name: string; required: boolean }[];
}

const methods = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation of the document. */
function documentOperations(document: unknown): DocumentOperation[] {
  const paths = (
    document as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            security?: { apiKey?: string[] }[];
            parameters?: { in: string; name: string; required?: boolean }[];
          }
        >
      >;
    }
  ).paths;
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methods.includes(method))
      .map(([method, op]) => ({
        operation: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        security: op.security?.map((r) => [...(r.apiKey ?? [])].sort()) ?? null,
        query: (op.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, required: p.required ?? false })),
      })),
  );
}

/** A value for a path parameter that names nothing (or, for fixed lists, something harmless). */
function madeUpParam(name: string, path: string): string {
  switch (name) {
    case 'code':
      if (path.startsWith('/v1/programs')) return 'dibao';
      if (path.startsWith('/v1/regions')) return '2201';
      return 'no_such_item';
    case 'kind':
      return 'forbidden';
    case 'uploadKey':
      return 'made-up';
    case 'district':
      return '220102';
    case 'date':
      return '2020-01-01';
    default:
      return madeUp();
  }
}

const urlOf = (rule: OperationRule, params: Record<string, string>) =>
  rule.operation
    .slice(rule.operation.indexOf(' ') + 1)
    .replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));

const methodOf = (rule: OperationRule) => rule.operation.slice(0, rule.operation.indexOf(' ')) as 'GET';

const isProblem = (res: LightMyRequestResponse) =>
  String(res.headers['content-type'] ?? '').startsWith('application/problem+json');

/**
 * What an answer means for the gate: `unauthorized` (401 problem), `forbidden` (403 problem of
 * type forbidden), `allowed` (anything else below 500); otherwise the status and the body.
 */
function outcome(res: LightMyRequestResponse): string {
  const type = isProblem(res) ? (JSON.parse(res.body) as { type?: string }).type : undefined;
  if (res.statusCode === 401 && type === '/problems/unauthorized') return 'unauthorized';
  if (res.statusCode === 403 && type === '/problems/forbidden') return 'forbidden';
  if (res.statusCode < 500 && res.statusCode !== 401 && res.statusCode !== 403) return 'allowed';
  return `${res.statusCode}: ${res.body.slice(0, 200)}`;
}

t.test('authorization matrix', async (t) => {
  const test = await testApp(t, { env: allowLocalWebhooks });
  const { app } = test;
  const operations = documentOperations(app.swagger());
  const rules = new Map<string, OperationRule>(authorizationMatrix.map((rule) => [rule.operation, rule]));

  t.test('every operation of the document has one row, every row an operation', async (t) => {
    t.equal(rules.size, authorizationMatrix.length, 'no operation has two rows');
    const inDocument = new Set(operations.map((o) => o.operation));
    for (const o of operations) {
      const rule = rules.get(o.operation);
      if (!rule) {
        t.fail(`${o.operation} (${o.operationId}) has no row in test/platform/authorization.matrix.ts`);
        continue;
      }
      t.equal(rule.operationId, o.operationId, `${o.operation} is ${o.operationId}`);
      const requirements =
        rule.scopes === 'public'
          ? null
          : rule.anyOf
            ? rule.anyOf.map((one) => [...(rule.scopes as Scope[]), one].sort())
            : [[...rule.scopes].sort()];
      t.same(o.security, requirements, `${o.operationId}: the row's scopes (and alternatives) are the document's`);
    }
    for (const rule of authorizationMatrix) {
      t.ok(inDocument.has(rule.operation), `${rule.operation} (${rule.operationId}) is an operation of the document`);
      const params = pathParams(rule);
      if (params.length > 0) {
        t.ok(
          Boolean(rule.resource) !== Boolean(rule.global),
          `${rule.operationId} names what its path's ${params.join(', ')} is: a resource kind, or global with a reason`,
        );
      }
      if (rule.knownIssue) t.comment(`known issue: ${rule.operationId}: ${rule.knownIssue}`);
    }
    const named = new Set(authorizationMatrix.map((r) => r.resource));
    for (const kind of resourceKinds) t.ok(named.has(kind), `some operation's path names a ${kind}`);
  });

  // The operations the document has and the table describes; the check above fails on the others.
  const walked = operations.map((o) => rules.get(o.operation)).filter((r): r is OperationRule => Boolean(r));

  const city = {} as Record<Agency, TestClient>;
  for (const agency of agencies) city[agency] = agency === 'admin' ? test.admin : await test.client(agency);

  t.test('every operation × every agency: allowed, denied (403), or no key (401)', async (t) => {
    for (const rule of walked) {
      const allowed = new Set(allowedAgencies(rule));
      const params = Object.fromEntries(pathParams(rule).map((p) => [p, madeUpParam(p, rule.operation)]));
      const url = urlOf(rule, params);
      const method = methodOf(rule);
      const { payload, contentType } = method === 'GET' ? {} : madeUpRequest(rule.operationId);
      const send = (who: TestClient | null) =>
        app.inject({
          method,
          url,
          headers: { ...(who?.headers ?? {}), ...(contentType && { 'content-type': contentType }) },
          ...(payload !== undefined && { payload }),
        });
      // One after the other: PGlite runs one statement at a time, and queueing them costs more than it saves.
      const answers: Record<string, string> = { 'no key': outcome(await send(null)) };
      for (const agency of agencies) answers[agency] = outcome(await send(city[agency]));
      const expected: Record<string, string> = {
        'no key': rule.scopes === 'public' ? 'allowed' : 'unauthorized',
        ...Object.fromEntries(agencies.map((a) => [a, allowed.has(a) ? 'allowed' : 'forbidden'])),
      };
      t.same(answers, expected, `${rule.operationId} (${rule.operation})`);
    }
  });

  const world: World = await makeWorld(test);
  const outsider = {} as Record<Agency, TestClient>;
  for (const agency of agencies) outsider[agency] = await test.client(agency, { jurisdiction: otherDistrict });

  /** The operation on the world's object, as `who`. */
  const onWorld = (rule: OperationRule, who: TestClient) => {
    const { payload, contentType } = methodOf(rule) === 'GET' ? {} : validRequest(rule.operationId);
    return app.inject({
      method: methodOf(rule),
      url: urlOf(rule, world.params[rule.resource!]),
      headers: { ...who.headers, ...(contentType && { 'content-type': contentType }) },
      ...(payload !== undefined && { payload }),
    });
  };

  // Without this, a wrong id in the world would pass every 404 below.
  t.test('the objects exist: each is read by a client of its own district', async (t) => {
    for (const rule of walked.filter((r) => r.resource && methodOf(r) === 'GET')) {
      const allowed = allowedAgencies(rule);
      const who = allowed.includes('civil_affairs') ? world.owner : city[allowed[0]!];
      const res = await onWorld(rule, who);
      // 409: found, but its state does not allow this read yet (a draft batch's payment file).
      t.ok(
        res.statusCode === 200 || res.statusCode === 409,
        `${rule.operationId} finds the ${rule.resource} (${res.statusCode}: ${res.body.slice(0, 200)})`,
      );
    }
  });

  t.test('an object of another district: 404, as one that does not exist', async (t) => {
    for (const rule of walked.filter((r) => r.resource)) {
      const expected = rule.outside?.status ?? 404;
      for (const agency of allowedAgencies(rule)) {
        const res = await onWorld(rule, outsider[agency]);
        const what = `${rule.operationId} on a ${rule.resource} of 220102, as ${agency} of ${otherDistrict}`;
        // A leak (2xx) fails whatever the row says, unless the row documents the object as public.
        if (res.statusCode < 300 && expected !== 200)
          t.fail(`${what}: LEAK (${res.statusCode}: ${res.body.slice(0, 300)})`);
        else
          t.equal(res.statusCode, expected, `${what}: ${expected}${rule.outside ? ` (${rule.outside.reason})` : ''}`);
      }
    }
  });

  t.test('a list or report asked for another district shows nothing of it', async (t) => {
    // Every id of the world, but those of public rules (rows answering 200 from another district).
    const publicKinds = new Set(authorizationMatrix.filter((r) => r.outside?.status === 200).map((r) => r.resource));
    const ids = Object.entries(world.params)
      .filter(([kind]) => !publicKinds.has(kind as ResourceKind))
      .flatMap(([kind, params]) =>
        Object.entries(params)
          .filter(([name]) => /id$/i.test(name))
          .map(([, id]) => ({ kind, id })),
      );
    const byOperation = new Map(operations.map((o) => [o.operation, o]));
    const today = new Date().toISOString().slice(0, 10);
    const value: Record<string, string> = {
      region: district,
      district,
      date: today,
      from: today,
      to: today,
      program: 'dibao',
      period: today.slice(0, 7),
    };
    const seenByOwner = new Set<string>();
    for (const rule of walked.filter((r) => methodOf(r) === 'GET' && pathParams(r).length === 0)) {
      const query = byOperation.get(rule.operation)!.query;
      const missing = query.filter((q) => q.required && !value[q.name]);
      if (missing.length > 0) {
        t.fail(`${rule.operationId}: give a value for its required ${missing.map((q) => q.name).join(', ')}`);
        continue;
      }
      const base = rule.operation.slice(rule.operation.indexOf(' ') + 1);
      const required = query.filter((q) => q.required).map((q) => `${q.name}=${value[q.name]}`);
      const urls = [`${base}?${required.join('&')}`];
      if (query.some((q) => q.name === 'region' && !q.required))
        urls.push(`${base}?${[...required, `region=${district}`].join('&')}`);
      if (allowedAgencies(rule).includes('civil_affairs')) {
        const res = await app.inject({ method: 'GET', url: urls.at(-1)!, headers: world.owner.headers });
        for (const { kind, id } of ids) if (res.body.includes(id)) seenByOwner.add(kind);
      }
      for (const agency of allowedAgencies(rule)) {
        for (const url of urls) {
          const res = await app.inject({ method: 'GET', url, headers: outsider[agency].headers });
          const where = `${rule.operationId} as ${agency} of ${otherDistrict}: ${url}`;
          if (res.statusCode >= 300) {
            t.ok(res.statusCode < 500, `${where}: no server error (${res.statusCode})`);
            continue;
          }
          const shown = ids.filter(({ id }) => res.body.includes(id)).map(({ kind }) => kind);
          t.same(shown, [], `${where}: nothing of ${district}`);
        }
      }
    }
    // The same lists do show them to their own district's caseworkers: the probe can see a leak.
    const listed = ['household', 'person', 'application', 'enrollment', 'review', 'referral', 'contactHandoff'];
    const more = ['paymentBatch', 'payment', 'caregiver', 'visit', 'inKindDistribution', 'matchingRun', 'urgentReport'];
    t.same(
      [...listed, ...more].filter((kind) => !seenByOwner.has(kind)),
      [],
      'the lists show the district its own objects',
    );
  });

  t.test('an object visible to its owner only: 404 to the rest of its jurisdiction', async (t) => {
    for (const rule of walked.filter((r) => r.resource && r.hiddenFrom)) {
      const allowed = allowedAgencies(rule);
      for (const agency of rule.hiddenFrom!.filter((a) => allowed.includes(a))) {
        const res = await onWorld(rule, city[agency]);
        t.equal(
          res.statusCode,
          404,
          `${rule.operationId} on a ${rule.resource} of someone else, as ${agency} of 2201 (${res.statusCode}: ${res.body.slice(0, 300)})`,
        );
      }
    }
  });
});

/** A request body for the walk with made-up ids: `{}`, or the content type the operation reads. */
function madeUpRequest(operationId: string): { payload?: string | object; contentType?: string } {
  if (operationId === 'loadMatchingSnapshot') return { payload: '', contentType: 'application/x-ndjson' };
  if (operationId === 'postPaymentStatusReport') return { payload: '<Document/>', contentType: 'application/xml' };
  return { payload: {} };
}
