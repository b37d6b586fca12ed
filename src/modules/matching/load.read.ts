import type { Readable } from 'node:stream';
import { storable } from '../../platform/text-guard.js';
import type { RecordSink } from './load.copy.js';
import { readUpload, type UploadFormat } from './load.parse.js';
import { type FieldProblem, type KindSchema, recordChecker } from './records.js';

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
  /** The blind index of an ID number (a checked one: normalised). */
  indexOf: (idNumber: string) => string;
  sink: RecordSink;
  /**
   * Called about every PROGRESS_EVERY_LINES lines with the lines read so far. Reading goes on
   * meanwhile; one call runs at a time, and the last has ended when readAndWrite returns.
   */
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
  const { schema, indexOf, sink, progress } = options;
  const check = recordChecker(schema, options.today);
  const reader = readUpload(options.format, options.body, (names) => headerProblems(schema, names));
  const report: BadLine[] = [];
  let badLines = 0;
  let records = 0;
  // Progress: the lines read so far, written by one call at a time; a call due while another runs
  // is made when that one ends, with the lines read by then.
  let linesRead = 0;
  let linesReported = 0;
  let reporting: Promise<void> | null = null;
  let reading = true;
  const reportProgress = () => {
    if (!progress || !reading || reporting || linesRead < linesReported + PROGRESS_EVERY_LINES) return;
    linesReported = linesRead;
    reporting = progress(linesRead)
      .catch(() => undefined) // progress is a courtesy: the load goes on without it
      .then(() => {
        reporting = null;
        reportProgress();
      });
  };
  const bad = (line: number, problems: FieldProblem[]) => {
    badLines++;
    // A field name is the caller's own text (a CSV header, an NDJSON key): kept only as far as storable.
    for (const p of problems) if (report.length < REPORT_LIMIT) report.push({ line, ...p, field: storable(p.field) });
  };
  try {
    try {
      for await (const batch of reader.lines) {
        for (const read of batch) {
          if ('problems' in read) {
            bad(read.line, read.problems);
            continue;
          }
          const checked = check(read.fields);
          if ('problems' in checked) {
            bad(read.line, checked.problems);
            continue;
          }
          records++;
          if (badLines === 0) sink.add(read.line, indexOf(checked.record.idNumber), checked.record);
        }
        linesRead = batch[batch.length - 1]!.line;
        reportProgress();
        if (badLines === 0 && sink.pending() >= BATCH_ROWS) await sink.flush();
      }
    } finally {
      // A progress write must not land after the load's own (or after its transaction ends).
      reading = false;
      await reporting;
    }
    if (badLines === 0) await sink.flush();
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
