import { SaxesParser, type SaxesTagNS } from 'saxes';
import { type FieldError, ProblemError } from '../../platform/errors.js';
import { PAIN001_NAME } from './bank.pain001.js';
import type { Outcome, PaymentResult } from './results.js';

/**
 * ISO 20022 pain.002.001.03 (CustomerPaymentStatusReportV03), read as it streams with saxes: a
 * strict, namespace-aware XML 1.0 parser that reports where a document breaks (line:column) and
 * never fetches or expands anything (a DOCTYPE is refused outright). Only the parts that carry
 * statuses are kept; the rest of the report is read and passed over.
 */
export const PAIN002_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.002.001.03';
/** At most this many TxInfAndSts in one report; the body at most `PAIN002_MAX_BYTES`. */
export const PAIN002_MAX_TRANSACTIONS = 100_000;
export const PAIN002_MAX_BYTES = 64 * 1024 * 1024;

export interface StatusReason {
  /** Rsn/Cd, else Rsn/Prtry. */
  code: string | null;
  at: string;
  info: string[];
}

export interface ReportedTransaction {
  /** Where it is: an XPath into the report, e.g. /Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[3]. */
  at: string;
  endToEndId: string | null;
  status: string | null;
  reasons: StatusReason[];
  acceptedAt: string | null;
  bankReference: string | null;
}

export interface ReportedPaymentInformation {
  at: string;
  originalId: string | null;
  status: string | null;
  reasons: StatusReason[];
  transactions: ReportedTransaction[];
}

export interface Pain002Report {
  messageId: string | null;
  originalMessageId: string | null;
  originalMessageName: string | null;
  groupStatus: string | null;
  groupReasons: StatusReason[];
  paymentInformation: ReportedPaymentInformation[];
}

const ROOT = '/Document/CstmrPmtStsRpt';
const bad = (detail: string) => new ProblemError(400, 'malformed-request', detail);

/** Reads a pain.002 from a stream of bytes (UTF-8): 400 malformed-request when it is not one, 413 past the size limit. */
export async function readPain002(
  body: AsyncIterable<Buffer | string> | Iterable<Buffer>,
  maxBytes = PAIN002_MAX_BYTES,
) {
  const reader = createReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  try {
    for await (const chunk of body) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      if (bytes > maxBytes) {
        throw new ProblemError(413, 'payload-too-large', `A status report may be at most ${maxBytes} bytes.`);
      }
      reader.write(decoder.decode(buffer, { stream: true }));
    }
    reader.write(decoder.decode());
    return reader.close();
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    if (err instanceof TypeError && (err as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      throw bad('The body is not UTF-8.');
    }
    throw err;
  }
}

/** The parser: `write` text as it comes, then `close` for the report. Throws on the first error. */
export function createReader() {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const report: Pain002Report = {
    messageId: null,
    originalMessageId: null,
    originalMessageName: null,
    groupStatus: null,
    groupReasons: [],
    paymentInformation: [],
  };
  // The open elements: local name, XPath, and how many children of each name they have had.
  const stack: { name: string; at: string; children: Map<string, number> }[] = [];
  let text = '';
  let transactions = 0;
  let info: ReportedPaymentInformation | null = null;
  let tx: ReportedTransaction | null = null;
  let reason: StatusReason | null = null;
  const where = () => `line ${parser.line}, column ${parser.column + 1}`;

  parser.on('xmldecl', (decl) => {
    if (decl.encoding && !/^utf-?8$/i.test(decl.encoding)) throw bad(`The report must be UTF-8, not ${decl.encoding}.`);
  });
  parser.on('doctype', () => {
    throw bad(`A status report may not have a DOCTYPE (${where()}).`);
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const parent = stack.at(-1);
    if (tag.uri !== PAIN002_NAMESPACE) {
      throw bad(
        parent
          ? `${parent.at}/${tag.local} (${where()}) is not in the pain.002.001.03 namespace.`
          : `The root element must be Document in the namespace ${PAIN002_NAMESPACE} (${where()}).`,
      );
    }
    const n = (parent?.children.get(tag.local) ?? 0) + 1;
    parent?.children.set(tag.local, n);
    const at = `${parent?.at ?? ''}/${tag.local}${repeatable.has(tag.local) ? `[${n}]` : ''}`;
    const path = stack.length === 0 ? tag.local : `${stack.map((s) => s.name).join('/')}/${tag.local}`;
    if (stack.length === 0 && tag.local !== 'Document')
      throw bad(`The root element must be Document, not ${tag.local}.`);
    if (stack.length === 1 && tag.local !== 'CstmrPmtStsRpt') {
      throw bad(`Document must hold a CstmrPmtStsRpt (a pain.002 status report), not ${tag.local}.`);
    }
    stack.push({ name: tag.local, at, children: new Map() });
    text = '';
    if (path === 'Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts') {
      info = { at, originalId: null, status: null, reasons: [], transactions: [] };
      report.paymentInformation.push(info);
    } else if (path === 'Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts') {
      if (++transactions > PAIN002_MAX_TRANSACTIONS) {
        throw new ProblemError(
          413,
          'payload-too-large',
          `A status report may hold at most ${PAIN002_MAX_TRANSACTIONS} TxInfAndSts; send the rest in another.`,
        );
      }
      tx = { at, endToEndId: null, status: null, reasons: [], acceptedAt: null, bankReference: null };
      info?.transactions.push(tx);
    } else if (tag.local === 'StsRsnInf') {
      reason = { code: null, at, info: [] };
      const owner = stack.at(-2)!.name;
      if (owner === 'TxInfAndSts') tx?.reasons.push(reason);
      else if (owner === 'OrgnlPmtInfAndSts') info?.reasons.push(reason);
      else if (owner === 'OrgnlGrpInfAndSts') report.groupReasons.push(reason);
    }
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('cdata', (t) => {
    text += t;
  });
  parser.on('closetag', () => {
    const closed = stack.pop()!;
    const parent = stack.at(-1)?.name;
    const value = text.trim();
    text = '';
    switch (`${parent}/${closed.name}`) {
      case 'GrpHdr/MsgId':
        if (stack.length === 3) report.messageId = value;
        return;
      case 'OrgnlGrpInfAndSts/OrgnlMsgId':
        report.originalMessageId = value;
        return;
      case 'OrgnlGrpInfAndSts/OrgnlMsgNmId':
        report.originalMessageName = value;
        return;
      case 'OrgnlGrpInfAndSts/GrpSts':
        report.groupStatus = value;
        return;
      case 'OrgnlPmtInfAndSts/OrgnlPmtInfId':
        if (info) info.originalId = value;
        return;
      case 'OrgnlPmtInfAndSts/PmtInfSts':
        if (info) info.status = value;
        return;
      case 'TxInfAndSts/OrgnlEndToEndId':
        if (tx) tx.endToEndId = value;
        return;
      case 'TxInfAndSts/TxSts':
        if (tx) tx.status = value;
        return;
      case 'TxInfAndSts/AccptncDtTm':
        if (tx) tx.acceptedAt = value;
        return;
      case 'TxInfAndSts/AcctSvcrRef':
        if (tx) tx.bankReference = value;
        return;
      case 'Rsn/Cd':
      case 'Rsn/Prtry':
        if (reason && stack.at(-2)?.name === 'StsRsnInf') reason.code = value;
        return;
      case 'StsRsnInf/AddtlInf':
        reason?.info.push(value);
        return;
    }
    if (closed.name === 'TxInfAndSts') tx = null;
    if (closed.name === 'StsRsnInf') reason = null;
  });

  // saxes says what broke and where (line:column); the open element says in what.
  const run = (work: () => void) => {
    try {
      work();
    } catch (err) {
      if (err instanceof ProblemError) throw err;
      const inside = stack.length > 0 ? ` (inside ${stack.at(-1)!.at})` : '';
      throw bad(`The body is not well-formed XML: ${(err as Error).message}${inside}`);
    }
  };
  return {
    write(chunk: string) {
      run(() => parser.write(chunk));
    },
    close(): Pain002Report {
      run(() => parser.close());
      return report;
    },
  };
}

const repeatable = new Set(['OrgnlPmtInfAndSts', 'TxInfAndSts', 'StsRsnInf', 'AddtlInf', 'NbOfTxsPerSts']);

// ─── What the statuses mean ─────────────────────────────────────────────────

/**
 * Final statuses (ISO 20022 ExternalPaymentTransactionStatus1Code): ACSC (AcceptedSettlementCompleted)
 * and ACWC (AcceptedWithChange) are paid, RJCT failed. The others record nothing yet, the bank
 * reporting again when the payment is settled or refused: RCVD received, ACTC technical validation
 * passed, ACCP AcceptedCustomerProfile (the technical and profile checks, the debtor's account and
 * funds, passed: an acceptance for execution, not a settlement), ACSP settlement in process, PDNG
 * pending, PART some accepted.
 */
const outcomes: Record<string, Outcome> = { ACSC: 'paid', ACWC: 'paid', RJCT: 'failed' };
const transactionCodes = new Set(['ACTC', 'RJCT', 'PDNG', 'ACCP', 'ACSP', 'ACSC', 'ACWC']);
const groupCodes = new Set([...transactionCodes, 'PART', 'RCVD']);
const reasonCode = /^[A-Z0-9]{2,4}$/;
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

export interface LocatedResult {
  result: PaymentResult;
  /** The element the result came from. */
  at: string;
}

export interface Interpretation {
  /** Results of the transactions the report lists. */
  listed: LocatedResult[];
  /** A final status for the whole file (GrpSts or PmtInfSts) when the report lists no transaction. */
  file: { status: Outcome; reasonCode?: string | undefined; detail?: string | undefined; at: string } | null;
  /** Transactions reported with a status that is not final yet. */
  interim: number;
}

const field = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });
const detailOf = (reasons: StatusReason[]) => {
  const text = reasons.flatMap((r) => r.info).join(' ');
  return text ? text.slice(0, 500) : undefined;
};

/**
 * The results a report gives for the batch whose file has `messageId`: each transaction's own
 * status, else its payment information's, else the group's; a rejection's reason likewise. 400
 * validation-error naming (by XPath) every element that is missing or wrong; nothing is taken from a
 * report with any.
 */
export function interpret(report: Pain002Report, messageId: string): Interpretation {
  const errors: FieldError[] = [];
  const grp = `${ROOT}/OrgnlGrpInfAndSts`;
  if (report.originalMessageId === null) errors.push(field(`${grp}/OrgnlMsgId`, 'is required'));
  else if (report.originalMessageId !== messageId) {
    errors.push(field(`${grp}/OrgnlMsgId`, `is ${report.originalMessageId}; this batch's pain.001 is ${messageId}`));
  }
  if (report.originalMessageName === null) errors.push(field(`${grp}/OrgnlMsgNmId`, 'is required'));
  else if (report.originalMessageName.toLowerCase() !== PAIN001_NAME) {
    errors.push(
      field(`${grp}/OrgnlMsgNmId`, `is ${report.originalMessageName}; the batch was sent as ${PAIN001_NAME}`),
    );
  }
  if (report.groupStatus !== null && !groupCodes.has(report.groupStatus)) {
    errors.push(field(`${grp}/GrpSts`, `is ${report.groupStatus}, not a group status (${[...groupCodes].join(', ')})`));
  }
  const reasonOf = (reasons: StatusReason[], fallback: { code: string; detail?: string | undefined } | null) => {
    const given = reasons.find((r) => r.code !== null);
    if (!given) return fallback;
    if (!reasonCode.test(given.code!)) {
      errors.push(
        field(`${given.at}/Rsn`, `is ${given.code}; a reason code is 2 to 4 capitals or digits (AC04, AM04…)`),
      );
    }
    return { code: given.code!, detail: detailOf(reasons) };
  };
  const groupReason = reasonOf(report.groupReasons, null);

  const listed: LocatedResult[] = [];
  const anyListed = report.paymentInformation.some((i) => i.transactions.length > 0);
  let interim = 0;
  let file: Interpretation['file'] = null;
  for (const info of report.paymentInformation) {
    if (info.originalId !== messageId) {
      errors.push(
        field(
          `${info.at}/OrgnlPmtInfId`,
          info.originalId === null ? 'is required' : `is ${info.originalId}; the batch's PmtInfId is ${messageId}`,
        ),
      );
    }
    if (info.status !== null && !groupCodes.has(info.status)) {
      errors.push(field(`${info.at}/PmtInfSts`, `is ${info.status}, not a payment information status`));
    }
    const infoReason = reasonOf(info.reasons, groupReason);
    for (const t of info.transactions) {
      if (t.status !== null && !transactionCodes.has(t.status)) {
        errors.push(
          field(`${t.at}/TxSts`, `is ${t.status}, not a transaction status (${[...transactionCodes].join(', ')})`),
        );
        continue;
      }
      if (!t.endToEndId) {
        errors.push(field(`${t.at}/OrgnlEndToEndId`, 'is required: results are matched by EndToEndId'));
        continue;
      }
      if (t.endToEndId.length > 35) errors.push(field(`${t.at}/OrgnlEndToEndId`, 'is longer than 35 characters'));
      const status = t.status ?? info.status ?? report.groupStatus;
      if (status === null) {
        errors.push(field(`${t.at}/TxSts`, 'is required when neither PmtInfSts nor GrpSts gives the status'));
        continue;
      }
      const outcome = outcomes[status];
      if (!outcome) {
        interim += 1;
        continue;
      }
      const result: PaymentResult = { endToEndId: t.endToEndId, status: outcome };
      if (outcome === 'failed') {
        const why = reasonOf(t.reasons, infoReason);
        if (!why) errors.push(field(`${t.at}/StsRsnInf`, 'is required for a rejected payment (Rsn/Cd, e.g. AC04)'));
        else Object.assign(result, { reasonCode: why.code, detail: why.detail });
      }
      if (t.acceptedAt !== null) {
        if (!dateTime.test(t.acceptedAt) || Number.isNaN(Date.parse(t.acceptedAt))) {
          errors.push(field(`${t.at}/AccptncDtTm`, `is ${t.acceptedAt}, not an ISO date and time`));
        } else result.settledAt = /(Z|[+-]\d{2}:\d{2})$/.test(t.acceptedAt) ? t.acceptedAt : `${t.acceptedAt}+08:00`;
      }
      if (t.bankReference) result.bankReference = t.bankReference.slice(0, 35);
      listed.push({ result, at: t.at });
    }
    // A final status for the block with nothing listed under it: for every payment still awaiting its result.
    const blockOutcome = info.status ? outcomes[info.status] : undefined;
    if (blockOutcome && !anyListed) {
      file = { status: blockOutcome, at: `${info.at}/PmtInfSts` };
      if (blockOutcome === 'failed') {
        if (!infoReason) errors.push(field(`${info.at}/StsRsnInf`, 'is required when the payments are rejected'));
        else Object.assign(file, { reasonCode: infoReason.code, detail: infoReason.detail });
      }
    }
  }
  const groupOutcome = report.groupStatus ? outcomes[report.groupStatus] : undefined;
  if (!file && groupOutcome && !anyListed && report.paymentInformation.every((i) => !i.status)) {
    file = { status: groupOutcome, at: `${grp}/GrpSts` };
    if (groupOutcome === 'failed') {
      if (!groupReason) errors.push(field(`${grp}/StsRsnInf`, 'is required when the payments are rejected'));
      else Object.assign(file, { reasonCode: groupReason.code, detail: groupReason.detail });
    }
  }
  if (listed.length === 0 && interim === 0 && !file && errors.length === 0) {
    const what = report.groupStatus ?? 'none';
    errors.push(field(grp, `gives no final status (GrpSts ${what}) and the report lists no TxInfAndSts`));
  }
  if (errors.length > 0) {
    throw new ProblemError(
      400,
      'validation-error',
      errors.length === 1 ? `${errors[0]!.pointer}: ${errors[0]!.detail}` : `${errors.length} elements are wrong.`,
      { errors: errors.slice(0, 1000), errorCount: errors.length },
    );
  }
  return { listed, file, interim };
}
