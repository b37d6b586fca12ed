import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, lt, or, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError, validationError } from '../errors.js';
import { idempotencyKeys } from './tables.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when this request holds an Idempotency-Key; its answer is stored when it is sent. */
    idempotency: ReturnType<typeof keyCrypto> | null;
  }
}

interface Options {
  ttlHours: number;
  waitMs: number;
  /** Secret for keyed hashes (the service's API_KEY_PEPPER). */
  pepper: string;
}

/** Requests run far shorter than this; long work is a job. Past it, an in-flight key is abandoned. */
const ABANDONED_AFTER_S = 300;

const keyPattern = /^[\x21-\x7e]{1,255}$/;
/** Headers worth replaying with a stored answer. */
const replayedHeaders = ['content-type', 'location', 'etag'];

/**
 * What is stored of a key: its HMAC, and its answer encrypted under a key derived from it, so the
 * table alone gives neither the keys nor the answers (which may hold a newly issued API key).
 */
function keyCrypto(pepper: string, clientId: string, key: string) {
  const stored = createHmac('sha256', pepper).update(`idempotency-key\n${clientId}\n${key}`).digest('hex');
  const sealKey = createHmac('sha256', pepper).update(`idempotency-answer\n${clientId}\n${key}`).digest();
  return {
    stored,
    seal(plain: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
    },
    open(sealed: string): string {
      const raw = Buffer.from(sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', sealKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

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
  async (app: FastifyInstance, { ttlHours, waitMs, pepper }: Options) => {
    const db = app.database.db;
    app.decorateRequest('idempotency', null);

    async function replay(reply: FastifyReply, clientId: string, crypto: ReturnType<typeof keyCrypto>, hash: string) {
      const key = crypto.stored;
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
          return reply.code(row.responseStatus ?? 200).send(row.responseBody ? crypto.open(row.responseBody) : '');
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
      const crypto = keyCrypto(pepper, clientId, key);
      const stored = crypto.stored;
      for (let attempt = 0; attempt < 3; attempt++) {
        // Expired keys, and keys whose request died with its process, are forgotten lazily,
        // when their key comes round again.
        await db
          .delete(idempotencyKeys)
          .where(
            and(
              eq(idempotencyKeys.clientId, clientId),
              eq(idempotencyKeys.key, stored),
              or(
                lt(idempotencyKeys.expiresAt, sql`now()`),
                and(eq(idempotencyKeys.state, 'in_flight'), lt(idempotencyKeys.inFlightUntil, sql`now()`)),
              ),
            ),
          );
        const claimed = await db
          .insert(idempotencyKeys)
          .values({
            clientId,
            key: stored,
            requestHash: hash,
            expiresAt: sql`now() + make_interval(hours => ${ttlHours})`,
            inFlightUntil: sql`now() + make_interval(secs => ${ABANDONED_AFTER_S})`,
          })
          .onConflictDoNothing()
          .returning({ key: idempotencyKeys.key });
        if (claimed.length > 0) {
          request.idempotency = crypto;
          return;
        }
        const answered = await replay(reply, clientId, crypto, hash);
        if (answered !== false) return answered;
      }
      throw new ProblemError(409, 'idempotency-key-in-flight', 'The Idempotency-Key is contended; retry shortly.');
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const crypto = request.idempotency;
      if (!crypto || !request.client) return payload;
      request.idempotency = null;
      const where = and(eq(idempotencyKeys.clientId, request.client.id), eq(idempotencyKeys.key, crypto.stored));
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
          responseBody: crypto.seal(payload ?? ''),
        })
        .where(where);
      return payload;
    });
  },
  { name: 'idempotency', dependencies: ['database', 'auth'] },
);
