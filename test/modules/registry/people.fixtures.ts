import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { rows } from '../../../src/db/client.js';
import { residentIdCheckCharacter } from '../../../src/modules/registry/identity.js';
import type { TestClient } from '../../helpers.js';

/** A valid resident ID number (correct check character). */
export const residentId = (region: string, birth: string, sequence: string) => {
  const first17 = `${region}${birth}${sequence}`;
  return first17 + residentIdCheckCharacter(first17);
};

/** The same number with a wrong check character. */
export const withWrongCheck = (number: string) => number.slice(0, 17) + (number[17] === '0' ? '1' : '0');

export interface Recorded {
  url: string;
  status: number;
  body: string;
  /** The caller lacks registry:read_sensitive: no whole number may appear in the body. */
  masked: boolean;
}

/**
 * Sends requests as a client and keeps every answer, so a test can check that no answer to a
 * caller without registry:read_sensitive ever carried a whole number.
 */
export function recorder(app: FastifyInstance) {
  const answers: Recorded[] = [];
  async function call(
    who: TestClient & { scopes?: readonly string[] },
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await app.inject({
      method,
      url,
      headers: { ...who.headers, ...headers },
      ...(payload !== undefined && { payload: payload as Record<string, unknown> }),
    });
    answers.push({
      url,
      status: res.statusCode,
      body: res.body,
      masked: !(who.scopes ?? []).includes('registry:read_sensitive'),
    });
    return res;
  }
  return { call, answers };
}

/** A log stream that keeps every line written to it. */
export function captureLog() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export const countPersons = async (app: FastifyInstance) =>
  (await rows<{ n: number }>(app.database.db, sql`select count(*)::int as n from persons`))[0]!.n;
