import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { type Agency, defaultScopes, type Scope } from '../src/platform/scopes.js';
import { ownedBy, scannedLog } from './privacy.js';
import { copyPostgresTemplate, databaseUrl, migratedPglite, onServer, untar } from './templates.js';

/** The slice of a tap Test the helpers use. */
interface Teardown {
  teardown(fn: () => unknown): void;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

/**
 * A fresh, migrated database for one test file: a new PostgreSQL database when DATABASE_URL is
 * set (dropped afterwards), an in-memory PGlite otherwise. Both are copies of a database migrated
 * once per suite run (and per set of migrations), not migrated again each time.
 */
export async function freshDatabase(t: Teardown): Promise<Database & { url?: string }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const database = await openDatabase({ dataDir: 'memory://', pgliteArchive: await migratedPglite() });
    t.teardown(() => database.close());
    ownedBy(database, t);
    return database;
  }
  const name = `doudi_test_${randomBytes(6).toString('hex')}`;
  await copyPostgresTemplate(serverUrl, name);
  const url = databaseUrl(serverUrl, name);
  const database = await openDatabase({ databaseUrl: url, dataDir: 'memory://', poolMax: 60 });
  t.teardown(async () => {
    await database.close();
    await onServer(serverUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
  });
  ownedBy(database, t);
  return Object.assign(database, { url });
}

/**
 * A folder holding a migrated, empty embedded database, for tests of CLI commands whose subject is
 * not the first start (a fresh install is cli.test.ts's): spares the child process initdb and the
 * migrations. Removed afterwards.
 */
export async function migratedDataDir(t: Teardown): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'doudi-data-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  untar(new Uint8Array(await (await migratedPglite()).arrayBuffer()), dir);
  return dir;
}

export interface TestClient {
  id: string;
  key: string;
  agency: Agency;
  jurisdiction: string;
  /** `Authorization` header for app.inject. */
  headers: { authorization: string };
}

export interface TestApp {
  app: FastifyInstance;
  database: Database;
  config: Config;
  /** An admin for the whole city. */
  admin: TestClient;
  /** A client of the agency with the agency's default scopes (or the given ones) in a jurisdiction. */
  client(agency: Agency, options?: { scopes?: Scope[]; jurisdiction?: string }): Promise<TestClient>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Routes or hooks a test adds before the app is ready. */
  beforeReady?: (app: FastifyInstance) => void | Promise<void>;
  logStream?: NodeJS.WritableStream;
  database?: Database;
  /** The clock of the modules that take one (reporting's deadlines); the system clock otherwise. */
  clock?: () => Date;
}

/**
 * The whole service on a fresh database, background work off (tests drive jobs and the sealer).
 * Its answers, its log lines (at `info` unless the test sets LOG_LEVEL; the test's own stream gets
 * them only then) and its audit chain are checked by the privacy proof (test/privacy.ts).
 */
export async function testApp(t: Teardown, options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await freshDatabase(t));
  const config = loadConfig({ LOG_LEVEL: 'info', NODE_ENV: 'test', JOBS_ENABLED: 'false', ...options.env });
  const log = scannedLog(t, options.env?.LOG_LEVEL ? options.logStream : undefined);
  const app = await buildApp(config, { database, background: false, logStream: log.stream, clock: options.clock });
  log.bind(app);
  ownedBy(app, t);
  if (options.beforeReady) await options.beforeReady(app);
  await app.ready();
  t.teardown(() => app.close());

  async function client(agency: Agency, opts: { scopes?: Scope[]; jurisdiction?: string } = {}): Promise<TestClient> {
    const jurisdiction = opts.jurisdiction ?? '2201';
    const created = await app.services.clients.create(
      { jurisdiction: jurisdiction.slice(0, 4) },
      { clientId: null, agency: null, requestId: 'test' },
      { name: `test ${agency}`, agency, jurisdiction, scopes: opts.scopes ?? defaultScopes[agency] },
    );
    return {
      id: created.client.id,
      key: created.key,
      agency,
      jurisdiction,
      headers: { authorization: `Bearer ${created.key}` },
    };
  }

  const admin = await client('admin');
  return { app, database, config, admin, client };
}

/** Parses an inject answer's JSON body. */
export const json = <T = Record<string, unknown>>(res: { body: string }): T => JSON.parse(res.body) as T;
