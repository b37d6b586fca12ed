/**
 * Inputs for the hostile-input test, drawn from the OpenAPI document's own schemas: what an
 * operation takes (its parameters and body), values that satisfy each schema (so that a single
 * mutation is what makes a request bad), and the hostile values and mutations themselves.
 */
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  $ref?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  description?: string;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface RawOperation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema }> };
}

export type Location = 'path' | 'query' | 'header' | 'body';

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  operationId: string;
  scopes: string[];
  params: Param[];
  /** The JSON body, when the operation takes one. */
  body?: { required: boolean; schema: JsonSchema };
  /** Bodies in other media types (streamed uploads, XML), read by their own parsers. */
  otherMediaTypes: string[];
}

/** Every /v1 operation of the document, its $refs resolved. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const deref = dereferencer(doc);
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1')) continue;
    for (const [method, op] of Object.entries(item)) {
      const content = op.requestBody?.content ?? {};
      const jsonSchema = content['application/json']?.schema;
      out.push({
        method: method.toUpperCase() as Operation['method'],
        path,
        operationId: op.operationId ?? `${method} ${path}`,
        scopes: op.security?.[0]?.apiKey ?? [],
        params: (op.parameters ?? []).map((p) => ({
          name: p.name,
          in: p.in as Param['in'],
          required: Boolean(p.required),
          schema: deref(p.schema),
        })),
        ...(jsonSchema && { body: { required: Boolean(op.requestBody?.required), schema: deref(jsonSchema) } }),
        otherMediaTypes: Object.keys(content).filter((type) => type !== 'application/json'),
      });
    }
  }
  return out;
}

/** Replaces every $ref by what it names (the document has no recursive schemas). */
function dereferencer(doc: OpenApiDocument) {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (schema: unknown, depth = 0): unknown => {
    if (depth > 50) throw new Error('schema nested too deeply (recursive $ref?)');
    if (Array.isArray(schema)) return schema.map((s) => resolve(s, depth + 1));
    if (!schema || typeof schema !== 'object') return schema;
    const ref = (schema as JsonSchema).$ref;
    if (ref) {
      const siblings = Object.entries(schema).filter(([key]) => key !== '$ref');
      return { ...(resolve(schemas[ref.split('/').pop()!], depth + 1) as object), ...Object.fromEntries(siblings) };
    }
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolve(v, depth + 1)]));
  };
  return (schema: JsonSchema) => resolve(schema) as JsonSchema;
}

export const typesOf = (schema: JsonSchema): string[] => {
  if (schema.anyOf ?? schema.oneOf) return (schema.anyOf ?? schema.oneOf)!.flatMap(typesOf);
  if (schema.allOf) return schema.allOf.flatMap(typesOf);
  if (schema.enum) return [...new Set(schema.enum.map((v) => (v === null ? 'null' : typeof v)))];
  if (schema.const !== undefined) return [schema.const === null ? 'null' : typeof schema.const];
  if (Array.isArray(schema.type)) return schema.type;
  return schema.type ? [schema.type === 'integer' ? 'number' : schema.type] : [];
};

/** Regions the test database knows, so that generated region codes usually pass the service's checks. */
const knownRegions = ['2201', '220102', '220103'];

const isRegionPattern = (pattern?: string) => Boolean(pattern?.includes('\\d{2}|\\d{4}|\\d{6}'));

function validString(schema: JsonSchema, hints: Hints): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Math.max(min, 20);
  switch (schema.format) {
    case 'uuid':
      return hints.ids?.length
        ? fc.oneof(fc.constantFrom(...hints.ids), fc.uuid({ version: 4 }))
        : fc.uuid({ version: 4 });
    // In the past year: most dates a caller gives (a visit, an onset) may not lie ahead.
    case 'date':
      return fc
        .date({ min: yearAgo(), max: yesterday(), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case 'date-time':
      return fc.date({ min: yearAgo(), max: yesterday(), noInvalidDate: true }).map((d) => d.toISOString());
    case 'uri':
      return fc.constant('https://example.org/doudi/hook');
    case 'email':
      return fc.constant('someone@example.org');
  }
  if (isRegionPattern(schema.pattern)) return fc.constantFrom(...knownRegions);
  if (schema.pattern) {
    try {
      return fc
        .stringMatching(new RegExp(schema.pattern))
        .filter((s) => s.length >= min && s.length <= max && new RegExp(schema.pattern!).test(s));
    } catch {
      return fc.constant('x'.repeat(Math.max(1, min)));
    }
  }
  return fc.string({ minLength: min, maxLength: Math.min(max, min + 20) });
}

const yesterday = () => new Date(Date.now() - 86_400_000);
const yearAgo = () => new Date(Date.now() - 365 * 86_400_000);

export interface Hints {
  /** Ids that exist in the database, to use for uuid fields now and then. */
  ids?: string[];
  /** Values that exist for fields of these names (an in-kind item's code), to use now and then. */
  byName?: Record<string, string[]>;
}

/** Values that satisfy a schema (best effort: rules beyond the schema, like a check digit, may still refuse them). */
export function validValue(schema: JsonSchema, hints: Hints = {}, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    // The first alternative that is not null, mostly: null is rarely what reaches deep.
    const nonNull = alternatives.filter((a) => a.type !== 'null');
    return fc.oneof(
      { arbitrary: validValue(nonNull[0] ?? alternatives[0]!, hints, depth + 1), weight: 4 },
      ...alternatives.map((a) => ({ arbitrary: validValue(a, hints, depth + 1), weight: 1 })),
    );
  }
  if (schema.allOf) return validValue(Object.assign({}, ...schema.allOf) as JsonSchema, hints, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return validString(schema, hints);
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
      const max =
        schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : min + 10_000);
      // Now and then the very ends of the range: a column narrower than the schema overflows there.
      return fc.oneof(
        { arbitrary: fc.integer({ min: Math.max(min, -1_000_000_000), max: Math.min(max, 1_000_000_000) }), weight: 4 },
        { arbitrary: fc.constantFrom(min, max), weight: 1 },
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? 3, minLength + 2);
      return fc.array(schema.items ? validValue(schema.items, hints, depth + 1) : fc.constant(null), {
        minLength,
        maxLength,
      });
    }
    case 'object': {
      const properties = schema.properties ?? {};
      if (Object.keys(properties).length === 0) return fc.constant({});
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, sub] of Object.entries(properties)) {
        const known = hints.byName?.[key];
        record[key] = known?.length
          ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 3 }, validValue(sub, hints, depth + 1))
          : validValue(sub, hints, depth + 1);
      }
      return fc.record(record, { requiredKeys: (schema.required ?? []).filter((k) => k in properties) });
    }
    default:
      return fc.constant(null);
  }
}

/** A value of a JSON type the schema does not allow at all. */
export function wrongTypeValue(schema: JsonSchema): unknown {
  const types = new Set(typesOf(schema));
  const candidates: unknown[] = [
    12345,
    'not-what-was-asked',
    true,
    { unexpected: 'object' },
    ['an', 'array'],
    null,
    -1.5e308,
  ];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  // An empty list of types is a schema that takes anything: nothing is of the wrong type.
  return types.size === 0 ? undefined : candidates.find((v) => !types.has(typeOf(v)));
}

/** Strings that have broken services before: SQL and shell metacharacters, control characters, bad Unicode. */
export const hostileStrings = [
  "' OR '1'='1",
  "'; DROP TABLE persons; --",
  "Robert'); DELETE FROM households; --",
  '" OR ""="',
  '\\',
  "\\'",
  '%_%',
  '$1',
  '/* */ select pg_sleep(10)',
  '1; select 1',
  'NUL\u0000inside',
  '\u0000',
  'unpaired \ud800 high surrogate',
  'unpaired \udfff low surrogate',
  '\udc00\ud800',
  'control \u0001\u0002\u0007\u001b[31m\u007f',
  'line\r\nInjected-Header: yes',
  '\u202eright-to-left override',
  '\ufeffbyte order mark',
  'zero\u200bwidth',
  '𝒳 astral 😀 张三',
  '{{7*7}} ${7*7} <script>alert(1)</script>',
  '../../../../etc/passwd',
  'null',
  'NaN',
  '-0',
  '1e999',
  ' ',
  '',
];

export const ONE_MB = 1024 * 1024;
export const hugeString = (kind: 'ascii' | 'cjk') => (kind === 'ascii' ? 'x'.repeat(ONE_MB) : '張'.repeat(ONE_MB / 3));
/** A JSON array of 100,000 copies of `item`, as text (building it as objects first is slow). */
export const hugeArrayJson = (item: unknown) => `[${Array(100_000).fill(JSON.stringify(item)).join(',')}]`;

/** A JSON text nested `depth` levels deep: arrays or objects. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Keys that try to reach Object.prototype through a parser or a merge. */
export const pollutingMembers = [
  '"__proto__":{"polluted":"yes"}',
  '"constructor":{"prototype":{"polluted":"yes"}}',
  '"prototype":{"polluted":"yes"}',
];

export const wrongContentTypes = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=----doudi',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/octet-stream',
  'image/png',
];

export const malformedJson = [
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}{"b":2}',
  'NaN',
  '{"a":undefined}',
  '{"a":1e999999}',
  '\ufeff{}',
  '{"a":"\\x41"}',
  '{"a":"unterminated}',
  '{"a":01}',
  '-',
  '\u0000',
  '{"a":"\\ud800"}',
];

/** Leaves and inner nodes of a value with their schema, for a mutation to target. JSON pointers. */
export interface Slot {
  pointer: string;
  schema: JsonSchema;
  value: unknown;
}

const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** The schema alternative a value satisfies, roughly (by JSON type). */
function branchFor(schema: JsonSchema, value: unknown): JsonSchema {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (!alternatives) return schema;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return (
    alternatives.find((a) => typesOf(a).includes(type) || (type === 'number' && typesOf(a).includes('integer'))) ??
    alternatives[0]!
  );
}

/** Every place in `value` a mutation can hit, with the schema governing it. */
export function slotsOf(schema: JsonSchema, value: unknown, pointer = ''): Slot[] {
  const here = branchFor(schema, value);
  const out: Slot[] = pointer === '' ? [] : [{ pointer, schema, value }];
  if (Array.isArray(value) && here.items && value.length > 0) {
    out.push(...slotsOf(here.items, value[0], `${pointer}/0`));
  } else if (value && typeof value === 'object' && here.properties) {
    for (const [key, sub] of Object.entries(value as Record<string, unknown>)) {
      const subSchema = here.properties[key];
      if (subSchema) out.push(...slotsOf(subSchema, sub, `${pointer}/${escapePointer(key)}`));
    }
  }
  return out;
}

/** Places where a field could be added: the root and each object slot with declared properties. */
export function objectPointers(schema: JsonSchema, value: unknown): string[] {
  const out = value && typeof value === 'object' && !Array.isArray(value) ? [''] : [];
  for (const slot of slotsOf(schema, value)) {
    if (slot.value && typeof slot.value === 'object' && !Array.isArray(slot.value)) out.push(slot.pointer);
  }
  return out;
}

/** A copy of `root` with the value at `pointer` replaced. */
export function setAt(root: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const keys = pointer
    .slice(1)
    .split('/')
    .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
  const copy = structuredClone(root) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
  return copy;
}

/**
 * Whether a validation error's pointer names the mutated place: the place itself, something inside
 * it, or an enclosing union or object that reports it (zod names a failed union at the union).
 */
export const namesPlace = (errorPointer: string, target: string) =>
  errorPointer === target || errorPointer.startsWith(`${target}/`) || target.startsWith(`${errorPointer}/`);
