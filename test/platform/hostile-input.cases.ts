/**
 * Hostile requests for one operation: a request valid by the operation's schemas, then one thing
 * made bad. A case is a small plan (printed by fast-check when a property fails); huge values are
 * only made when the request is built.
 */
import fc from 'fast-check';
import { unstorable } from '../../src/platform/text-guard.js';
import {
  deepJson,
  hostileStrings,
  hugeArrayJson,
  hugeString,
  ONE_MB,
  type Hints,
  type JsonSchema,
  type Location,
  malformedJson,
  objectPointers,
  type Operation,
  pollutingMembers,
  setAt,
  slotsOf,
  typesOf,
  validValue,
  wrongContentTypes,
  wrongTypeValue,
} from './hostile-input.generators.js';

export interface Base {
  path: Record<string, string>;
  query: [string, string][];
  body: unknown;
}

export type Mutation =
  | { kind: 'none' }
  | { kind: 'wrong-type'; in: Location; pointer: string }
  | { kind: 'hostile-string'; in: Location; pointer: string; value: string; append: boolean }
  | { kind: 'huge-string'; in: Location; pointer: string; flavour: 'ascii' | 'cjk' }
  | { kind: 'huge-array'; pointer: string }
  | { kind: 'deep-nesting'; pointer: string; shape: 'array' | 'object' }
  | { kind: 'polluting-key'; pointer: string; member: string }
  | { kind: 'polluting-query' }
  | { kind: 'missing-required'; pointer: string }
  | { kind: 'unknown-field'; pointer: string; key: string }
  | { kind: 'duplicate-query'; name: string }
  | { kind: 'content-type'; contentType: string }
  | { kind: 'truncated'; fraction: number }
  | { kind: 'malformed'; text: string }
  | { kind: 'not-an-object'; text: string }
  | { kind: 'empty-body' }
  | { kind: 'idempotency-key'; value: 'overlong' | 'non-ascii' | 'twice' | 'empty' }
  | { kind: 'if-match'; value: 'overlong' | 'garbage' | 'other-etag' }
  | { kind: 'foreign-body'; contentType: string; sample: keyof typeof foreignBodies };

const lol = (n: number) => `<!ENTITY lol${n} "${`&lol${n - 1};`.repeat(10)}">`;

/** Bodies for operations that read something else than JSON: streamed records, XML. */
export const foreignBodies = {
  'xml-not-well-formed': '<Document><CstmrPmtStsRpt>',
  'xml-external-entity':
    '<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>',
  'xml-billion-laughs': `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${[1, 2, 3, 4, 5, 6, 7, 8, 9].map(lol).join('')}]><lolz>&lol9;</lolz>`,
  'xml-deep': '<a>'.repeat(10_000) + '</a>'.repeat(10_000),
  'xml-nul': '<Document>\u0000</Document>',
  'invalid-utf8': Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e, 0x0a]),
  'ndjson-nul': '{"idNumber":"1\\u0000","name":"a\\u0000"}\n',
  'ndjson-polluting': '{"__proto__":{"polluted":"yes"}}\n{"constructor":{"prototype":{"polluted":"yes"}}}\n',
  'ndjson-deep': `${deepJson(10_000, 'array')}\n`,
  'ndjson-truncated': '{"idNumber":"11010',
  'one-huge-line': 'x'.repeat(ONE_MB),
  'csv-formula-and-open-quote': 'idNumber,name\n=cmd|"/c calc"!A1,@SUM(1+1)\n"unterminated,quote\n',
  'sql-text': "'; drop table persons; --\n",
} satisfies Record<string, string | Buffer>;

export interface Case {
  base: Base;
  mutation: Mutation;
}

export interface Built {
  method: Operation['method'];
  url: string;
  headers: Record<string, string | string[]>;
  payload?: string | Buffer;
  /** The request is certainly bad by its schema at this place: a validation problem must name it. */
  invalidAt?: { in: Location; pointer: string };
  /** The request cannot be understood (content type, syntax): it must be refused. */
  mustFail: boolean;
}

const MARK = '__doudi_hostile_mark__';

/** Percent-encoding that keeps what encodeURIComponent refuses (lone surrogates) as raw bytes. */
export function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value]
      .map((ch) => {
        try {
          return encodeURIComponent(ch);
        } catch {
          const code = ch.charCodeAt(0);
          // WTF-8 bytes of the surrogate: not valid UTF-8, as a hostile client would send them.
          return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
            .map((b) => `%${b.toString(16).toUpperCase()}`)
            .join('');
        }
      })
      .join('');
  }
}

const bodyMethods = new Set(['POST', 'PUT', 'PATCH']);
const takesBody = (op: Operation) => bodyMethods.has(op.method);
const declares = (op: Operation, header: string) => op.params.some((p) => p.in === 'header' && p.name === header);

/** The strings a query or path parameter's schema certainly refuses, or none for a free string. */
function wrongParamValue(schema: JsonSchema): string | undefined {
  const types = typesOf(schema);
  if (types.includes('number')) return 'abc';
  if (schema.enum) return 'not-an-option';
  if (schema.format || schema.pattern) return 'not matching!';
  return undefined;
}

/**
 * A request's base, valid by its schemas; known ids in paths most of the time. No `cursor`: only
 * a cursor a list gave out is one (a made-up one is refused, which would hide everything else).
 */
export function baseOf(op: Operation, knownIds: (param: string) => string[], hints: Hints): fc.Arbitrary<Base> {
  const path: Record<string, fc.Arbitrary<string>> = {};
  for (const p of op.params.filter((p) => p.in === 'path')) {
    const generated = validValue(p.schema).map(String);
    const known = knownIds(p.name);
    path[p.name] =
      known.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 3 }, generated) : generated;
  }
  const query = op.params
    .filter((p) => p.in === 'query' && p.name !== 'cursor')
    .map((p) =>
      (p.required
        ? validValue(p.schema, hints).map((v) => [v])
        : fc.option(validValue(p.schema, hints), { freq: 3, nil: undefined }).map((v) => (v === undefined ? [] : [v]))
      ).map((vs) => vs.map((v) => [p.name, String(v)] as [string, string])),
    );
  return fc.record({
    path: fc.record(path),
    query: fc.tuple(...query).map((qs) => qs.flat()),
    body: op.body ? validValue(op.body.schema, hints) : fc.constant(undefined),
  });
}

/** One way to make the request bad, among those the operation offers. */
export function mutationOf(op: Operation, base: Base): fc.Arbitrary<Mutation> {
  const options: fc.WeightedArbitrary<Mutation>[] = [];
  const add = (weight: number, arbitrary: fc.Arbitrary<Mutation>) => options.push({ weight, arbitrary });
  const body = op.body && base.body !== undefined ? slotsOf(op.body.schema, base.body) : [];
  const params = op.params.filter((p) => p.in !== 'header');
  const places: { in: Location; pointer: string; schema: JsonSchema }[] = [
    ...body.map((s) => ({ in: 'body' as const, pointer: s.pointer, schema: s.schema })),
    ...params.map((p) => ({ in: p.in, pointer: `/${p.name}`, schema: p.schema })),
  ];
  const strings = places.filter((p) => typesOf(p.schema).includes('string') || typesOf(p.schema).length === 0);
  if (places.length > 0) {
    add(
      3,
      fc.constantFrom(...places).map((p) => ({ kind: 'wrong-type', in: p.in, pointer: p.pointer }) as Mutation),
    );
    add(
      3,
      fc
        .record({
          place: fc.constantFrom(...(strings.length > 0 ? strings : places)),
          value: fc.constantFrom(...hostileStrings),
          append: fc.boolean(),
        })
        .map(({ place, value, append }) => ({
          kind: 'hostile-string',
          in: place.in,
          pointer: place.pointer,
          value,
          append,
        })),
    );
    add(
      1,
      fc
        .record({ place: fc.constantFrom(...places), flavour: fc.constantFrom<'ascii' | 'cjk'>('ascii', 'cjk') })
        .map(({ place, flavour }) => ({ kind: 'huge-string', in: place.in, pointer: place.pointer, flavour })),
    );
  }
  if (body.length > 0) {
    const arrays = body.filter((s) => Array.isArray(s.value));
    const pointers = arrays.length > 0 ? arrays.map((s) => s.pointer) : body.map((s) => s.pointer);
    add(
      1,
      fc.constantFrom(...pointers).map((pointer) => ({ kind: 'huge-array', pointer }) as Mutation),
    );
    add(
      1,
      fc
        .record({
          pointer: fc.constantFrom(...body.map((s) => s.pointer)),
          shape: fc.constantFrom<'array' | 'object'>('array', 'object'),
        })
        .map(({ pointer, shape }) => ({ kind: 'deep-nesting', pointer, shape })),
    );
  }
  if (op.body && base.body && typeof base.body === 'object') {
    const objects = objectPointers(op.body.schema, base.body);
    add(
      2,
      fc
        .record({ pointer: fc.constantFrom(...objects), member: fc.constantFrom(...pollutingMembers) })
        .map(({ pointer, member }) => ({ kind: 'polluting-key', pointer, member })),
    );
    add(
      1,
      fc
        .record({
          pointer: fc.constantFrom(...objects),
          key: fc.constantFrom("'; drop table persons; --", 'unexpected', '$where'),
        })
        .map(({ pointer, key }) => ({ kind: 'unknown-field', pointer, key })),
    );
    const required = requiredPointers(op.body.schema, base.body);
    if (required.length > 0) {
      add(
        1,
        fc.constantFrom(...required).map((pointer) => ({ kind: 'missing-required', pointer }) as Mutation),
      );
    }
  }
  const queryNames = op.params.filter((p) => p.in === 'query').map((p) => p.name);
  if (queryNames.length > 0) {
    add(
      1,
      fc.constantFrom(...queryNames).map((name) => ({ kind: 'duplicate-query', name }) as Mutation),
    );
  }
  add(1, fc.constant<Mutation>({ kind: 'polluting-query' }));
  if (takesBody(op)) {
    add(
      2,
      fc.constantFrom(...wrongContentTypes).map((contentType) => ({ kind: 'content-type', contentType }) as Mutation),
    );
    add(
      2,
      fc.double({ min: 0, max: 0.999, noNaN: true }).map((fraction) => ({ kind: 'truncated', fraction }) as Mutation),
    );
    add(
      1,
      fc.constantFrom(...malformedJson).map((text) => ({ kind: 'malformed', text }) as Mutation),
    );
    add(
      1,
      fc.constantFrom('[]', '"text"', '1', 'null', 'true').map((text) => ({ kind: 'not-an-object', text }) as Mutation),
    );
    add(1, fc.constant<Mutation>({ kind: 'empty-body' }));
  }
  if (op.method === 'POST') {
    add(
      1,
      fc
        .constantFrom<'overlong' | 'non-ascii' | 'twice' | 'empty'>('overlong', 'non-ascii', 'twice', 'empty')
        .map((value) => ({ kind: 'idempotency-key', value }) as Mutation),
    );
  }
  if (declares(op, 'if-match')) {
    add(
      1,
      fc
        .constantFrom<'overlong' | 'garbage' | 'other-etag'>('overlong', 'garbage', 'other-etag')
        .map((value) => ({ kind: 'if-match', value }) as Mutation),
    );
  }
  if (op.otherMediaTypes.length > 0) {
    add(
      6,
      fc
        .record({
          contentType: fc.constantFrom(...op.otherMediaTypes),
          sample: fc.constantFrom(...(Object.keys(foreignBodies) as (keyof typeof foreignBodies)[])),
        })
        .map(({ contentType, sample }) => ({ kind: 'foreign-body', contentType, sample }) as Mutation),
    );
  }
  add(1, fc.constant<Mutation>({ kind: 'none' }));
  return fc.oneof(...options);
}

/** Pointers of required properties present in the value. */
function requiredPointers(schema: JsonSchema, value: unknown): string[] {
  const out: string[] = [];
  const visit = (s: JsonSchema, v: unknown, pointer: string) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return;
    const props = s.properties ?? (s.anyOf ?? s.oneOf)?.find((a) => a.properties)?.properties;
    const required = s.required ?? (s.anyOf ?? s.oneOf)?.find((a) => a.required)?.required ?? [];
    for (const key of required) if (key in (v as object)) out.push(`${pointer}/${key}`);
    for (const [key, sub] of Object.entries(props ?? {}))
      visit(sub, (v as Record<string, unknown>)[key], `${pointer}/${key}`);
  };
  visit(schema, value, '');
  return out;
}

function deleteAt(root: unknown, pointer: string): unknown {
  const keys = pointer.slice(1).split('/');
  const copy = structuredClone(root) as Record<string, unknown>;
  let node = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  delete node[keys.at(-1)!];
  return copy;
}

const schemaAt = (op: Operation, where: Location, pointer: string, base: Base): JsonSchema | undefined => {
  if (where !== 'body') return op.params.find((p) => p.in === where && `/${p.name}` === pointer)?.schema;
  return slotsOf(op.body!.schema, base.body).find((s) => s.pointer === pointer)?.schema;
};

const anyType = (schema: JsonSchema) => typesOf(schema).length === 0;

/** Whether a schema certainly refuses a string: not a string type, or a string it rules out. */
function refuses(schema: JsonSchema, value: string): boolean {
  const alternatives = schema.anyOf ?? schema.oneOf ?? [schema];
  return alternatives.every((s) => {
    if (!typesOf(s).includes('string')) return true;
    // NUL and unpaired surrogates can never be stored: no string field takes them.
    if (unstorable(value)) return true;
    if (s.enum) return !s.enum.includes(value);
    if (s.const !== undefined) return s.const !== value;
    if (s.maxLength !== undefined && value.length > s.maxLength) return true;
    if (s.minLength !== undefined && value.length < s.minLength) return true;
    if (s.pattern && !new RegExp(s.pattern).test(value)) return true;
    return false;
  });
}

/** The request a case describes. */
export function build(op: Operation, c: Case): Built {
  const { mutation: m } = c;
  let path = { ...c.base.path };
  let query = [...c.base.query];
  let body = c.base.body;
  let raw: string | Buffer | undefined;
  const headers: Record<string, string | string[]> = {};
  let invalidAt: Built['invalidAt'];
  let mustFail = false;
  let contentType = 'application/json';

  /** Puts `value` at a place; raw JSON text when `json` is set. */
  const put = (where: Location, pointer: string, value: unknown, json?: string) => {
    if (where === 'body') {
      body = setAt(body, pointer, json !== undefined ? MARK : value);
      if (json !== undefined) raw = JSON.stringify(body).replace(JSON.stringify(MARK), () => json);
    } else if (where === 'path') {
      path = { ...path, [pointer.slice(1)]: String(value) };
    } else {
      const name = pointer.slice(1);
      query = [...query.filter(([k]) => k !== name), [name, String(value)]];
    }
  };

  switch (m.kind) {
    case 'none':
      break;
    case 'wrong-type': {
      const schema = schemaAt(op, m.in, m.pointer, c.base)!;
      if (m.in === 'body') {
        const wrong = wrongTypeValue(schema);
        if (wrong !== undefined) {
          put('body', m.pointer, wrong);
          invalidAt = { in: 'body', pointer: m.pointer };
        }
      } else {
        const wrong = wrongParamValue(schema);
        if (wrong !== undefined) {
          put(m.in, m.pointer, wrong);
          invalidAt = { in: m.in, pointer: m.pointer };
        }
      }
      break;
    }
    case 'hostile-string': {
      const schema = schemaAt(op, m.in, m.pointer, c.base)!;
      const before = valueAt(c.base, m.in, m.pointer);
      const value = m.append && typeof before === 'string' ? before + m.value : m.value;
      put(m.in, m.pointer, value);
      // Node reads an unpaired surrogate in a query string as U+FFFD: only NUL arrives there as sent.
      const arrives = m.in === 'query' ? value.replace(/[\ud800-\udfff]/g, '\ufffd') : value;
      if (!anyType(schema) && refuses(schema, arrives)) invalidAt = { in: m.in, pointer: m.pointer };
      break;
    }
    case 'huge-string': {
      const schema = schemaAt(op, m.in, m.pointer, c.base)!;
      const value = hugeString(m.flavour);
      put(m.in, m.pointer, value);
      if (!anyType(schema) && refuses(schema, value)) invalidAt = { in: m.in, pointer: m.pointer };
      break;
    }
    case 'huge-array': {
      const schema = schemaAt(op, 'body', m.pointer, c.base)!;
      const current = valueAt(c.base, 'body', m.pointer);
      const item = Array.isArray(current) && current.length > 0 ? current[0] : 0;
      put('body', m.pointer, null, hugeArrayJson(item));
      const array = (schema.anyOf ?? schema.oneOf ?? [schema]).find((s) => typesOf(s).includes('array'));
      if (!anyType(schema) && (!array || (array.maxItems ?? Infinity) < 100_000)) {
        invalidAt = { in: 'body', pointer: m.pointer };
      }
      break;
    }
    case 'deep-nesting': {
      const schema = schemaAt(op, 'body', m.pointer, c.base)!;
      put('body', m.pointer, null, deepJson(10_000, m.shape));
      if (!anyType(schema) && !typesOf(schema).includes(m.shape)) invalidAt = { in: 'body', pointer: m.pointer };
      break;
    }
    case 'polluting-key': {
      const target = m.pointer === '' ? body : valueAt(c.base, 'body', m.pointer);
      const withMark = { [MARK]: 0, ...(target as object) };
      body = m.pointer === '' ? withMark : setAt(body, m.pointer, withMark);
      raw = JSON.stringify(body).replace(`${JSON.stringify(MARK)}:0`, () => m.member);
      // __proto__ and constructor.prototype never get past the JSON parser.
      mustFail = !m.member.startsWith('"prototype"');
      break;
    }
    case 'polluting-query':
      query = [
        ...query,
        ['__proto__', 'polluted'],
        ['constructor[prototype][polluted]', 'yes'],
        ['__proto__.polluted', 'yes'],
      ];
      break;
    case 'missing-required':
      body = deleteAt(body, m.pointer);
      invalidAt = { in: 'body', pointer: m.pointer };
      break;
    case 'unknown-field': {
      const target = m.pointer === '' ? body : valueAt(c.base, 'body', m.pointer);
      body = setAt(body, m.pointer, { ...(target as object), [m.key]: 1 });
      const schema = m.pointer === '' ? op.body!.schema : schemaAt(op, 'body', m.pointer, c.base)!;
      const strict = (schema.anyOf ?? schema.oneOf ?? [schema]).every(
        (s) => s.additionalProperties === false || s.type === 'null',
      );
      if (strict)
        invalidAt = { in: 'body', pointer: `${m.pointer}/${m.key.replaceAll('~', '~0').replaceAll('/', '~1')}` };
      break;
    }
    case 'duplicate-query': {
      const present = query.find(([k]) => k === m.name)?.[1] ?? '1';
      query = [...query.filter(([k]) => k !== m.name), [m.name, present], [m.name, present]];
      invalidAt = { in: 'query', pointer: `/${m.name}` };
      break;
    }
    case 'content-type':
      contentType = m.contentType;
      mustFail = !m.contentType.startsWith('application/json');
      break;
    case 'truncated': {
      const text = JSON.stringify(body ?? {});
      raw = text.slice(0, Math.max(1, Math.floor(text.length * m.fraction)));
      mustFail = true;
      break;
    }
    case 'malformed':
      raw = m.text;
      // Some entries are valid JSON that only a schema or the text guard refuses.
      mustFail = !['{"a":1e999999}', '{"a":"\\ud800"}'].includes(m.text) || Boolean(op.body?.required);
      break;
    case 'not-an-object':
      raw = m.text;
      mustFail = Boolean(op.body?.required);
      break;
    case 'empty-body':
      raw = '';
      mustFail = true;
      break;
    case 'idempotency-key':
      headers['idempotency-key'] =
        m.value === 'overlong'
          ? 'k'.repeat(100_000)
          : m.value === 'non-ascii'
            ? 'ключ-键'
            : m.value === 'twice'
              ? ['key-one', 'key-two']
              : '';
      mustFail = true;
      break;
    case 'if-match':
      headers['if-match'] =
        m.value === 'overlong'
          ? `"${'e'.repeat(100_000)}"`
          : m.value === 'garbage'
            ? "'; drop table persons; --"
            : '"00000000-0000-4000-8000-000000000000.1"';
      mustFail = true;
      break;
    case 'foreign-body':
      contentType = m.contentType;
      raw = foreignBodies[m.sample];
      // No status report is any of these; a records file may legitimately be empty of good lines.
      mustFail = m.contentType.includes('xml');
      break;
  }

  const url =
    op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encode(path[name] ?? '')) +
    (query.length > 0 ? `?${query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}` : '');
  if (takesBody(op)) headers['content-type'] = contentType;
  return {
    method: op.method,
    url,
    headers,
    ...(takesBody(op) && { payload: raw ?? JSON.stringify(body ?? {}) }),
    ...(invalidAt && { invalidAt }),
    mustFail: mustFail || invalidAt !== undefined,
  };
}

function valueAt(base: Base, where: Location, pointer: string): unknown {
  if (where === 'path') return base.path[pointer.slice(1)];
  if (where === 'query') return base.query.find(([k]) => k === pointer.slice(1))?.[1];
  let node = base.body as Record<string, unknown> | undefined;
  for (const key of pointer.slice(1).split('/').filter(Boolean)) {
    node = node?.[key.replaceAll('~1', '/').replaceAll('~0', '~')] as Record<string, unknown> | undefined;
  }
  return node;
}
