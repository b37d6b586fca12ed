import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { eventTypes } from '../../src/platform/events/catalogue.js';
import { json, testApp } from '../helpers.js';

type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
};

const agencyTags = ['Civil affairs', 'Finance', 'Bank', 'Data providers', 'Health', 'CDC', 'Portal', 'Admin', 'Events'];

t.test('OpenAPI document', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(res.statusCode, 200);
  const served = json<{ openapi: string; paths: Record<string, Record<string, Operation>> }>(res);

  t.test('is valid OpenAPI 3.1', async (t) => {
    t.equal(served.openapi, '3.1.0');
    const validator = new Validator();
    const result = await validator.validate(served as unknown as Parameters<Validator['validate']>[0]);
    t.same(result.errors ?? [], [], 'no schema errors');
    t.ok(result.valid);
  });

  t.test('the committed copy is what the code generates (run `npm run openapi`)', async (t) => {
    const committed = JSON.parse(
      readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'),
    ) as unknown;
    t.same(committed, served);
  });

  t.test('every $ref resolves', async (t) => {
    const text = JSON.stringify(served);
    const components = (served as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    t.ok(refs.length > 0);
    for (const ref of new Set(refs)) t.ok(components[ref], `${ref} exists`);
  });

  t.test('every operation is documented for integrators', async (t) => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(served.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        t.ok(op.operationId, `${where} has an operationId`);
        t.notOk(ids.has(op.operationId!), `${where} operationId is unique`);
        ids.add(op.operationId!);
        t.ok(op.summary, `${where} has a summary`);
        t.ok(op.tags?.length, `${where} has tags`);
        if (!path.startsWith('/v1')) continue;
        t.ok(
          op.tags!.every((tag) => agencyTags.includes(tag)),
          `${where} is tagged by agency`,
        );
        t.ok(op.security?.[0]?.apiKey, `${where} declares its security`);
        for (const status of ['401', '403', '429', '500']) {
          t.ok(
            op.responses?.[status]?.content?.['application/problem+json'],
            `${where} documents ${status} as a problem`,
          );
        }
      }
    }
  });

  t.test('every event type’s message is documented under webhooks', async (t) => {
    const webhooks = (served as unknown as { webhooks: Record<string, { post: { requestBody: unknown } }> }).webhooks;
    for (const type of [...eventTypes(), 'webhook.pinged']) {
      t.ok(webhooks[type]?.post.requestBody, `${type} is documented`);
    }
    t.equal(Object.keys(webhooks).length, eventTypes().length + 1, 'and nothing else');
  });

  t.test('the interactive documentation is served at /docs', async (t) => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    t.equal(page.statusCode, 200);
    t.match(page.headers['content-type'], /text\/html/);
    t.match(page.body, /swagger/i);
  });
});
