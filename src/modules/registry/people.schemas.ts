import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { businessDate, regionCode } from './programs.schemas.js';

export const relationships = [
  'head',
  'spouse',
  'child',
  'parent',
  'sibling',
  'grandchild',
  'grandparent',
  'other',
] as const;
export const idTypes = [
  'resident_id',
  'passport',
  'hk_macao_permit',
  'taiwan_permit',
  'foreign_permanent_residence',
  'other',
] as const;
export const selfCareLevels = ['able', 'partially_unable', 'unable'] as const;
export type Relationship = (typeof relationships)[number];
export type IdType = (typeof idTypes)[number];
export type SelfCare = (typeof selfCareLevels)[number];

export const relationship = z.enum(relationships).describe('Relationship to the head of the household');
export const idType = z
  .enum(idTypes)
  .describe('Identity document: a resident ID (GB 11643), passport, Hong Kong/Macao or Taiwan permit, …');
const selfCare = z.enum(selfCareLevels).describe('Self-care ability, for the tekun care allowance');
const sex = z.enum(['male', 'female']);

const name = z.string().trim().min(1).max(100);
const address = z.string().trim().min(1).max(300);
export const idNumber = z
  .string()
  .min(1)
  .max(40)
  .describe('The document’s number; a resident ID number is checked (length, birth date, check character)');
const phone = z
  .string()
  .regex(/^\+?[0-9][0-9 -]{4,22}$/, 'must be a phone number: digits, with an optional leading + and spaces or dashes')
  .describe('Mobile or landline');

/**
 * At most 34 characters: what ISO 20022 carries as an account (IBAN2007Identifier; Othr/Id is
 * Max34Text), so that every account on file can be written into the bank's pain.001.
 */
export const ACCOUNT_NUMBER_MAX_DIGITS = 34;

/** What is wrong with an account number as entered (digits, spaces grouping them), or null. */
export function accountNumberProblem(value: string): string | null {
  if (!/^[0-9][0-9 ]*[0-9]$/.test(value))
    return 'must be the account or card number: digits, optionally grouped by spaces';
  const digits = value.replace(/ /g, '').length;
  if (digits < 6) return `has ${digits} digits; an account number has at least 6`;
  if (digits > ACCOUNT_NUMBER_MAX_DIGITS) {
    return `has ${digits} digits; an account number has at most ${ACCOUNT_NUMBER_MAX_DIGITS} (ISO 20022, as banks are sent it)`;
  }
  return null;
}

export const BankAccountBody = z
  .object({
    bankName: z.string().trim().min(1).max(100),
    accountNumber: z
      .string()
      .max(100)
      .superRefine((value, ctx) => {
        const problem = accountNumberProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe(
        `The account or card number: 6 to ${ACCOUNT_NUMBER_MAX_DIGITS} digits, optionally grouped by spaces (dropped)`,
      ),
    holder: name.describe('The account holder’s name as the bank knows it'),
  })
  .strict();

/** A person's own fields, whether registered in a household or alone. */
const personFields = {
  name,
  idType,
  idNumber,
  birthDate: businessDate
    .optional()
    .describe('For documents other than a resident ID; a resident ID number’s own birth date is used'),
  sex: sex.optional().describe('For documents other than a resident ID; derived from a resident ID number'),
  phone: phone.optional(),
  hukouRegion: regionCode.optional().describe('Place of household registration (户籍地), anywhere in China'),
  bankAccount: BankAccountBody.optional().describe('Where payments go'),
  scatteredExtremelyPoor: z.boolean().optional().describe('A scattered extremely poor person (分散特困人员)'),
  livesAlone: z.boolean().optional(),
  disabled: z.boolean().optional(),
  selfCare: selfCare.optional(),
};

export const MemberBody = z.object({ ...personFields, relationship }).strict();
export type NewMember = z.infer<typeof MemberBody>;

export const NewHouseholdBody = z
  .object({
    region: regionCode.describe('Residence region, county level or below, inside your jurisdiction'),
    address: address.optional(),
    hukouRegion: regionCode.optional().describe('Place of household registration (户籍地); the members’ default'),
    members: z
      .array(MemberBody)
      .min(1)
      .max(30)
      .describe('Every member, exactly one of them the head (`relationship: head`)'),
  })
  .strict();
export type NewHousehold = z.infer<typeof NewHouseholdBody>;

export const BULK_MAX = 1000;
export const BulkHouseholdsBody = z.object({ households: z.array(NewHouseholdBody).min(1).max(BULK_MAX) }).strict();

export const NewPersonBody = z
  .object({
    ...personFields,
    region: regionCode.describe('Where the person is now (residence), county level or below, inside your jurisdiction'),
    address: address.optional(),
  })
  .strict();
export type NewPerson = z.infer<typeof NewPersonBody>;

export const PersonPatchBody = z
  .object({
    phone: phone.nullable().optional().describe('null removes it'),
    bankAccount: BankAccountBody.nullable().optional().describe('null removes it'),
    region: regionCode.optional().describe('New residence region, inside your jurisdiction'),
    address: address.nullable().optional(),
    hukouRegion: regionCode.nullable().optional(),
    scatteredExtremelyPoor: z.boolean().optional(),
    livesAlone: z.boolean().optional(),
    disabled: z.boolean().optional(),
    selfCare: selfCare.nullable().optional(),
  })
  .strict();
export type PersonPatch = z.infer<typeof PersonPatchBody>;

export const PersonSearchBody = z
  .object({
    idType: idType.optional().describe('With idNumber; resident_id when omitted'),
    idNumber: idNumber.optional(),
    phone: phone.optional(),
  })
  .strict();

const masked = (what: string) =>
  z.boolean().describe(`true: ${what} is masked (the caller lacks registry:read_sensitive); false: it is whole`);

export const PersonSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid().nullable(),
    relationship: relationship.nullable(),
    name: z.string(),
    idType,
    idNumber: z.string().describe('Masked (`220102********123X`) unless the caller holds registry:read_sensitive'),
    idNumberMasked: masked('idNumber'),
    birthDate: businessDate.nullable(),
    sex: sex.nullable(),
    region: z.string().describe('Residence region'),
    address: z.string().nullable(),
    hukouRegion: z.string().nullable(),
    phone: z.string().nullable().describe('Masked (`138****5678`) unless the caller holds registry:read_sensitive'),
    phoneMasked: masked('phone'),
    bankAccount: z
      .object({
        bankName: z.string(),
        holder: z.string(),
        accountNumber: z.string().describe('Masked to the last four unless the caller holds registry:read_sensitive'),
        accountNumberMasked: masked('accountNumber'),
      })
      .nullable(),
    scatteredExtremelyPoor: z.boolean(),
    livesAlone: z.boolean(),
    disabled: z.boolean(),
    selfCare: selfCare.nullable(),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Person' });
export type PersonOut = z.infer<typeof PersonSchema>;

export const HouseholdSchema = z
  .object({
    id: z.uuid(),
    region: z.string().describe('Residence region'),
    address: z.string().nullable(),
    hukouRegion: z.string().nullable(),
    members: z.array(PersonSchema),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Household' });
export type HouseholdOut = z.infer<typeof HouseholdSchema>;

export const BulkCreatedSchema = z.object({
  households: z.array(z.object({ id: z.uuid(), memberIds: z.array(z.uuid()) })).describe('In the order of the request'),
});
