import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { rows } from '../../../src/db/client.js';
import { businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, type TestApp, type TestClient } from '../../helpers.js';
import { residentId } from '../registry/people.fixtures.js';

export interface Contact {
  id: string;
  handoffId: string;
  status: string;
  relation: string;
  origin: string;
  personId: string | null;
  caregiverId: string | null;
  region: string | null;
  name: string;
  sex: string | null;
  age: number | null;
  phone: string | null;
  phoneMasked: boolean;
  address: string | null;
  idType: string | null;
  idNumber: string | null;
  idNumberMasked: boolean;
  recipient: boolean | null;
  firstContactDate: string | null;
  lastContactDate: string | null;
  inPersonContacts: number;
  reachedAt: string | null;
  quarantineKind: string | null;
  quarantineFrom: string | null;
  quarantineTo: string | null;
  releasedOn: string | null;
  becameCaseOn: string | null;
  nextHandoffId: string | null;
  statusReason: string | null;
  otherHandoffs: { handoffId: string; contactId: string; casePersonId: string; relation: string; status: string }[];
}

export interface Handoff {
  id: string;
  status: string;
  region: string;
  origin: string;
  casePersonId: string;
  referralId: string | null;
  sourceContactId: string | null;
  onsetDate: string;
  lookBackDays: number;
  windowFrom: string;
  windowTo: string;
  sentAt: string | null;
  receiverClientId: string | null;
  closedReason: string | null;
  contactCounts: Record<string, number>;
  casePerson: { id: string; name: string; phone: string | null; phoneMasked: boolean; idNumberMasked: boolean };
  contacts: Contact[];
  steps: { seq: number; action: string; contactId: string | null; fromStatus: string | null; toStatus: string }[];
  comments: { id: string; text: string; agency: string | null; contactId: string | null }[];
}

export interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  openHandoffId?: string | null;
  existingContactId?: string;
  receiverClientId?: string;
  openContacts?: number;
  errors?: { in: string; pointer: string; detail: string }[];
}

export interface FeedEvent {
  type: string;
  subject: string;
  region: string;
  subjectSeq: number;
  data: Record<string, unknown>;
}

export interface Member {
  id: string;
  name: string;
}

export const today = () => businessDateOf(new Date());
export const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
export const dateDaysAgo = (days: number) => businessDateOf(new Date(Date.now() - days * 86_400_000));

let sequence = 200;
const nextSequence = () => String(++sequence % 1000).padStart(3, '0');

/** A household member's fields; the resident ID number is made from the birth date. */
export function member(
  name: string,
  relationship: string,
  birth: string,
  extra: Record<string, unknown> = {},
  region = '220102',
) {
  return {
    name,
    relationship,
    idType: 'resident_id',
    idNumber: residentId(region.slice(0, 6), birth, nextSequence()),
    phone: `13${String(Date.now() % 1_000_000).padStart(6, '0')}${nextSequence()}`,
    ...extra,
  };
}

/** A household registered through the API; members in the order given. */
export async function registerHousehold(
  app: FastifyInstance,
  who: TestClient,
  region: string,
  members: Record<string, unknown>[],
): Promise<{ id: string; members: Member[] }> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/households',
    headers: who.headers,
    payload: { region, address: `${region} 自由大路 ${sequence} 号`, members },
  });
  if (res.statusCode !== 201) throw new Error(`registering a household answered ${res.statusCode}: ${res.body}`);
  return json(res);
}

/** An active household enrollment (dibao), as the registry would hold one after an approved application. */
export async function enrol(app: FastifyInstance, householdId: string, region: string) {
  await app.database.db.execute(sql`
    insert into enrollments (program_code, household_id, region, status, monthly_benefit_fen, benefit_basis, start_date)
    values ('dibao', ${householdId}::uuid, ${region}, 'active', 72000, '{}'::jsonb, current_date - 60)`);
}

/** The clients the tests act as, and the calls they make. */
export async function contactWorld(test: TestApp) {
  const { app, client } = test;
  const clients = {
    nanguanCivil: await client('civil_affairs', { jurisdiction: '220102' }),
    kuanchengCivil: await client('civil_affairs', { jurisdiction: '220103' }),
    nanguanHealth: await client('health', { jurisdiction: '220102' }),
    nanguanCdc: await client('cdc', { jurisdiction: '220102' }),
    otherNanguanCdc: await client('cdc', { jurisdiction: '220102' }),
    kuanchengCdc: await client('cdc', { jurisdiction: '220103' }),
    finance: await client('finance', { jurisdiction: '2201' }),
  };
  const post = (url: string, who: TestClient, payload: unknown = {}, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload: payload as object });
  const get = (url: string, who: TestClient, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { ...who.headers, ...headers } });
  const act = (id: string, action: string, who: TestClient, payload: unknown = {}, headers = {}) =>
    post(`/v1/contact-handoffs/${id}/${action}`, who, payload, headers);
  const contactAct = (id: string, contactId: string, action: string, who: TestClient, payload: unknown = {}) =>
    post(`/v1/contact-handoffs/${id}/contacts/${contactId}/${action}`, who, payload);
  /** The handoff as a client sees it (throws unless 200). */
  const handoff = async (id: string, who: TestClient) => {
    const res = await get(`/v1/contact-handoffs/${id}`, who);
    if (res.statusCode !== 200) throw new Error(`reading the handoff answered ${res.statusCode}: ${res.body}`);
    return json<Handoff>(res);
  };
  /** The handoff events a client sees in its feed, after the sequencer has run. */
  const feed = async (who: TestClient) => {
    await app.services.events.sequence();
    const res = await get('/v1/events?after=0&limit=500', who);
    if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`);
    return json<{ items: FeedEvent[] }>(res).items.filter(
      (e) => e.type.startsWith('contact_handoff.') || e.type.startsWith('handoff_contact.'),
    );
  };
  /** A key person's visit recorded through the care module's API. */
  const visit = async (personId: string, payload: Record<string, unknown>) => {
    const res = await post('/v1/visits', clients.nanguanCivil, { personId, healthStatus: 'well', ...payload });
    if (res.statusCode !== 201) throw new Error(`recording a visit answered ${res.statusCode}: ${res.body}`);
    return json<{ id: string }>(res).id;
  };
  /** A suspected-case referral reported by civil affairs and confirmed by the district's health client. */
  const confirmedReferral = async (personId: string, onsetDate: string) => {
    const reported = await post('/v1/referrals', clients.nanguanCivil, {
      personId,
      origin: 'direct',
      symptoms: ['fever'],
      onsetDate,
      locationKind: 'home',
      reporterName: '刘社工',
    });
    if (reported.statusCode !== 201) throw new Error(`reporting answered ${reported.statusCode}: ${reported.body}`);
    const id = json<{ id: string }>(reported).id;
    for (const [action, body] of [
      ['acknowledge', {}],
      ['transfer', { hospital: '长春市传染病医院' }],
      ['confirm', { note: '核酸阳性' }],
    ] as const) {
      const res = await post(`/v1/referrals/${id}/${action}`, clients.nanguanHealth, body);
      if (res.statusCode !== 200) throw new Error(`${action} answered ${res.statusCode}: ${res.body}`);
    }
    return id;
  };
  /** The handoff a referral opened. */
  const handoffOfReferral = async (referralId: string, who: TestClient = clients.nanguanCivil) => {
    const res = await get(`/v1/contact-handoffs?referralId=${referralId}`, who);
    const items = json<{ items: { id: string }[] }>(res).items;
    if (items.length !== 1) throw new Error(`expected one handoff of the referral, found ${res.body}`);
    return handoff(items[0]!.id, who);
  };
  return { ...clients, post, get, act, contactAct, handoff, feed, visit, confirmedReferral, handoffOfReferral };
}

/** The module's rows, to show that a refused request wrote nothing. */
export async function counts(app: FastifyInstance) {
  const [row] = await rows<Record<string, number>>(
    app.database.db,
    sql`select
      (select count(*)::int from contact_handoffs) as handoffs,
      (select sum(version)::int from contact_handoffs) as versions,
      (select count(*)::int from handoff_contacts) as contacts,
      (select count(*)::int from handoff_steps) as steps,
      (select count(*)::int from handoff_comments) as comments,
      (select count(*)::int from events where type like 'contact_handoff.%' or type like 'handoff_contact.%') as events,
      (select count(*)::int from audit_events where resource_type = 'contact_handoff' and operation not like 'get%'
         and operation not like 'list%') as audits`,
  );
  return row!;
}

/** A webhook receiver on 127.0.0.1 that records the events it is sent. */
export async function receiver(t: { teardown(fn: () => unknown): void }) {
  const { createServer } = await import('node:http');
  const received: { path: string; event: FeedEvent }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', event: JSON.parse(Buffer.concat(chunks).toString('utf8')) as FeedEvent });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    /** The handoff events sent to one path. */
    at: (path: string) =>
      received
        .filter((r) => r.path === path)
        .map((r) => r.event)
        .filter((e) => e.type.startsWith('contact_handoff.') || e.type.startsWith('handoff_contact.')),
  };
}

/** Webhooks may go to 127.0.0.1 over HTTP in tests. */
export const allowLocal = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' };
