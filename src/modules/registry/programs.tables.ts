import { sql } from 'drizzle-orm';
import { bigint, check, date, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';

/** The four assistance programs of DOMAIN.md. Fixed by policy: seeded by a migration, never changed through the API. */
export const programs = pgTable(
  'programs',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    nameZh: text('name_zh').notNull(),
    frequency: text('frequency').$type<'monthly' | 'one_off'>().notNull(),
    whatIsPaid: text('what_is_paid').notNull(),
    /** What `monthly_standard_fen` of this program's standards means. */
    standardMeaning: text('standard_meaning').notNull(),
    /** Normal rules, fixed by regulation and seeded with the programs; an emergency policy may shorten the first. */
    decisionDeadlineDays: integer('decision_deadline_days'),
    /** Months between periodic reviews of an enrollment; null: not reviewed. */
    reviewIntervalMonths: integer('review_interval_months'),
    /** Aid first, paperwork after: days to complete a grant's paperwork; null: not a grant program. */
    paperworkDeadlineDays: integer('paperwork_deadline_days'),
  },
  (t) => [
    check('programs_code_check', sql`${t.code} in ('dibao','tekun','temporary_assistance','price_subsidy')`),
    check('programs_frequency_check', sql`${t.frequency} in ('monthly','one_off')`),
  ],
);

/**
 * A program's amounts for a region (a region-code prefix) over a period of business dates
 * (Asia/Shanghai), half-open: in force from `effective_from` up to the day before `effective_to`;
 * no `effective_to` means until further notice. History: rows are created and ended, never
 * changed otherwise. The service keeps periods of one program and region from overlapping.
 */
export const programStandards = pgTable(
  'program_standards',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    programCode: text('program_code')
      .notNull()
      .references(() => programs.code),
    region: text('region').notNull(),
    effectiveFrom: date('effective_from', { mode: 'string' }).notNull(),
    effectiveTo: date('effective_to', { mode: 'string' }),
    monthlyStandardFen: bigint('monthly_standard_fen', { mode: 'number' }).notNull(),
    /** Financial assets allowed per household member, as a multiple of the monthly standard. */
    assetMultiple: integer('asset_multiple'),
    /** Tekun only: care allowance a month by self-care ability. */
    careAbleFen: bigint('care_able_fen', { mode: 'number' }),
    carePartiallyUnableFen: bigint('care_partially_unable_fen', { mode: 'number' }),
    careUnableFen: bigint('care_unable_fen', { mode: 'number' }),
    /** Economic verification: residential properties a household may own; null: no limit. */
    propertyLimit: integer('property_limit'),
    /** Economic verification: the highest value a household's vehicle may have; null: no limit. */
    vehicleValueLimitFen: bigint('vehicle_value_limit_fen', { mode: 'number' }),
    /** Economic verification: registered capital a household's businesses may total; 0: none allowed; null: no limit. */
    businessCapitalLimitFen: bigint('business_capital_limit_fen', { mode: 'number' }),
    label: text('label'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    endedByClientId: uuid('ended_by_client_id').references(() => clients.id),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('program_standards_region_check', sql`${t.region} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`),
    // Equal dates: a standard withdrawn before it took effect (never in force).
    check('program_standards_period_check', sql`${t.effectiveTo} is null or ${t.effectiveTo} >= ${t.effectiveFrom}`),
    check('program_standards_standard_check', sql`${t.monthlyStandardFen} > 0`),
    check('program_standards_asset_multiple_check', sql`${t.assetMultiple} is null or ${t.assetMultiple} > 0`),
    check(
      'program_standards_limits_check',
      sql`(${t.propertyLimit} is null or ${t.propertyLimit} >= 0)
        and (${t.vehicleValueLimitFen} is null or ${t.vehicleValueLimitFen} >= 0)
        and (${t.businessCapitalLimitFen} is null or ${t.businessCapitalLimitFen} >= 0)`,
    ),
    check(
      'program_standards_care_check',
      sql`(${t.careAbleFen} is null and ${t.carePartiallyUnableFen} is null and ${t.careUnableFen} is null)
        or (${t.programCode} = 'tekun' and ${t.careAbleFen} >= 0 and ${t.carePartiallyUnableFen} >= 0 and ${t.careUnableFen} >= 0)`,
    ),
    index('program_standards_program_region_idx').on(t.programCode, t.region, t.effectiveFrom),
  ],
);
