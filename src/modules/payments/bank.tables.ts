import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';
import { programs } from '../registry/programs.tables.js';
import { paymentBatches } from './tables.js';

const regionCheck = (column: unknown) => sql`${column} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`;
/** What an ISO 20022 pain.001 can carry (Max34Text account, Max70Text account name, Max140Text bank name, BIC, CNAPS). */
const payerChecks = (t: {
  accountName: unknown;
  accountNumber: unknown;
  bankName: unknown;
  bankBic: unknown;
  bankCnaps: unknown;
}) => sql`${t.accountNumber} ~ '^[0-9]{6,34}$'
  and char_length(${t.accountName}) between 1 and 70 and char_length(${t.bankName}) between 1 and 140
  and (${t.bankBic} is null or ${t.bankBic} ~ '^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$')
  and (${t.bankCnaps} is null or ${t.bankCnaps} ~ '^[0-9]{12}$')`;

/**
 * The account a program's payments in a region are paid from (the fund's special account, 社保基金专户),
 * kept by finance: the debtor of a batch's pain.001. A batch is paid from the account of its
 * program whose region is the longest prefix of the batch's region (a district's own, else the city's).
 */
export const paymentPayerAccounts = pgTable(
  'payment_payer_accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    programCode: text('program_code')
      .notNull()
      .references(() => programs.code),
    region: text('region').notNull(),
    /** The account's name as the bank holds it (Dbtr/Nm, DbtrAcct/Nm, InitgPty/Nm). */
    accountName: text('account_name').notNull(),
    accountNumber: text('account_number').notNull(),
    /** The bank holding the account (DbtrAgt): its name, and its BIC and CNAPS bank code when known. */
    bankName: text('bank_name').notNull(),
    bankBic: text('bank_bic'),
    bankCnaps: text('bank_cnaps'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedByClientId: uuid('updated_by_client_id').references(() => clients.id),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('payment_payer_accounts_region_check', regionCheck(t.region)),
    check('payment_payer_accounts_fields_check', payerChecks(t)),
    uniqueIndex('payment_payer_accounts_program_region_idx').on(t.programCode, t.region),
  ],
);

/**
 * A batch's pain.001 as the bank first collected it: its MsgId, when it was made (CreDtTm) and the
 * payer account it debits, copied. Every later download is the same file, even after finance
 * changes the account (the bank tells a repeated file by its MsgId).
 */
export const paymentBatchFiles = pgTable(
  'payment_batch_files',
  {
    batchId: uuid('batch_id')
      .primaryKey()
      .references(() => paymentBatches.id),
    messageId: text('message_id').notNull(),
    payerAccountId: uuid('payer_account_id')
      .notNull()
      .references(() => paymentPayerAccounts.id),
    accountName: text('account_name').notNull(),
    accountNumber: text('account_number').notNull(),
    bankName: text('bank_name').notNull(),
    bankBic: text('bank_bic'),
    bankCnaps: text('bank_cnaps'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    /** When the whole file was written out (payment_batch_file_parts); null: made as it is read. */
    renderedAt: timestamp('rendered_at', { withTimezone: true }),
    renderedParts: integer('rendered_parts'),
    renderedBytes: bigint('rendered_bytes', { mode: 'number' }),
  },
  (t) => [
    check(
      'payment_batch_files_rendered_check',
      sql`(${t.renderedAt} is null) = (${t.renderedParts} is null) and (${t.renderedAt} is null) = (${t.renderedBytes} is null)`,
    ),
    check('payment_batch_files_message_id_check', sql`char_length(${t.messageId}) between 1 and 35`),
    check('payment_batch_files_fields_check', payerChecks(t)),
    uniqueIndex('payment_batch_files_message_id_idx').on(t.messageId),
  ],
);

// PGlite hands bytea back as a Uint8Array, node-postgres as a Buffer.
const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) =>
    Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
});

/**
 * A batch's pain.001 written out once finance approves it, so that the bank's downloads stream
 * stored bytes instead of opening every payee's account again: the document in parts of about
 * 1 MiB, each compressed (raw deflate) and sealed (AES-256-GCM, like every account number at rest).
 */
export const paymentBatchFileParts = pgTable(
  'payment_batch_file_parts',
  {
    batchId: uuid('batch_id')
      .notNull()
      .references(() => paymentBatchFiles.batchId),
    seq: integer('seq').notNull(),
    /** The document's length in bytes up to the end of this part (uncompressed). */
    endOffset: bigint('end_offset', { mode: 'number' }).notNull(),
    sealed: bytea('sealed').notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.seq] })],
);
