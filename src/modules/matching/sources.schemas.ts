import { z } from 'zod';
import { timestamp, toIso } from '../../platform/http.js';
import { regionCode } from '../registry/programs.schemas.js';
import { type KindSchema, recordSchemaOf } from './records.js';
import type { SnapshotRow, SourceRow } from './sources.service.js';
import { sourceKinds } from './tables.js';

export const sourceKind = z
  .enum(sourceKinds)
  .describe('What the source holds: income, pension, housing_fund, real_estate, vehicle, deposits, business or death');

export const RecordSchemaSchema = z
  .object({
    kind: sourceKind,
    title: z.string(),
    description: z.string(),
    fields: z.array(
      z.object({
        name: z.string().describe('The JSON key (NDJSON) or header name (CSV)'),
        type: z
          .enum(['idNumber', 'text', 'fen', 'date', 'enum'])
          .describe(
            'idNumber: resident ID number (GB 11643); text: non-empty, at most 200 characters; fen: integer ≥ 0 (a JSON number, or digits in CSV); date: YYYY-MM-DD; enum: one of `values`',
          ),
        required: z.boolean(),
        values: z.array(z.string()).optional(),
        description: z.string(),
      }),
    ),
  })
  .meta({ id: 'MatchingRecordSchema', description: 'The fields of one record of a source kind' });

export const recordSchemaOut = (s: KindSchema) => ({
  kind: s.kind,
  title: s.title,
  description: s.description,
  fields: s.fields.map((f) => ({
    name: f.name,
    type: f.type,
    required: f.required,
    ...(f.values && { values: [...f.values] }),
    description: f.description,
  })),
});

const badLine = z.object({
  line: z.number().int().describe('Line number in the upload, from 1 (in CSV the header is line 1)'),
  field: z.string().describe('The field at fault; empty when the whole line is (malformed JSON, wrong column count)'),
  reason: z.string(),
});

export const SnapshotSchema = z
  .object({
    id: z.uuid(),
    sourceId: z.uuid(),
    status: z
      .enum(['loading', 'complete', 'rejected', 'failed', 'superseded'])
      .describe(
        'loading: records streaming in (invisible); complete: the source’s current snapshot; rejected: refused whole for bad lines; failed: the load broke off; superseded: replaced by a newer one',
      ),
    format: z.enum(['ndjson', 'csv']),
    uploadKey: z.string().describe('The provider’s key: loading again with it answers with this snapshot'),
    contentSha256: z.string().nullable().describe('SHA-256 (hex) of the bytes uploaded'),
    lines: z.number().int().describe('Lines read (while loading on PostgreSQL: updated every 10,000 lines)'),
    records: z.number().int().describe('Records loaded (0 unless complete or superseded)'),
    badLines: z.number().int(),
    report: z.array(badLine).describe('The first 1,000 problems of bad lines, in line order'),
    startedAt: timestamp,
    completedAt: timestamp.nullable(),
    supersededAt: timestamp.nullable(),
    durationMs: z.number().int().nullable().describe('From the start of the load to its end'),
  })
  .meta({ id: 'MatchingSnapshot', description: 'One load of a matching source' });

export const SourceSchema = z
  .object({
    id: z.uuid(),
    kind: sourceKind,
    name: z.string(),
    description: z.string().nullable(),
    providerClientId: z.uuid().describe('The data_provider client that loads it'),
    region: z.string().describe('Region-code prefix its records cover'),
    currentSnapshot: z
      .object({
        id: z.uuid(),
        lines: z.number().int(),
        records: z.number().int(),
        contentSha256: z.string().nullable(),
        loadedAt: timestamp.nullable(),
      })
      .nullable()
      .describe('The snapshot verifications read; null until a first load completes'),
    recordSchema: RecordSchemaSchema,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'MatchingSource', description: 'A data provider’s source of records for economic verification' });

export const NewSourceBody = z
  .object({
    kind: sourceKind,
    name: z.string().trim().min(1).max(200).describe('e.g. “Changchun real estate register”'),
    description: z.string().trim().min(1).max(2000).optional(),
    providerClientId: z.uuid().describe('A data_provider client in your jurisdiction'),
    region: regionCode.describe('The region its records cover, inside your jurisdiction'),
  })
  .strict();

export const uploadKey = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,100}$/, 'must be 1 to 100 letters, digits or . _ ~ -')
  .describe('Your key of this upload (e.g. the export’s date and sequence): the same key gives the same snapshot');

export const snapshotOut = (s: SnapshotRow) => ({
  id: s.id,
  sourceId: s.sourceId,
  status: s.status as 'loading' | 'complete' | 'rejected' | 'failed' | 'superseded',
  format: s.format,
  uploadKey: s.uploadKey,
  contentSha256: s.contentSha256,
  lines: s.lines,
  records: s.records,
  badLines: s.badLines,
  report: s.report ?? [],
  startedAt: s.startedAt.toISOString(),
  completedAt: toIso(s.completedAt),
  supersededAt: toIso(s.supersededAt),
  durationMs: s.completedAt ? s.completedAt.getTime() - s.startedAt.getTime() : null,
});

export const sourceOut = ({ source, current }: { source: SourceRow; current: SnapshotRow | null }) => ({
  id: source.id,
  kind: source.kind,
  name: source.name,
  description: source.description,
  providerClientId: source.providerClientId,
  region: source.region,
  currentSnapshot: current && {
    id: current.id,
    lines: current.lines,
    records: current.records,
    contentSha256: current.contentSha256,
    loadedAt: toIso(current.completedAt),
  },
  recordSchema: recordSchemaOut(recordSchemaOf(source.kind)),
  createdAt: source.createdAt.toISOString(),
  updatedAt: source.updatedAt.toISOString(),
});
