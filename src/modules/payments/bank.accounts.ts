import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditActor, AuditService } from '../../platform/audit/service.js';
import {
  conflict,
  type FieldError,
  notFound,
  ProblemError,
  unprocessable,
  validationError,
} from '../../platform/errors.js';
import { etagOf } from '../../platform/http.js';
import { effectiveRegionPrefix, inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import type { ProgramCode } from '../registry/programs.rules.js';
import { isUniqueViolation } from './common.js';
import { paymentPayerAccounts } from './bank.tables.js';

export type PayerAccountRow = typeof paymentPayerAccounts.$inferSelect;

export interface PayerAccountFields {
  accountName: string;
  accountNumber: string;
  bankName: string;
  bankBic?: string | undefined;
  bankCnaps?: string | undefined;
}

export interface NewPayerAccount extends PayerAccountFields {
  program: ProgramCode;
  region: string;
}

const a = paymentPayerAccounts;
const fieldsOf = (input: PayerAccountFields) => ({
  accountName: input.accountName,
  // Digits, as the bank knows them: spaces only group them for people.
  accountNumber: input.accountNumber.replace(/\s+/g, ''),
  bankName: input.bankName,
  bankBic: input.bankBic ?? null,
  bankCnaps: input.bankCnaps ?? null,
});

/** The account a batch of `program` for `region` is paid from: the longest region prefix; null when none. */
export async function payerAccountFor(
  executor: Executor,
  program: string,
  region: string,
): Promise<PayerAccountRow | null> {
  const [row] = await executor
    .select()
    .from(a)
    .where(and(eq(a.programCode, program), sql`${region} like ${a.region} || '%'`))
    .orderBy(sql`length(${a.region}) desc`)
    .limit(1);
  return row ?? null;
}

/** 422 naming the payer account missing (program and region); `what` says what cannot be done without it. */
export const noPayerAccount = (program: string, region: string, what: string) =>
  unprocessable(
    `${what}: no payer account is set for ${program} in ${region} or a region containing it. Finance sets one with POST /v1/payment-payer-accounts.`,
    { missing: 'payerAccount', program, region },
  );

/**
 * The fund accounts payments are made from, one per program and region, kept by finance. A batch is
 * paid from its program's account whose region is the longest prefix of the batch's region.
 */
export function createPayerAccounts({ db, audit, regions }: { db: Db; audit: AuditService; regions: RegionService }) {
  async function list(
    caller: Jurisdictional,
    q: { program?: ProgramCode | undefined; region?: string | undefined; after?: string | undefined; limit: number },
  ) {
    const prefix = effectiveRegionPrefix(caller, q.region);
    if (prefix === null) return { items: [], more: false };
    const conditions: SQL[] = [sql`${a.region} like ${`${prefix}%`}`];
    if (q.program) conditions.push(eq(a.programCode, q.program));
    if (q.after) conditions.push(gt(a.id, q.after));
    const found = await db
      .select()
      .from(a)
      .where(and(...conditions))
      .orderBy(asc(a.id))
      .limit(q.limit + 1);
    return { items: found.slice(0, q.limit), more: found.length > q.limit };
  }

  async function get(caller: Jurisdictional, id: string, executor: Executor = db): Promise<PayerAccountRow> {
    const [row] = await executor.select().from(a).where(eq(a.id, id));
    if (!row || !inJurisdiction(caller, row.region)) throw notFound('payer account');
    return row;
  }

  async function create(caller: Jurisdictional, actor: AuditActor, input: NewPayerAccount): Promise<PayerAccountRow> {
    const errors: FieldError[] = [];
    if (!(await regions.isKnown(input.region))) {
      errors.push({
        in: 'body',
        pointer: '/region',
        detail: `${input.region} is not a region code this service knows`,
      });
    } else if (!inJurisdiction(caller, input.region)) {
      errors.push({
        in: 'body',
        pointer: '/region',
        detail: `must lie inside your jurisdiction ${caller.jurisdiction}`,
      });
    }
    if (errors.length > 0) throw validationError(errors);
    try {
      return await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(a)
          .values({
            programCode: input.program,
            region: input.region,
            ...fieldsOf(input),
            createdByClientId: actor.clientId,
            updatedByClientId: actor.clientId,
          })
          .returning();
        await audit.record(tx, actor, {
          operation: 'createPayerAccount',
          resourceType: 'payment_payer_account',
          resourceIds: [row!.id],
          detail: { program: input.program, region: input.region },
        });
        return row!;
      });
    } catch (err) {
      if (!isUniqueViolation(err, 'payment_payer_accounts_program_region_idx')) throw err;
      const [existing] = await db
        .select({ id: a.id })
        .from(a)
        .where(and(eq(a.programCode, input.program), eq(a.region, input.region)));
      throw conflict(`${input.program} in ${input.region} has a payer account already; change it with PUT.`, {
        existingId: existing?.id ?? null,
      });
    }
  }

  /** Replaces the account's fields (its program and region stay). Files already collected keep the account they had. */
  async function replace(
    caller: Jurisdictional,
    actor: AuditActor,
    id: string,
    version: number | undefined,
    input: PayerAccountFields,
  ): Promise<PayerAccountRow> {
    return db.transaction(async (tx) => {
      const [current] = await tx.select().from(a).where(eq(a.id, id)).for('update');
      if (!current || !inJurisdiction(caller, current.region)) throw notFound('payer account');
      if (version !== undefined && version !== current.version) {
        throw new ProblemError(
          412,
          'precondition-failed',
          'The payer account changed since you read it; read it again.',
          {
            currentETag: etagOf(current),
          },
        );
      }
      const [row] = await tx
        .update(a)
        .set({
          ...fieldsOf(input),
          updatedByClientId: actor.clientId,
          updatedAt: sql`now()`,
          version: current.version + 1,
        })
        .where(eq(a.id, id))
        .returning();
      await audit.record(tx, actor, {
        operation: 'replacePayerAccount',
        resourceType: 'payment_payer_account',
        resourceIds: [id],
        detail: { program: current.programCode, region: current.region, version: row!.version },
      });
      return row!;
    });
  }

  return { list, get, create, replace, payerFor: payerAccountFor };
}

export type PayerAccounts = ReturnType<typeof createPayerAccounts>;
