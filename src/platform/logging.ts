import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoggerOptions } from 'pino';

/** Fields that hold personal or secret data (PIPL): never written to a log, at any depth we log. */
const sensitiveFields = [
  'idNumber',
  'phone',
  'phoneNumber',
  'bankAccount',
  'accountNumber',
  'name',
  'fullName',
  'password',
  'apiKey',
  'key',
  'secret',
];

// Headers are cut by pino's redaction, and so are sensitive fields of a child logger's bindings
// (which no formatter sees) to a fixed depth. The object of each line is walked whole by scrubObject.
const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  ...sensitiveFields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*[*].${f}`, `*.*[*].${f}`]),
];
const sensitive = new Set(sensitiveFields.map((f) => f.toLowerCase()));
const MAX_DEPTH = 12;

/**
 * A copy of a log object with every sensitive field (at any depth, in arrays too) replaced and
 * every string masked by scrubText. Errors and other class instances are left to the serializers.
 */
export function scrubObject(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (depth >= MAX_DEPTH || seen.has(value)) return '[TRUNCATED]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1, seen));
  // Class instances (requests, replies, dates) are left to pino's serializers.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = sensitive.has(key.toLowerCase()) ? '[REDACTED]' : scrubObject(v, depth + 1, seen);
  }
  return out;
}

// Resident ID numbers (GB 11643), mainland mobile numbers and long digit runs (bank cards) that
// slip into a free-text message are masked before the line is written.
const idNumberPattern = /\b\d{17}[\dXx]\b/g;
const mobilePattern = /(?<!\d)1[3-9]\d{9}(?!\d)/g;
const cardPattern = /(?<!\d)\d{12,19}(?!\d)/g;

export function scrubText(text: string): string {
  return text
    .replace(idNumberPattern, '[REDACTED-ID]')
    .replace(mobilePattern, '[REDACTED-PHONE]')
    .replace(cardPattern, '[REDACTED-NUMBER]');
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    formatters: {
      log: (object) => scrubObject(object) as Record<string, unknown>,
      bindings: (bindings) => scrubObject(bindings) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as typeof args;
        // Given no message, pino takes the error's own (log.error(err), log.error({ err })), which no
        // serializer sees: give it the scrubbed one instead.
        const [first] = args as unknown[];
        const err = first instanceof Error ? first : (first as { err?: unknown } | null | undefined)?.err;
        if (args.length === 1 && err instanceof Error && !(first as { msg?: unknown }).msg) {
          scrubbed.push(scrubText(err.message));
        }
        method.apply(this, scrubbed);
      },
    },
    serializers: {
      req(req: { method: string; url: string; id: string; headers: Record<string, unknown>; ip?: string }) {
        return { method: req.method, url: scrubText(req.url), requestId: req.id, remoteAddress: req.ip };
      },
      err(err: Error & { code?: string; statusCode?: number }) {
        return {
          type: err.name,
          code: err.code,
          statusCode: err.statusCode,
          message: scrubText(err.message ?? ''),
          stack: err.stack ? scrubText(err.stack) : undefined,
        };
      },
    },
  };
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

/** Keeps a caller's X-Request-Id when it is sane (so traces join up), otherwise makes one. */
export function genRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}
