import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { rows } from '../../../src/db/client.js';
import { type Agency, defaultScopes, type Scope } from '../../../src/platform/scopes.js';
import { freshDatabase, json, type TestClient } from '../../helpers.js';

/** The slice of a tap Test the helpers use. */
interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  errors?: { in: string; pointer: string; detail: string }[];
}

export interface Version {
  version: number;
  zero: boolean;
  figures: Record<string, number>;
  notes: string | null;
  submittedAt: string;
  submittedBy: string | null;
}

export interface Report {
  id: string;
  district: string;
  date: string;
  dueAt: string;
  status: string;
  version: number;
  firstSubmittedAt: string | null;
  missingAt: string | null;
  current: Version | null;
}

export interface FeedEvent {
  type: string;
  subject: string;
  region: string;
  data: Record<string, unknown>;
}

/** Nothing to report: every figure 0. */
export const noFigures = {
  suspected: 0,
  confirmed: 0,
  hospitalized: 0,
  inQuarantine: 0,
  recovered: 0,
  died: 0,
  emergencyGrants: 0,
  emergencyGrantsFen: 0,
  inKindHandouts: 0,
  inKindItems: 0,
  visits: 0,
  keyPersonsWithoutCaregiver: 0,
};

/** An instant given as a Shanghai wall-clock time. */
export const shanghai = (date: string, time: string) => new Date(`${date}T${time}+08:00`);

/**
 * The whole service on a fresh database, as test/helpers.ts's testApp builds it, with a clock the
 * test sets (`clock.now`): the reporting module takes its deadlines and "today" from it.
 */
export async function reportsApp(t: Teardown, start: Date) {
  const clock = { now: start };
  const database = await freshDatabase(t);
  const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', JOBS_ENABLED: 'false' });
  const app = await buildApp(config, { database, background: false, clock: () => clock.now });
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
  return { app, database, config, clock, admin, client };
}

/** The calls the tests make. */
export function reportCalls(app: FastifyInstance) {
  const post = (url: string, who: TestClient, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload: payload as object });
  const get = (url: string, who: TestClient, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { ...who.headers, ...headers } });
  const submit = (who: TestClient, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    post('/v1/daily-reports', who, payload, headers);
  /** The events of `prefix` types a client sees, after the sequencer has run. */
  const feed = async (who: TestClient, prefix: string) => {
    await app.services.events.sequence();
    const res = await get('/v1/events?after=0&limit=500', who);
    if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`);
    return json<{ items: FeedEvent[] }>(res).items.filter((e) => e.type.startsWith(prefix));
  };
  return { post, get, submit, feed };
}

/** The module's rows, to show that a refused request wrote nothing. */
export async function counts(app: FastifyInstance) {
  const [row] = await rows<Record<string, number>>(
    app.database.db,
    sql`select
      (select count(*)::int from daily_reports) as reports,
      (select count(*)::int from daily_report_versions) as versions,
      (select count(*)::int from urgent_reports) as urgent,
      (select count(*)::int from urgent_report_persons) as "urgentPersons",
      (select count(*)::int from events where type like 'daily_report.%' or type like 'urgent_report.%') as events,
      (select count(*)::int from audit_events where resource_type in ('daily_report', 'urgent_report')
         and outcome = 'success' and operation not like 'get%' and operation not like 'list%') as audits`,
  );
  return row!;
}

/** An emergency policy setting the daily report cutoff, declared by an operator through the API. */
export async function cutoffPolicy(
  app: FastifyInstance,
  admin: TestClient,
  region: string,
  effectiveFrom: string,
  cutoff: string,
) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/policies',
    headers: admin.headers,
    payload: { name: `Epidemic response ${region}`, region, effectiveFrom, dailyReportCutoff: cutoff },
  });
  if (res.statusCode !== 201) throw new Error(`policy: ${res.statusCode} ${res.body}`);
  return json<{ id: string }>(res);
}
