import { eq } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import { visits } from './tables.js';

/** What another module may learn of a visit: whose it was, where, and the symptoms it found. */
export interface VisitFacts {
  id: string;
  personId: string;
  /** The person's residence region at the visit. */
  region: string;
  visitedAt: Date;
  healthStatus: string;
  symptoms: string[];
  symptomsText: string | null;
}

/**
 * A narrow read of the visits table for other modules (a referral from a visit needs the visit's
 * person, region and symptoms). No jurisdiction check and no audit here: the caller decides what
 * its own caller may see, and audits what it shows.
 */
export function createVisitLookup({ db }: { db: Db }) {
  async function get(visitId: string, executor: Executor = db): Promise<VisitFacts | null> {
    const [row] = await executor
      .select({
        id: visits.id,
        personId: visits.personId,
        region: visits.region,
        visitedAt: visits.visitedAt,
        healthStatus: visits.healthStatus,
        symptoms: visits.symptoms,
        symptomsText: visits.symptomsText,
      })
      .from(visits)
      .where(eq(visits.id, visitId));
    return row ?? null;
  }

  return { get };
}

export type VisitLookup = ReturnType<typeof createVisitLookup>;
