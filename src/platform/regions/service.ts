import { asc } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type FieldError, validationError } from '../errors.js';
import { regions } from './tables.js';

export type Region = typeof regions.$inferSelect;

/** County-level and above come from the table; 9- and 12-digit codes must sit under a known county. */
export const regionCodePattern = /^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/;

export function createRegionService({ db }: { db: Db }) {
  // Reference data that changes only with a migration: read once, then answered from memory.
  let cache: Map<string, Region> | null = null;

  async function load(): Promise<Map<string, Region>> {
    if (!cache) {
      const all = await db.select().from(regions).orderBy(asc(regions.code));
      cache = new Map(all.map((r) => [r.code, r]));
    }
    return cache;
  }

  async function list(filter: { parent?: string; level?: string; prefix?: string }): Promise<Region[]> {
    const all = [...(await load()).values()];
    return all.filter(
      (r) =>
        (filter.parent === undefined || r.parentCode === filter.parent) &&
        (filter.level === undefined || r.level === filter.level) &&
        (filter.prefix === undefined || r.code.startsWith(filter.prefix)),
    );
  }

  async function get(code: string): Promise<Region | undefined> {
    return (await load()).get(code);
  }

  /** A code the service can place: known itself, or below a known county-level division. */
  async function isKnown(code: string): Promise<boolean> {
    if (!regionCodePattern.test(code)) return false;
    const known = await load();
    if (known.has(code)) return true;
    return code.length > 6 && known.has(code.slice(0, 6));
  }

  /** Throws a validation problem naming the field when a code is not one the service knows. */
  async function assertKnown(code: string, where: Omit<FieldError, 'detail'>): Promise<void> {
    if (!(await isKnown(code))) {
      throw validationError([
        { ...where, detail: `${code} is not a region code this service knows (see /v1/regions)` },
      ]);
    }
  }

  return { list, get, isKnown, assertKnown };
}

export type RegionService = ReturnType<typeof createRegionService>;
