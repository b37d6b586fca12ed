import { and, eq, ne, type SQL, sql } from 'drizzle-orm';
import { rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import {
  conflict,
  type FieldError,
  invalidState,
  notFound,
  unprocessable,
  validationError,
} from '../../platform/errors.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import { timeOrderedId } from '../matching/verify.service.js';
import { businessDateOf } from '../registry/dates.js';
import type { PolicyRow } from '../registry/policies.service.js';
import { addHistory, batchEventData, type BatchRow, type Caller, nextPeriod, type PaymentDeps } from './common.js';
import { paymentBatchSubmitted } from './events.js';
import { body, createFilling, deadlineIn, retryingWhenPaidMeanwhile } from './generate.common.js';
import { emergencyBatchSql, regularBatchSql } from './generate.sql.js';
import { paymentBatches } from './tables.js';

export interface NewBatch {
  program: 'dibao' | 'tekun' | 'price_subsidy';
  period: string;
  region: string;
  expedited?: boolean | undefined;
}

/** A batch and whether this request made it (201) or found it made already (200). */
export interface Generated {
  batch: BatchRow;
  created: boolean;
}

/** How batches come about: a month's payments, and an emergency payment (follow-ups: follow-up.ts). */
export function createGeneration(deps: PaymentDeps) {
  const { db, events, regions, policies, clock = () => new Date() } = deps;
  const today = () => businessDateOf(clock());
  const { leftOut, fillAndRecord } = createFilling(deps);

  /** The live batch the unique index found in the way. */
  async function existing(where: SQL): Promise<BatchRow> {
    const [found] = await db
      .select()
      .from(paymentBatches)
      .where(and(where, ne(paymentBatches.status, 'rejected')));
    if (!found) throw conflict('A batch for the same payments was being made at the same time and is gone; try again.');
    return found;
  }

  /** A month's payments of a program for a region: generated once; a second call answers the first. */
  async function generate(caller: Caller, actor: AuditActor, input: NewBatch): Promise<Generated> {
    const errors: FieldError[] = [];
    if (!(await regions.isKnown(input.region)))
      errors.push(body('/region', `${input.region} is not a region code this service knows`));
    else if (!inJurisdiction(caller, input.region))
      errors.push(body('/region', `must lie inside your jurisdiction ${caller.jurisdiction}`));
    const latest = nextPeriod(today().slice(0, 7));
    if (input.period > latest) errors.push(body('/period', `must not be later than next month (${latest})`));
    let policy: PolicyRow | null = null;
    if (input.expedited && errors.length === 0) {
      policy = await policies.inForce(input.region, today());
      if (!policy?.greenChannelHours) {
        errors.push(
          body(
            '/expedited',
            `no emergency policy with a green channel (greenChannelHours) is in force for ${input.region} today`,
          ),
        );
      }
    }
    if (errors.length > 0) throw validationError(errors);
    const same = and(
      eq(paymentBatches.kind, 'regular'),
      eq(paymentBatches.programCode, input.program),
      eq(paymentBatches.period, input.period),
      eq(paymentBatches.region, input.region),
    )!;
    const made = await retryingWhenPaidMeanwhile(() =>
      db.transaction(async (tx) => {
        // The candidates are sorted (and hashed) in memory rather than in temporary files; the
        // statement's high estimated cost would have it compiled (JIT) for longer than it runs.
        await tx.execute(sql`set local work_mem = '256MB'`);
        await tx.execute(sql`set local jit = off`);
        const [inserted] = await tx
          .insert(paymentBatches)
          .values({
            // Time-ordered: a batch's payments then go to the end of the (batch, id) index.
            id: timeOrderedId(),
            kind: 'regular',
            programCode: input.program,
            period: input.period,
            region: input.region,
            status: 'draft',
            expedited: input.expedited ?? false,
            deadline: deadlineIn(policy?.greenChannelHours),
            policyId: policy?.id ?? null,
            createdByClientId: actor.clientId,
          })
          .onConflictDoNothing()
          .returning();
        if (!inserted) return null;
        const scope = { batchId: inserted.id, program: input.program, period: input.period };
        return fillAndRecord(tx, actor, inserted, regularBatchSql(scope, `${input.region}%`), async () => {
          throw unprocessable(
            `Nothing to pay: no active ${input.program} enrollment in ${input.region} can be paid for ${input.period} that is not paid already.`,
            await leftOut(tx, inserted.id),
          );
        });
      }),
    );
    return made ? { batch: made, created: true } : { batch: await existing(same), created: false };
  }

  /**
   * Green channel, measure 1: one emergency payment of a temporary-assistance grant's cash, at once
   * submitted to finance, due within the policy's greenChannelHours of the grant.
   */
  async function emergency(caller: Caller, actor: AuditActor, grantId: string): Promise<Generated> {
    const [grant] = await rows<{
      region: string;
      status: string;
      cash_fen: number;
      granted_at: string | Date | null;
      policy_id: string | null;
    }>(
      db,
      sql`select region, status, cash_fen::float8 as cash_fen, granted_at, policy_id from temporary_assistance where id = ${grantId}::uuid`,
    );
    if (!grant || !inJurisdiction(caller, grant.region)) throw notFound('temporary assistance');
    if (grant.status !== 'granted' && grant.status !== 'completed') {
      throw invalidState(`The assistance is ${grant.status}; only granted assistance is paid.`, grant.status);
    }
    if (Number(grant.cash_fen) <= 0)
      throw validationError([
        body('/temporaryAssistanceId', 'grants no cash (in-kind aid only): there is nothing to pay'),
      ]);
    const grantedAt = new Date(grant.granted_at!);
    const own = grant.policy_id ? await policies.get(grant.policy_id) : null;
    const policy = own?.greenChannelHours ? own : await policies.inForce(grant.region, businessDateOf(grantedAt));
    const hours = policy?.greenChannelHours ?? null;
    const made = await db.transaction(async (tx) => {
      // The grant as it stands, held until this commits: a cancellation under way is waited for
      // (then refused here), and one that comes later finds this payment (grants.ts).
      const [held] = await rows<{ status: string }>(
        tx,
        sql`select status from temporary_assistance where id = ${grantId}::uuid for share`,
      );
      if (held!.status !== 'granted' && held!.status !== 'completed') {
        throw invalidState(`The assistance is ${held!.status}; only granted assistance is paid.`, held!.status);
      }
      const [inserted] = await tx
        .insert(paymentBatches)
        .values({
          id: timeOrderedId(),
          kind: 'emergency',
          programCode: 'temporary_assistance',
          period: businessDateOf(grantedAt).slice(0, 7),
          region: grant.region,
          status: 'draft',
          expedited: true,
          deadline: hours ? new Date(grantedAt.getTime() + hours * 3_600_000) : null,
          policyId: hours ? policy!.id : null,
          temporaryAssistanceId: grantId,
          createdByClientId: actor.clientId,
        })
        .onConflictDoNothing()
        .returning();
      if (!inserted) return null;
      const scope = { batchId: inserted.id, program: 'temporary_assistance', period: inserted.period };
      const batch = await fillAndRecord(tx, actor, inserted, emergencyBatchSql(scope, grantId), async () => {
        const { excludedByReason } = await leftOut(tx, inserted.id);
        if (excludedByReason.no_bank_account) {
          throw unprocessable(
            'The person aided has no bank account on file: record one on the person, then ask again.',
            { excludedByReason },
          );
        }
        throw conflict('The grant is being paid already (a re-issue of its payment is under way).');
      });
      // Green channel: straight to finance.
      const [submitted] = await tx
        .update(paymentBatches)
        .set({ status: 'submitted', submittedAt: sql`now()`, updatedAt: sql`now()`, version: batch.version + 1 })
        .where(eq(paymentBatches.id, batch.id))
        .returning();
      await addHistory(tx, batch.id, {
        status: 'submitted',
        action: 'submitted',
        note: 'green channel',
        byClientId: actor.clientId,
      });
      await events.publish(tx, paymentBatchSubmitted, {
        subject: `payment_batch/${batch.id}`,
        region: batch.region,
        data: batchEventData(submitted!),
      });
      return submitted!;
    });
    if (made) return { batch: made, created: true };
    return {
      batch: await existing(
        and(eq(paymentBatches.kind, 'emergency'), eq(paymentBatches.temporaryAssistanceId, grantId))!,
      ),
      created: false,
    };
  }

  return { generate, emergency, today };
}
