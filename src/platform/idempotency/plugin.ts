import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError, validationError } from '../errors.js';
import { idempotencyKeys } from './tables.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string | null;
  }
}

interface Options {
  ttlHours: number;
  waitMs: number;
}

const keyPattern = /^[\x21-\x7e]{1,255}$/;
/** Headers worth replaying with a stored answer. */
const replayedHeaders = ['content-type', 'location', 'etag'];

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
    .digest('hex');
}

/**
 * `Idempotency-Key` on POST (API.md): the first request with a key runs; a repeat with the same
 * body gets the stored answer; a different body gets 422; a repeat while the first still runs waits
 * for it (up to IDEMPOTENCY_WAIT_MS) and then answers 409. Keys are per client, kept in the database.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, { ttlHours, waitMs }: Options) => {
    const db = app.database.db;
    app.decorateRequest('idempotencyKey', null);

    async function replay(request: FastifyRequest, reply: FastifyReply, clientId: string, key: string, hash: string) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const [row] = await db
          .select()
          .from(idempotencyKeys)
          .where(and(eq(idempotencyKeys.clientId, clientId), eq(idempotencyKeys.key, key)));
        if (!row) return false; // the first request failed and let the key go: run this one
        if (row.requestHash !== hash) {
          throw new ProblemError(
            422,
            'idempotency-key-reused',
            'This Idempotency-Key was used with a different request.',
          );
        }
        if (row.state === 'completed') {
          reply.headers(row.responseHeaders ?? {});
          reply.header('idempotent-replayed', 'true');
          return reply.code(row.responseStatus ?? 200).send(row.responseBody ?? '');
        }
        if (Date.now() >= deadline) {
          throw new ProblemError(
            409,
            'idempotency-key-in-flight',
            'A request with this Idempotency-Key is still being processed; retry shortly.',
            {},
            { 'retry-after': '1' },
          );
        }
        await sleep(20);
      }
    }

    app.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST' || !request.client) return;
      const key = request.headers['idempotency-key'];
      if (key === undefined) return;
      if (typeof key !== 'string' || !keyPattern.test(key)) {
        throw validationError([
          { in: 'header', pointer: '/idempotency-key', detail: 'must be 1 to 255 visible ASCII characters' },
        ]);
      }
      const clientId = request.client.id;
      const hash = requestHash(request);
      for (let attempt = 0; attempt < 3; attempt++) {
        // Expired keys are forgotten lazily, when their key comes round again.
        await db
          .delete(idempotencyKeys)
          .where(
            and(
              eq(idempotencyKeys.clientId, clientId),
              eq(idempotencyKeys.key, key),
              lt(idempotencyKeys.expiresAt, sql`now()`),
            ),
          );
        const claimed = await db
          .insert(idempotencyKeys)
          .values({
            clientId,
            key,
            requestHash: hash,
            expiresAt: sql`now() + make_interval(hours => ${ttlHours})`,
          })
          .onConflictDoNothing()
          .returning({ key: idempotencyKeys.key });
        if (claimed.length > 0) {
          request.idempotencyKey = key;
          return;
        }
        const answered = await replay(request, reply, clientId, key, hash);
        if (answered !== false) return answered;
      }
      throw new ProblemError(409, 'idempotency-key-in-flight', 'The Idempotency-Key is contended; retry shortly.');
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const key = request.idempotencyKey;
      if (!key || !request.client) return payload;
      request.idempotencyKey = null;
      const where = and(eq(idempotencyKeys.clientId, request.client.id), eq(idempotencyKeys.key, key));
      if (reply.statusCode >= 500 || (payload !== null && typeof payload !== 'string')) {
        // Nothing was done, or nothing we can replay: let a retry run afresh.
        await db.delete(idempotencyKeys).where(where);
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const name of replayedHeaders) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      await db
        .update(idempotencyKeys)
        .set({
          state: 'completed',
          responseStatus: reply.statusCode,
          responseHeaders: headers,
          responseBody: payload ?? '',
        })
        .where(where);
      return payload;
    });
  },
  { name: 'idempotency', dependencies: ['database', 'auth'] },
);
