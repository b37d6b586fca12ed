import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { rows } from '../../../src/db/client.js';
import { json, type TestClient } from '../../helpers.js';
import { residentId } from '../registry/people.fixtures.js';
import { businessDateOf } from '../../../src/modules/registry/dates.js';

export interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  activeAssignments?: number;
  errors?: { in: string; pointer: string; detail: string }[];
}

export interface Caregiver {
  id: string;
  region: string;
  name: string;
  phone: string | null;
  phoneMasked: boolean;
  active: boolean;
  activeAssignments: number;
}

export interface Assignment {
  id: string;
  personId: string;
  caregiverId: string;
  active: boolean;
  endedAt: string | null;
  endReason: string | null;
}

export interface Figures {
  keyPersons: number;
  withCaregiver: number;
  withoutCaregiver: number;
  visitedWithinInterval: number;
  overdue: number;
  neverVisited: number;
  shareVisited: number | null;
}

export interface Coverage {
  region: string;
  date: string;
  total: Figures;
  regions: (Figures & { region: string })[];
  caregivers: (Omit<Figures, 'withCaregiver' | 'withoutCaregiver'> & { caregiverId: string; name: string })[];
}

export interface CoveragePerson {
  personId: string;
  name: string;
  region: string;
  caregiverId: string | null;
  lastVisitAt: string | null;
  intervalDays: number;
  dueDate: string | null;
  overdue: boolean;
  daysOverdue: number | null;
}

export interface Task {
  id: string;
  personId: string;
  caregiverId: string | null;
  fallbackRegion: string | null;
  windowStart: string;
  dueDate: string;
  intervalDays: number;
  status: string;
  overdue: boolean;
  daysOverdue: number | null;
  visitId: string | null;
}

/** An instant `days` days before now (fractions allowed). */
export const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
/**
 * `days` ago, but never before today's start (Asia/Shanghai): "just now" stays today even when a
 * test runs in the first minutes after midnight.
 */
export const earlierToday = (days: number) => {
  const start = Date.parse(`${businessDateOf(new Date())}T00:00:00+08:00`);
  return new Date(Math.max(Date.now() - days * 86_400_000, start)).toISOString();
};

let sequence = 0;

/** The calls the tests make, as one client or another. */
export function careCalls(app: FastifyInstance) {
  const post = (
    url: string,
    who: TestClient,
    payload: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) => app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload });
  const patch = (
    url: string,
    who: TestClient,
    payload: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) => app.inject({ method: 'PATCH', url, headers: { ...who.headers, ...headers }, payload });
  const get = (url: string, who: TestClient) => app.inject({ method: 'GET', url, headers: who.headers });

  /** A person registered alone through the API; a key person unless `flags` says otherwise. */
  async function person(
    who: TestClient,
    region: string,
    name: string,
    flags: { scatteredExtremelyPoor?: boolean; livesAlone?: boolean; disabled?: boolean } = {
      scatteredExtremelyPoor: true,
    },
  ): Promise<{ id: string; region: string; name: string }> {
    sequence++;
    const birth = new Date(Date.UTC(1940, 0, 1 + sequence)).toISOString().slice(0, 10).replaceAll('-', '');
    const idNumber = residentId('220102', birth, String(100 + randomInt(800)));
    const res = await post('/v1/persons', who, { name, idType: 'resident_id', idNumber, region, ...flags });
    if (res.statusCode !== 201) throw new Error(`person: ${res.statusCode} ${res.body}`);
    return json(res);
  }

  async function caregiver(who: TestClient, region: string, name: string, extra: Record<string, unknown> = {}) {
    const res = await post('/v1/caregivers', who, { name, kind: 'caseworker', region, ...extra });
    if (res.statusCode !== 201) throw new Error(`caregiver: ${res.statusCode} ${res.body}`);
    return json<Caregiver>(res);
  }

  async function assign(who: TestClient, personId: string, caregiverId: string, reason?: string) {
    const res = await post('/v1/care-assignments', who, { personId, caregiverId, ...(reason && { reason }) });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`assign: ${res.statusCode} ${res.body}`);
    return json<Assignment>(res);
  }

  async function visit(who: TestClient, payload: Record<string, unknown>) {
    const res = await post('/v1/visits', who, { channel: 'phone', healthStatus: 'well', ...payload });
    if (res.statusCode !== 201) throw new Error(`visit: ${res.statusCode} ${res.body}`);
    return json<{ id: string; taskId: string | null }>(res);
  }

  async function coverage(who: TestClient, query = '') {
    const res = await get(`/v1/coverage?${query}`, who);
    if (res.statusCode !== 200) throw new Error(`coverage: ${res.statusCode} ${res.body}`);
    return json<Coverage>(res);
  }

  async function list<T>(who: TestClient, url: string) {
    const res = await get(url, who);
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return json<{ items: T[]; nextCursor: string | null }>(res);
  }

  return { post, patch, get, person, caregiver, assign, visit, coverage, list };
}

/** Counts of the module's rows, to show that a refused request wrote nothing. */
export async function counts(app: FastifyInstance) {
  const [row] = await rows<Record<string, number>>(
    app.database.db,
    sql`select
      (select count(*)::int from caregivers) as caregivers,
      (select count(*)::int from care_assignments) as assignments,
      (select count(*)::int from visits) as visits,
      (select count(*)::int from care_last_visits) as "lastVisits",
      (select count(*)::int from visit_tasks) as tasks,
      (select count(*)::int from events where type like 'visit.%' or type like 'care_%') as events`,
  );
  return row!;
}
