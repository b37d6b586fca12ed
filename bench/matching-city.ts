/**
 * What the matching scenarios share: the in-process app that seeds (clients, sources, standards),
 * uploads of a file through `PUT /v1/matching/sources/{id}/snapshots/{key}` on a server process,
 * and the resident set size of that process.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { SourceKind } from '../src/modules/matching/tables.js';
import type { Agency } from '../src/platform/scopes.js';

/** Generated files live outside the repository, and are kept between runs (they are deterministic). */
export const DATA_DIR = process.env.BENCH_DATA_DIR ?? join(tmpdir(), 'doudi-bench');

export const actor = { clientId: null, agency: null, requestId: 'bench' };
const everywhere = { jurisdiction: '22', scopes: [] };

/** The environment of the in-process app and of the server processes. */
/** The dibao standard the synthetic city is drawn against (synthetic.ts), with the limits its truth assumes. */
export const syntheticDibaoStandard = {
  region: '2201',
  effectiveFrom: '2020-01-01',
  monthlyStandardFen: 72_000,
  assetMultiple: 24,
  propertyLimit: 1,
  vehicleValueLimitFen: 10_000_000,
  businessCapitalLimitFen: 0,
  label: 'bench',
};

export const matchingEnv = (url: string) => ({
  DATABASE_URL: url,
  LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_MINUTE: '100000000',
  DB_POOL_MAX: '20',
  // A load of millions of records is one long request, and its socket may sit unread for a while
  // when PostgreSQL falls behind (backpressure, checkpoints): the 10 s idle timeout would cut it.
  REQUEST_TIMEOUT_MS: String(3_600_000),
  CONNECTION_TIMEOUT_MS: String(600_000),
});

/** The app in this process (no job worker, no sealer), migrated: what seeds. */
export async function seedingApp(url: string): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig(matchingEnv(url)), { background: false });
  await app.database.migrate();
  await app.ready();
  return app;
}

export async function benchClient(app: FastifyInstance, agency: Agency, name: string, jurisdiction = '2201') {
  const made = await app.services.clients.create(everywhere, actor, { name, agency, jurisdiction });
  return { id: made.client.id, key: made.key };
}

/** A source of `kind` for `region`, loaded by `providerId`. */
export async function benchSource(app: FastifyInstance, providerId: string, kind: SourceKind, region: string) {
  const source = await app.services.matchingSources.create({ ...everywhere, id: 'bench', scopes: [] }, actor, {
    kind,
    name: `bench ${kind} ${region}`,
    providerClientId: providerId,
    region,
  });
  return source.id;
}

/** CPU time (user + system) a process has used so far, in ms (Linux; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0; // gone meanwhile
  }
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

export interface Uploaded {
  status: number;
  body: string;
  seconds: number;
}

/**
 * Streams `file` as the body of a load (backpressure from the socket all the way back to the
 * file). `onLines` hears how many lines have been sent so far, as they are sent.
 */
export async function uploadFile(
  port: number,
  key: string,
  sourceId: string,
  uploadKey: string,
  file: string,
  onLines?: (sent: number) => void,
): Promise<Uploaded> {
  const started = performance.now();
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) sent++;
      onLines?.(sent);
      done(null, chunk);
    },
  });
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'PUT',
    path: `/v1/matching/sources/${sourceId}/snapshots/${uploadKey}`,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': file.endsWith('.csv') ? 'text/csv' : 'application/x-ndjson',
    },
  });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.once('error', reject);
  });
  answered.catch(() => undefined); // awaited below unless the body's pipeline fails first
  await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), counter, req);
  const { status, body } = await answered;
  return { status, body, seconds: (performance.now() - started) / 1000 };
}
