import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { invalidState } from '../../platform/errors.js';
import type { ProgramService } from '../registry/programs.service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import { noPayerAccount, type PayerAccounts } from './bank.accounts.js';
import { itemsOf } from './bank.items.js';
import { documentEnd, documentStart, type FileHeader, messageIdOf, PAIN001_NAME, transaction } from './bank.pain001.js';
import { paymentBatchFileParts, paymentBatchFiles } from './bank.tables.js';
import type { BatchRow, Caller } from './common.js';
import type { BatchStatus } from './tables.js';

/** A batch's file may be collected once the bank has dispatched it, and read again later. */
const collectable: BatchStatus[] = ['dispatched', 'completed', 'reconciled'];
/** Stored parts read per round trip. */
const PARTS_AT_ONCE = 4;
const inflate = promisify(inflateRaw);

export type FileRow = typeof paymentBatchFiles.$inferSelect;

export interface BatchFile {
  header: FileHeader;
  fileName: string;
  /** Whether the document is streamed as written out at approval (else made as it is read). */
  stored: boolean;
  /** The document, in pieces: the header, then the transactions a page at a time, then the end. */
  body(): AsyncGenerator<string | Buffer>;
}

export interface FileDeps {
  db: Db;
  audit: AuditService;
  pii: PiiProtector;
  programs: ProgramService;
  accounts: PayerAccounts;
  batchOf: (db: Db, caller: Caller, id: string) => Promise<BatchRow>;
}

/**
 * The bank's pain.001 of a batch. The file is fixed (its MsgId, time and payer account,
 * `payment_batch_files`) the first time it is made, when finance approves the batch (bank.render.ts)
 * or, failing that, when the bank first collects it; every later download is the same document.
 * Each collection is audited, since it reveals payees' accounts.
 */
export function createBatchFiles({ db, audit, pii, programs, accounts, batchOf }: FileDeps) {
  /** The batch's file row, made the first time (the payer account copied into it). */
  async function fix(tx: Executor, batch: BatchRow, clientId: string | null): Promise<FileRow> {
    const [pinned] = await tx.select().from(paymentBatchFiles).where(eq(paymentBatchFiles.batchId, batch.id));
    if (pinned) return pinned;
    const payer = await accounts.payerFor(tx, batch.programCode, batch.region);
    if (!payer) throw noPayerAccount(batch.programCode, batch.region, 'The payment file cannot be made');
    await tx
      .insert(paymentBatchFiles)
      .values({
        batchId: batch.id,
        messageId: messageIdOf(batch.id),
        payerAccountId: payer.id,
        accountName: payer.accountName,
        accountNumber: payer.accountNumber,
        bankName: payer.bankName,
        bankBic: payer.bankBic,
        bankCnaps: payer.bankCnaps,
        createdByClientId: clientId,
      })
      .onConflictDoNothing();
    const [made] = await tx.select().from(paymentBatchFiles).where(eq(paymentBatchFiles.batchId, batch.id));
    return made!;
  }

  /** The group header's figures, and what each payment's statement line says it is for. */
  async function headerOf(batch: BatchRow, file: FileRow, executor: Executor = db) {
    const program = await programs.getProgram(batch.programCode, executor);
    const header: FileHeader = {
      messageId: file.messageId,
      createdAt: file.createdAt,
      itemCount: batch.itemCount,
      totalFen: batch.totalFen,
      // ReqdExctnDt: the day finance approved the batch for payment.
      executionDate: batch.decidedAt ?? file.createdAt,
      urgent: batch.expedited,
      payer: file,
    };
    return { header, remittance: `${program.nameZh} ${batch.period}` };
  }

  /** The document made from the payments, each account opened from its seal (`executor`: see itemsOf). */
  async function* made(batch: BatchRow, file: FileRow, executor: Executor = db): AsyncGenerator<string> {
    const { header, remittance } = await headerOf(batch, file, executor);
    yield documentStart(header);
    let count = 0;
    let sum = 0;
    for await (const lines of itemsOf(db, batch.id, executor)) {
      let chunk = '';
      for (const line of lines) {
        chunk += transaction({
          endToEndId: line.e2e,
          amountFen: line.amount,
          payeeName: line.payee,
          accountHolder: line.holder,
          accountNumber: pii.open(line.sealed),
          bankName: line.bank,
          remittance,
        });
        count += 1;
        sum += line.amount;
      }
      yield chunk;
    }
    // The header promised these figures; a file that does not keep them is cut off unfinished
    // (ill-formed), never completed wrong.
    if (count !== header.itemCount || sum !== header.totalFen) {
      throw new Error(
        `batch ${batch.id}: the file holds ${count} payments of ${sum} fen; the batch declares ${header.itemCount} of ${header.totalFen}`,
      );
    }
    yield documentEnd;
  }

  /** The document as written out: its parts in order, each opened and inflated. */
  async function* stored(file: FileRow): AsyncGenerator<Buffer> {
    let after = 0;
    let bytes = 0;
    for (;;) {
      const parts = await db
        .select({ seq: paymentBatchFileParts.seq, sealed: paymentBatchFileParts.sealed })
        .from(paymentBatchFileParts)
        .where(and(eq(paymentBatchFileParts.batchId, file.batchId), gt(paymentBatchFileParts.seq, after)))
        .orderBy(asc(paymentBatchFileParts.seq))
        .limit(PARTS_AT_ONCE);
      for (const part of parts) {
        const piece = await inflate(pii.openBytes(part.sealed));
        bytes += piece.length;
        after = part.seq;
        yield piece;
      }
      if (parts.length < PARTS_AT_ONCE) break;
    }
    if (after !== file.renderedParts || bytes !== file.renderedBytes) {
      throw new Error(`batch ${file.batchId}: the stored file is not whole (${after} parts, ${bytes} bytes)`);
    }
  }

  async function open(caller: Caller, actor: AuditActor, id: string): Promise<BatchFile> {
    const batch = await batchOf(db, caller, id);
    if (!collectable.includes(batch.status)) {
      throw invalidState(
        `The batch is ${batch.status}; its payment file can be collected once it is dispatched.`,
        batch.status,
      );
    }
    const file = await db.transaction(async (tx) => {
      const row = await fix(tx, batch, actor.clientId);
      await audit.record(tx, actor, {
        operation: 'downloadPaymentBatchPain001',
        resourceType: 'payment_batch',
        resourceIds: [id],
        detail: {
          messageId: row.messageId,
          itemCount: batch.itemCount,
          totalFen: batch.totalFen,
          payerAccountId: row.payerAccountId,
        },
      });
      return row;
    });
    const { header } = await headerOf(batch, file);
    return {
      header,
      fileName: `${PAIN001_NAME}-${file.messageId}.xml`,
      stored: file.renderedAt !== null,
      body: () => (file.renderedAt !== null ? stored(file) : made(batch, file)),
    };
  }

  return { fix, made, open };
}

export type BatchFiles = ReturnType<typeof createBatchFiles>;
