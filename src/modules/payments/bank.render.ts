import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { ProblemError } from '../../platform/errors.js';
import type { JobContext } from '../../platform/jobs/service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { BatchFiles } from './bank.files.js';
import { paymentBatchFileParts, paymentBatchFiles } from './bank.tables.js';
import { type BatchStatus, paymentBatches } from './tables.js';

/** The job that writes a batch's pain.001 out once finance approves it. */
export const PAIN001_RENDER_JOB = 'payment_batch.render_pain001';

/** Uncompressed bytes a stored part holds, about. */
const PART_BYTES = 1 << 20;
const renderable: BatchStatus[] = ['approved', 'dispatched', 'completed', 'reconciled'];
const deflate = promisify(deflateRaw);

export interface RenderDeps {
  db: Db;
  pii: PiiProtector;
  files: Pick<BatchFiles, 'fix' | 'made'>;
}

/**
 * Writes an approved batch's pain.001 out, compressed and sealed, in parts: the bank's downloads
 * then stream stored bytes (an inflate a part) instead of opening every payee's account as they go.
 * All or nothing, in one transaction; the document is the one a download would have made (same
 * fixed header), so a download before it is written and one after are the same bytes.
 */
export function createFileRenderer({ db, pii, files }: RenderDeps) {
  async function render(batchId: string): Promise<Record<string, unknown>> {
    const [batch] = await db.select().from(paymentBatches).where(eq(paymentBatches.id, batchId));
    if (!batch || !renderable.includes(batch.status)) {
      return { batchId, rendered: false, reason: batch ? `the batch is ${batch.status}` : 'no such batch' };
    }
    return db.transaction(async (tx) => {
      let file;
      try {
        file = await files.fix(tx, batch, null);
      } catch (err) {
        // No payer account yet: the bank's first download makes the file once finance sets one.
        if (err instanceof ProblemError && err.status === 422) return { batchId, rendered: false, reason: err.message };
        throw err;
      }
      // One writer: a second render waits here, then finds the file written.
      await tx.execute(sql`select 1 from ${paymentBatchFiles} where batch_id = ${batchId}::uuid for update`);
      const [current] = await tx.select().from(paymentBatchFiles).where(eq(paymentBatchFiles.batchId, batchId));
      if (current!.renderedAt) return { batchId, rendered: true, parts: current!.renderedParts, already: true };

      let pending: string[] = [];
      let size = 0;
      let seq = 0;
      let offset = 0;
      const flush = async () => {
        const raw = Buffer.from(pending.join(''), 'utf8');
        pending = [];
        size = 0;
        offset += raw.length;
        seq += 1;
        const sealed = pii.sealBytes(await deflate(raw, { level: 1 }));
        await tx.insert(paymentBatchFileParts).values({ batchId, seq, endOffset: offset, sealed });
      };
      for await (const piece of files.made(batch, file, tx)) {
        pending.push(piece);
        size += piece.length;
        if (size >= PART_BYTES) await flush();
      }
      if (size > 0) await flush();
      await tx
        .update(paymentBatchFiles)
        .set({ renderedAt: new Date(), renderedParts: seq, renderedBytes: offset })
        .where(eq(paymentBatchFiles.batchId, batchId));
      return { batchId, rendered: true, parts: seq, bytes: offset };
    });
  }

  /** The job's handler. */
  const perform = ({ job }: JobContext) => render(String(job.payload.batchId));

  return { render, perform };
}
