import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { rows } from '../../../src/db/client.js';
import { enrollments } from '../../../src/modules/registry/applications.tables.js';
import { households, persons } from '../../../src/modules/registry/people.tables.js';
import { json, type TestClient } from '../../helpers.js';

export interface Batch {
  id: string;
  kind: string;
  program: string;
  period: string;
  region: string;
  status: string;
  expedited: boolean;
  deadline: string | null;
  overdue: boolean;
  metDeadline: boolean | null;
  policyId: string | null;
  temporaryAssistanceId: string | null;
  followsBatchId: string | null;
  itemCount: number;
  totalFen: number;
  excludedCount: number;
  decisionReason: string | null;
  payments: Record<string, { count: number; amountFen: number }>;
  history: { action: string; status: string; note: string | null; by: string | null }[];
}

export interface Payment {
  id: string;
  batchId: string;
  enrollmentId: string | null;
  temporaryAssistanceId: string | null;
  personId: string;
  householdId: string | null;
  region: string;
  period: string;
  amountFen: number;
  status: string;
  endToEndId: string;
  payee: { name: string; bankName: string; accountHolder: string; accountNumber: string; accountNumberMasked: boolean };
  reissueOf: string | null;
  reissuedBy: string | null;
  resultCode: string | null;
  resultAt: string | null;
}

import type { Reconciliation } from '../../../src/modules/payments/reconciliation.js';

export type { Money, Reconciliation } from '../../../src/modules/payments/reconciliation.js';

export interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  currentState?: string;
  errors?: { in: string; pointer: string; detail: string }[];
  [extension: string]: unknown;
}

let serial = 0;

/** A 19-digit card number, different each time. */
export const cardNumber = () => `6222${String(Date.now()).slice(-6)}${String(++serial).padStart(9, '0')}`;

/**
 * A household of `size` written straight into the registry (the people API is tested elsewhere),
 * its head holding `account` (sealed as the registry seals it; null: none on file), and an active
 * enrollment in `program` paying `benefitFen` a month.
 */
export async function enrolled(
  app: FastifyInstance,
  input: {
    region: string;
    program?: 'dibao' | 'tekun' | 'price_subsidy';
    benefitFen?: number;
    size?: number;
    account?: string | null;
    status?: 'active' | 'suspended';
    startDate?: string;
  },
) {
  const db = app.database.db;
  const { pii } = app.services;
  const [household] = await db.insert(households).values({ region: input.region }).returning();
  const members: string[] = [];
  const account = input.account === undefined ? cardNumber() : input.account;
  for (let i = 0; i < (input.size ?? 1); i++) {
    const unique = randomUUID();
    const document = pii.protect('document', `P${unique.slice(0, 8)}`);
    const bank = i === 0 && account ? pii.protect('bank_account', account) : null;
    const [person] = await db
      .insert(persons)
      .values({
        householdId: household!.id,
        relationship: i === 0 ? 'head' : 'child',
        name: `Payee ${unique.slice(0, 8)}`,
        idType: 'other',
        idNumberSealed: document.sealed,
        idNumberIndex: document.index,
        idNumberMasked: document.masked,
        sealedKeyId: pii.currentKeyId,
        region: input.region,
        ...(bank && {
          bankName: 'Bank of Jilin',
          bankAccountHolder: 'Holder',
          bankAccountSealed: bank.sealed,
          bankAccountMasked: bank.masked,
        }),
      })
      .returning();
    members.push(person!.id);
  }
  const [enrollment] = await db
    .insert(enrollments)
    .values({
      programCode: input.program ?? 'dibao',
      householdId: household!.id,
      region: input.region,
      status: input.status ?? 'active',
      monthlyBenefitFen: input.benefitFen ?? 50_000,
      benefitBasis: { householdSize: input.size ?? 1 },
      startDate: input.startDate ?? '2020-01-01',
    })
    .returning();
  return { householdId: household!.id, headId: members[0]!, members, enrollmentId: enrollment!.id, account };
}

/** HTTP helpers bound to one app. */
export function http(app: FastifyInstance) {
  const post = (url: string, who: TestClient, payload: unknown = {}, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...who.headers, ...headers }, payload: payload as object });
  const get = (url: string, who: TestClient) => app.inject({ method: 'GET', url, headers: who.headers });
  const batch = async (id: string, who: TestClient) => json<Batch>(await get(`/v1/payment-batches/${id}`, who));
  const paymentsOf = async (id: string, who: TestClient, query = '') =>
    json<{ items: Payment[] }>(await get(`/v1/payment-batches/${id}/payments?limit=500${query}`, who)).items;
  const reconciliation = async (id: string, who: TestClient) =>
    json<Reconciliation>(await get(`/v1/payment-batches/${id}/reconciliation`, who));
  const count = async (query: ReturnType<typeof sql>) => (await rows<{ n: number }>(app.database.db, query))[0]!.n;
  return { post, get, batch, paymentsOf, reconciliation, count };
}

/** Awaits a promise that must fail, and answers the database's own message (drizzle wraps it). */
export async function failure(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause;
    return `${(err as Error).message}\n${cause?.message ?? ''}`;
  }
  throw new Error('expected a failure');
}

/** The current month (Asia/Shanghai). */
export const thisMonth = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date());

export const countSql = (table: string) => sql.raw(`select count(*)::int as n from ${table}`);

/**
 * Finance sets a payer account for each of `programs` in `region` (the city by default), as a batch
 * needs one to be dispatched.
 */
export async function payerAccounts(
  app: FastifyInstance,
  finance: TestClient,
  programs: string[] = ['dibao', 'tekun', 'price_subsidy', 'temporary_assistance'],
  region = '2201',
) {
  const { post } = http(app);
  for (const program of programs) {
    const res = await post('/v1/payment-payer-accounts', finance, {
      program,
      region,
      accountName: '长春市社会保障基金专户',
      accountNumber: '2200 1234 5678 9012',
      bankName: '中国建设银行长春分行',
    });
    if (res.statusCode !== 201) throw new Error(`payer account: ${res.statusCode} ${res.body}`);
  }
}
