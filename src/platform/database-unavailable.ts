import { ProblemError } from './errors.js';

/**
 * SQLSTATEs that mean the server cannot serve the connection right now: class 08 (connection
 * exception), 53300 too_many_connections, 57P01 admin_shutdown (a fast stop or restart), 57P02
 * crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down).
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const unavailableStates = /^(08[0-9A-Z]{3}|53300|57P0[123])$/;

/** What the socket says when the server is not there, or went away. */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** node-postgres and pg-pool say these in words only (no code). */
const driverMessages = [
  /^Connection terminated/, // unexpectedly, or due to connection timeout
  /^timeout exceeded when trying to connect$/,
  /is not queryable$/, // a client that lost its connection
];

function causes(err: unknown): unknown[] {
  const found: unknown[] = [];
  const queue = [err];
  // drizzle wraps the driver's error (DrizzleQueryError.cause); a refused connection to a name with
  // several addresses is an AggregateError of one error each.
  while (queue.length > 0 && found.length < 20) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null) continue;
    found.push(e);
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return found;
}

/** The database could not be reached, or the connection was lost: nothing wrong with the request. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return causes(err).some((e) => {
    const { code, message, syscall } = e as { code?: unknown; message?: unknown; syscall?: unknown };
    if (typeof code === 'string' && (unavailableStates.test(code) || socketCodes.has(code))) return true;
    if (syscall === 'connect') return true;
    return typeof message === 'string' && driverMessages.some((m) => m.test(message));
  });
}

/** Seconds a caller should wait before trying again: about what a PostgreSQL restart takes. */
export const DATABASE_RETRY_AFTER_S = 2;

export const databaseUnavailable = () =>
  new ProblemError(
    503,
    'service-unavailable',
    'The database cannot be reached right now; retry shortly.',
    {},
    { 'retry-after': String(DATABASE_RETRY_AFTER_S) },
  );
