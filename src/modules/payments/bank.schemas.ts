import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { programCodes } from '../registry/programs.rules.js';
import { ACCOUNT_NUMBER_MAX_DIGITS, accountNumberProblem } from '../registry/people.schemas.js';
import { regionCode } from '../registry/programs.schemas.js';
import type { PayerAccountRow } from './bank.accounts.js';

const program = z.enum(programCodes);

const payerFields = {
  accountName: z
    .string()
    .trim()
    .min(1)
    .max(70)
    .describe('The account’s name as the bank holds it, e.g. 长春市南关区社会保障基金专户 (Dbtr/Nm)'),
  accountNumber: z
    .string()
    .max(100)
    .superRefine((value, ctx) => {
      // The registry's rule for every account number: 6 to 34 digits (ISO 20022 carries 34).
      const problem = accountNumberProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe(`The account number (DbtrAcct): 6 to ${ACCOUNT_NUMBER_MAX_DIGITS} digits; spaces are dropped`),
  bankName: z.string().trim().min(1).max(140).describe('The bank holding the account (DbtrAgt/FinInstnId/Nm)'),
  bankBic: z
    .string()
    .regex(/^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$/, 'must be a BIC (8 or 11 characters)')
    .optional()
    .describe('The bank’s BIC, when it has one'),
  bankCnaps: z
    .string()
    .regex(/^[0-9]{12}$/, 'must be a 12-digit CNAPS bank code')
    .optional()
    .describe('The branch’s CNAPS code (大额支付系统行号), sent as ClrSysMmbId'),
};

export const PayerAccountBody = z
  .object({
    program,
    region: regionCode.describe(
      'Where its batches are paid from it: a region-code prefix inside your jurisdiction (the longest prefix of a batch’s region wins)',
    ),
    ...payerFields,
  })
  .strict();

export const PayerAccountReplaceBody = z.object(payerFields).strict();

export const PayerAccountQuery = z.object({
  program: program.optional(),
  region: regionCode.optional().describe('Accounts of regions inside this prefix (and inside your jurisdiction)'),
});

export const PayerAccountSchema = z
  .object({
    id: z.uuid(),
    program,
    region: z.string(),
    accountName: z.string(),
    accountNumber: z.string(),
    bankName: z.string(),
    bankBic: z.string().nullable(),
    bankCnaps: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    version: z.number().int(),
  })
  .meta({ id: 'PayerAccount', description: 'A fund account payments are made from (the debtor of pain.001)' });

export const payerAccountOut = (row: PayerAccountRow): z.infer<typeof PayerAccountSchema> => ({
  id: row.id,
  program: row.programCode as z.infer<typeof program>,
  region: row.region,
  accountName: row.accountName,
  accountNumber: row.accountNumber,
  bankName: row.bankName,
  bankBic: row.bankBic,
  bankCnaps: row.bankCnaps,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
  version: row.version,
});

const Money = z.object({ count: z.number().int(), amountFen: z.number().int() });

export const StatusReportAnswerSchema = z
  .object({
    batchId: z.uuid(),
    reportMessageId: z.string().nullable().describe('The report’s own GrpHdr/MsgId'),
    recorded: z.object({ paid: Money, failed: Money, returned: Money }).describe('What this report changed'),
    unchanged: z.number().int().describe('Results already recorded exactly so (a repeated report)'),
    stillSent: z.number().int().describe('Payments of the batch still awaiting a result'),
    interim: z
      .number()
      .int()
      .describe('Transactions reported with a status that is not final yet (ACTC, ACCP, ACSP, PDNG): nothing recorded'),
  })
  .meta({ id: 'PaymentStatusReportAnswer' });
