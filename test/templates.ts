/**
 * Migrated, empty databases to copy from, made once per suite run (and per set of migrations):
 * a PGlite tarball in the temp folder, a template database on the PostgreSQL server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';

/** A hash of the migrations (and of what builds the templates), naming the templates made from them. */
let migrationsHash: string | undefined;
function templateKey(): string {
  if (migrationsHash) return migrationsHash;
  const pglite = readFileSync(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url));
  // The salt changes when the way templates are made changes.
  const hash = createHash('sha256').update('slim-3').update(pglite);
  const walk = (dir: URL): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const url = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
      if (entry.isDirectory()) walk(url);
      else hash.update(entry.name).update(readFileSync(url));
    }
  };
  walk(new URL('../migrations/', import.meta.url));
  migrationsHash = hash.digest('hex').slice(0, 16);
  return migrationsHash;
}

let template: Promise<Blob> | undefined;

/**
 * A migrated, empty PGlite cluster as a tarball. Starting PGlite from scratch runs initdb (seconds);
 * loading a dump takes a fraction of that. Kept in the temp folder, so every test process of one
 * suite run migrates at most once. template0 and template1 are dropped (nothing here creates a
 * database): a third of the files, and of the time each test spends loading them. The cluster is
 * made with 1 MB WAL segments instead of 16 MB: the dump holds whole segments, and every test
 * database copies the whole dump (29 MB, now 20: 0.1 s less CPU at each opening).
 */
export function migratedPglite(): Promise<Blob> {
  template ??= (async () => {
    const file = join(tmpdir(), `doudi-test-pglite-${templateKey()}.tar`);
    if (existsSync(file)) return bytesBlob(readFileSync(file));
    const { PGlite } = await import('@electric-sql/pglite');
    const initialized = await PGlite.create({ initDbStartParams: ['--wal-segsize=1'] });
    const empty = await initialized.dumpDataDir('none');
    await initialized.close();
    // Migrated the way the service migrates (openDatabase), from the initialized cluster.
    const database = await openDatabase({ dataDir: 'memory://', pgliteArchive: empty });
    await database.migrate();
    // Read at each start: 128MB of shared buffers is memory every test's PGlite would set up and
    // hold, and a file opening several databases pays it each time (8 starts: 6 s of CPU, not 9 to 13).
    await database.db.execute(sql`alter system set shared_buffers = '32MB'`);
    for (const db of ['template0', 'template1']) {
      await database.db.execute(sql.raw(`alter database ${db} is_template false`));
      await database.db.execute(sql.raw(`drop database ${db}`));
    }
    await database.db.execute(sql`checkpoint`);
    const dump = await database.dump!();
    await database.close();
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
    return bytesBlob(new Uint8Array(await dump.arrayBuffer()));
  })();
  return template;
}

/**
 * The tarball as the Blob that PGlite reads (it only calls `arrayBuffer()`), a fresh copy at each
 * read. Node's own Blob copies the bytes in and reads them back out in 64 KB chunks: 0.3 to 0.4 s
 * of CPU at every opening of a test database, against a few milliseconds for a copy in memory.
 */
function bytesBlob(bytes: Uint8Array): Blob {
  // new Uint8Array(bytes) copies (a Buffer's slice() would not).
  const blob = { size: bytes.byteLength, type: '', arrayBuffer: async () => new Uint8Array(bytes).buffer };
  return blob as unknown as Blob;
}

/** Extracts a tarball of PGlite's (ustar: plain files and folders) into `dir`. */
export function untar(tar: Uint8Array, dir: string): void {
  const text = (from: number, length: number) =>
    Buffer.from(tar.subarray(from, from + length))
      .toString('latin1')
      .replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
    const prefix = text(at + 345, 155);
    const name = (prefix ? `${prefix}/` : '') + text(at, 100);
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const type = text(at + 156, 1) || '0';
    const path = join(dir, name.replace(/^\/+/, ''));
    if (type === '5') mkdirSync(path, { recursive: true, mode: 0o700 });
    else if (type === '0') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, tar.subarray(at + 512, at + 512 + size), { mode: 0o600 });
    } else throw new Error(`unexpected entry of type ${type} in the PGlite template: ${name}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

export const databaseUrl = (serverUrl: string, name: string) => {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

export async function onServer<T>(serverUrl: string, run: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

let postgresTemplate: Promise<string> | undefined;

/**
 * Creates database `name` as a copy of a migrated one (CREATE DATABASE … TEMPLATE: a file copy,
 * faster than running every migration again). The template is built by the first test process
 * that needs it under a temporary name, then renamed, so a concurrent process never copies a
 * half-migrated one; templates of other migrations made over a day before are dropped then.
 */
export async function copyPostgresTemplate(serverUrl: string, name: string): Promise<void> {
  postgresTemplate ??= onServer(serverUrl, (admin) => buildPostgresTemplate(serverUrl, admin));
  const from = await postgresTemplate;
  try {
    await onServer(serverUrl, (admin) => admin.query(`create database ${name} template ${from}`));
  } catch (err) {
    // Dropped by a process of newer migrations: build it again, once.
    if ((err as { code?: string }).code !== '3D000') throw err;
    postgresTemplate = onServer(serverUrl, (admin) => buildPostgresTemplate(serverUrl, admin));
    await onServer(serverUrl, async (admin) =>
      admin.query(`create database ${name} template ${await postgresTemplate}`),
    );
  }
}

async function buildPostgresTemplate(serverUrl: string, admin: pg.Client): Promise<string> {
  const name = `doudi_test_template_${templateKey()}`;
  const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
  if (found.rowCount) return name;
  const building = `doudi_test_building_${randomBytes(6).toString('hex')}`;
  await admin.query(`create database ${building}`);
  try {
    const database = await openDatabase({ databaseUrl: databaseUrl(serverUrl, building), dataDir: 'memory://' });
    await database.migrate().finally(() => database.close());
    await admin.query(`alter database ${building} rename to ${name}`);
    await admin.query(`comment on database ${name} is 'made ${new Date().toISOString()}'`);
  } catch (err) {
    await admin.query(`drop database if exists ${building} with (force)`);
    // Another process published the same template first.
    if ((err as { code?: string }).code === '42P04') return name;
    throw err;
  }
  // Templates of other migrations made over a day ago: a run of other migrations may still be using
  // a younger one (helpers share the server), and dropping it would only have it built again.
  const stale = await admin.query<{ datname: string }>(
    `select datname from pg_database d where datname like 'doudi\\_test\\_template\\_%' and datname <> $1
       and coalesce(substring(shobj_description(d.oid, 'pg_database') from '^made (.*)$')::timestamptz,
                    '-infinity') < now() - interval '1 day'`,
    [name],
  );
  for (const { datname } of stale.rows) await admin.query(`drop database if exists ${datname}`).catch(() => {});
  return name;
}
