import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type FieldError, validationError } from './errors.js';

const detail = 'must not contain NUL (U+0000) or unpaired surrogates: PostgreSQL cannot store them';
/** Enough to name what is wrong without answering a megabyte of pointers. */
const MAX_ERRORS = 50;

/** A UTF-16 surrogate without its other half: it has no UTF-8 form. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text PostgreSQL cannot store: U+0000, and lone surrogates. */
export const unstorable = (s: string) => s.includes('\u0000') || loneSurrogate.test(s);

/** The text with what PostgreSQL cannot store replaced by U+FFFD, to quote a caller's input back (a report). */
export const storable = (s: string) =>
  unstorable(s) ? s.replace(new RegExp(`\u0000|${loneSurrogate.source}`, 'g'), '\ufffd') : s;

const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Parsed JSON, query strings and path parameters (the query parser's objects have a prototype of
 * their own with nothing above it); anything else, like a streamed upload, is left alone.
 */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return Array.isArray(value) || proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}

/** Every string (and key) of a parsed input that cannot be stored, by JSON pointer. Iterative: input may nest deep. */
function scan(root: unknown, where: FieldError['in'], errors: FieldError[]) {
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length > 0 && errors.length < MAX_ERRORS) {
    const [value, pointer] = stack.pop()!;
    if (typeof value === 'string') {
      if (unstorable(value)) errors.push({ in: where, pointer, detail });
    } else if (value && typeof value === 'object' && isPlain(value)) {
      for (const [key, child] of Object.entries(value)) {
        const at = `${pointer}/${escapePointer(key)}`;
        if (unstorable(key)) errors.push({ in: where, pointer: at, detail });
        stack.push([child, at]);
      }
    }
  }
}

/**
 * A NUL or an unpaired surrogate in any string a caller sends is refused where it arrives, as a
 * validation problem naming each place, instead of failing deep inside a query (500). Before schema
 * validation, on path parameters, query strings and bodies.
 */
export const textGuard = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', async (request) => {
      const errors: FieldError[] = [];
      scan(request.params, 'path', errors);
      scan(request.query, 'query', errors);
      scan(request.body, 'body', errors);
      if (errors.length > 0) throw validationError(errors);
    });
  },
  { name: 'text-guard' },
);
