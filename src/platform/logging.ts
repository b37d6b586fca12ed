import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoggerOptions } from 'pino';

/** Fields that hold personal or secret data (PIPL): never written to a log, at any depth. */
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
  'authorization',
  'cookie',
  'idempotency-key',
];

const sensitive = new Set(sensitiveFields.map((f) => f.toLowerCase()));
const MAX_DEPTH = 12;

/**
 * A copy of a parsed log line with every sensitive field (at any depth, in arrays too) replaced and
 * every string masked by scrubText.
 */
export function scrubObject(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH || seen.has(value)) return '[TRUNCATED]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = sensitive.has(key.toLowerCase()) ? '[REDACTED]' : scrubObject(v, depth + 1, seen);
  }
  return out;
}

// Resident ID numbers (GB 11643), mainland mobile numbers and long digit runs (bank cards and
// accounts, up to ISO 20022's 34) that slip into a free-text message are masked before the line is
// written; so are numbers written in groups (139 5555 6666, 220102-19700412-0038) of 11 digits or
// more, which leaves dates and times alone.
const idNumberPattern = /\b\d{17}[\dXx]\b/g;
const mobilePattern = /(?<!\d)1[3-9]\d{9}(?!\d)/g;
const accountPattern = /(?<!\d)\d{12,34}(?!\d)/g;
const groupedPattern = /(?<![\d-])\d{2,8}(?:[ -]\d{2,8}){1,8}[Xx]?(?![\d-])/g;
const digitCount = (s: string) => s.replace(/\D/g, '').length;

export function scrubText(text: string): string {
  return text
    .replace(idNumberPattern, '[REDACTED-ID]')
    .replace(mobilePattern, '[REDACTED-PHONE]')
    .replace(accountPattern, '[REDACTED-NUMBER]')
    .replace(groupedPattern, (m) => (digitCount(m) >= 11 ? '[REDACTED-NUMBER]' : m));
}

/**
 * Every line is scrubbed as a whole just before it is written: sensitive fields at any depth
 * (child-logger bindings, error details, nested objects) and ID, phone and card numbers in any
 * string. Lines below the level are never built, so this costs nothing for them.
 */
export function scrubLine(line: string): string {
  try {
    return `${JSON.stringify(scrubObject(JSON.parse(line)))}\n`;
  } catch {
    return scrubText(line);
  }
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    hooks: { streamWrite: scrubLine },
    serializers: {
      req(req: { method: string; url: string; id: string; ip?: string }) {
        return { method: req.method, url: req.url, requestId: req.id, remoteAddress: req.ip };
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
