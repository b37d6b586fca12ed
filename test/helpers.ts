import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { type Agency, defaultScopes, type Scope } from '../src/platform/scopes.js';

/** The slice of a tap Test the helpers use. */
interface Teardown {
  teardown(fn: () => unknown): void;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

/**
 * A fresh, migrated database for one test file: a new PostgreSQL database when DATABASE_URL is
 * set (dropped afterwards), an in-memory PGlite otherwise.
 */
export async function freshDatabase(t: Teardown): Promise<Database & { url?: string }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const database = await openDatabase({ dataDir: 'memory://', pgliteArchive: await migratedPglite() });
    t.teardown(() => database.close());
    return database;
  }
  const name = `doudi_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'memory://', poolMax: 60 });
  await database.migrate();
  t.teardown(async () => {
    await database.close();
    const dropper = new pg.Client({ connectionString: serverUrl });
    await dropper.connect();
    await dropper.query(`drop database if exists ${name} with (force)`);
    await dropper.end();
  });
  return Object.assign(database, { url: url.toString() });
}

let template: Promise<Blob> | undefined;

/**
 * A migrated, empty PGlite cluster as a tarball. Starting PGlite from scratch runs initdb (seconds);
 * loading a dump takes a fraction of that. Kept in the temp folder under a hash of the migrations
 * and the PGlite version, so every test process of one suite run migrates at most once.
 */
function migratedPglite(): Promise<Blob> {
  template ??= (async () => {
    const migrations = new URL('../migrations/', import.meta.url);
    const pglite = readFileSync(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url));
    const hash = createHash('sha256').update(pglite);
    const walk = (dir: URL): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const url = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
        if (entry.isDirectory()) walk(url);
        else hash.update(entry.name).update(readFileSync(url));
      }
    };
    walk(migrations);
    const file = join(tmpdir(), `doudi-test-pglite-${hash.digest('hex').slice(0, 16)}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    const dump = await database.dump!();
    await database.close();
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
    return dump;
  })();
  return template;
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
}

/** The whole service on a fresh database, background work off (tests drive jobs and the sealer). */
export async function testApp(t: Teardown, options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await freshDatabase(t));
  const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', JOBS_ENABLED: 'false', ...options.env });
  const app = await buildApp(config, {
    database,
    background: false,
    ...(options.logStream && { logStream: options.logStream }),
  });
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
