import type { FastifyInstance } from 'fastify';
import { residentId } from '../registry/people.fixtures.js';
import type { TestClient } from '../../helpers.js';

/** The n-th generated person: a valid, distinct resident ID number (born 1950 on), a name. */
export function person(n: number) {
  const birth = new Date(Date.UTC(1950, 0, 1) + Math.floor(n / 500) * 86_400_000);
  const ymd = birth.toISOString().slice(0, 10).replaceAll('-', '');
  return { idNumber: residentId('220102', ymd, String(n % 500).padStart(3, '0')), name: `居民${n}` };
}

/** `count` valid income records, starting at person `from`. */
export function incomeRecords(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({
    ...person(from + i),
    amountFen: (from + i) * 7 + 100_000,
    ref: `W-${from + i}`,
  }));
}

export const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

export function csv(header: string[], records: Record<string, unknown>[]) {
  const cell = (v: unknown) => (v === undefined || v === null ? '' : `"${String(v).replaceAll('"', '""')}"`);
  return [header.join(','), ...records.map((r) => header.map((h) => cell(r[h])).join(','))].join('\r\n') + '\r\n';
}

/** A source of `kind` for `provider`, created by `admin`; its id. */
export async function createSource(
  app: FastifyInstance,
  admin: TestClient,
  provider: TestClient,
  kind = 'income',
  region = '2201',
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/matching/sources',
    headers: admin.headers,
    payload: { kind, name: `${kind} register`, providerClientId: provider.id, region },
  });
  if (res.statusCode !== 201) throw new Error(`source not created: ${res.statusCode} ${res.body}`);
  return (JSON.parse(res.body) as { id: string }).id;
}

/** PUTs an upload as `who`. */
export function upload(
  app: FastifyInstance,
  who: TestClient,
  sourceId: string,
  key: string,
  body: string | NodeJS.ReadableStream,
  contentType = 'application/x-ndjson',
) {
  return app.inject({
    method: 'PUT',
    url: `/v1/matching/sources/${sourceId}/snapshots/${key}`,
    headers: { ...who.headers, 'content-type': contentType },
    payload: body as string,
  });
}

export interface Snapshot {
  id: string;
  sourceId: string;
  status: string;
  format: string;
  uploadKey: string;
  contentSha256: string | null;
  lines: number;
  records: number;
  badLines: number;
  report: { line: number; field: string; reason: string }[];
  startedAt: string;
  completedAt: string | null;
  supersededAt: string | null;
  durationMs: number | null;
}
