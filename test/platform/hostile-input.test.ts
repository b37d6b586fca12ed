/**
 * Hostile input (issue 10, item 2): for every operation of the OpenAPI document, requests made bad
 * from the operation's own schemas — wrong types, huge strings and arrays, deep nesting, keys that
 * try to pollute Object.prototype, SQL and control characters, NUL and unpaired surrogates, wrong
 * content types, truncated and malformed bodies, overlong and malformed headers — sent by a client
 * holding the operation's scopes. Whatever comes: never a 5xx, always problem+json with type, title
 * and status (a validation problem naming the bad place), and a refused request writes nothing.
 *
 * Reproduce a failure with the seed it prints: HOSTILE_SEED=<seed> npx tap test/platform/hostile-input.test.ts
 * (HOSTILE_ONLY=<operationId,…> runs only those operations; HOSTILE_RUNS=<n> changes the random cases per operation).
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import t from 'tap';
import { testApp, type TestClient } from '../helpers.js';
import {
  type Base,
  baseOf,
  build,
  type Case,
  foreignBodies,
  type Mutation,
  mutationOf,
} from './hostile-input.cases.js';
import { namesPlace, type OpenApiDocument, type Operation, operationsOf, slotsOf } from './hostile-input.generators.js';
import { callers, idsFor, mayChangeOnRefusal, pathIds, refusalsKept, seed, writeWatch } from './hostile-input.world.js';

const SEED = Number(process.env.HOSTILE_SEED ?? 20_260_717);
/** Random cases per operation, besides one wrong-typed value at every place of one request. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 6);

/** Validation runs path, body, query, then headers, and stops at the first part that fails. */
const validationOrder = { path: 0, body: 1, query: 2, header: 3 } as const;

interface Problem {
  type?: unknown;
  title?: unknown;
  status?: unknown;
  errors?: { in?: unknown; pointer?: unknown; detail?: unknown }[];
}

t.test('hostile input: never a 5xx, always problem+json, never a partial write', async (t) => {
  // Error log lines, to say why a request failed with a 5xx.
  const errorLines = new Map<string, string>();
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { requestId?: string; reqId?: string; err?: { message?: string } };
        const id = entry.requestId ?? entry.reqId;
        if (id && entry.err?.message) errorLines.set(id, entry.err.message.slice(0, 400));
      }
      done();
    },
  });
  const world = await testApp(t, {
    env: {
      LOG_LEVEL: 'error',
      RATE_LIMIT_PER_MINUTE: '1000000',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    },
    logStream,
  });
  const { app } = world;
  const operations = operationsOf(app.swagger() as unknown as OpenApiDocument);
  t.ok(operations.length > 150, `${operations.length} operations under /v1`);

  const who = callers(world);
  for (const op of operations) await who.for(op);
  const seeded = await seed(world, {
    civil: await who.agency('civil_affairs'),
    finance: await who.agency('finance'),
    dataProvider: await who.agency('data_provider'),
  });
  for (const { step, status, body } of seeded.answers) t.ok(status < 300, `seeded: ${step}`, { status, body });
  const known = await pathIds(world, operations, (op) => who.for(op), await who.ids());
  const bodyIds = [...new Set([...known.values()].flat())].filter((id) => /^[0-9a-f-]{36}$/.test(id));
  t.ok(bodyIds.length >= 10, `${bodyIds.length} real ids to aim at`);
  const itemCodes = known.get('/v1/in-kind/items code') ?? [];
  const hints = { ids: bodyIds, byName: { itemCode: itemCodes, item: itemCodes } };

  const writes = await writeWatch(app);
  t.ok(writes.tables.length > 40, `${writes.tables.length} tables watched for writes`);
  let mark = await writes.mark();

  /** How often each kind of case got each status: shown at the end, to see what was exercised. */
  const tallies = new Map<string, number>();

  async function check(op: Operation, caller: TestClient, c: Case): Promise<void> {
    const request = build(op, c);
    const res = await app.inject({
      method: request.method,
      url: request.url,
      headers: { ...caller.headers, ...request.headers },
      ...(request.payload !== undefined && { payload: request.payload }),
    });
    const before = mark;
    mark = await writes.mark();
    const wrong: string[] = [];
    const status = res.statusCode;
    const tally = `${c.mutation.kind} ${status}`;
    tallies.set(tally, (tallies.get(tally) ?? 0) + 1);
    if (status >= 500) {
      wrong.push(`a ${status} (${errorLines.get(String(res.headers['x-request-id'])) ?? 'no error logged'})`);
    }
    if (request.mustFail && status < 400) wrong.push('accepted a request it must refuse');
    if (status >= 400) {
      if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
        wrong.push(`content type ${res.headers['content-type']}, not application/problem+json`);
      }
      let problem: Problem = {};
      try {
        problem = JSON.parse(res.body) as Problem;
      } catch {
        wrong.push('a body that is not JSON');
      }
      if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || problem.status !== status) {
        wrong.push('a problem without type, title and its status');
      }
      if (problem.type === '/problems/validation-error') {
        const errors = Array.isArray(problem.errors) ? problem.errors : [];
        if (errors.length === 0) wrong.push('a validation problem without errors');
        if (
          !errors.every(
            (e) => typeof e.in === 'string' && typeof e.pointer === 'string' && typeof e.detail === 'string',
          )
        ) {
          wrong.push('a field error without in, pointer and detail');
        }
        const target = request.invalidAt;
        if (target) {
          const named = (e: { in?: unknown; pointer?: unknown }) =>
            e.in === target.in && typeof e.pointer === 'string' && namesPlace(e.pointer, target.pointer);
          // A part validated earlier that fails stops validation before the target is reached.
          const earlier = (e: { in?: unknown }) =>
            validationOrder[e.in as keyof typeof validationOrder] < validationOrder[target.in];
          if (!errors.some(named) && !errors.every(earlier)) {
            wrong.push(`no error names ${target.in} ${target.pointer || '/'}`);
          }
        }
      }
      const kept = refusalsKept[op.operationId];
      const changed = (mark === before ? [] : await writes.since(before)).filter(
        (table) => !(kept?.status === status && kept.tables.includes(table)),
      );
      if (changed.length > 0) wrong.push(`a refused request wrote to ${changed.join(', ')}`);
    }
    if (({} as Record<string, unknown>).polluted !== undefined || 'polluted' in Object.prototype) {
      delete (Object.prototype as Record<string, unknown>).polluted;
      wrong.push('Object.prototype was polluted');
    }
    if (/\bat .+\.[jt]s:\d+:\d+|node_modules/.test(res.body)) wrong.push('a stack trace in the body');
    if (wrong.length > 0) {
      throw new Error(
        `${request.method} ${request.url.slice(0, 160)} → ${status} ${res.body.slice(0, 400)}\n  ${wrong.join('\n  ')}`,
      );
    }
  }

  const only = process.env.HOSTILE_ONLY?.split(',');
  for (const op of operations.filter((o) => !only || only.includes(o.operationId))) {
    const where = `${op.method} ${op.path} (${op.operationId})`;
    const caller = await who.for(op);
    const base = baseOf(op, (param) => idsFor(known, op, param), hints);
    const cases = base.chain((b: Base) => mutationOf(op, b).map((mutation) => ({ base: b, mutation })));
    try {
      await fc.assert(
        fc.asyncProperty(cases, (c) => check(op, caller, c)),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      // And every place of one request given a value of the wrong type.
      const [sampled] = fc.sample(base, { seed: SEED, numRuns: 1 });
      // Real ids in the path, so the sweep reaches the operation's own checks, not only a 404.
      const realPath = Object.fromEntries(
        Object.keys(sampled!.path).flatMap((param) => {
          const ids = idsFor(known, op, param);
          return ids.length > 0 ? [[param, ids[0]!]] : [];
        }),
      );
      const one: Base = { ...sampled!, path: { ...sampled!.path, ...realPath } };
      const places = [
        ...(op.body && one.body !== undefined ? slotsOf(op.body.schema, one.body) : []).map((s) => ({
          in: 'body' as const,
          pointer: s.pointer,
        })),
        ...op.params.filter((p) => p.in !== 'header').map((p) => ({ in: p.in, pointer: `/${p.name}` })),
      ];
      const sweep: Mutation[] = [
        ...places.map((place) => ({ kind: 'wrong-type' as const, ...place })),
        // And every hostile body an operation reading something else than JSON may get.
        ...op.otherMediaTypes.flatMap((contentType) =>
          (Object.keys(foreignBodies) as (keyof typeof foreignBodies)[]).map((sample) => ({
            kind: 'foreign-body' as const,
            contentType,
            sample,
          })),
        ),
      ];
      for (const [i, mutation] of sweep.entries()) {
        // A load's upload key answered once replays its answer: each request of the sweep a key of its own.
        const base = 'uploadKey' in one.path ? { ...one, path: { ...one.path, uploadKey: `sweep-${i}` } } : one;
        try {
          await check(op, caller, { base, mutation });
        } catch (err) {
          throw new Error(`sweep case ${JSON.stringify(mutation)} failed:`, { cause: err });
        }
      }
      t.pass(where);
    } catch (err) {
      const cause = (err as Error).cause instanceof Error ? `\n${((err as Error).cause as Error).message}` : '';
      t.fail(`${where}, HOSTILE_SEED=${SEED}: ${(err as Error).message.slice(0, 2000)}${cause.slice(0, 2000)}`);
    }
  }
  t.comment(
    [...tallies]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([k, n]) => `${k}: ${n}`)
      .join(', '),
  );
  t.comment(
    `seed ${SEED}, ${RUNS} random cases an operation; may change on refusal: ${[...mayChangeOnRefusal].join(', ')}; ` +
      Object.entries(refusalsKept)
        .map(([op, k]) => `${op} answering ${k.status} keeps ${k.tables.join(', ')}`)
        .join('; '),
  );
});
