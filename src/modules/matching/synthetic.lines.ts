import { Readable } from 'node:stream';
import { recordSchemaOf } from './records.js';
import { type CityOptions, type SyntheticRecord, syntheticCity } from './synthetic.js';
import type { SourceKind } from './tables.js';

/**
 * The synthetic city's source records as a provider sends them: NDJSON (one object a line) or CSV
 * (a header row, then one row a record), with the fields of each kind's schema in `records.ts`, in
 * its order; fields a record lacks are left out (NDJSON) or empty (CSV).
 */

const fieldsOf = new Map<SourceKind, string[]>();

/** The field names of a kind's records, in the order of its schema (the CSV header). */
export function recordFields(kind: SourceKind): string[] {
  let fields = fieldsOf.get(kind);
  if (!fields) fieldsOf.set(kind, (fields = recordSchemaOf(kind).fields.map((f) => f.name)));
  return fields;
}

type Bag = Record<string, string | number | undefined>;

export function ndjsonLine(record: SyntheticRecord): string {
  const out: Bag = {};
  for (const f of recordFields(record.kind)) {
    const value = (record as unknown as Bag)[f];
    if (value !== undefined) out[f] = value;
  }
  return `${JSON.stringify(out)}\n`;
}

const cell = (value: string | number | undefined): string => {
  if (value === undefined) return '';
  if (typeof value === 'number') return String(value);
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
};

export const csvHeader = (kind: SourceKind): string => `${recordFields(kind).join(',')}\n`;

export function csvLine(record: SyntheticRecord): string {
  const fields = recordFields(record.kind);
  let line = cell((record as unknown as Bag)[fields[0]!]);
  for (let i = 1; i < fields.length; i++) line += `,${cell((record as unknown as Bag)[fields[i]!])}`;
  return `${line}\n`;
}

export type RecordFormat = 'ndjson' | 'csv';

/** One kind's records of the city as lines (NDJSON, or CSV after its header). */
export function* sourceLines(options: CityOptions, kind: SourceKind, format: RecordFormat): Generator<string> {
  if (format === 'csv') yield csvHeader(kind);
  const line = format === 'csv' ? csvLine : ndjsonLine;
  for (const { records } of syntheticCity(options)) for (const r of records) if (r.kind === kind) yield line(r);
}

/** The same lines as a byte stream, in chunks of about 64 KiB (an upload body, a file). */
export function sourceStream(options: CityOptions, kind: SourceKind, format: RecordFormat): Readable {
  return Readable.from(
    (function* () {
      let chunk = '';
      for (const line of sourceLines(options, kind, format)) {
        chunk += line;
        if (chunk.length < 65_536) continue;
        yield chunk;
        chunk = '';
      }
      if (chunk) yield chunk;
    })(),
    { objectMode: false },
  );
}
