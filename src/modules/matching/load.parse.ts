import { createHash, type Hash } from 'node:crypto';
import { pipeline, type Readable, Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { type CsvError, parse } from 'csv-parse';
import type { FieldProblem } from './records.js';

/**
 * Reading an upload line by line, as it streams in: NDJSON (one JSON object a line) or CSV (RFC
 * 4180, a header row naming the fields). Nothing is buffered beyond the chunk being read, so memory
 * stays flat whatever the size; a consumer that stops pulling stops the upload (backpressure).
 */
export type UploadFormat = 'ndjson' | 'csv';

/** One line of the upload: the fields it names, or why it cannot be read (field '' = the whole line). */
export type ReadLine = { line: number; fields: Record<string, unknown> } | { line: number; problems: FieldProblem[] };

export interface UploadReader {
  /** The lines, in order, a batch at a time (the lines of one chunk of the body, for NDJSON). */
  lines: AsyncIterable<ReadLine[]>;
  /** Lines read so far (the header and blank lines included), and the SHA-256 of the bytes read. */
  lineCount(): number;
  sha256(): string;
}

/** Longest line read; a longer one is reported and skipped, never held whole in memory. */
export const MAX_LINE_CHARS = 64 * 1024;

const wholeLine = (reason: string): FieldProblem[] => [{ field: '', reason }];

/** Passes the bytes through, hashing them on the way. */
function hashing(hash: Hash) {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

function parseJsonLine(line: number, text: string): ReadLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which may hold an ID number: say only what is wrong.
    return { line, problems: wholeLine('is not valid JSON') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, problems: wholeLine('must be a JSON object') };
  }
  return { line, fields: value as Record<string, unknown> };
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The lines of an NDJSON body, a chunk's worth at a time: the chunk is split and every line in it
 * parsed synchronously, so reading costs one await per chunk rather than one per line.
 */
async function* ndjsonLines(body: Readable, hash: Hash, counted: { lines: number }): AsyncGenerator<ReadLine[]> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let overlong = false;
  const take = (text: string, into: ReadLine[]) => {
    const line = ++counted.lines;
    if (overlong) {
      overlong = false;
      into.push({ line, problems: wholeLine(`is longer than ${MAX_LINE_CHARS} characters`) });
      return;
    }
    // Most lines are an object with nothing around it: no need to trim those.
    const plain = line !== 1 && text.charCodeAt(0) === OPEN_BRACE && text.charCodeAt(text.length - 1) === CLOSE_BRACE;
    const trimmed = plain ? text : (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (trimmed !== '') into.push(parseJsonLine(line, trimmed));
  };
  for await (const data of body as AsyncIterable<Buffer | string>) {
    // A body stream may hand out strings (light-my-request's does): hash and decode bytes.
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    hash.update(chunk);
    const decoded = decoder.write(chunk);
    const text = partial === '' ? decoded : partial + decoded;
    const batch: ReadLine[] = [];
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      take(text.slice(start, end), batch);
      start = end + 1;
    }
    partial = text.slice(start);
    if (partial.length > MAX_LINE_CHARS) {
      overlong = true;
      partial = '';
    }
    if (batch.length > 0) yield batch;
  }
  const rest = partial + decoder.end();
  const last: ReadLine[] = [];
  take(rest, last);
  if (last.length > 0) yield last;
  else if (partial === '') counted.lines--; // a final newline ends the last line; it starts none
}

async function* csvLines(
  source: Readable,
  header: { names: string[] | null; problems: FieldProblem[] },
  counted: { lines: number },
): AsyncGenerator<ReadLine> {
  // Rows the parser could not read (an unclosed quote, …) are reported and skipped, not fatal.
  const skipped: ReadLine[] = [];
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_LINE_CHARS,
    on_skip: (err: CsvError | undefined) => {
      const line = typeof err?.lines === 'number' ? err.lines : counted.lines + 1;
      skipped.push({ line, problems: wholeLine(`cannot be read as CSV (${err?.code ?? 'malformed'})`) });
      return undefined;
    },
  });
  const rows = pipeline(source, parser, () => {}) as AsyncIterable<{ record: string[]; info: { lines: number } }>;
  for await (const { record, info } of rows) {
    // The parser may have read ahead: report what it skipped in line order.
    while (skipped.length > 0 && skipped[0]!.line < info.lines) yield skipped.shift()!;
    counted.lines = info.lines;
    if (header.names === null) {
      header.names = record.map((name) => name.trim());
      const seen = new Set<string>();
      for (const name of header.names) {
        if (seen.has(name)) header.problems.push({ field: name, reason: 'is named twice in the header' });
        seen.add(name);
      }
      continue;
    }
    if (record.length !== header.names.length) {
      yield {
        line: info.lines,
        problems: wholeLine(`has ${record.length} fields; the header names ${header.names.length}`),
      };
      continue;
    }
    const fields: Record<string, unknown> = {};
    header.names.forEach((name, i) => {
      if (record[i] !== '') fields[name] = record[i];
    });
    yield { line: info.lines, fields };
  }
  yield* skipped.splice(0);
}

/** CSV rows are handed on in batches of this many. */
const CSV_BATCH = 256;

/**
 * Reads `body` as `format`. For CSV, `checkHeader` says what is wrong with the header's names
 * (unknown or missing fields); a bad header is reported on line 1 and the rows are then only counted.
 */
export function readUpload(
  format: UploadFormat,
  body: Readable,
  checkHeader: (names: string[]) => FieldProblem[],
): UploadReader {
  const hash = createHash('sha256');
  const counted = { lines: 0 };
  let digest: string | null = null;
  const sha256 = () => (digest ??= hash.digest('hex'));
  if (format === 'ndjson') {
    return { lines: ndjsonLines(body, hash, counted), lineCount: () => counted.lines, sha256 };
  }
  const hashed = pipeline(body, hashing(hash), () => {});
  const header = { names: null as string[] | null, problems: [] as FieldProblem[] };
  async function* lines(): AsyncGenerator<ReadLine> {
    let headerChecked = false;
    for await (const read of csvLines(hashed, header, counted)) {
      if (!headerChecked && header.names !== null) {
        headerChecked = true;
        header.problems.push(...checkHeader(header.names));
        if (header.problems.length > 0) yield { line: 1, problems: header.problems };
      }
      // With a bad header no row can be read right; they are counted, not reported one by one.
      if (header.problems.length === 0) yield read;
    }
    if (header.names === null)
      yield { line: 1, problems: wholeLine('is missing: a CSV upload starts with a header row') };
    else if (!headerChecked) {
      header.problems.push(...checkHeader(header.names));
      if (header.problems.length > 0) yield { line: 1, problems: header.problems };
    }
  }
  async function* batches(): AsyncGenerator<ReadLine[]> {
    let batch: ReadLine[] = [];
    for await (const read of lines()) {
      batch.push(read);
      if (batch.length === CSV_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  return { lines: batches(), lineCount: () => counted.lines, sha256 };
}
