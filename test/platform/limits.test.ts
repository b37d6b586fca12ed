/**
 * Limits on everything a caller controls (issue 10, item 2): the size of a body, of a page, of
 * every array and string the document accepts, of an upload. The document is walked, so a new
 * route without its limits fails here.
 */
import t from 'tap';
import { MAX_LINE_CHARS } from '../../src/modules/matching/load.parse.js';
import { PAIN002_MAX_BYTES } from '../../src/modules/payments/bank.pain002.js';
import { json, testApp } from '../helpers.js';
import { createSource, person, upload } from '../modules/matching/sources.fixtures.js';
import { type JsonSchema, type OpenApiDocument, operationsOf, typesOf } from './hostile-input.generators.js';

/**
 * Request bodies that are not JSON described by a schema, and what bounds them instead.
 */
const notJsonBodies: Record<string, string> = {
  loadMatchingSnapshot: `streamed, never buffered: lines of at most ${MAX_LINE_CHARS} characters, 2 GiB a load`,
  postPaymentStatusReport: `XML read as it streams: at most ${PAIN002_MAX_BYTES} bytes and 100,000 TxInfAndSts`,
};

/** Routes allowed more than BODY_LIMIT_BYTES, and why. Any other route must refuse a larger body. */
const largerBodies: Record<string, { bytes: number; why: string }> = {
  registerHouseholdsBulk: { bytes: 16 * 1024 * 1024, why: 'up to 1,000 households with their members at once' },
  postPaymentResults: { bytes: 16 * 1024 * 1024, why: '10,000 results with references are about 1.5 MiB' },
};

/** An anchored pattern without unbounded repetition matches only strings of bounded length. */
export function boundedPattern(pattern: string): boolean {
  if (!pattern.startsWith('^') || !pattern.endsWith('$')) return false;
  const plain = pattern.replace(/\\./g, 'x').replace(/\[[^\]]*\]/g, 'x');
  return !/[*+]|\{\d*,\}/.test(plain);
}

interface Unbounded {
  where: string;
  what: string;
}

/** Every string without a bound, array without maxItems, number without both ends, map without maxProperties. */
function unbounded(schema: JsonSchema, where: string, out: Unbounded[]) {
  for (const alternative of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) {
    unbounded(alternative, where, out);
  }
  if (schema.anyOf || schema.oneOf || schema.allOf || schema.enum || schema.const !== undefined) return;
  const types = typesOf(schema);
  if (types.length === 0) out.push({ where, what: 'takes any value' });
  if (
    types.includes('string') &&
    schema.maxLength === undefined &&
    !(schema.pattern && boundedPattern(schema.pattern))
  ) {
    out.push({ where, what: `a string without maxLength${schema.format ? ` (format ${schema.format})` : ''}` });
  }
  if (types.includes('number') && (schema.maximum ?? schema.exclusiveMaximum) === undefined) {
    out.push({ where, what: 'a number without maximum' });
  }
  if (types.includes('number') && (schema.minimum ?? schema.exclusiveMinimum) === undefined) {
    out.push({ where, what: 'a number without minimum' });
  }
  if (types.includes('array')) {
    if (schema.maxItems === undefined) out.push({ where, what: 'an array without maxItems' });
    if (schema.items) unbounded(schema.items, `${where}/*`, out);
  }
  if (types.includes('object')) {
    for (const [key, sub] of Object.entries(schema.properties ?? {})) unbounded(sub, `${where}/${key}`, out);
    if (typeof schema.additionalProperties === 'object') {
      if ((schema as { maxProperties?: number }).maxProperties === undefined) {
        out.push({ where, what: 'a map without maxProperties' });
      }
      unbounded(schema.additionalProperties, `${where}/*`, out);
    }
  }
}

t.test('limits on what a caller controls', async (t) => {
  // A small default limit: every route without a limit of its own refuses a few kilobytes more.
  const BODY_LIMIT = 4096;
  const world = await testApp(t, { env: { BODY_LIMIT_BYTES: String(BODY_LIMIT), RATE_LIMIT_PER_MINUTE: '100000' } });
  const { app, admin } = world;
  const operations = operationsOf(app.swagger() as unknown as OpenApiDocument);

  t.test('every string, array, number and map a request takes is bounded in the document', async (t) => {
    const found: Unbounded[] = [];
    for (const op of operations) {
      for (const p of op.params) unbounded(p.schema, `${op.operationId} ${p.in} ${p.name}`, found);
      if (op.body) unbounded(op.body.schema, `${op.operationId} body`, found);
      if (op.otherMediaTypes.length > 0 && !op.body) {
        t.ok(notJsonBodies[op.operationId], `${op.operationId}: its ${op.otherMediaTypes.join(', ')} body is bounded`);
      }
    }
    t.same(
      found.map((u) => `${u.where}: ${u.what}`),
      [],
      'nothing unbounded (a string is bounded by maxLength, an enum, or an anchored pattern without * + {n,})',
    );
  });

  t.test('the rules the walk applies', async (t) => {
    t.ok(boundedPattern('^(\\d{2}|\\d{4}|\\d{6})$'));
    t.ok(boundedPattern('^\\+?[0-9][0-9 -]{4,22}$'));
    t.notOk(boundedPattern('^[a-z]+$'));
    t.notOk(boundedPattern('^\\d{2,}$'));
    t.notOk(boundedPattern('[a-z]{1,3}'), 'not anchored');
    const found: Unbounded[] = [];
    unbounded(
      {
        type: 'object',
        properties: {
          free: { type: 'string' },
          capped: { type: 'string', maxLength: 10 },
          list: { type: 'array', items: { type: 'integer', minimum: 0 } },
          map: { type: 'object', additionalProperties: { type: 'string', enum: ['a'] } },
        },
      },
      'sample',
      found,
    );
    t.same(
      found.map((u) => `${u.where}: ${u.what}`),
      [
        'sample/free: a string without maxLength',
        'sample/list: an array without maxItems',
        'sample/list/*: a number without maximum',
        'sample/map: a map without maxProperties',
      ],
      'the walk finds what is unbounded',
    );
  });

  t.test('every list takes limit from 1 to 500, and refuses anything else naming it', async (t) => {
    const lists = operations.filter((op) => op.params.some((p) => p.in === 'query' && p.name === 'limit'));
    t.ok(lists.length > 30, `${lists.length} lists`);
    const caller = await world.client('civil_affairs', {
      scopes: [...new Set(operations.flatMap((op) => op.scopes))] as never,
    });
    for (const op of lists) {
      const limit = op.params.find((p) => p.name === 'limit')!.schema;
      t.ok((limit.maximum ?? Infinity) <= 500, `${op.operationId}: limit at most 500`);
      if (op.path.includes('{')) continue; // needs an id of a real resource; the schema is checked above
      for (const bad of ['501', '0', '-1', '1e9', 'all']) {
        const res = await app.inject({ method: 'GET', url: `${op.path}?limit=${bad}`, headers: caller.headers });
        const problem = json<{ type: string; errors?: { in: string; pointer: string }[] }>(res);
        t.equal(res.statusCode, 400, `${op.operationId} limit=${bad}: 400`);
        t.equal(problem.type, '/problems/validation-error');
        t.ok(
          problem.errors?.some((e) => e.in === 'query' && e.pointer === '/limit'),
          `${op.operationId} limit=${bad}: names /limit`,
        );
      }
    }
  });

  t.test('every JSON body over its limit answers 413 problem+json', async (t) => {
    const caller = await world.client('civil_affairs', {
      scopes: [...new Set(operations.flatMap((op) => op.scopes))] as never,
    });
    const padded = (bytes: number) => Buffer.from(`{"padding":"${'x'.repeat(bytes - 14)}"}`);
    const justOver = padded(BODY_LIMIT + 1);
    const id = '00000000-0000-4000-8000-000000000000';
    for (const op of operations.filter((o) => o.body)) {
      const url = op.path.replace(/\{[^}]+\}/g, (m) => (m === '{code}' ? 'dibao' : id));
      const send = (payload: Buffer) =>
        app.inject({
          method: op.method,
          url,
          headers: { ...caller.headers, 'content-type': 'application/json' },
          payload,
        });
      const larger = largerBodies[op.operationId];
      const res = await send(justOver);
      if (!larger) {
        t.equal(res.statusCode, 413, `${op.operationId}: ${BODY_LIMIT + 1} bytes refused`);
        t.match(res.headers['content-type'], /^application\/problem\+json/);
        t.match(json(res), { type: '/problems/payload-too-large', status: 413 });
        continue;
      }
      t.not(res.statusCode, 413, `${op.operationId}: takes more than BODY_LIMIT_BYTES (${larger.why})`);
      const over = await send(padded(larger.bytes + 1));
      t.equal(over.statusCode, 413, `${op.operationId}: ${larger.bytes + 1} bytes refused`);
      t.match(json(over), { type: '/problems/payload-too-large' });
    }
  });

  t.test('a snapshot upload refuses a line longer than its limit, and keeps nothing of it', async (t) => {
    const provider = await world.client('data_provider');
    const sourceId = await createSource(app, admin, provider);
    const good = JSON.stringify({ ...person(1), amountFen: 100_000, ref: 'W-1' });
    const long = JSON.stringify({ ...person(2), amountFen: 100_000, ref: 'x'.repeat(MAX_LINE_CHARS) });
    const res = await upload(app, provider, sourceId, 'too-long-line', `${good}\n${long}\n`);
    t.equal(res.statusCode, 422);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    const body = json<{ snapshot: { status: string; badLines: number; records: number } }>(res);
    t.match(body.snapshot, { status: 'rejected', badLines: 1, records: 0 }, 'refused whole');
    t.equal(
      (await app.inject({ method: 'GET', url: `/v1/matching/sources/${sourceId}`, headers: provider.headers }))
        .statusCode,
      200,
    );
  });

  t.test('a pain.002 over its byte limit answers 413 as it streams', async (t) => {
    const bank = await world.client('bank');
    const head =
      '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">';
    const payload = Buffer.alloc(PAIN002_MAX_BYTES + 1, ' ');
    payload.write(head);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/payment-batches/00000000-0000-4000-8000-000000000000/pain.002',
      headers: { ...bank.headers, 'content-type': 'application/xml' },
      payload,
    });
    t.equal(res.statusCode, 413);
    t.match(json(res), { type: '/problems/payload-too-large', status: 413 });
  });
});
