import { eq, sql } from 'drizzle-orm';
import { type Db, rows } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import { invalidState, unprocessable } from '../../platform/errors.js';
import type { ProgramService } from '../registry/programs.service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { PayerAccounts } from './bank.accounts.js';
import { documentEnd, documentStart, type FileHeader, messageIdOf, PAIN001_NAME, transaction } from './bank.pain001.js';
import { paymentBatchFiles } from './bank.tables.js';
import type { BatchRow, Caller } from './common.js';
import type { BatchStatus } from './tables.js';

/** Rows read per round trip; the next page is read while this one is written. */
const PAGE_SIZE = 2_000;
/** A batch's file may be collected once the bank has dispatched it, and read again later. */
const collectable: BatchStatus[] = ['dispatched', 'completed', 'reconciled'];

interface ItemLine {
  id: string;
  e2e: string;
  amount: number;
  payee: string;
  holder: string;
  bank: string;
  sealed: string;
}

export interface BatchFile {
  header: FileHeader;
  fileName: string;
  /** The document, in pieces: the header, then the transactions a page at a time, then the end. */
  body(): AsyncGenerator<string>;
}

export interface FileDeps {
  db: Db;
  audit: AuditService;
  pii: PiiProtector;
  programs: ProgramService;
  accounts: PayerAccounts;
  batchOf: (db: Db, caller: Caller, id: string) => Promise<BatchRow>;
}

/** A batch's payments (all but cancelled ones), in id order after `after`. */
const page = (db: Db, batchId: string, after: string) =>
  rows<ItemLine>(
    db,
    sql`select id, end_to_end_id as e2e, amount_fen::float8 as amount, payee_name as payee, account_holder as holder,
          bank_name as bank, account_sealed as sealed
        from payment_items
        where batch_id = ${batchId}::uuid and status <> 'cancelled' and id > ${after}::uuid
        order by id limit ${PAGE_SIZE}`,
  );

/** Every page in turn, the next one already on its way while the caller works on this one. */
async function* pages(db: Db, batchId: string): AsyncGenerator<ItemLine[]> {
  let next = page(db, batchId, '00000000-0000-0000-0000-000000000000');
  for (;;) {
    const current = await next;
    const more = current.length === PAGE_SIZE;
    if (more) {
      next = page(db, batchId, current.at(-1)!.id);
      // Settled here too, so that a download abandoned mid-way leaves no unhandled rejection.
      next.catch(() => undefined);
    }
    yield current;
    if (!more) return;
  }
}

/**
 * The bank's pain.001 of a batch. The first collection fixes the file (its MsgId, time and payer
 * account, `payment_batch_files`); each collection is audited, since it reveals payees' accounts.
 */
export function createBatchFiles({ db, audit, pii, programs, accounts, batchOf }: FileDeps) {
  async function open(caller: Caller, actor: AuditActor, id: string): Promise<BatchFile> {
    const batch = await batchOf(db, caller, id);
    if (!collectable.includes(batch.status)) {
      throw invalidState(
        `The batch is ${batch.status}; its payment file can be collected once it is dispatched.`,
        batch.status,
      );
    }
    const file = await db.transaction(async (tx) => {
      const [pinned] = await tx.select().from(paymentBatchFiles).where(eq(paymentBatchFiles.batchId, id));
      let made = pinned;
      if (!made) {
        const payer = await accounts.payerFor(tx, batch.programCode, batch.region);
        if (!payer) {
          throw unprocessable(
            `No payer account is set for ${batch.programCode} in ${batch.region} or a region containing it: finance sets one with POST /v1/payment-payer-accounts.`,
            { program: batch.programCode, region: batch.region },
          );
        }
        await tx
          .insert(paymentBatchFiles)
          .values({
            batchId: id,
            messageId: messageIdOf(id),
            payerAccountId: payer.id,
            accountName: payer.accountName,
            accountNumber: payer.accountNumber,
            bankName: payer.bankName,
            bankBic: payer.bankBic,
            bankCnaps: payer.bankCnaps,
            createdByClientId: actor.clientId,
          })
          .onConflictDoNothing();
        [made] = await tx.select().from(paymentBatchFiles).where(eq(paymentBatchFiles.batchId, id));
      }
      await audit.record(tx, actor, {
        operation: 'downloadPaymentBatchPain001',
        resourceType: 'payment_batch',
        resourceIds: [id],
        detail: {
          messageId: made!.messageId,
          itemCount: batch.itemCount,
          totalFen: batch.totalFen,
          payerAccountId: made!.payerAccountId,
        },
      });
      return made!;
    });

    const program = await programs.getProgram(batch.programCode);
    const remittance = `${program.nameZh} ${batch.period}`;
    const header: FileHeader = {
      messageId: file.messageId,
      createdAt: file.createdAt,
      itemCount: batch.itemCount,
      totalFen: batch.totalFen,
      executionDate: batch.dispatchedAt ?? file.createdAt,
      urgent: batch.expedited,
      payer: file,
    };

    async function* body(): AsyncGenerator<string> {
      yield documentStart(header);
      let count = 0;
      let sum = 0;
      for await (const lines of pages(db, id)) {
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
          `batch ${id}: the file holds ${count} payments of ${sum} fen; the batch declares ${header.itemCount} of ${header.totalFen}`,
        );
      }
      yield documentEnd;
    }

    return { header, fileName: `${PAIN001_NAME}-${file.messageId}.xml`, body };
  }

  return { open };
}
