import { sql } from 'drizzle-orm';
import { type Db, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { type FieldError, ProblemError } from '../../platform/errors.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { ProgramService } from '../registry/programs.service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import { createPayerAccounts } from './bank.accounts.js';
import { createBatchFiles } from './bank.files.js';
import { createFileRenderer } from './bank.render.js';
import { messageIdOf } from './bank.pain001.js';
import { interpret, type Pain002Report } from './bank.pain002.js';
import type { Caller } from './common.js';
import type { PaymentResult } from './results.js';
import type { PaymentService } from './service.js';

export interface BankDeps {
  db: Db;
  audit: AuditService;
  regions: RegionService;
  pii: PiiProtector;
  programs: ProgramService;
  /** The payments core: batches as the caller may see them, and the one way results are recorded. */
  payments: Pick<PaymentService, 'batchOf' | 'postResults'>;
}

/** Which element of a TxInfAndSts carries each field of a result. */
const elementOf: Record<string, string> = {
  endToEndId: 'OrgnlEndToEndId',
  status: 'TxSts',
  reasonCode: 'StsRsnInf',
  detail: 'StsRsnInf/AddtlInf',
  bankReference: 'AcctSvcrRef',
  settledAt: 'AccptncDtTm',
};

/**
 * The core's problems name results by their place in the list it was given (`/results/3/status`);
 * the bank knows its report: point at the element each result came from instead.
 */
function relocate(err: unknown, results: PaymentResult[], from: { at: string; whole: boolean }[]): unknown {
  if (!(err instanceof ProblemError) || !Array.isArray(err.extensions.errors)) return err;
  const place = (i: number) => from[i]?.at ?? `/results/${i}`;
  const errors = (err.extensions.errors as FieldError[]).map((e) => {
    const m = /^\/results\/(\d+)(?:\/(\w+))?$/.exec(e.pointer);
    if (!m) return e;
    const i = Number(m[1]);
    const detail = e.detail.replace(/\/results\/(\d+)/g, (_, k: string) => place(Number(k)));
    if (from[i]?.whole) return { ...e, pointer: place(i), detail: `payment ${results[i]!.endToEndId}: ${detail}` };
    return { ...e, pointer: m[2] ? `${place(i)}/${elementOf[m[2]] ?? m[2]}` : place(i), detail };
  });
  const message = errors.length === 1 ? `${errors[0]!.pointer}: ${errors[0]!.detail}` : err.message;
  return new ProblemError(err.status, err.kind, message, { ...err.extensions, errors }, err.headers);
}

/** Bank exchange: payer accounts, the pain.001 a bank collects, and the pain.002 status reports it sends back. */
export function createBankService({ db, audit, regions, pii, programs, payments }: BankDeps) {
  const accounts = createPayerAccounts({ db, audit, regions });
  const files = createBatchFiles({ db, audit, pii, programs, accounts, batchOf: payments.batchOf });
  const renderer = createFileRenderer({ db, pii, files });

  /**
   * A pain.002 for a dispatched batch, recorded through the core's results (idempotent by payment,
   * all or nothing). A final status given for the whole file, with no transaction listed, settles
   * every payment of the file still awaiting its result (and repeats what it said of the others).
   */
  async function postStatusReport(caller: Caller, actor: AuditActor, id: string, report: Pain002Report) {
    const batch = await payments.batchOf(db, caller, id);
    const messageId = messageIdOf(batch.id);
    const { listed, file, interim } = interpret(report, messageId);
    const results = listed.map((l) => l.result);
    const from = listed.map((l) => ({ at: l.at, whole: false }));
    if (file) {
      // Payments already given another result keep it: the file's status settles the rest.
      const everyone = await rows<{ e2e: string }>(
        db,
        sql`select end_to_end_id as e2e from payment_items
            where batch_id = ${batch.id}::uuid and status in ('sent', ${file.status}) order by id`,
      );
      const named = new Set(results.map((r) => r.endToEndId));
      for (const { e2e } of everyone) {
        if (named.has(e2e)) continue;
        results.push({ endToEndId: e2e, status: file.status, reasonCode: file.reasonCode, detail: file.detail });
        from.push({ at: file.at, whole: true });
      }
    }
    try {
      const answer = await payments.postResults(caller, actor, id, results);
      return { batchId: id, reportMessageId: report.messageId, ...answer, interim };
    } catch (err) {
      throw relocate(err, results, from);
    }
  }

  return { accounts, openFile: files.open, renderFile: renderer.render, renderJob: renderer.perform, postStatusReport };
}

export type BankService = ReturnType<typeof createBankService>;
