import { etagOf } from '../http.js';
import { and, asc, eq, gt, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { conflict, invalidState, notFound, ProblemError, validationError } from '../errors.js';
import { jurisdictionCondition, type Jurisdictional, jurisdictionPattern } from '../jurisdiction.js';
import type { AuditActor, AuditService } from '../audit/service.js';
import { apiKeyIssued, apiKeyRevoked, clientCreated, clientUpdated } from '../events/catalogue.js';
import type { EventService } from '../events/service.js';
import type { RegionService } from '../regions/service.js';
import { type Agency, defaultScopes, type Scope } from '../scopes.js';
import { hashApiKey, looksLikeApiKey, newApiKey } from './keys.js';
import { apiKeys, clients } from './tables.js';

export type ClientRow = typeof clients.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** The caller of a request, as the auth plugin found it. */
export interface AuthenticatedClient extends Jurisdictional {
  id: string;
  name: string;
  agency: Agency;
  scopes: Scope[];
  keyId: string;
}

export interface NewClient {
  name: string;
  agency: Agency;
  jurisdiction: string;
  scopes?: Scope[] | undefined;
  keyLabel?: string | undefined;
}

export interface ClientChanges {
  name?: string | undefined;
  scopes?: Scope[] | undefined;
  jurisdiction?: string | undefined;
  enabled?: boolean | undefined;
}

interface Deps {
  db: Db;
  audit: AuditService;
  events: EventService;
  regions: RegionService;
  pepper: string;
  /** How long this instance may answer a key from memory (0: never). Changes made here clear it at once. */
  authCacheTtlMs?: number;
}

const AUTH_CACHE_MAX = 10_000;

/** Keys and clients. An admin acts only inside its own jurisdiction, like everyone else. */
export function createClientService({ db, audit, events, regions, pepper, authCacheTtlMs = 0 }: Deps) {
  // Key → client, so a busy client does not cost a query per request. Any change to a client
  // or key made through this instance empties it; other instances see the change within the TTL.
  const authCache = new Map<string, { client: AuthenticatedClient; until: number }>();
  // Bumped after every committed change, so a lookup that raced a change is not remembered.
  let generation = 0;
  const forgetKeys = () => {
    generation++;
    authCache.clear();
  };

  async function authenticate(key: string): Promise<AuthenticatedClient | null> {
    if (!looksLikeApiKey(key)) return null;
    // Keyed by the key itself, which this process holds anyway while it serves the request: a hit
    // costs no HMAC. Only the HMAC is ever stored anywhere else.
    const cached = authCache.get(key);
    if (cached && cached.until > Date.now()) return cached.client;
    const keyHash = hashApiKey(key, pepper);
    const startedAt = generation;
    const client = await lookUp(keyHash);
    if (client && authCacheTtlMs > 0 && startedAt === generation) {
      if (authCache.size >= AUTH_CACHE_MAX) authCache.clear();
      authCache.set(key, { client, until: Date.now() + authCacheTtlMs });
    }
    return client;
  }

  // Prepared once: these two run on nearly every request.
  const lookUpKey = db
    .select({
      id: clients.id,
      name: clients.name,
      agency: clients.agency,
      scopes: clients.scopes,
      jurisdiction: clients.jurisdiction,
      keyId: apiKeys.id,
    })
    .from(apiKeys)
    .innerJoin(clients, eq(clients.id, apiKeys.clientId))
    .where(
      and(
        eq(apiKeys.keyHash, sql.placeholder('keyHash')),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)),
        eq(clients.enabled, true),
      ),
    )
    .limit(1)
    .prepare('auth_look_up_key');

  const clientInJurisdiction = db
    .select()
    .from(clients)
    // The jurisdiction rule of jurisdiction.ts, with its pattern as a placeholder.
    .where(and(eq(clients.id, sql.placeholder('id')), sql`${clients.jurisdiction} like ${sql.placeholder('prefix')}`))
    .prepare('client_in_jurisdiction');

  async function lookUp(keyHash: string): Promise<AuthenticatedClient | null> {
    const [found] = await lookUpKey.execute({ keyHash });
    return found ? { ...found, agency: found.agency as Agency, scopes: found.scopes as Scope[] } : null;
  }

  async function assertJurisdictionWithin(caller: Jurisdictional, jurisdiction: string, pointer: string) {
    await regions.assertKnown(jurisdiction, { in: 'body', pointer });
    if (!jurisdiction.startsWith(caller.jurisdiction)) {
      throw validationError([
        { in: 'body', pointer, detail: `must lie inside your own jurisdiction ${caller.jurisdiction}` },
      ]);
    }
  }

  async function create(caller: Jurisdictional, actor: AuditActor, input: NewClient) {
    await assertJurisdictionWithin(caller, input.jurisdiction, '/jurisdiction');
    const { key, prefix } = newApiKey();
    return db.transaction(async (tx) => {
      const [client] = await tx
        .insert(clients)
        .values({
          name: input.name,
          agency: input.agency,
          jurisdiction: input.jurisdiction,
          scopes: [...new Set(input.scopes ?? defaultScopes[input.agency])],
        })
        .returning();
      const [apiKey] = await tx
        .insert(apiKeys)
        .values({ clientId: client!.id, prefix, keyHash: hashApiKey(key, pepper), label: input.keyLabel ?? null })
        .returning();
      await events.publish(tx, clientCreated, {
        subject: `client/${client!.id}`,
        region: client!.jurisdiction,
        data: { clientId: client!.id, name: client!.name, agency: client!.agency, jurisdiction: client!.jurisdiction },
      });
      await audit.record(tx, actor, {
        operation: 'createClient',
        resourceType: 'client',
        resourceIds: [client!.id, apiKey!.id],
        detail: { agency: input.agency, jurisdiction: input.jurisdiction },
      });
      return { client: client!, apiKey: apiKey!, key };
    });
  }

  async function get(caller: Jurisdictional, id: string): Promise<ClientRow> {
    const [found] = await clientInJurisdiction.execute({ id, prefix: jurisdictionPattern(caller) });
    if (!found) throw notFound('client');
    return found;
  }

  async function list(
    caller: Jurisdictional,
    filter: { agency?: Agency | undefined; enabled?: boolean | undefined; afterId?: string | undefined; limit: number },
  ) {
    const conditions: SQL[] = [jurisdictionCondition(caller, clients.jurisdiction)];
    if (filter.agency) conditions.push(eq(clients.agency, filter.agency));
    if (filter.enabled !== undefined) conditions.push(eq(clients.enabled, filter.enabled));
    if (filter.afterId) conditions.push(gt(clients.id, filter.afterId));
    const found = await db
      .select()
      .from(clients)
      .where(and(...conditions))
      .orderBy(asc(clients.id))
      .limit(filter.limit + 1);
    return { items: found.slice(0, filter.limit), more: found.length > filter.limit };
  }

  /** Changes a client; with `expectedVersion` (from If-Match) the change applies only to that version. */
  async function update(
    caller: Jurisdictional,
    actor: AuditActor,
    id: string,
    changes: ClientChanges,
    expectedVersion?: number,
  ): Promise<ClientRow> {
    if (changes.jurisdiction !== undefined)
      await assertJurisdictionWithin(caller, changes.jurisdiction, '/jurisdiction');
    const changed = await db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(clients)
        .where(and(eq(clients.id, id), jurisdictionCondition(caller, clients.jurisdiction)))
        .for('update');
      if (!current) throw notFound('client');
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw new ProblemError(412, 'precondition-failed', 'The client changed since you read it; read it again.', {
          currentETag: etagOf(current),
        });
      }
      const [updated] = await tx
        .update(clients)
        .set({
          ...(changes.name !== undefined && { name: changes.name }),
          ...(changes.scopes !== undefined && { scopes: [...new Set(changes.scopes)] }),
          ...(changes.jurisdiction !== undefined && { jurisdiction: changes.jurisdiction }),
          ...(changes.enabled !== undefined && { enabled: changes.enabled }),
          version: current.version + 1,
          updatedAt: sql`now()`,
        })
        .where(eq(clients.id, id))
        .returning();
      await events.publish(tx, clientUpdated, {
        subject: `client/${id}`,
        region: updated!.jurisdiction,
        data: {
          clientId: id,
          changed: Object.keys(changes).filter((k) => changes[k as keyof ClientChanges] !== undefined),
          enabled: updated!.enabled,
        },
      });
      await audit.record(tx, actor, {
        operation: 'updateClient',
        resourceType: 'client',
        resourceIds: [id],
        detail: { changed: Object.keys(changes).filter((k) => changes[k as keyof ClientChanges] !== undefined) },
      });
      return updated!;
    });
    forgetKeys();
    return changed;
  }

  async function issueKey(
    caller: Jurisdictional,
    actor: AuditActor,
    clientId: string,
    label?: string,
    expiresAt?: Date,
  ) {
    const client = await get(caller, clientId);
    if (!client.enabled) throw invalidState('The client is disabled; enable it before issuing keys.', 'disabled');
    const { key, prefix } = newApiKey();
    return db.transaction(async (tx) => {
      const [apiKey] = await tx
        .insert(apiKeys)
        .values({
          clientId,
          prefix,
          keyHash: hashApiKey(key, pepper),
          label: label ?? null,
          expiresAt: expiresAt ?? null,
        })
        .returning();
      await events.publish(tx, apiKeyIssued, {
        subject: `client/${clientId}`,
        region: client.jurisdiction,
        data: { clientId, keyId: apiKey!.id },
      });
      await audit.record(tx, actor, {
        operation: 'issueApiKey',
        resourceType: 'api_key',
        resourceIds: [clientId, apiKey!.id],
      });
      return { apiKey: apiKey!, key };
    });
  }

  async function listKeys(caller: Jurisdictional, clientId: string): Promise<ApiKeyRow[]> {
    await get(caller, clientId);
    return db.select().from(apiKeys).where(eq(apiKeys.clientId, clientId)).orderBy(asc(apiKeys.createdAt));
  }

  async function revokeKey(caller: Jurisdictional, actor: AuditActor, clientId: string, keyId: string) {
    const client = await get(caller, clientId);
    const changed = await db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(apiKeys)
        .where(and(eq(apiKeys.id, keyId), eq(apiKeys.clientId, clientId)))
        .for('update');
      if (!current) throw notFound('API key');
      if (current.revokedAt) throw invalidState('The key is already revoked.', 'revoked');
      const [revoked] = await tx
        .update(apiKeys)
        .set({ revokedAt: sql`now()` })
        .where(eq(apiKeys.id, keyId))
        .returning();
      await events.publish(tx, apiKeyRevoked, {
        subject: `client/${clientId}`,
        region: client.jurisdiction,
        data: { clientId, keyId },
      });
      await audit.record(tx, actor, {
        operation: 'revokeApiKey',
        resourceType: 'api_key',
        resourceIds: [clientId, keyId],
      });
      return revoked!;
    });
    forgetKeys();
    return changed;
  }

  /** For the CLI on a fresh install: the first admin, no caller yet. */
  async function bootstrapAdmin(name: string, jurisdiction: string) {
    const existing = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(clients)
      .where(eq(clients.agency, 'admin'));
    if ((existing[0]?.n ?? 0) > 0) {
      throw conflict('An admin client exists already; create further clients through /v1/clients.');
    }
    return create(
      { jurisdiction },
      { clientId: null, agency: null, requestId: null },
      { name, agency: 'admin', jurisdiction },
    );
  }

  return { authenticate, create, get, list, update, issueKey, listKeys, revokeKey, bootstrapAdmin };
}

export type ClientService = ReturnType<typeof createClientService>;
