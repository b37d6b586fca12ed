import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { rows } from '../../../src/db/client.js';
import { json, type TestApp, type TestClient } from '../../helpers.js';
import { residentId } from '../registry/people.fixtures.js';

export interface Person {
  id: string;
  name: string;
  sex: string | null;
  birthDate: string | null;
  age: number | null;
  phone: string | null;
  phoneMasked: boolean;
  address: string | null;
  region: string;
  idType: string;
  idNumber: string;
  idNumberMasked: boolean;
}

export interface Step {
  seq: number;
  action: string;
  fromStatus: string | null;
  toStatus: string;
  at: string;
  clientId: string | null;
  agency: string | null;
  note: string | null;
}

export interface Referral {
  id: string;
  status: string;
  personId: string;
  householdId: string | null;
  region: string;
  origin: string;
  visitId: string | null;
  welfareContactId: string | null;
  symptoms: string[];
  symptomsText: string | null;
  onsetDate: string | null;
  locationKind: string;
  transportNeeded: boolean;
  reporterName: string;
  reporterPhone: string | null;
  reporterPhoneMasked: boolean;
  ackDueAt: string;
  overdue: boolean;
  receiverClientId: string | null;
  hospital: string | null;
  outcome: string | null;
  closedReason: string | null;
  createdAt: string;
  person: Person;
  steps?: Step[];
}

export interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  openReferralId?: string | null;
  receiverClientId?: string;
  errors?: { in: string; pointer: string; detail: string }[];
}

export interface FeedEvent {
  type: string;
  subject: string;
  region: string;
  subjectSeq: number;
  data: Record<string, unknown>;
}

export interface Household {
  id: string;
  members: { id: string; name: string }[];
}

let sequence = 100;

/** A household registered through the API: its head a scattered extremely poor man with a phone and a bank account. */
export async function registerHousehold(app: FastifyInstance, who: TestClient, region: string, name = '王大爷') {
  sequence += 1;
  const res = await app.inject({
    method: 'POST',
    url: '/v1/households',
    headers: who.headers,
    payload: {
      region,
      address: `${region} 人民大街 ${sequence} 号`,
      members: [
        {
          name,
          relationship: 'head',
          idType: 'resident_id',
          idNumber: residentId(region.slice(0, 6), '19480307', String(sequence).padStart(3, '0').slice(-3)),
          phone: `13900${String(sequence).padStart(6, '0')}`,
          bankAccount: { bankName: '中国农业银行', accountNumber: '6228480402564890018', holder: name },
          scatteredExtremelyPoor: true,
        },
      ],
    },
  });
  if (res.statusCode !== 201) throw new Error(`registering a household answered ${res.statusCode}: ${res.body}`);
  return json<Household>(res);
}

/** The clients the tests act as, and the calls they make. */
export async function referralWorld(test: TestApp) {
  const { app, client } = test;
  const clients = {
    nanguanCivil: await client('civil_affairs', { jurisdiction: '220102' }),
    kuanchengCivil: await client('civil_affairs', { jurisdiction: '220103' }),
    nanguanHealth: await client('health', { jurisdiction: '220102' }),
    nanguanHospital: await client('health', { jurisdiction: '220102' }),
    kuanchengHealth: await client('health', { jurisdiction: '220103' }),
    cityCdc: await client('cdc', { jurisdiction: '2201' }),
    finance: await client('finance', { jurisdiction: '2201' }),
    portal: await client('portal', { jurisdiction: '2201' }),
  };
  const post = (url: string, who: TestClient, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload: payload as object });
  const get = (url: string, who: TestClient, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { ...who.headers, ...headers } });
  const act = (id: string, action: string, who: TestClient, payload: unknown = {}, headers = {}) =>
    post(`/v1/referrals/${id}/${action}`, who, payload, headers);
  /** The referral events a client sees, after the sequencer has run. */
  const feed = async (who: TestClient) => {
    await app.services.events.sequence();
    const res = await get('/v1/events?after=0&limit=500', who);
    if (res.statusCode !== 200) throw new Error(`the feed answered ${res.statusCode}: ${res.body}`);
    return json<{ items: FeedEvent[] }>(res).items.filter((e) => e.type.startsWith('referral.'));
  };
  const report = (who: TestClient, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    post('/v1/referrals', who, payload, headers);
  return { ...clients, post, get, act, feed, report };
}

/** The module's rows, to show that a refused request wrote nothing. */
export async function counts(app: FastifyInstance) {
  const [row] = await rows<Record<string, number>>(
    app.database.db,
    sql`select
      (select count(*)::int from referrals) as referrals,
      (select count(*)::int from referral_steps) as steps,
      (select count(*)::int from events where type like 'referral.%') as events,
      (select count(*)::int from audit_events where resource_type = 'referral' and operation not like 'get%'
         and operation not like 'list%') as audits`,
  );
  return row!;
}
