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

const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  ...sensitiveFields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`, `*[*].${f}`, `*.*[*].${f}`]),
];

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
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as typeof args;
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
