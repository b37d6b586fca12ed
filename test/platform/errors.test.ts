import type { LightMyRequestResponse } from 'fastify';
import t from 'tap';
import { freshDatabase, json, testApp } from '../helpers.js';

/** The assertions problemOf uses, as any tap test has them. */
type Test = Pick<typeof t, 'equal' | 'type' | 'ok' | 'match' | 'notMatch'>;

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: { in: string; pointer: string; detail: string }[];
  requiredScopes?: string[];
  currentState?: string;
  [extension: string]: unknown;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks the RFC 9457 envelope every error of the chassis has, and returns the body for the
 * case-specific assertions.
 */
function problemOf(
  t: Test,
  res: LightMyRequestResponse,
  expected: { status: number; type: string; title: string; instance: string },
): ProblemBody {
  t.equal(res.statusCode, expected.status, 'status code');
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', 'problem+json content type');
  const body = json<ProblemBody>(res);
  t.equal(body.type, expected.type, 'type');
  t.equal(body.title, expected.title, 'title');
  t.equal(body.status, expected.status, 'status in the body matches the status code');
  t.type(body.detail, 'string');
  t.ok(body.detail.length > 0, 'detail is not empty');
  t.equal(body.instance, expected.instance, 'instance is the request path');
  t.type(body.requestId, 'string');
  t.equal(body.requestId, res.headers['x-request-id'], 'requestId is the x-request-id header');
  t.notMatch(res.body, /\bat .+:\d+:\d+/, 'no stack frame in the body');
  return body;
}

const unknownId = '00000000-0000-4000-8000-000000000000';

t.test('the chassis answers every error as problem+json', async (t) => {
  // One database for the whole file; apps with their own settings share it.
  const database = await freshDatabase(t);
  const { app, admin, client } = await testApp(t, {
    database,
    beforeReady: (app) => {
      app.get('/v1/boom', { config: { scopes: [] } }, async () => {
        throw new Error('secret SQL select * from x');
      });
    },
  });

  const createClient = (body: Record<string, unknown>, headers: Record<string, string> = admin.headers) =>
    app.inject({ method: 'POST', url: '/v1/clients', headers, payload: body });

  t.test('400 validation error names the bad body field by JSON pointer', async (t) => {
    const res = await createClient({ name: 'Finance bureau', agency: 'finance', jurisdiction: '22x' });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients',
    });
    t.equal(body.errors?.length, 1, 'exactly one field error');
    t.match(body.errors, [{ in: 'body', pointer: '/jurisdiction', detail: String }]);
    t.match(body.errors?.[0]?.detail, /region code/);
    t.match(body.detail, /^\/jurisdiction: /, 'a single error is spelled out in detail');
    const list = await app.inject({ method: 'GET', url: '/v1/clients?agency=finance', headers: admin.headers });
    t.same(json<{ items: unknown[] }>(list).items, [], 'nothing was created');
  });

  t.test('400 validation error lists every bad field at once', async (t) => {
    const res = await createClient({
      name: '',
      agency: 'police',
      jurisdiction: '12345',
      scopes: ['regions:read', 'root'],
    });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients',
    });
    const pointers = (body.errors ?? []).map((e) => e.pointer).sort();
    t.same(pointers, ['/agency', '/jurisdiction', '/name', '/scopes/1']);
    for (const error of body.errors ?? []) {
      t.equal(error.in, 'body');
      t.type(error.detail, 'string');
      t.ok(error.detail.length > 0);
    }
    t.equal(body.detail, '4 fields are invalid.');
  });

  t.test('400 validation error for a missing required field', async (t) => {
    const res = await createClient({ name: 'No agency', jurisdiction: '2201' });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients',
    });
    t.match(body.errors, [{ in: 'body', pointer: '/agency' }]);
    t.equal(body.errors?.length, 1);
  });

  t.test('400 validation error points at each field a strict body does not know', async (t) => {
    const url = `/v1/clients/${admin.id}`;
    const res = await app.inject({
      method: 'PATCH',
      url,
      headers: admin.headers,
      payload: { enabled: false, role: 'root', 'a/b~c': 1 },
    });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: url,
    });
    t.same(
      body.errors?.map((e) => [e.in, e.pointer]),
      [
        ['body', '/role'],
        ['body', '/a~1b~0c'],
      ],
      'one error per unknown field, each pointer escaped as RFC 6901 says',
    );
    const me = await app.inject({ method: 'GET', url: '/v1/clients/me', headers: admin.headers });
    t.equal(json(me).enabled, true, 'the valid part of a refused body was not applied');
  });

  t.test('400 validation error when the body is not an object points at the whole body', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      payload: '[1, 2]',
    });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients',
    });
    t.same(
      body.errors?.map((e) => [e.in, e.pointer]),
      [['body', '']],
    );
  });

  t.test('400 validation error on a query parameter says in: query', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/clients?limit=0', headers: admin.headers });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients?limit=0',
    });
    t.same(
      body.errors?.map((e) => [e.in, e.pointer]),
      [['query', '/limit']],
    );

    const tooMany = await app.inject({
      method: 'GET',
      url: '/v1/clients?limit=501&enabled=maybe',
      headers: admin.headers,
    });
    const both = problemOf(t, tooMany, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients?limit=501&enabled=maybe',
    });
    t.same(both.errors?.map((e) => `${e.in}:${e.pointer}`).sort(), ['query:/enabled', 'query:/limit']);

    const cursor = await app.inject({ method: 'GET', url: '/v1/clients?cursor=not-a-cursor', headers: admin.headers });
    const bad = problemOf(t, cursor, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients?cursor=not-a-cursor',
    });
    t.match(bad.errors, [{ in: 'query', pointer: '/cursor' }]);
  });

  t.test('400 validation error on a path parameter says in: path', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/clients/not-a-uuid', headers: admin.headers });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/validation-error',
      title: 'Validation failed',
      instance: '/v1/clients/not-a-uuid',
    });
    t.match(body.errors, [{ in: 'path', pointer: '/id' }]);
  });

  t.test('400 malformed-request for a body that is not JSON', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      payload: '{"name": "Finance", "agency": ',
    });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/malformed-request',
      title: 'Malformed request body',
      instance: '/v1/clients',
    });
    t.equal(body.errors, undefined, 'a parse failure has no field errors');
    t.notMatch(body.detail, /Unexpected|position/, 'the parser’s own message is not passed through');
  });

  t.test('400 malformed-request for an empty JSON body', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      payload: '',
    });
    const body = problemOf(t, res, {
      status: 400,
      type: '/problems/malformed-request',
      title: 'Malformed request body',
      instance: '/v1/clients',
    });
    t.match(body.detail, /empty/);
  });

  t.test('404 for an unknown route', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/no-such-thing', headers: admin.headers });
    const body = problemOf(t, res, {
      status: 404,
      type: '/problems/not-found',
      title: 'Not Found',
      instance: '/v1/no-such-thing',
    });
    t.match(body.detail, /GET \/v1\/no-such-thing/);
    t.equal(res.headers.allow, undefined, 'no Allow header on a 404');

    const outside = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    problemOf(t, outside, { status: 404, type: '/problems/not-found', title: 'Not Found', instance: '/nowhere?x=1' });
  });

  t.test('405 with an Allow header for a known path and the wrong method', async (t) => {
    const res = await app.inject({ method: 'DELETE', url: '/v1/clients', headers: admin.headers });
    const body = problemOf(t, res, {
      status: 405,
      type: '/problems/method-not-allowed',
      title: 'Method Not Allowed',
      instance: '/v1/clients',
    });
    t.equal(res.headers.allow, 'GET, POST');
    t.match(body.detail, /DELETE/);

    const withParam = await app.inject({ method: 'PUT', url: `/v1/clients/${admin.id}`, headers: admin.headers });
    problemOf(t, withParam, {
      status: 405,
      type: '/problems/method-not-allowed',
      title: 'Method Not Allowed',
      instance: `/v1/clients/${admin.id}`,
    });
    t.equal(withParam.headers.allow, 'GET, PATCH');

    const action = await app.inject({
      method: 'GET',
      url: `/v1/clients/${admin.id}/keys/${unknownId}/revoke`,
      headers: admin.headers,
    });
    t.equal(action.statusCode, 405);
    t.equal(action.headers.allow, 'POST');
  });

  t.test('401 without usable credentials', async (t) => {
    const wantUnauthorized = (t: Test, res: LightMyRequestResponse, instance = '/v1/clients/me') => {
      const body = problemOf(t, res, { status: 401, type: '/problems/unauthorized', title: 'Unauthorized', instance });
      t.match(res.headers['www-authenticate'], /^Bearer /, 'WWW-Authenticate names the Bearer scheme');
      return body;
    };

    t.test('no Authorization header', async (t) => {
      const res = await app.inject({ method: 'GET', url: '/v1/clients/me' });
      wantUnauthorized(t, res);
      // Authentication comes before routing details: an unknown /v1 path does not answer 404 to strangers.
      const unknown = await app.inject({ method: 'GET', url: '/v1/no-such-thing' });
      t.equal(unknown.statusCode, 401);
    });

    t.test('a header that is not Bearer', async (t) => {
      const basic = await app.inject({
        method: 'GET',
        url: '/v1/clients/me',
        headers: { authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` },
      });
      wantUnauthorized(t, basic);
      const bare = await app.inject({ method: 'GET', url: '/v1/clients/me', headers: { authorization: admin.key } });
      wantUnauthorized(t, bare);
      const empty = await app.inject({ method: 'GET', url: '/v1/clients/me', headers: { authorization: 'Bearer ' } });
      wantUnauthorized(t, empty);
    });

    t.test('an unknown key', async (t) => {
      const wellFormed = await app.inject({
        method: 'GET',
        url: '/v1/clients/me',
        headers: { authorization: `Bearer dd_${'A'.repeat(43)}` },
      });
      const body = wantUnauthorized(t, wellFormed);
      t.notMatch(JSON.stringify(body), /dd_A{43}/, 'the key is not echoed back');
      const garbage = await app.inject({
        method: 'GET',
        url: '/v1/clients/me',
        headers: { authorization: 'Bearer hunter2' },
      });
      wantUnauthorized(t, garbage);
      // The same key with a changed last character is a different key.
      const tampered = admin.key.slice(0, -1) + (admin.key.endsWith('A') ? 'B' : 'A');
      wantUnauthorized(
        t,
        await app.inject({ method: 'GET', url: '/v1/clients/me', headers: { authorization: `Bearer ${tampered}` } }),
      );
    });

    t.test('a revoked key', async (t) => {
      const bank = await client('bank');
      const before = await app.inject({ method: 'GET', url: '/v1/clients/me', headers: bank.headers });
      t.equal(before.statusCode, 200, 'the key works before it is revoked');
      const keys = json<{ items: { id: string }[] }>(
        await app.inject({ method: 'GET', url: `/v1/clients/${bank.id}/keys`, headers: admin.headers }),
      );
      const revoke = await app.inject({
        method: 'POST',
        url: `/v1/clients/${bank.id}/keys/${keys.items[0]!.id}/revoke`,
        headers: admin.headers,
      });
      t.equal(revoke.statusCode, 200);
      wantUnauthorized(t, await app.inject({ method: 'GET', url: '/v1/clients/me', headers: bank.headers }));
    });

    t.test('a key of a disabled client', async (t) => {
      const health = await client('health');
      t.equal((await app.inject({ method: 'GET', url: '/v1/clients/me', headers: health.headers })).statusCode, 200);
      const disable = await app.inject({
        method: 'PATCH',
        url: `/v1/clients/${health.id}`,
        headers: admin.headers,
        payload: { enabled: false },
      });
      t.equal(disable.statusCode, 200);
      t.equal(json(disable).enabled, false);
      wantUnauthorized(t, await app.inject({ method: 'GET', url: '/v1/clients/me', headers: health.headers }));
    });
  });

  t.test('403 for a missing scope lists requiredScopes and audits the denial', async (t) => {
    const bank = await client('bank');
    const res = await app.inject({ method: 'GET', url: '/v1/clients', headers: bank.headers });
    const body = problemOf(t, res, {
      status: 403,
      type: '/problems/forbidden',
      title: 'Forbidden',
      instance: '/v1/clients',
    });
    t.same(body.requiredScopes, ['clients:read']);
    t.match(body.detail, /clients:read/);

    const audit = await app.services.audit.list({ clientId: bank.id, limit: 10 });
    t.equal(audit.items.length, 1, 'one audit row for the denied request');
    t.match(audit.items[0], {
      clientId: bank.id,
      agency: 'bank',
      operation: 'listClients',
      resourceType: 'request',
      outcome: 'denied',
      requestId: res.headers['x-request-id'],
      detail: { missingScopes: ['clients:read'] },
    });

    // A write is refused before its body is even looked at, and nothing is created.
    const write = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: bank.headers,
      payload: { name: 'sneaky', agency: 'admin', jurisdiction: '2201' },
    });
    const writeBody = problemOf(t, write, {
      status: 403,
      type: '/problems/forbidden',
      title: 'Forbidden',
      instance: '/v1/clients',
    });
    t.same(writeBody.requiredScopes, ['clients:write']);
    const denied = await app.services.audit.list({ clientId: bank.id, operation: 'createClient', limit: 10 });
    t.equal(denied.items.length, 1);
    t.equal(denied.items[0]?.outcome, 'denied');
    const admins = json<{ items: { name: string }[] }>(
      await app.inject({ method: 'GET', url: '/v1/clients?agency=admin', headers: admin.headers }),
    );
    t.notOk(
      admins.items.some((c) => c.name === 'sneaky'),
      'no client was created',
    );
  });

  t.test('404 outside the jurisdiction looks exactly like a missing id', async (t) => {
    const created = await createClient({
      name: 'Nanguan civil affairs',
      agency: 'civil_affairs',
      jurisdiction: '220102',
    });
    t.equal(created.statusCode, 201);
    const nanguanId = json<{ client: { id: string } }>(created).client.id;
    const kuancheng = await client('admin', { jurisdiction: '220103' });

    const outside = await app.inject({ method: 'GET', url: `/v1/clients/${nanguanId}`, headers: kuancheng.headers });
    const outsideBody = problemOf(t, outside, {
      status: 404,
      type: '/problems/not-found',
      title: 'Not Found',
      instance: `/v1/clients/${nanguanId}`,
    });
    const missing = await app.inject({ method: 'GET', url: `/v1/clients/${unknownId}`, headers: kuancheng.headers });
    const missingBody = problemOf(t, missing, {
      status: 404,
      type: '/problems/not-found',
      title: 'Not Found',
      instance: `/v1/clients/${unknownId}`,
    });
    const shape = ({ instance: _i, requestId: _r, ...rest }: ProblemBody) => rest;
    t.same(shape(outsideBody), shape(missingBody), 'same type, title, status, detail and extensions');
    t.same(Object.keys(outsideBody).sort(), Object.keys(missingBody).sort());

    // Changing it or its keys is just as invisible, and the change does not happen.
    const patch = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${nanguanId}`,
      headers: kuancheng.headers,
      payload: { enabled: false },
    });
    t.same(shape(json<ProblemBody>(patch)), shape(missingBody));
    const keys = await app.inject({ method: 'GET', url: `/v1/clients/${nanguanId}/keys`, headers: kuancheng.headers });
    t.same(shape(json<ProblemBody>(keys)), shape(missingBody));
    const still = await app.inject({ method: 'GET', url: `/v1/clients/${nanguanId}`, headers: admin.headers });
    t.equal(still.statusCode, 200, 'the city admin sees it');
    t.equal(json(still).enabled, true, 'the refused change did not happen');

    // Nor does it appear in the other district's list.
    const list = json<{ items: { id: string }[] }>(
      await app.inject({ method: 'GET', url: '/v1/clients?limit=500', headers: kuancheng.headers }),
    );
    t.notOk(list.items.some((c) => c.id === nanguanId));
  });

  t.test('409 invalid-state when revoking a key that is already revoked', async (t) => {
    const portal = await client('portal');
    const keys = json<{ items: { id: string }[] }>(
      await app.inject({ method: 'GET', url: `/v1/clients/${portal.id}/keys`, headers: admin.headers }),
    );
    const url = `/v1/clients/${portal.id}/keys/${keys.items[0]!.id}/revoke`;
    const first = await app.inject({ method: 'POST', url, headers: admin.headers });
    t.equal(first.statusCode, 200);
    const revokedAt = json<{ revokedAt: string }>(first).revokedAt;
    t.ok(revokedAt);

    const second = await app.inject({ method: 'POST', url, headers: admin.headers });
    const body = problemOf(t, second, {
      status: 409,
      type: '/problems/invalid-state',
      title: 'Action not allowed in the current state',
      instance: url,
    });
    t.equal(body.currentState, 'revoked');

    const after = json<{ items: { revokedAt: string }[] }>(
      await app.inject({ method: 'GET', url: `/v1/clients/${portal.id}/keys`, headers: admin.headers }),
    );
    t.equal(after.items[0]?.revokedAt, revokedAt, 'the first revocation time stands');
  });

  t.test('412 for PATCH with a stale If-Match', async (t) => {
    const cdc = await client('cdc');
    const read = await app.inject({ method: 'GET', url: `/v1/clients/${cdc.id}`, headers: admin.headers });
    const etag = read.headers.etag as string;
    t.ok(etag, 'GET gives an ETag');

    const fresh = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${cdc.id}`,
      headers: { ...admin.headers, 'if-match': etag },
      payload: { name: 'CDC, first edit' },
    });
    t.equal(fresh.statusCode, 200);
    t.not(fresh.headers.etag, etag);

    const stale = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${cdc.id}`,
      headers: { ...admin.headers, 'if-match': etag },
      payload: { name: 'CDC, lost update' },
    });
    const body = problemOf(t, stale, {
      status: 412,
      type: '/problems/precondition-failed',
      title: 'Precondition Failed',
      instance: `/v1/clients/${cdc.id}`,
    });
    t.equal(body.currentETag, fresh.headers.etag, 'the problem gives the current ETag');

    const garbage = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${cdc.id}`,
      headers: { ...admin.headers, 'if-match': '"something-else"' },
      payload: { name: 'CDC, lost update' },
    });
    problemOf(t, garbage, {
      status: 412,
      type: '/problems/precondition-failed',
      title: 'Precondition Failed',
      instance: `/v1/clients/${cdc.id}`,
    });

    const now = await app.inject({ method: 'GET', url: `/v1/clients/${cdc.id}`, headers: admin.headers });
    t.equal(json(now).name, 'CDC, first edit', 'the stale updates did not land');
    t.equal(now.headers.etag, fresh.headers.etag);
  });

  t.test('413 for a body over BODY_LIMIT_BYTES', async (t) => {
    const small = await testApp(t, { database, env: { BODY_LIMIT_BYTES: '1024' } });
    const fits = await small.app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: small.admin.headers,
      payload: { name: 'Small enough', agency: 'finance', jurisdiction: '2201' },
    });
    t.equal(fits.statusCode, 201, 'a body under the limit is accepted');

    const res = await small.app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: small.admin.headers,
      payload: { name: 'x'.repeat(2000), agency: 'finance', jurisdiction: '2201' },
    });
    const body = problemOf(t, res, {
      status: 413,
      type: '/problems/payload-too-large',
      title: 'Payload Too Large',
      instance: '/v1/clients',
    });
    t.notMatch(body.detail, /x{20}/, 'the body is not echoed');
  });

  t.test('415 for a body that is not JSON', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: { ...admin.headers, 'content-type': 'text/plain' },
      payload: 'name=Finance&agency=finance',
    });
    const body = problemOf(t, res, {
      status: 415,
      type: '/problems/unsupported-media-type',
      title: 'Unsupported Media Type',
      instance: '/v1/clients',
    });
    t.match(body.detail, /application\/json/);
  });

  t.test('422 when an Idempotency-Key is reused with a different body', async (t) => {
    const headers = { ...admin.headers, 'idempotency-key': 'create-finance-0001' };
    const first = await createClient(
      { name: 'Idempotent finance', agency: 'finance', jurisdiction: '220102' },
      headers,
    );
    t.equal(first.statusCode, 201);
    const again = await createClient(
      { name: 'Idempotent finance', agency: 'finance', jurisdiction: '220102' },
      headers,
    );
    t.equal(again.statusCode, 201, 'the same body replays');
    t.equal(json<{ client: { id: string } }>(again).client.id, json<{ client: { id: string } }>(first).client.id);

    const other = await createClient(
      { name: 'A different client', agency: 'finance', jurisdiction: '220102' },
      headers,
    );
    problemOf(t, other, {
      status: 422,
      type: '/problems/idempotency-key-reused',
      title: 'Idempotency key reused with a different request',
      instance: '/v1/clients',
    });
    const list = json<{ items: { name: string }[] }>(
      await app.inject({ method: 'GET', url: '/v1/clients?agency=finance&limit=500', headers: admin.headers }),
    );
    t.equal(list.items.filter((c) => c.name === 'Idempotent finance').length, 1, 'created once');
    t.notOk(
      list.items.some((c) => c.name === 'A different client'),
      'the reused key created nothing',
    );
  });

  t.test('429 with Retry-After once the rate limit is spent', async (t) => {
    const limited = await testApp(t, { database, env: { RATE_LIMIT_PER_MINUTE: '3' } });
    const me = (headers: Record<string, string>) =>
      limited.app.inject({ method: 'GET', url: '/v1/clients/me', headers });
    for (let i = 1; i <= 3; i++) {
      const ok = await me(limited.admin.headers);
      t.equal(ok.statusCode, 200, `request ${i} of 3 passes`);
    }
    const res = await me(limited.admin.headers);
    const body = problemOf(t, res, {
      status: 429,
      type: '/problems/rate-limited',
      title: 'Too Many Requests',
      instance: '/v1/clients/me',
    });
    t.match(res.headers['retry-after'], /^\d+$/, 'Retry-After is a number of seconds');
    t.ok(Number(res.headers['retry-after']) > 0);
    t.match(body.detail, /3 requests/);

    // The limit is per client, and service endpoints outside /v1 are not limited.
    const other = await limited.client('bank');
    t.equal((await me(other.headers)).statusCode, 200, 'another client is not limited');
    t.equal((await limited.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  t.test('500 hides internals and gives the request id', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/v1/boom', headers: admin.headers });
    const body = problemOf(t, res, {
      status: 500,
      type: '/problems/internal-error',
      title: 'Internal error',
      instance: '/v1/boom',
    });
    t.notMatch(res.body, /secret/i);
    t.notMatch(res.body, /select/i);
    t.notMatch(res.body, /SQL/);
    t.notMatch(res.body, /stack|\.ts:\d+|node_modules/i);
    t.same(Object.keys(body).sort(), ['detail', 'instance', 'requestId', 'status', 'title', 'type']);
    t.ok(body.detail.includes(body.requestId), 'detail quotes the request id');
    t.match(body.requestId, uuidPattern);
  });

  t.test('every answer carries x-request-id; a sane incoming one is echoed', async (t) => {
    const answers = await Promise.all([
      app.inject({ method: 'GET', url: '/healthz' }),
      app.inject({ method: 'GET', url: '/v1/clients/me', headers: admin.headers }),
      app.inject({ method: 'GET', url: '/v1/clients/me' }),
      app.inject({ method: 'GET', url: '/v1/nothing', headers: admin.headers }),
      app.inject({ method: 'GET', url: '/v1/boom', headers: admin.headers }),
    ]);
    const ids = answers.map((res) => res.headers['x-request-id']);
    for (const id of ids) t.match(id, uuidPattern, 'a generated request id');
    t.equal(new Set(ids).size, ids.length, 'each request has its own id');

    const traced = await app.inject({
      method: 'GET',
      url: '/v1/nothing',
      headers: { ...admin.headers, 'x-request-id': 'portal-trace.42:a_b-c' },
    });
    t.equal(traced.headers['x-request-id'], 'portal-trace.42:a_b-c');
    t.equal(json<ProblemBody>(traced).requestId, 'portal-trace.42:a_b-c');

    const tracedOk = await app.inject({
      method: 'GET',
      url: '/v1/clients/me',
      headers: { ...admin.headers, 'x-request-id': 'portal-trace-43' },
    });
    t.equal(tracedOk.statusCode, 200);
    t.equal(tracedOk.headers['x-request-id'], 'portal-trace-43');

    for (const insane of ['has spaces in it', 'x'.repeat(65), '<script>']) {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/nothing',
        headers: { ...admin.headers, 'x-request-id': insane },
      });
      t.match(res.headers['x-request-id'], uuidPattern, `${JSON.stringify(insane.slice(0, 20))} is replaced`);
      t.equal(json<ProblemBody>(res).requestId, res.headers['x-request-id']);
    }
  });
});
