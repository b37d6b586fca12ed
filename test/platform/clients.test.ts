import t from 'tap';
import { json, testApp } from '../helpers.js';
import { defaultScopes, scopeNames } from '../../src/platform/scopes.js';

interface ClientBody {
  id: string;
  name: string;
  agency: string;
  scopes: string[];
  jurisdiction: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

interface KeyBody {
  id: string;
  prefix: string;
  label: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  key?: string;
}

interface Created {
  client: ClientBody;
  apiKey: KeyBody & { key: string };
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  errors?: { in: string; pointer: string; detail: string }[];
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const keyPattern = /^dd_[A-Za-z0-9_-]{43}$/;
const problemJson = 'application/problem+json; charset=utf-8';

t.test('clients: the admin flows over HTTP', async (t) => {
  const { app, admin, client } = await testApp(t);

  const create = (body: Record<string, unknown>, headers: Record<string, string> = admin.headers) =>
    app.inject({ method: 'POST', url: '/v1/clients', headers, payload: body });
  const getClient = (id: string, headers: Record<string, string> = admin.headers) =>
    app.inject({ method: 'GET', url: `/v1/clients/${id}`, headers });
  const me = (key: string) => app.inject({ method: 'GET', url: '/v1/clients/me', headers: bearer(key) });
  const keysOf = (id: string) => app.inject({ method: 'GET', url: `/v1/clients/${id}/keys`, headers: admin.headers });

  t.test('create answers 201 with Location, ETag and the key, shown once', async (t) => {
    const res = await create({
      name: 'Finance bureau',
      agency: 'finance',
      jurisdiction: '2201',
      scopes: ['payments:read', 'payments:approve', 'payments:read'],
      keyLabel: 'production',
    });
    t.equal(res.statusCode, 201);
    t.match(res.headers['content-type'], /^application\/json/);
    const body = json<Created>(res);
    t.match(body.client, {
      name: 'Finance bureau',
      agency: 'finance',
      jurisdiction: '2201',
      enabled: true,
    });
    t.same(body.client.scopes, ['payments:read', 'payments:approve'], 'given scopes, duplicates dropped');
    t.equal(res.headers.location, `/v1/clients/${body.client.id}`);
    t.equal(res.headers.etag, `"${body.client.id}.1"`);
    t.match(body.client.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);

    t.match(body.apiKey.key, keyPattern, 'a dd_ key of 256 random bits');
    t.equal(body.apiKey.prefix, body.apiKey.key.slice(0, 11), 'the prefix is the start of the key');
    t.equal(body.apiKey.label, 'production');
    t.equal(body.apiKey.revokedAt, null);
    t.equal(body.apiKey.expiresAt, null);

    // Shown once: nothing that reads the client later gives the key or its hash back.
    const read = await getClient(body.client.id);
    const keys = await keysOf(body.client.id);
    const list = await app.inject({ method: 'GET', url: '/v1/clients?limit=500', headers: admin.headers });
    for (const later of [read, keys, list]) {
      t.equal(later.statusCode, 200);
      t.notOk(later.body.includes(body.apiKey.key), 'the key is not shown again');
      t.notMatch(later.body, /keyHash|key_hash/);
    }
    const keyList = json<Page<KeyBody>>(keys);
    t.equal(keyList.items.length, 1);
    t.same(Object.keys(keyList.items[0]!).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'prefix', 'revokedAt']);
    t.equal(keyList.items[0]!.id, body.apiKey.id);

    // The creation is in the audit trail, under the admin's id, without the key.
    const audit = await app.services.audit.list({ clientId: admin.id, operation: 'createClient', limit: 50 });
    const row = audit.items.find((a) => a.resourceIds.includes(body.client.id));
    t.ok(row, 'an audit row names the new client');
    t.equal(row?.outcome, 'success');
    t.equal(row?.requestId, res.headers['x-request-id']);
    t.notOk(JSON.stringify(row).includes(body.apiKey.key), 'the audit trail does not hold the key');
  });

  t.test('without scopes a client gets its agency’s defaults', async (t) => {
    for (const agency of ['bank', 'cdc', 'civil_affairs'] as const) {
      const res = await create({ name: `Default ${agency}`, agency, jurisdiction: '220102' });
      t.equal(res.statusCode, 201);
      t.same(json<Created>(res).client.scopes, defaultScopes[agency], `${agency} defaults`);
    }
    // Not the defaults of some other agency: a bank client cannot approve payments.
    const bank = json<Created>(await create({ name: 'Another bank', agency: 'bank', jurisdiction: '2201' }));
    t.notOk(bank.client.scopes.includes('payments:approve'));
    t.ok(bank.client.scopes.includes('payments:execute'));
  });

  t.test('the new key works at once and names its client', async (t) => {
    const created = json<Created>(await create({ name: 'Nanguan health', agency: 'health', jurisdiction: '220102' }));
    const res = await me(created.apiKey.key);
    t.equal(res.statusCode, 200);
    t.same(json<ClientBody>(res), created.client, 'the same client as the create answer');

    // And it is limited to what the client may do.
    const forbidden = await app.inject({ method: 'GET', url: '/v1/clients', headers: bearer(created.apiKey.key) });
    t.equal(forbidden.statusCode, 403);
    const regions = await app.inject({ method: 'GET', url: '/v1/regions/220102', headers: bearer(created.apiKey.key) });
    t.equal(regions.statusCode, 200, 'a default scope (regions:read) works');
  });

  t.test('the list pages with limit and nextCursor, without duplicates or gaps', async (t) => {
    for (let i = 0; i < 5; i++) {
      t.equal((await create({ name: `Portal ${i}`, agency: 'portal', jurisdiction: '2201' })).statusCode, 201);
    }
    const all = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients?limit=500', headers: admin.headers }),
    );
    t.equal(all.nextCursor, null, 'everything fits in one page of 500');
    t.ok(all.items.length >= 6, 'the admin and the portals at least');

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/clients?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await app.inject({ method: 'GET', url, headers: admin.headers });
      t.equal(res.statusCode, 200);
      const page = json<Page<ClientBody>>(res);
      t.ok(page.items.length <= 2, 'no page is longer than the limit');
      if (page.nextCursor !== null) t.equal(page.items.length, 2, 'only the last page may be short');
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
      pages++;
      if (pages > 100) break; // a cursor that never ends would otherwise loop forever
    } while (cursor !== null);

    t.equal(new Set(seen).size, seen.length, 'no client appears twice');
    t.same(
      seen,
      all.items.map((c) => c.id),
      'the pages together are the whole list, in the same order',
    );
    t.equal(pages, Math.ceil(all.items.length / 2));

    // The default page size is 50, and the limit is checked.
    const defaultPage = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients', headers: admin.headers }),
    );
    t.equal(defaultPage.items.length, Math.min(50, all.items.length));
    const over = await app.inject({ method: 'GET', url: '/v1/clients?limit=501', headers: admin.headers });
    t.equal(over.statusCode, 400);
  });

  t.test('the list filters by agency and enabled', async (t) => {
    const a = json<Created>(await create({ name: 'Data provider A', agency: 'data_provider', jurisdiction: '2201' }));
    const b = json<Created>(await create({ name: 'Data provider B', agency: 'data_provider', jurisdiction: '220103' }));
    const off = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${b.client.id}`,
      headers: admin.headers,
      payload: { enabled: false },
    });
    t.equal(off.statusCode, 200);

    const providers = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients?agency=data_provider', headers: admin.headers }),
    );
    t.same(providers.items.map((c) => c.id).sort(), [a.client.id, b.client.id].sort());
    t.ok(providers.items.every((c) => c.agency === 'data_provider'));

    const enabledProviders = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients?agency=data_provider&enabled=true', headers: admin.headers }),
    );
    t.same(
      enabledProviders.items.map((c) => c.id),
      [a.client.id],
    );

    const disabled = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients?enabled=false&limit=500', headers: admin.headers }),
    );
    t.ok(disabled.items.length >= 1);
    t.ok(
      disabled.items.every((c) => c.enabled === false),
      'only disabled clients',
    );
    t.ok(disabled.items.some((c) => c.id === b.client.id));

    const admins = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients?agency=admin&limit=500', headers: admin.headers }),
    );
    t.ok(admins.items.some((c) => c.id === admin.id));
    t.ok(admins.items.every((c) => c.agency === 'admin'));

    const unknownAgency = await app.inject({ method: 'GET', url: '/v1/clients?agency=police', headers: admin.headers });
    t.equal(unknownAgency.statusCode, 400);
    t.match(json<ProblemBody>(unknownAgency).errors, [{ in: 'query', pointer: '/agency' }]);
  });

  t.test('an admin acts only inside its own jurisdiction', async (t) => {
    const nanguan = await client('admin', { jurisdiction: '220102' });

    const wider = await create({ name: 'City-wide finance', agency: 'finance', jurisdiction: '2201' }, nanguan.headers);
    t.equal(wider.statusCode, 400);
    t.equal(wider.headers['content-type'], problemJson);
    const widerBody = json<ProblemBody>(wider);
    t.equal(widerBody.type, '/problems/validation-error');
    t.match(widerBody.errors, [{ in: 'body', pointer: '/jurisdiction', detail: /220102/ }]);

    const sideways = await create(
      { name: 'Kuancheng finance', agency: 'finance', jurisdiction: '220103' },
      nanguan.headers,
    );
    t.equal(sideways.statusCode, 400);
    t.match(json<ProblemBody>(sideways).errors, [{ in: 'body', pointer: '/jurisdiction' }]);

    const inside = await create(
      { name: 'Nanguan bank branch', agency: 'bank', jurisdiction: '220102001' },
      nanguan.headers,
    );
    t.equal(inside.statusCode, 201, 'a street office inside the district is fine');
    const insideId = json<Created>(inside).client.id;

    // The district admin's list holds only its district; the city admin sees that client too.
    const list = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients?limit=500', headers: nanguan.headers }),
    );
    t.ok(list.items.length >= 2);
    t.ok(
      list.items.every((c) => c.jurisdiction.startsWith('220102')),
      'nothing outside 220102',
    );
    t.notOk(
      list.items.some((c) => c.id === admin.id),
      'not the city admin',
    );
    t.equal((await getClient(insideId)).statusCode, 200);
    t.equal((await getClient(admin.id, nanguan.headers)).statusCode, 404, 'the city admin is invisible to it');

    // Nor may it move one of its clients out of its district.
    const move = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${insideId}`,
      headers: nanguan.headers,
      payload: { jurisdiction: '22' },
    });
    t.equal(move.statusCode, 400);
    t.match(json<ProblemBody>(move).errors, [{ in: 'body', pointer: '/jurisdiction' }]);
    t.equal(json<ClientBody>(await getClient(insideId)).jurisdiction, '220102001', 'unchanged');
  });

  t.test('an unknown or malformed region code is refused', async (t) => {
    const unknown = await create({ name: 'Nowhere', agency: 'finance', jurisdiction: '229999' });
    t.equal(unknown.statusCode, 400);
    const body = json<ProblemBody>(unknown);
    t.equal(body.type, '/problems/validation-error');
    t.match(body.errors, [{ in: 'body', pointer: '/jurisdiction', detail: /229999/ }]);

    const underUnknownCounty = await create({ name: 'Nowhere street', agency: 'finance', jurisdiction: '229999001' });
    t.equal(underUnknownCounty.statusCode, 400);
    t.match(json<ProblemBody>(underUnknownCounty).errors, [{ pointer: '/jurisdiction' }]);

    const malformed = await create({ name: 'Five digits', agency: 'finance', jurisdiction: '22010' });
    t.equal(malformed.statusCode, 400);
    t.match(json<ProblemBody>(malformed).errors, [{ in: 'body', pointer: '/jurisdiction', detail: /region code/ }]);

    const list = json<Page<ClientBody>>(
      await app.inject({ method: 'GET', url: '/v1/clients?agency=finance&limit=500', headers: admin.headers }),
    );
    t.notOk(
      list.items.some((c) => ['Nowhere', 'Nowhere street', 'Five digits'].includes(c.name)),
      'none of them was created',
    );
  });

  t.test('scopes outside the catalogue are refused', async (t) => {
    const res = await create({
      name: 'Greedy',
      agency: 'bank',
      jurisdiction: '2201',
      scopes: ['payments:read', 'god:mode'],
    });
    t.equal(res.statusCode, 400);
    t.equal(res.headers['content-type'], problemJson);
    const body = json<ProblemBody>(res);
    t.equal(body.type, '/problems/validation-error');
    t.match(body.errors, [{ in: 'body', pointer: '/scopes/1' }]);
    t.equal(body.errors?.length, 1, 'only the bad scope is named');

    const bank = json<Created>(await create({ name: 'Modest bank', agency: 'bank', jurisdiction: '2201' }));
    const patch = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${bank.client.id}`,
      headers: admin.headers,
      payload: { scopes: ['clients:*'] },
    });
    t.equal(patch.statusCode, 400);
    t.match(json<ProblemBody>(patch).errors, [{ in: 'body', pointer: '/scopes/0' }]);
    t.same(json<ClientBody>(await getClient(bank.client.id)).scopes, defaultScopes.bank, 'scopes unchanged');

    // Every catalogued scope is accepted.
    const all = await create({ name: 'Everything', agency: 'admin', jurisdiction: '2201', scopes: scopeNames });
    t.equal(all.statusCode, 201);
    t.same(json<Created>(all).client.scopes, scopeNames);
  });

  t.test('reading one client is audited', async (t) => {
    const created = json<Created>(await create({ name: 'Audited CDC', agency: 'cdc', jurisdiction: '2201' }));
    const res = await getClient(created.client.id);
    t.equal(res.statusCode, 200);
    t.same(json<ClientBody>(res), created.client);
    t.equal(res.headers.etag, `"${created.client.id}.1"`);

    const audit = await app.services.audit.list({ clientId: admin.id, operation: 'getClient', limit: 50 });
    const rows = audit.items.filter((a) => a.resourceIds.includes(created.client.id));
    t.equal(rows.length, 1, 'one audit row for one read');
    t.match(rows[0], {
      clientId: admin.id,
      agency: 'admin',
      operation: 'getClient',
      resourceType: 'client',
      outcome: 'success',
      requestId: res.headers['x-request-id'],
    });

    // A miss writes no success row.
    const missing = '00000000-0000-4000-8000-000000000000';
    t.equal((await getClient(missing)).statusCode, 404);
    const after = await app.services.audit.list({ operation: 'getClient', limit: 500 });
    t.notOk(after.items.some((a) => a.resourceIds.includes(missing)));
  });

  t.test('PATCH with the current If-Match changes the client and gives a new ETag', async (t) => {
    const created = json<Created>(await create({ name: 'Old name', agency: 'civil_affairs', jurisdiction: '220102' }));
    const read = await getClient(created.client.id);
    const etag = read.headers.etag as string;

    const res = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${created.client.id}`,
      headers: { ...admin.headers, 'if-match': etag },
      payload: { name: '  New name  ', scopes: ['registry:read', 'regions:read'], jurisdiction: '220103' },
    });
    t.equal(res.statusCode, 200);
    const updated = json<ClientBody>(res);
    t.match(updated, { id: created.client.id, name: 'New name', jurisdiction: '220103', enabled: true });
    t.same(updated.scopes, ['registry:read', 'regions:read']);
    t.equal(updated.createdAt, created.client.createdAt);
    t.ok(Date.parse(updated.updatedAt) >= Date.parse(created.client.updatedAt));
    const newEtag = res.headers.etag as string;
    t.ok(newEtag);
    t.not(newEtag, etag, 'a new ETag');

    const again = await getClient(created.client.id);
    t.equal(again.headers.etag, newEtag, 'GET gives the new ETag');
    t.same(json<ClientBody>(again), updated, 'the change is stored');

    // The new ETag works for the next change; the old one no longer does.
    const next = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${created.client.id}`,
      headers: { ...admin.headers, 'if-match': newEtag },
      payload: { name: 'Newer name' },
    });
    t.equal(next.statusCode, 200);
    const stale = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${created.client.id}`,
      headers: { ...admin.headers, 'if-match': newEtag },
      payload: { name: 'Lost' },
    });
    t.equal(stale.statusCode, 412);

    // Without If-Match the change is unconditional.
    const blind = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${created.client.id}`,
      headers: admin.headers,
      payload: { name: 'Blind' },
    });
    t.equal(blind.statusCode, 200);
    t.equal(json<ClientBody>(blind).name, 'Blind');

    const audit = await app.services.audit.list({ clientId: admin.id, operation: 'updateClient', limit: 50 });
    const rows = audit.items.filter((a) => a.resourceIds.includes(created.client.id));
    t.equal(rows.length, 3, 'each applied change is audited, the refused one is not');
  });

  t.test('disabling a client makes its keys fail with 401; enabling brings them back', async (t) => {
    const created = json<Created>(await create({ name: 'Soon disabled', agency: 'portal', jurisdiction: '2201' }));
    t.equal((await me(created.apiKey.key)).statusCode, 200);

    const off = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${created.client.id}`,
      headers: admin.headers,
      payload: { enabled: false },
    });
    t.equal(off.statusCode, 200);
    t.equal(json<ClientBody>(off).enabled, false);

    const refused = await me(created.apiKey.key);
    t.equal(refused.statusCode, 401);
    t.equal(refused.headers['content-type'], problemJson);
    t.equal(json<ProblemBody>(refused).type, '/problems/unauthorized');

    // A disabled client gets no new keys either.
    const issue = await app.inject({
      method: 'POST',
      url: `/v1/clients/${created.client.id}/keys`,
      headers: admin.headers,
      payload: {},
    });
    t.equal(issue.statusCode, 409);
    t.match(json(issue), { type: '/problems/invalid-state', currentState: 'disabled' });
    t.equal(json<Page<KeyBody>>(await keysOf(created.client.id)).items.length, 1, 'no key was issued');

    const on = await app.inject({
      method: 'PATCH',
      url: `/v1/clients/${created.client.id}`,
      headers: admin.headers,
      payload: { enabled: true },
    });
    t.equal(on.statusCode, 200);
    t.equal((await me(created.apiKey.key)).statusCode, 200, 'the same key works again');
  });

  t.test('key rotation: issue a second key, both work, revoke the first', async (t) => {
    const created = json<Created>(await create({ name: 'Rotating bank', agency: 'bank', jurisdiction: '2201' }));
    const first = created.apiKey;

    // No body at all: the body is optional.
    const issued = await app.inject({
      method: 'POST',
      url: `/v1/clients/${created.client.id}/keys`,
      headers: admin.headers,
    });
    t.equal(issued.statusCode, 201);
    const second = json<KeyBody & { key: string }>(issued);
    t.match(second.key, keyPattern);
    t.not(second.key, first.key);
    t.not(second.id, first.id);
    t.equal(second.label, null);

    const labelled = await app.inject({
      method: 'POST',
      url: `/v1/clients/${created.client.id}/keys`,
      headers: admin.headers,
      payload: { label: 'standby', expiresAt: '2099-01-01T00:00:00+08:00' },
    });
    t.equal(labelled.statusCode, 201);
    const third = json<KeyBody & { key: string }>(labelled);
    t.equal(third.label, 'standby');
    t.equal(third.expiresAt, '2098-12-31T16:00:00.000Z');

    for (const key of [first.key, second.key, third.key]) {
      const res = await me(key);
      t.equal(res.statusCode, 200, 'each key works');
      t.equal(json<ClientBody>(res).id, created.client.id);
    }

    const revoke = await app.inject({
      method: 'POST',
      url: `/v1/clients/${created.client.id}/keys/${first.id}/revoke`,
      headers: admin.headers,
    });
    t.equal(revoke.statusCode, 200);
    const revoked = json<KeyBody>(revoke);
    t.equal(revoked.id, first.id);
    t.type(revoked.revokedAt, 'string');
    t.notOk('key' in revoked, 'revoking does not show the key');

    t.equal((await me(first.key)).statusCode, 401, 'the revoked key fails');
    t.equal((await me(second.key)).statusCode, 200, 'the new key still works');
    t.equal((await me(third.key)).statusCode, 200);

    const listed = await keysOf(created.client.id);
    t.equal(listed.statusCode, 200);
    const keys = json<Page<KeyBody>>(listed);
    t.equal(keys.nextCursor, null);
    t.same(
      keys.items.map((k) => k.id),
      [first.id, second.id, third.id],
      'every key, oldest first',
    );
    t.equal(keys.items[0]!.revokedAt, revoked.revokedAt);
    t.equal(keys.items[1]!.revokedAt, null);
    t.equal(keys.items[2]!.revokedAt, null);
    t.same(
      keys.items.map((k) => k.prefix),
      [first.key, second.key, third.key].map((k) => k.slice(0, 11)),
    );
    for (const key of [first.key, second.key, third.key]) t.notOk(listed.body.includes(key), 'never the key itself');
    for (const item of keys.items) t.notOk('key' in item || 'keyHash' in item, 'no key or hash field');

    // A key of another client cannot be revoked through this one.
    const other = await client('bank');
    const otherKeys = json<Page<KeyBody>>(await keysOf(other.id));
    const crossed = await app.inject({
      method: 'POST',
      url: `/v1/clients/${created.client.id}/keys/${otherKeys.items[0]!.id}/revoke`,
      headers: admin.headers,
    });
    t.equal(crossed.statusCode, 404);
    t.equal((await me(other.key)).statusCode, 200, 'the other client’s key still works');

    // Rotation is audited.
    const issuedRows = await app.services.audit.list({ clientId: admin.id, operation: 'issueApiKey', limit: 50 });
    t.equal(issuedRows.items.filter((a) => a.resourceIds.includes(created.client.id)).length, 2);
    const revokedRows = await app.services.audit.list({ clientId: admin.id, operation: 'revokeApiKey', limit: 50 });
    t.ok(revokedRows.items.some((a) => a.resourceIds.includes(first.id)));
  });

  t.test('keys can only be managed with clients:write', async (t) => {
    const reader = await client('admin', { scopes: ['clients:read'] });
    const target = json<Created>(await create({ name: 'Target', agency: 'health', jurisdiction: '2201' }));
    const issue = await app.inject({
      method: 'POST',
      url: `/v1/clients/${target.client.id}/keys`,
      headers: reader.headers,
      payload: {},
    });
    t.equal(issue.statusCode, 403);
    t.match(json(issue), { requiredScopes: ['clients:write'] });
    const revoke = await app.inject({
      method: 'POST',
      url: `/v1/clients/${target.client.id}/keys/${target.apiKey.id}/revoke`,
      headers: reader.headers,
    });
    t.equal(revoke.statusCode, 403);
    t.equal((await me(target.apiKey.key)).statusCode, 200, 'the key was not revoked');
    t.equal(json<Page<KeyBody>>(await keysOf(target.client.id)).items.length, 1, 'no key was issued');
    const list = await app.inject({
      method: 'GET',
      url: `/v1/clients/${target.client.id}/keys`,
      headers: reader.headers,
    });
    t.equal(list.statusCode, 200, 'clients:read is enough to list keys');
  });
});
