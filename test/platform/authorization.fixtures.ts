/**
 * One of each resource the API keeps by jurisdiction, made in district 220102 (Nanguan) through the
 * API where that is short, for the authorization matrix's cross-jurisdiction walk. Each kind maps
 * to the path parameters that name it.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import { businessDateOf } from '../../src/modules/registry/dates.js';
import { json, type TestApp, type TestClient } from '../helpers.js';
import { member, registerHousehold } from '../modules/contacts/fixtures.js';
import { careCalls } from '../modules/care/fixtures.js';
import { incomeRecords, ndjson, upload } from '../modules/matching/sources.fixtures.js';
import { enrolled, thisMonth } from '../modules/payments/payments.fixtures.js';
import type { ResourceKind } from './authorization.matrix.js';

export const district = '220102';
export const otherDistrict = '220103';

const today = () => businessDateOf(new Date());
const nextYear = () => `${new Date().getUTCFullYear() + 1}-01-01`;

/** Webhooks may go to 127.0.0.1 over HTTP in this test (nothing is ever delivered). */
export const allowLocalWebhooks = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' };

export interface World {
  /** The path parameters naming each kind's object. */
  params: Record<ResourceKind, Record<string, string>>;
  /** The district's caseworkers' client, which made (and so owns) most of them. */
  owner: TestClient;
}

/** Makes one resource of each kind in 220102 and answers their path parameters. */
export async function makeWorld(test: TestApp): Promise<World> {
  const { app, admin, client } = test;
  const civil = await client('civil_affairs', { jurisdiction: district });
  const health = await client('health', { jurisdiction: district });
  const provider = await client('data_provider', { jurisdiction: district });
  const finance = await client('finance');

  const call = async (
    who: TestClient,
    method: 'POST' | 'PUT',
    url: string,
    payload: unknown,
    expected = [200, 201, 202],
  ) => {
    const res = await app.inject({ method, url, headers: who.headers, payload: payload as object });
    if (!expected.includes(res.statusCode)) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return json<Record<string, unknown> & { id: string }>(res);
  };
  const post = (who: TestClient, url: string, payload: unknown) => call(who, 'POST', url, payload);

  // Platform: a client of the district and its key; a webhook subscription of the district's caseworkers.
  const made = await post(admin, '/v1/clients', {
    name: 'Nanguan office',
    agency: 'civil_affairs',
    jurisdiction: district,
  });
  const madeClient = made.client as { id: string };
  const madeKey = made.apiKey as { id: string };
  const subscription = await post(civil, '/v1/webhook-subscriptions', {
    url: 'http://127.0.0.1:9/hooks',
    eventTypes: [],
  });

  // Rules of the district: a standard from today (verification needs one), a policy from next year.
  const standard = await post(admin, '/v1/programs/dibao/standards', {
    region: district,
    effectiveFrom: today(),
    monthlyStandardFen: 80_000,
    assetMultiple: 24,
  });
  const policy = await post(admin, '/v1/policies', {
    name: 'Nanguan epidemic response',
    region: district,
    effectiveFrom: nextYear(),
  });

  // Registry: a household of two (the head a scattered extremely poor man), its application.
  const household = await registerHousehold(app, civil, district, [
    member('王大爷', 'head', '19480307', { scatteredExtremelyPoor: true }, district),
    member('李大娘', 'spouse', '19500612', {}, district),
  ]);
  const [head, spouse] = [household.members[0]!, household.members[1]!];
  const application = await post(civil, '/v1/applications', {
    program: 'tekun',
    householdId: household.id,
    personId: head.id,
  });
  const contact = await post(civil, '/v1/welfare-contacts', {
    personId: head.id,
    contactedAt: new Date(Date.now() - 60_000).toISOString(),
    channel: 'phone',
    outcome: 'hardship',
    needs: ['food'],
    caseworker: '刘社工',
  });

  // An enrolled household with a bank account, its review, and a payment batch of the month.
  const payee = await enrolled(app, { region: district });
  const [review] = await rows<{ id: string }>(
    app.database.db,
    sql`insert into reviews (enrollment_id, region, due_date)
        values (${payee.enrollmentId}::uuid, ${district}, current_date + 30) returning id`,
  );
  const payer = await post(finance, '/v1/payment-payer-accounts', {
    program: 'dibao',
    region: district,
    accountName: '南关区社会保障基金专户',
    accountNumber: '2200 1234 5678 9013',
    bankName: '中国建设银行长春分行',
  });
  const batch = await post(civil, '/v1/payment-batches', { program: 'dibao', period: thisMonth(), region: district });
  const payments = json<{ items: { id: string }[] }>(
    await app.inject({ method: 'GET', url: `/v1/payment-batches/${batch.id}/payments`, headers: civil.headers }),
  ).items;

  // Matching: the district's income source, one snapshot, a verification and a run (with its job).
  const source = await post(admin, '/v1/matching/sources', {
    kind: 'income',
    name: 'Nanguan income register',
    providerClientId: provider.id,
    region: district,
  });
  const loaded = await upload(app, provider, source.id, 'authz-1', ndjson(incomeRecords(2)));
  if (loaded.statusCode !== 201 && loaded.statusCode !== 200)
    throw new Error(`upload: ${loaded.statusCode} ${loaded.body}`);
  const snapshot = json<{ id: string }>(loaded);
  const verification = await post(civil, '/v1/matching/verifications', {
    householdId: payee.householdId,
    program: 'dibao',
  });
  const run = await post(civil, '/v1/matching/runs', { region: district });

  // In-kind aid: an item of the city's catalogue, received into the district's stock and handed out.
  await post(admin, '/v1/in-kind/items', { code: 'authz_mask', name: 'Surgical mask', unit: 'piece' });
  const lines = (quantity: number) => [{ itemCode: 'authz_mask', quantity }];
  const receipt = await post(civil, '/v1/in-kind/receipts', {
    region: district,
    source: 'donation',
    reference: 'AUTHZ-1',
    lines: lines(100),
  });
  const distribution = await post(civil, '/v1/in-kind/distributions', {
    region: district,
    personId: head.id,
    lines: lines(2),
    distributedBy: '刘社工',
  });

  // Care: a caregiver for the head, a visit.
  const care = careCalls(app);
  const caregiver = await care.caregiver(civil, district, '张照料');
  const assignment = await care.assign(civil, head.id, caregiver.id);
  const visit = await care.visit(civil, {
    personId: head.id,
    caregiverId: caregiver.id,
    visitedAt: new Date().toISOString(),
  });

  // Epidemic: the head reported, confirmed by the district's health client (which opens a handoff), sent to the CDC.
  const referral = await post(civil, '/v1/referrals', {
    personId: head.id,
    origin: 'direct',
    symptoms: ['fever'],
    onsetDate: today(),
    locationKind: 'home',
    reporterName: '刘社工',
  });
  for (const [action, body] of [
    ['acknowledge', {}],
    ['transfer', { hospital: '长春市传染病医院' }],
    ['confirm', { note: '核酸阳性' }],
  ] as const) {
    await post(health, `/v1/referrals/${referral.id}/${action}`, body);
  }
  const handoffs = json<{ items: { id: string }[] }>(
    await app.inject({ method: 'GET', url: `/v1/contact-handoffs?referralId=${referral.id}`, headers: civil.headers }),
  ).items;
  const handoff = await post(civil, `/v1/contact-handoffs/${handoffs[0]!.id}/send`, {});
  const contacts = handoff.contacts as { id: string; personId: string | null }[];
  const handoffContact = contacts.find((c) => c.personId === spouse.id) ?? contacts[0]!;

  // Reports: the district's zero report of today, an urgent report.
  await post(civil, '/v1/daily-reports', { district, date: today(), zero: true });
  const urgent = await post(civil, '/v1/urgent-reports', {
    district,
    type: 'supply_shortage',
    severity: 'general',
    description: 'Masks run short at the Nanguan office.',
  });

  const params: World['params'] = {
    client: { id: madeClient.id },
    clientKey: { id: madeClient.id, keyId: madeKey.id },
    job: { id: (run.job as { id: string }).id },
    webhookSubscription: { id: subscription.id },
    household: { id: household.id },
    person: { id: head.id },
    programStandard: { code: 'dibao', id: standard.id },
    policy: { id: policy.id },
    temporaryAssistance: { id: contact.temporaryAssistanceId as string },
    welfareContact: { id: contact.id },
    application: { id: application.id },
    enrollment: { id: payee.enrollmentId },
    review: { id: review!.id },
    verification: { id: verification.id },
    matchingSource: { id: source.id },
    matchingSnapshot: { id: source.id, snapshotId: snapshot.id },
    matchingUpload: { id: source.id, uploadKey: 'authz-2' },
    matchingRun: { id: run.id },
    paymentBatch: { id: batch.id },
    payment: { id: payments[0]!.id },
    payerAccount: { id: payer.id },
    inKindReceipt: { id: receipt.id },
    inKindDistribution: { id: distribution.id },
    caregiver: { id: caregiver.id },
    careAssignment: { id: assignment.id },
    visit: { id: visit.id },
    referral: { id: referral.id },
    contactHandoff: { id: handoff.id },
    handoffContact: { id: handoff.id, contactId: handoffContact.id },
    dailyReport: { district, date: today() },
    urgentReport: { id: urgent.id },
  };
  return { params, owner: civil };
}

const reason = { reason: 'authorization matrix' };
const now = () => new Date(Date.now() - 60_000).toISOString();

/**
 * A request each operation with an id accepts as well formed, so that what answers is the lookup
 * (404) and not the validation (400). Operations not named send `{}`.
 */
export function validRequest(operationId: string): { payload?: string | object; contentType?: string } {
  switch (operationId) {
    case 'updateClient':
      return { payload: { name: 'Renamed' } };
    case 'redeliverWebhooks':
      return { payload: { since: now() } };
    case 'updateWebhookSubscription':
      return { payload: { enabled: false } };
    case 'addHouseholdMember':
      return { payload: member('王小明', 'child', '20100101', {}, district) };
    case 'updatePerson':
      return { payload: { address: '南关区 人民大街 1 号' } };
    case 'endProgramStandard':
    case 'endPolicy':
      return { payload: { effectiveTo: nextYear() } };
    case 'grantTemporaryAssistance':
      return { payload: { cashFen: 10_000, reason: 'authorization matrix' } };
    case 'completeTemporaryAssistance':
      return { payload: { notes: 'authorization matrix' } };
    case 'refuseTemporaryAssistance':
    case 'cancelTemporaryAssistance':
    case 'withdrawApplication':
    case 'suspendEnrollment':
    case 'resumeEnrollment':
    case 'endEnrollment':
    case 'rejectPaymentBatch':
    case 'endCareAssignment':
    case 'rejectReferral':
    case 'cancelReferral':
    case 'rejectContactHandoff':
    case 'revokeContactHandoff':
    case 'removeHandoffContact':
    case 'markContactUnreachable':
      return { payload: reason };
    case 'recordApplicationPhoneSurvey':
    case 'recordApplicationHomeVisit':
      return { payload: { by: '刘社工', at: now(), findings: 'As declared.' } };
    case 'recordApplicationVerification':
      return {
        payload: {
          monthlyIncomeFen: 10_000,
          financialAssetsFen: 0,
          passed: true,
          rules: [{ rule: 'per_capita_income_below_standard', outcome: 'pass', detail: 'checked', sources: [] }],
          source: 'manual',
        },
      };
    case 'approveApplication':
    case 'rejectApplication':
      return { payload: { reasons: ['authorization matrix'] } };
    case 'changeEnrollmentBenefit':
      return { payload: { monthlyBenefitFen: 60_000, ...reason } };
    case 'completeReview':
      return { payload: { outcome: 'continued', notes: 'authorization matrix' } };
    case 'loadMatchingSnapshot':
      return { payload: ndjson(incomeRecords(1, 10)), contentType: 'application/x-ndjson' };
    case 'approvePaymentBatch':
      return { payload: { itemCount: 1, totalFen: 50_000 } };
    case 'postPaymentResults':
      return { payload: { results: [{ endToEndId: 'AUTHZ', status: 'paid' }] } };
    case 'replacePayerAccount':
      return {
        payload: { accountName: '南关区专户', accountNumber: '2200 1234 5678 9014', bankName: '中国建设银行长春分行' },
      };
    case 'postPaymentStatusReport':
      return { payload: pain002, contentType: 'application/xml' };
    case 'updateCaregiver':
      return { payload: { name: '张照料' } };
    case 'transferReferral':
      return { payload: { hospital: '长春市传染病医院' } };
    case 'addHandoffContact':
      return { payload: { relation: 'family', name: '赵某', phone: '13900001111', reason: 'authorization matrix' } };
    case 'commentContactHandoff':
      return { payload: { text: 'authorization matrix' } };
    case 'quarantineContact':
      return { payload: { kind: 'home', from: today(), to: today() } };
    default:
      return { payload: {} };
  }
}

const pain002 = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>AUTHZ</MsgId><CreDtTm>2024-05-02T10:00:00+08:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>AUTHZ</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId></OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts><OrgnlPmtInfId>AUTHZ</OrgnlPmtInfId>
      <TxInfAndSts><StsId>S1</StsId><OrgnlEndToEndId>AUTHZ</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
`;

/** A made-up id: nothing has it. */
export const madeUp = () => randomUUID();
