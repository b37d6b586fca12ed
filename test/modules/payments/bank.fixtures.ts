import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { XmlDocument, XmlValidateError, XsdValidator } from 'libxml2-wasm';
import { enrollments } from '../../../src/modules/registry/applications.tables.js';
import { households, persons } from '../../../src/modules/registry/people.tables.js';
import { json, type TestClient } from '../../helpers.js';
import { type Batch, cardNumber, http } from './payments.fixtures.js';

export const NS = { p: 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03' };

/**
 * `n` households in `region`, each with a head holding a bank account and an active dibao
 * enrollment of `benefitFen(i)`, written in three statements (the registry's API is tested elsewhere).
 */
export async function manyEnrolled(
  app: FastifyInstance,
  n: number,
  region: string,
  benefitFen: (i: number) => number,
): Promise<void> {
  const db = app.database.db;
  const { pii } = app.services;
  for (let start = 0; start < n; start += 1_000) {
    const size = Math.min(1_000, n - start);
    const made = await db
      .insert(households)
      .values(Array.from({ length: size }, () => ({ region })))
      .returning({ id: households.id });
    await db.insert(persons).values(
      made.map((h) => {
        const document = pii.protect('document', `P${randomUUID().replaceAll('-', '').slice(0, 17)}`);
        const bank = pii.protect('bank_account', cardNumber());
        return {
          householdId: h.id,
          relationship: 'head',
          name: `收款人${h.id.slice(0, 6)}`,
          idType: 'other',
          idNumberSealed: document.sealed,
          idNumberIndex: document.index,
          idNumberMasked: document.masked,
          sealedKeyId: pii.currentKeyId,
          region,
          bankName: '中国农业银行长春分行',
          bankAccountHolder: `收款人${h.id.slice(0, 6)}`,
          bankAccountSealed: bank.sealed,
          bankAccountMasked: bank.masked,
        };
      }),
    );
    await db.insert(enrollments).values(
      made.map((h, i) => ({
        programCode: 'dibao',
        householdId: h.id,
        region,
        status: 'active',
        monthlyBenefitFen: benefitFen(start + i),
        benefitBasis: { householdSize: 1 },
        startDate: '2020-01-01',
      })),
    );
  }
}

/** A dibao batch of `region` for `period`, generated, submitted, approved and (unless told) dispatched through the API. */
export async function dispatchedBatch(
  app: FastifyInstance,
  who: { caseworker: TestClient; finance: TestClient; bank: TestClient },
  input: { region: string; period: string; dispatch?: boolean },
): Promise<Batch> {
  const { post } = http(app);
  const made = await post('/v1/payment-batches', who.caseworker, {
    program: 'dibao',
    period: input.period,
    region: input.region,
  });
  if (made.statusCode !== 201) throw new Error(`generation: ${made.statusCode} ${made.body}`);
  const batch = json<Batch>(made);
  const steps: [string, TestClient, object][] = [
    ['submit', who.caseworker, {}],
    ['approve', who.finance, { itemCount: batch.itemCount, totalFen: batch.totalFen }],
  ];
  if (input.dispatch ?? true) steps.push(['dispatch', who.bank, {}]);
  let last = batch;
  for (const [action, client, body] of steps) {
    const res = await post(`/v1/payment-batches/${batch.id}/${action}`, client, body);
    if (res.statusCode !== 200) throw new Error(`${action}: ${res.statusCode} ${res.body}`);
    last = json<Batch>(res);
  }
  return last;
}

/** The pain.001 XSD, from the copy kept in the repository. */
const xsd = readFileSync(new URL('../../../standards/pain.001.001.03.xsd', import.meta.url));

/** Validates `xml` against the pain.001.001.03 XSD with libxml2: the problems found, none when valid. */
export function xsdProblems(xml: string): string[] {
  const schema = XmlDocument.fromBuffer(xsd);
  const validator = XsdValidator.fromDoc(schema);
  const doc = XmlDocument.fromString(xml);
  try {
    validator.validate(doc);
    return [];
  } catch (err) {
    if (err instanceof XmlValidateError) return err.details.map((d) => `line ${d.line}: ${d.message.trim()}`);
    throw err;
  } finally {
    doc.dispose();
    validator.dispose();
    schema.dispose();
  }
}

/** Reads figures out of a pain.001 with XPath. */
export function readPain001(xml: string) {
  const doc = XmlDocument.fromString(xml);
  try {
    const text = (xpath: string) => doc.get(xpath, NS)?.content ?? null;
    const transactions = doc.find('//p:CdtTrfTxInf', NS).map((tx) => ({
      endToEndId: tx.get('p:PmtId/p:EndToEndId', NS)?.content ?? null,
      amount: tx.get('p:Amt/p:InstdAmt', NS)?.content ?? null,
      currency: tx.get('p:Amt/p:InstdAmt/@Ccy', NS)?.content ?? null,
      creditor: tx.get('p:Cdtr/p:Nm', NS)?.content ?? null,
      ultimateCreditor: tx.get('p:UltmtCdtr/p:Nm', NS)?.content ?? null,
      account: tx.get('p:CdtrAcct/p:Id/p:Othr/p:Id', NS)?.content ?? null,
      agent: tx.get('p:CdtrAgt/p:FinInstnId/p:Nm', NS)?.content ?? null,
      remittance: tx.get('p:RmtInf/p:Ustrd', NS)?.content ?? null,
    }));
    return {
      messageId: text('/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId'),
      createdAt: text('/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm'),
      count: text('/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs'),
      sum: text('/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum'),
      blockCount: text('//p:PmtInf/p:NbOfTxs'),
      blockSum: text('//p:PmtInf/p:CtrlSum'),
      debtorAccount: text('//p:PmtInf/p:DbtrAcct/p:Id/p:Othr/p:Id'),
      debtorName: text('//p:PmtInf/p:Dbtr/p:Nm'),
      debtorAgentCnaps: text('//p:PmtInf/p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId'),
      priority: text('//p:PmtInf/p:PmtTpInf/p:InstrPrty'),
      transactions,
    };
  } finally {
    doc.dispose();
  }
}

/** Yuan with two decimals → fen, exactly. */
export const fenOf = (yuan: string) => {
  const m = /^(\d+)\.(\d{2})$/.exec(yuan);
  if (!m) throw new Error(`not yuan with two decimals: ${yuan}`);
  return Number(m[1]) * 100 + Number(m[2]);
};

export interface TxStatus {
  e2e: string;
  status?: string;
  reason?: string;
  info?: string;
  acceptedAt?: string;
  ref?: string;
}

/** A pain.002.001.03 status report on the file `messageId`. */
export function pain002(
  messageId: string,
  txs: TxStatus[],
  group: { status?: string; reason?: string; reportId?: string } = {},
): string {
  const reason = (code?: string, info?: string) =>
    code || info
      ? `<StsRsnInf>${code ? `<Rsn><Cd>${code}</Cd></Rsn>` : ''}${info ? `<AddtlInf>${info}</AddtlInf>` : ''}</StsRsnInf>`
      : '';
  const tx = (t: TxStatus, i: number) =>
    `<TxInfAndSts><StsId>S${i}</StsId><OrgnlEndToEndId>${t.e2e}</OrgnlEndToEndId>${t.status ? `<TxSts>${t.status}</TxSts>` : ''}${reason(t.reason, t.info)}${
      t.acceptedAt ? `<AccptncDtTm>${t.acceptedAt}</AccptncDtTm>` : ''
    }${t.ref ? `<AcctSvcrRef>${t.ref}</AcctSvcrRef>` : ''}</TxInfAndSts>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>${group.reportId ?? 'RPT1'}</MsgId><CreDtTm>2024-05-02T10:00:00+08:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>${messageId}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>${
      group.status ? `<GrpSts>${group.status}</GrpSts>` : ''
    }${reason(group.reason)}</OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts><OrgnlPmtInfId>${messageId}</OrgnlPmtInfId>
${txs.map(tx).join('\n')}
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
`;
}
