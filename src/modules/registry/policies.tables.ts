import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { clients } from '../../platform/clients/tables.js';

/**
 * An emergency response (e.g. the epidemic) for a region over a half-open period of business
 * dates (Asia/Shanghai), and the switches the measures read (DOMAIN.md, "Emergency policy").
 * Null switches: normal rules. History like standards: created, then ended, never edited.
 */
export const policies = pgTable(
  'policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    region: text('region').notNull(),
    effectiveFrom: date('effective_from', { mode: 'string' }).notNull(),
    effectiveTo: date('effective_to', { mode: 'string' }),
    /** Measure 2: applications verified by data matching and phone survey, no home visit. */
    fastTrack: boolean('fast_track').notNull().default(false),
    /** Measure 2: the shortened decision deadline of fast-tracked applications, in days. */
    decisionDeadlineDays: integer('decision_deadline_days'),
    /** Measure 2: reviews due in the policy's period move by this many months. */
    reviewExtensionMonths: integer('review_extension_months').notNull().default(0),
    /** Measure 6: temporary assistance may be granted at the place of emergency to non-local people. */
    hukouRelaxed: boolean('hukou_relaxed').notNull().default(false),
    /** Measure 7: daily reports are due by this local time (HH:MM, Asia/Shanghai); null: due at the end of the day (24:00). */
    dailyReportCutoff: text('daily_report_cutoff'),
    /** Measure 3: expedited payments are paid within this many hours. */
    greenChannelHours: integer('green_channel_hours'),
    /** Measure 4: key persons are visited at least every this many days. */
    visitIntervalDays: integer('visit_interval_days'),
    /** Measure 5: health acknowledges a suspected-case referral within this many hours. */
    referralAckHours: integer('referral_ack_hours'),
    /** Measure 5: a confirmed case's close contacts are looked for this many days before onset. */
    contactLookBackDays: integer('contact_look_back_days'),
    description: text('description'),
    createdByClientId: uuid('created_by_client_id').references(() => clients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    endedByClientId: uuid('ended_by_client_id').references(() => clients.id),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    check('policies_region_check', sql`${t.region} ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'`),
    check('policies_period_check', sql`${t.effectiveTo} is null or ${t.effectiveTo} >= ${t.effectiveFrom}`),
    check('policies_decision_deadline_check', sql`${t.decisionDeadlineDays} is null or ${t.decisionDeadlineDays} > 0`),
    check('policies_review_extension_check', sql`${t.reviewExtensionMonths} between 0 and 24`),
    check(
      'policies_cutoff_check',
      sql`${t.dailyReportCutoff} is null or ${t.dailyReportCutoff} ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'`,
    ),
    check('policies_green_channel_check', sql`${t.greenChannelHours} is null or ${t.greenChannelHours} > 0`),
    check('policies_visit_interval_check', sql`${t.visitIntervalDays} is null or ${t.visitIntervalDays} > 0`),
    check('policies_referral_ack_check', sql`${t.referralAckHours} is null or ${t.referralAckHours} > 0`),
    check(
      'policies_contact_look_back_check',
      sql`${t.contactLookBackDays} is null or ${t.contactLookBackDays} between 1 and 60`,
    ),
    index('policies_region_period_idx').on(t.region, t.effectiveFrom),
  ],
);
