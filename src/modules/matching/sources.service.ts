import { and, asc, desc, eq, getTableColumns, or, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import type { ClientService } from '../../platform/clients/service.js';
import { conflict, type FieldError, notFound, ProblemError, validationError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { Scope } from '../../platform/scopes.js';
import type { PiiProtector } from '../registry/sensitive.js';
import { createLoader, type LoadInput, type SnapshotRow, type SourceRow } from './load.js';
import { matchingLoadProgress, matchingSnapshots, matchingSources, type SourceKind } from './tables.js';

export type { SnapshotRow, SourceRow };

/** Who reads sources: a provider its own; caseworkers and admins those of regions overlapping theirs. */
export interface SourceReader extends Jurisdictional {
  id: string;
  scopes: readonly Scope[];
}

export interface NewSource {
  kind: SourceKind;
  name: string;
  description?: string | undefined;
  providerClientId: string;
  region: string;
}

export interface SourceFilter {
  kind?: SourceKind | undefined;
  region?: string | undefined;
  after?: string | undefined;
  limit: number;
}

interface Deps {
  database: Database;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  clients: ClientService;
  pii: PiiProtector;
  clock?: () => Date;
}

/** Who may read sources and snapshots: their provider, those who verify with them, those who manage them. */
export const sourceReaderScopes: Scope[] = ['matching:load', 'matching:verify', 'programs:manage'];
const seesRegion = (caller: SourceReader) =>
  caller.scopes.includes('matching:verify') || caller.scopes.includes('programs:manage');

/** SQL: the sources `caller` may read. */
function visibleTo(caller: SourceReader): SQL {
  const parts: SQL[] = [];
  if (caller.scopes.includes('matching:load')) parts.push(eq(matchingSources.providerClientId, caller.id));
  if (seesRegion(caller)) {
    parts.push(
      sql`(starts_with(${matchingSources.region}, ${caller.jurisdiction}) or starts_with(${caller.jurisdiction}, ${matchingSources.region}))`,
    );
  }
  return parts.length > 0 ? or(...parts)! : sql`false`;
}

const current = alias(matchingSnapshots, 'current_snapshot');

/** A snapshot as read: while it loads (or where a failed load got to), `lines` is its progress. */
const snapshotColumns = {
  ...getTableColumns(matchingSnapshots),
  lines: sql<number>`greatest(${matchingSnapshots.lines}, coalesce(${matchingLoadProgress.lines}, 0))`.mapWith(Number),
};
const withProgress = eq(matchingLoadProgress.snapshotId, matchingSnapshots.id);

/**
 * Matching sources (DOMAIN.md, economic verification): one per data provider, kind and region,
 * created by an admin (`programs:manage`: sources are part of how programs' rules are checked) and
 * loaded by its provider as whole snapshots (see load.ts).
 */
export function createSourceService({
  database,
  audit,
  events,
  regions,
  clients,
  pii,
  clock = () => new Date(),
}: Deps) {
  const db = database.db;
  const loader = createLoader({ database, audit, events, pii, clock });

  function assertReader(caller: SourceReader) {
    if (!sourceReaderScopes.some((s) => caller.scopes.includes(s))) {
      throw new ProblemError(
        403,
        'forbidden',
        `This operation needs one of the scopes ${sourceReaderScopes.join(', ')}.`,
        {
          requiredScopes: sourceReaderScopes,
        },
      );
    }
  }

  async function create(caller: SourceReader, actor: AuditActor, input: NewSource): Promise<SourceRow> {
    const errors: FieldError[] = [];
    const at = (pointer: string, detail: string) => errors.push({ in: 'body', pointer, detail });
    if (!(await regions.isKnown(input.region))) {
      at('/region', `${input.region} is not a region code this service knows (see /v1/regions)`);
    } else if (!inJurisdiction(caller, input.region)) {
      at('/region', `must lie inside your own jurisdiction ${caller.jurisdiction}`);
    }
    const provider = await clients.get(caller, input.providerClientId).catch(() => null);
    if (!provider) at('/providerClientId', 'is not a client in your jurisdiction');
    else if (provider.agency !== 'data_provider')
      at('/providerClientId', `is a ${provider.agency} client, not a data_provider`);
    if (errors.length > 0) throw validationError(errors);
    return db.transaction(async (tx) => {
      const [row] = await tx
        .insert(matchingSources)
        .values({ ...input, description: input.description ?? null, createdByClientId: actor.clientId })
        .onConflictDoNothing()
        .returning();
      if (!row) throw conflict(`The provider already has a ${input.kind} source for region ${input.region}.`);
      await audit.record(tx, actor, {
        operation: 'createMatchingSource',
        resourceType: 'matching_source',
        resourceIds: [row.id],
        detail: { kind: row.kind, region: row.region, providerClientId: row.providerClientId },
      });
      return row;
    });
  }

  /** A source with its current snapshot, or 404 when the caller may not read it. */
  async function get(caller: SourceReader, id: string): Promise<{ source: SourceRow; current: SnapshotRow | null }> {
    assertReader(caller);
    const [found] = await db
      .select({ source: matchingSources, current })
      .from(matchingSources)
      .leftJoin(current, eq(current.id, matchingSources.currentSnapshotId))
      .where(and(eq(matchingSources.id, id), visibleTo(caller)));
    if (!found) throw notFound('matching source');
    return found;
  }

  /** By id, keyset on it. */
  async function list(caller: SourceReader, filter: SourceFilter) {
    assertReader(caller);
    const conditions = [visibleTo(caller)];
    if (filter.kind) conditions.push(eq(matchingSources.kind, filter.kind));
    if (filter.region) {
      conditions.push(
        sql`(starts_with(${matchingSources.region}, ${filter.region}) or starts_with(${filter.region}, ${matchingSources.region}))`,
      );
    }
    if (filter.after) conditions.push(sql`${matchingSources.id} > ${filter.after}::uuid`);
    const found = await db
      .select({ source: matchingSources, current })
      .from(matchingSources)
      .leftJoin(current, eq(current.id, matchingSources.currentSnapshotId))
      .where(and(...conditions))
      .orderBy(asc(matchingSources.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  /** The source's loads, newest first. */
  async function snapshots(
    caller: SourceReader,
    sourceId: string,
    page: { limit: number; after?: { startedAt: string; id: string } | undefined },
  ) {
    const { source } = await get(caller, sourceId);
    const conditions = [eq(matchingSnapshots.sourceId, source.id)];
    if (page.after) {
      conditions.push(
        sql`(${matchingSnapshots.startedAt}, ${matchingSnapshots.id}) < (${page.after.startedAt}::timestamptz, ${page.after.id}::uuid)`,
      );
    }
    const found = await db
      .select(snapshotColumns)
      .from(matchingSnapshots)
      .leftJoin(matchingLoadProgress, withProgress)
      .where(and(...conditions))
      .orderBy(desc(matchingSnapshots.startedAt), desc(matchingSnapshots.id))
      .limit(page.limit + 1);
    return { source, items: found.slice(0, page.limit), more: found.length > page.limit };
  }

  async function snapshot(caller: SourceReader, sourceId: string, snapshotId: string) {
    const { source } = await get(caller, sourceId);
    const [row] = await db
      .select(snapshotColumns)
      .from(matchingSnapshots)
      .leftJoin(matchingLoadProgress, withProgress)
      .where(and(eq(matchingSnapshots.id, snapshotId), eq(matchingSnapshots.sourceId, source.id)));
    if (!row) throw notFound('snapshot');
    return { source, snapshot: row };
  }

  /** Only the source's own provider loads it; to anyone else it does not exist. */
  async function load(caller: SourceReader, actor: AuditActor, sourceId: string, input: LoadInput) {
    const [source] = await db
      .select()
      .from(matchingSources)
      .where(and(eq(matchingSources.id, sourceId), eq(matchingSources.providerClientId, caller.id)));
    if (!source) throw notFound('matching source');
    const result = await loader.load(source, actor, input);
    return { source, ...result };
  }

  return { create, get, list, snapshots, snapshot, load, sweepStaleLoads: loader.sweepStale };
}

export type SourceService = ReturnType<typeof createSourceService>;
