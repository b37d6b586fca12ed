import { type AnyColumn, type SQL, sql } from 'drizzle-orm';

/** What a jurisdiction check needs to know about the caller. */
export interface Jurisdictional {
  jurisdiction: string;
}

/**
 * The one jurisdiction rule: a client sees a region when the region's code starts with the
 * client's jurisdiction prefix. Everything regional goes through these helpers; a miss is a 404.
 */
export const inJurisdiction = (caller: Jurisdictional, region: string | null | undefined): boolean =>
  typeof region === 'string' && region.startsWith(caller.jurisdiction);

/** The LIKE pattern of a jurisdiction; for prepared statements that take it as a placeholder. */
export const jurisdictionPattern = (caller: Jurisdictional) => `${caller.jurisdiction}%`;

/** SQL condition limiting `column` (a region code) to the caller's jurisdiction. */
export const jurisdictionCondition = (caller: Jurisdictional, column: AnyColumn | SQL): SQL =>
  sql`${column} like ${jurisdictionPattern(caller)}`;

/**
 * Narrows an optional `region=` filter to the caller's jurisdiction: the longer of the two prefixes
 * when one contains the other, or null when they do not overlap (the answer is then empty).
 */
export function effectiveRegionPrefix(caller: Jurisdictional, region?: string): string | null {
  if (!region) return caller.jurisdiction;
  if (region.startsWith(caller.jurisdiction)) return region;
  if (caller.jurisdiction.startsWith(region)) return caller.jurisdiction;
  return null;
}
