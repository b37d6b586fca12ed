import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** The drizzle client, whichever driver is underneath: the same queries run on both. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;
/** Anything a query can run on: the database itself or a transaction. */
export type Executor = Db | Tx;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Database {
  kind: 'postgres' | 'pglite';
  db: Db;
  migrate(): Promise<void>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  /** How many migrations of this build are not applied yet. */
  pendingMigrations(): Promise<number>;
  poolStats(): PoolStats;
  /**
   * PostgreSQL only: runs `fn` on a pooled connection of its own, for what the query builder cannot
   * do (COPY … FROM STDIN through pg-copy-streams). `db` is drizzle bound to that connection, so a
   * `db.transaction` there and raw `client.query` calls share one transaction. The connection is
   * released afterwards, or closed when `fn` failed (it may be left mid-COPY or holding locks).
   */
  withClient?<T>(fn: (client: pg.PoolClient, db: Db) => Promise<T>): Promise<T>;
  /** PGlite only: the whole cluster as a tarball, to open copies of it with `pgliteArchive`. */
  dump?(): Promise<Blob>;
  close(): Promise<void>;
}

/** Rows of a raw `execute`, the same on node-postgres and PGlite (both answer `{ rows }`). */
export async function rows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

function findMigrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('migrations folder not found next to the service');
}

export const migrationsFolder = findMigrationsFolder();

function journalLength(): number {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

async function appliedMigrations(db: Db): Promise<number> {
  const exists = await rows<{ present: boolean }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!exists[0]?.present) return 0;
  const applied = await rows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return applied[0]?.n ?? 0;
}

/** Any fixed number: the advisory lock that lets only one instance migrate at a time. */
const MIGRATION_LOCK = 2_201_000_001;

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** A folder for PGlite's files, or 'memory://' for a database that lives only in this process. */
  dataDir: string;
  poolMax?: number;
  /** PGlite only: start from this dump (`Database.dump`) instead of an empty cluster; tests use it to skip initdb. */
  pgliteArchive?: Blob | undefined;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolMax ?? 20)
    : openPglite(options.dataDir, options.pgliteArchive);
}

function openPostgres(url: string, max: number): Database {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (a database restart) must not crash the process.
  pool.on('error', () => {});
  // Nor one lost while a request holds it (a restart mid-transaction): its queries fail and the pool
  // drops it on release, but its own 'error' event, with no listener, would end the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
        try {
          await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
        }
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    async pendingMigrations() {
      return journalLength() - (await appliedMigrations(db));
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async withClient(fn) {
      const client = await pool.connect();
      try {
        const result = await fn(client, drizzlePg(client, { schema }) as unknown as Db);
        client.release();
        return result;
      } catch (err) {
        client.release(err instanceof Error ? err : true);
        throw err;
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string, archive?: Blob): Promise<Database> {
  // Loaded on first use: a process on PostgreSQL (the service, a test) never loads PGlite's modules.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(resolve(dataDir), { recursive: true });
  const from = archive ? { loadDataDir: archive } : {};
  const client = inMemory ? new PGlite(from) : new PGlite(resolve(dataDir), from);
  await client.waitReady;
  const pglite = drizzlePglite(client, { schema });
  const db = pglite as unknown as Db;
  return {
    kind: 'pglite',
    db,
    migrate: () => migratePglite(pglite, { migrationsFolder }),
    async ping() {
      await client.query('select 1');
    },
    async pendingMigrations() {
      return journalLength() - (await appliedMigrations(db));
    },
    // PGlite is one connection inside this process.
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    dump: () => client.dumpDataDir('none'),
    close: () => client.close(),
  };
}
