import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';
import { enrollments } from '../registry/applications.tables.js';
import { temporaryAssistance } from '../registry/assistance.tables.js';
import { households, persons } from '../registry/people.tables.js';
import { policies } from '../registry/policies.tables.js';
import { programs } from '../registry/programs.tables.js';

export const batchKinds = ['regular', 'follow_up', 'emergency'] as const;
export const batchStatuses = [
  'draft',
  'submitted',
  'approved',
  'rejected',
  'dispatched',
  'completed',
  'reconciled',
  'cancelled',
] as const;
export const itemStatuses = ['pending', 'sent', 'paid', 'failed', 'returned', 'cancelled'] as const;
export const ledgerAccounts = ['allocated', 'pending', 'paid', 'failed', 'returned'] as const;
export const journalKinds = ['approval', 'results', 'withdrawal'] as const;
export const exclusionReasons = ['no_bank_account', 'no_payee', 'no_standard', 'zero_amount'] as const;

export type BatchKind = (typeof batchKinds)[number];
export type BatchStatus = (typeof batchStatuses)[number];
export type ItemStatus = (typeof itemStatuses)[number];
export type LedgerAccount = (typeof ledgerAccounts)[number];
export type JournalKind = (typeof journalKinds)[number];
export type ExclusionReason = (typeof exclusionReasons)[number];

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(','));
const regionCheck = (column: unknown) => sql`${column} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`;
const periodCheck = (column: unknown) => sql`${column} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`;

/**
 * A payment batch (measure 3): the payments of one program, period (YYYY-MM) and region, generated
 * from the active enrollments (`regular`), the failed and returned payments of an earlier batch
 * re-issued (`follow_up`), or one emergency payment of a temporary-assistance grant (`emergency`).
 * Status: draft → submitted → approved | rejected → dispatched → completed → reconciled; draft,
 * submitted or approved → cancelled when the temporary-assistance grant it pays is cancelled before
 * the bank has it (grants.ts). The batch declares its count and total; finance approves by echoing
 * them. Steps: `payment_batch_history`.
 */
export const paymentBatches = pgTable(
  'payment_batches',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').$type<BatchKind>().notNull(),
    programCode: text('program_code')
      .notNull()
      .references(() => programs.code),
    period: text('period').notNull(),
    /** The region it pays (a region-code prefix); jurisdiction is checked against it. */
    region: text('region').notNull(),
    status: text('status').$type<BatchStatus>().notNull(),
    /** Green channel (绿色通道): to be paid by `deadline`, set from the emergency policy in force. */
    expedited: boolean('expedited').notNull().default(false),
    deadline: timestamp('deadline', { withTimezone: true }),
    /** The policy whose `greenChannelHours` set the deadline. */
    policyId: uuid('policy_id').references(() => policies.id),
    temporaryAssistanceId: uuid('temporary_assistance_id').references(() => temporaryAssistance.id),
    followsBatchId: uuid('follows_batch_id').references((): AnyPgColumn => paymentBatches.id),
    itemCount: integer('item_count').notNull().default(0),
    totalFen: bigint('total_fen', { mode: 'number' }).notNull().default(0),
    excludedCount: integer('excluded_count').notNull().default(0),
    /** Payments with the bank's result (paid, failed, returned): those still sent are the rest. */
    resultCount: integer('result_count').notNull().default(0),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decidedByClientId: uuid('decided_by_client_id').references(() => clients.id),
    decisionReason: text('decision_reason'),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    reconciledAt: timestamp('reconciled_at', { withTimezone: true }),
    /** The reconciliation report as it stood when the batch was reconciled. */
    reconciliation: jsonb('reconciliation').$type<Record<string, unknown>>(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('payment_batches_kind_check', sql`${t.kind} in (${list(batchKinds)})`),
    check('payment_batches_status_check', sql`${t.status} in (${list(batchStatuses)})`),
    check('payment_batches_period_check', periodCheck(t.period)),
    check('payment_batches_region_check', regionCheck(t.region)),
    check('payment_batches_counts_check', sql`${t.itemCount} >= 0 and ${t.totalFen} >= 0 and ${t.excludedCount} >= 0`),
    check('payment_batches_result_count_check', sql`${t.resultCount} between 0 and ${t.itemCount}`),
    check('payment_batches_deadline_check', sql`${t.deadline} is null or ${t.expedited}`),
    check(
      'payment_batches_kind_source_check',
      sql`(${t.kind} = 'emergency') = (${t.temporaryAssistanceId} is not null)
        and (${t.kind} = 'follow_up') = (${t.followsBatchId} is not null)`,
    ),
    // A second generation for the same program, period and region finds the first (unless rejected).
    uniqueIndex('payment_batches_regular_once_idx')
      .on(t.programCode, t.period, t.region)
      .where(sql`${t.kind} = 'regular' and ${t.status} <> 'rejected'`),
    uniqueIndex('payment_batches_emergency_once_idx')
      .on(t.temporaryAssistanceId)
      .where(sql`${t.kind} = 'emergency' and ${t.status} <> 'rejected'`),
    index('payment_batches_region_idx').on(t.region, t.createdAt, t.id),
    index('payment_batches_status_deadline_idx').on(t.status, t.deadline),
    index('payment_batches_follows_idx').on(t.followsBatchId),
  ],
);

export const paymentBatchHistory = pgTable(
  'payment_batch_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => paymentBatches.id),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    status: text('status').notNull(),
    /** generated, submitted, approved, rejected, dispatched, results_recorded, completed, reconciled, cancelled */
    action: text('action').notNull(),
    note: text('note'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    byClientId: uuid('by_client_id').references(() => clients.id),
  },
  (t) => [index('payment_batch_history_batch_idx').on(t.batchId, t.id)],
);

/**
 * One payment of a batch: to one payee (the household's head, or the person supported), for one
 * enrollment (or temporary-assistance grant), program and period. Status: pending → sent → paid |
 * failed | returned; cancelled when its batch is rejected, or with its grant (grants.ts). The
 * payee's account is copied, sealed, when the payment is made up, so what finance approves is what
 * the bank pays.
 *
 * No foreign keys: a month's batch inserts half a million rows in one statement, and checking a
 * foreign key is a query per row that also locks the row it names (FOR KEY SHARE), so the checks
 * rewrote as many persons, households and enrollments and took most of the statement's time. The
 * rows named are those the statement reads (they exist), and triggers refuse to delete a batch,
 * enrollment, person, grant or payment that payments name (migration payments_bulk); households
 * are kept by their enrollments' and grants' own foreign keys.
 */
export const paymentItems = pgTable(
  'payment_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    batchId: uuid('batch_id').notNull(),
    programCode: text('program_code').notNull(),
    period: text('period').notNull(),
    /** The payee's region (the enrollment's, or the place of emergency); reports and jurisdiction read it. */
    region: text('region').notNull(),
    enrollmentId: uuid('enrollment_id'),
    temporaryAssistanceId: uuid('temporary_assistance_id'),
    householdId: uuid('household_id'),
    personId: uuid('person_id').notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    status: text('status').$type<ItemStatus>().notNull().default('pending'),
    /**
     * Pays, or may still pay (pending, sent, paid): at most one live payment per enrollment, program
     * and period. The once-only indexes look at this rather than at the status, so that collecting
     * a batch and a payment's being paid, which leave it live, change no indexed column: the new
     * row version is written beside the old one (a HOT update, with the room fillfactor 50 leaves:
     * migration payments_bulk) and no index is touched.
     */
    live: boolean('live').generatedAlwaysAs(sql`status in ('pending','sent','paid')`),
    /** ISO 20022 EndToEndId (at most 35 characters): the bank quotes it back with the result. */
    endToEndId: text('end_to_end_id')
      .notNull()
      .default(sql`replace(gen_random_uuid()::text, '-', '')`),
    payeeName: text('payee_name').notNull(),
    bankName: text('bank_name').notNull(),
    accountHolder: text('account_holder').notNull(),
    /** Sealed like the registry's (AES-256-GCM under SECRETS_KEYS); opened only for finance and banks. */
    accountSealed: text('account_sealed').notNull(),
    accountMasked: text('account_masked').notNull(),
    /** The failed or returned payment this one re-issues: at most once. */
    reissueOf: uuid('reissue_of'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    resultAt: timestamp('result_at', { withTimezone: true }),
    /** The bank's reason code (ISO 20022 ExternalStatusReason1Code, e.g. AC04 closed account). */
    resultCode: text('result_code'),
    resultDetail: text('result_detail'),
    bankReference: text('bank_reference'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('payment_items_status_check', sql`${t.status} in (${list(itemStatuses)})`),
    check('payment_items_amount_check', sql`${t.amountFen} > 0`),
    check('payment_items_period_check', periodCheck(t.period)),
    check('payment_items_source_check', sql`num_nonnulls(${t.enrollmentId}, ${t.temporaryAssistanceId}) = 1`),
    check('payment_items_end_to_end_check', sql`length(${t.endToEndId}) between 1 and 35`),
    check(
      'payment_items_result_check',
      sql`(${t.status} in ('paid','failed','returned')) = (${t.resultAt} is not null)`,
    ),
    check('payment_items_sent_check', sql`${t.status} in ('pending','cancelled') or ${t.sentAt} is not null`),
    // EndToEndIds are unique. Since migration payments_bulk a payment's is its id's 32 hex digits
    // (idsOf in generate.sql.ts), unique with the id: only payments whose EndToEndId is something else
    // (made before, with a random one) need an index of their own, which spares a month's batch half
    // a million entries. Results are matched by id (results.sql.ts: itemIdOf).
    uniqueIndex('payment_items_end_to_end_idx')
      .on(t.endToEndId)
      .where(sql`${t.endToEndId} <> replace(${t.id}::text, '-', '')`),
    // Nobody is paid twice: one live payment per enrollment, program and period, and per grant.
    // Program and period lead, so that a month's payments are added at the index's end rather than
    // next to each enrollment's earlier months all over it.
    uniqueIndex('payment_items_enrollment_once_idx')
      .on(t.programCode, t.period, t.enrollmentId)
      .where(sql`${t.enrollmentId} is not null and ${t.live}`),
    uniqueIndex('payment_items_grant_once_idx')
      .on(t.temporaryAssistanceId)
      .where(sql`${t.temporaryAssistanceId} is not null and ${t.live}`),
    // A failed or returned payment is re-issued at most once.
    uniqueIndex('payment_items_reissue_once_idx')
      .on(t.reissueOf)
      .where(sql`${t.reissueOf} is not null`),
    index('payment_items_batch_idx').on(t.batchId, t.id),
    // An enrollment's payments, period by period (inPaidPeriods in queries.ts, the delete guards of
    // migration payments_by_household): live ones (pending, sent, paid) are in
    // payment_items_enrollment_once_idx; the others (failed, returned, cancelled) here. A batch's new
    // payments are all live: they add nothing to this one. A person's payments are those of the
    // enrollments of their household and of their temporary assistance (payment_items_of_person()):
    // an index by person, in an order other than the batch's, took a fifth of a month's generation.
    index('payment_items_period_enrollment_not_live_idx')
      .on(t.period, t.enrollmentId)
      .where(sql`${t.enrollmentId} is not null and not ${t.live}`),
    index('payment_items_grant_idx')
      .on(t.temporaryAssistanceId)
      .where(sql`${t.temporaryAssistanceId} is not null`),
  ],
);

/**
 * What a generation left out, and why: nobody is forgotten silently. A follow-up batch pays those
 * that can be paid by then (a bank account recorded since).
 */
export const paymentExclusions = pgTable(
  'payment_exclusions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => paymentBatches.id),
    enrollmentId: uuid('enrollment_id').references(() => enrollments.id),
    /** A failed or returned payment that could not be re-issued. */
    failedItemId: uuid('failed_item_id').references(() => paymentItems.id),
    householdId: uuid('household_id').references(() => households.id),
    personId: uuid('person_id').references(() => persons.id),
    region: text('region').notNull(),
    reason: text('reason').$type<ExclusionReason>().notNull(),
  },
  (t) => [
    check('payment_exclusions_reason_check', sql`${t.reason} in (${list(exclusionReasons)})`),
    index('payment_exclusions_batch_idx').on(t.batchId, t.id),
  ],
);

/**
 * The double-entry journal: each transaction (an approval allocating funds, a set of bank
 * results) has entries per batch and payee region whose debits equal their credits, checked by a
 * deferred constraint trigger at commit (migration payments_ledger). Append-only.
 */
export const paymentJournal = pgTable(
  'payment_journal',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => paymentBatches.id),
    /** approval allocates a batch's funds; results move them; withdrawal gives a cancelled batch's back. */
    kind: text('kind').$type<JournalKind>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    byClientId: uuid('by_client_id').references(() => clients.id),
    requestId: text('request_id'),
  },
  (t) => [
    check('payment_journal_kind_check', sql`${t.kind} in (${list(journalKinds)})`),
    index('payment_journal_batch_idx').on(t.batchId, t.at),
    // A batch's funds are allocated once.
    uniqueIndex('payment_journal_approval_once_idx')
      .on(t.batchId)
      .where(sql`${t.kind} = 'approval'`),
  ],
);

export const paymentLedgerEntries = pgTable(
  'payment_ledger_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    journalId: uuid('journal_id')
      .notNull()
      .references(() => paymentJournal.id),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => paymentBatches.id),
    programCode: text('program_code').notNull(),
    period: text('period').notNull(),
    region: text('region').notNull(),
    account: text('account').$type<LedgerAccount>().notNull(),
    side: text('side').$type<'debit' | 'credit'>().notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
  },
  (t) => [
    check('payment_ledger_entries_account_check', sql`${t.account} in (${list(ledgerAccounts)})`),
    check('payment_ledger_entries_side_check', sql`${t.side} in ('debit','credit')`),
    check('payment_ledger_entries_amount_check', sql`${t.amountFen} > 0`),
    index('payment_ledger_entries_journal_idx').on(t.journalId),
    index('payment_ledger_entries_batch_idx').on(t.batchId, t.account),
    index('payment_ledger_entries_report_idx').on(t.programCode, t.period, t.region),
  ],
);
