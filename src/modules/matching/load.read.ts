import type { Readable } from 'node:stream';
import type { RecordRow, RecordSink } from './load.copy.js';
import { readUpload, type UploadFormat } from './load.parse.js';
import { checkRecord, type FieldProblem, type KindSchema } from './records.js';

/** A bad line of a load, as the report lists it. */
export interface BadLine {
  line: number;
  field: string;
  reason: string;
}

export interface ReadOutcome {
  lines: number;
  records: number;
  badLines: number;
  /** The first REPORT_LIMIT problems, in line order. */
  report: BadLine[];
  sha256: string;
}

export const BATCH_ROWS = 1_000;
export const REPORT_LIMIT = 1_000;
export const PROGRESS_EVERY_LINES = 10_000;

export interface ReadOptions {
  format: UploadFormat;
  body: Readable;
  schema: KindSchema;
  /** YYYY-MM-DD: bounds birth dates and dates of death. */
  today: string;
  /** The blind index of an ID number. */
  indexOf: (idNumber: string) => string;
  sink: RecordSink;
  /** Called every PROGRESS_EVERY_LINES lines with the lines read so far. */
  progress?: (lines: number) => Promise<void>;
}

/** What is wrong with a CSV header's names: fields the kind does not have, required ones missing. */
export function headerProblems(schema: KindSchema, names: string[]): FieldProblem[] {
  const known = new Set(schema.fields.map((f) => f.name));
  const given = new Set(names);
  return [
    ...names
      .filter((n) => !known.has(n))
      .map((n) => ({ field: n, reason: `is not a field of ${schema.kind} records` })),
    ...schema.fields
      .filter((f) => f.required && !given.has(f.name))
      .map((f) => ({ field: f.name, reason: 'is required: the header must name it' })),
  ];
}

/**
 * Reads an upload line by line, validates each record against the kind's schema, and writes the
 * good ones to `sink` in batches of BATCH_ROWS: at most one batch is held in memory. From the
 * first bad line on, records are only checked, not written: the load will be refused as a whole,
 * and the report should still name every bad line.
 */
export async function readAndWrite(options: ReadOptions): Promise<ReadOutcome> {
  const { schema, today, indexOf, sink } = options;
  const reader = readUpload(options.format, options.body, (names) => headerProblems(schema, names));
  const report: BadLine[] = [];
  let badLines = 0;
  let records = 0;
  let batch: RecordRow[] = [];
  let nextProgress = PROGRESS_EVERY_LINES;
  const bad = (line: number, problems: FieldProblem[]) => {
    badLines++;
    for (const p of problems) if (report.length < REPORT_LIMIT) report.push({ line, ...p });
  };
  try {
    for await (const read of reader.lines) {
      if (options.progress && read.line >= nextProgress) {
        nextProgress = read.line + PROGRESS_EVERY_LINES;
        await options.progress(read.line);
      }
      if ('problems' in read) {
        bad(read.line, read.problems);
        continue;
      }
      const checked = checkRecord(schema, read.fields, today);
      if ('problems' in checked) {
        bad(read.line, checked.problems);
        continue;
      }
      records++;
      if (badLines > 0) continue;
      const { idNumber, ...rest } = checked.record;
      batch.push({ line: read.line, idIndex: indexOf(idNumber), ...rest });
      if (batch.length >= BATCH_ROWS) {
        await sink.write(batch);
        batch = [];
      }
    }
    if (badLines === 0 && batch.length > 0) await sink.write(batch);
    await sink.finish();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  if (records === 0 && badLines === 0) {
    // An empty upload would silently empty the source: refuse it.
    bad(Math.max(reader.lineCount(), 1), [{ field: '', reason: 'the upload holds no records' }]);
  }
  return { lines: reader.lineCount(), records, badLines, report, sha256: reader.sha256() };
}
