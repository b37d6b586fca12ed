import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';

const regionCheck = (column: unknown) => sql`${column} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`;

/** A household (户): where it lives and where it is registered; its members are persons. */
export const households = pgTable(
  'households',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Residence region (a 6- to 12-digit code); jurisdiction is checked against it. */
    region: text('region').notNull(),
    address: text('address'),
    /** Place of household registration (户籍地). */
    hukouRegion: text('hukou_region'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('households_region_check', regionCheck(t.region)),
    check('households_hukou_region_check', sql`${t.hukouRegion} is null or ${regionCheck(t.hukouRegion)}`),
    index('households_region_idx').on(t.region, t.id),
  ],
);

/**
 * A person. Sensitive fields (PIPL) are kept three ways: sealed (AES-256-GCM, the key id inside the
 * sealed text and in `sealed_key_id` for rotation), a blind index (keyed HMAC, to find a person by
 * the number without decrypting) and the masked form shown to callers without the scope.
 */
export const persons = pgTable(
  'persons',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    householdId: uuid('household_id').references(() => households.id),
    /** Relationship to the head of the household; `head` for the head. */
    relationship: text('relationship'),
    name: text('name').notNull(),
    idType: text('id_type').notNull(),
    idNumberSealed: text('id_number_sealed').notNull(),
    idNumberIndex: text('id_number_index').notNull(),
    idNumberMasked: text('id_number_masked').notNull(),
    birthDate: date('birth_date', { mode: 'string' }),
    sex: text('sex'),
    /** Residence region; jurisdiction is checked against it. */
    region: text('region').notNull(),
    address: text('address'),
    hukouRegion: text('hukou_region'),
    phoneSealed: text('phone_sealed'),
    phoneIndex: text('phone_index'),
    phoneMasked: text('phone_masked'),
    bankName: text('bank_name'),
    bankAccountHolder: text('bank_account_holder'),
    bankAccountSealed: text('bank_account_sealed'),
    bankAccountMasked: text('bank_account_masked'),
    /** The key id every sealed field of this row was sealed with. */
    sealedKeyId: text('sealed_key_id').notNull(),
    scatteredExtremelyPoor: boolean('scattered_extremely_poor').notNull().default(false),
    livesAlone: boolean('lives_alone').notNull().default(false),
    disabled: boolean('disabled').notNull().default(false),
    /** Self-care ability, for the tekun care allowance. */
    selfCare: text('self_care'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('persons_region_check', regionCheck(t.region)),
    check('persons_hukou_region_check', sql`${t.hukouRegion} is null or ${regionCheck(t.hukouRegion)}`),
    check(
      'persons_id_type_check',
      sql`${t.idType} in ('resident_id','passport','hk_macao_permit','taiwan_permit','foreign_permanent_residence','other')`,
    ),
    check('persons_sex_check', sql`${t.sex} is null or ${t.sex} in ('male','female')`),
    check(
      'persons_relationship_check',
      sql`${t.relationship} is null or ${t.relationship} in ('head','spouse','child','parent','sibling','grandchild','grandparent','other')`,
    ),
    check(
      'persons_self_care_check',
      sql`${t.selfCare} is null or ${t.selfCare} in ('able','partially_unable','unable')`,
    ),
    check('persons_bank_check', sql`(${t.bankAccountSealed} is null) = (${t.bankAccountMasked} is null)`),
    // At most 34 digits, as ISO 20022 carries an account (people.schemas.ts): the sealed number cannot
    // be checked here, but its mask keeps its length (sensitive.ts).
    check('persons_bank_account_length_check', sql`char_length(${t.bankAccountMasked}) <= 34`),
    // One person per identity document.
    uniqueIndex('persons_id_document_idx').on(t.idType, t.idNumberIndex),
    index('persons_phone_index_idx').on(t.phoneIndex),
    index('persons_household_idx').on(t.householdId),
    index('persons_region_idx').on(t.region, t.id),
    index('persons_sealed_key_idx').on(t.sealedKeyId),
    // Key persons (measure 4), for care coverage: a small share of everyone.
    index('persons_key_region_idx')
      .on(t.region, t.id)
      .where(sql`${t.scatteredExtremelyPoor} or ${t.livesAlone} or ${t.disabled}`),
  ],
);
