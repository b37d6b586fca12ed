import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { businessDate, regionCode } from '../registry/programs.schemas.js';

/** A county-level region code: a district, county or county-level city (6 digits). */
export const districtCode = z.string().regex(/^\d{6}$/, 'must be a district code of 6 digits');

/** The figures of a daily report, in their order (CSV columns follow it). */
export const figureNames = [
  'suspected',
  'confirmed',
  'hospitalized',
  'inQuarantine',
  'recovered',
  'died',
  'emergencyGrants',
  'emergencyGrantsFen',
  'inKindHandouts',
  'inKindItems',
  'visits',
  'keyPersonsWithoutCaregiver',
] as const;
export type FigureName = (typeof figureNames)[number];
export type Figures = Record<FigureName, number>;

/**
 * States on the day rather than counts of what happened that day: over several days their total is
 * the highest day's (the peak), not the sum.
 */
export const stockFigures: FigureName[] = ['inQuarantine', 'keyPersonsWithoutCaregiver'];

export const figureDescriptions: Record<FigureName, string> = {
  suspected:
    'Recipients reported to health as suspected cases that day (distinct persons with a referral reported that day, withdrawn ones aside)',
  confirmed: 'Recipients confirmed that day (distinct persons whose referral’s outcome `confirmed` is dated that day)',
  hospitalized:
    'Recipients taken to a designated hospital that day (distinct persons whose referral was transferred that day, withdrawn ones aside)',
  inQuarantine:
    'Recipients in quarantine on the day (close contacts who are assistance recipients, living in the district, whose quarantine covers the day; distinct persons). A state, not a count of the day’s events',
  recovered: 'Recipients recovered that day. The service does not hold this: the district fills it in',
  died: 'Recipients who died that day. The service does not hold this: the district fills it in',
  emergencyGrants: 'Temporary-assistance grants made that day in the district (granted or completed since)',
  emergencyGrantsFen: 'Their cash, in fen',
  inKindHandouts: 'In-kind distributions from the district’s stock that day',
  inKindItems: 'Items handed out in them (the sum of their quantities, whatever the unit)',
  visits: 'Visits to key persons made that day',
  keyPersonsWithoutCaregiver:
    'Key persons living in the district without an active caregiver at the end of the day. A state, not a count of the day’s events',
};

const count = (name: FigureName) => z.number().int().min(0).max(10_000_000).describe(figureDescriptions[name]);
const countOf = (name: FigureName) =>
  name === 'emergencyGrantsFen'
    ? z.number().int().min(0).max(1_000_000_000_000).describe(figureDescriptions[name])
    : name === 'inKindItems'
      ? z.number().int().min(0).max(1_000_000_000).describe(figureDescriptions[name])
      : count(name);

const shape = <T extends z.ZodType>(each: (name: FigureName) => T) =>
  Object.fromEntries(figureNames.map((n) => [n, each(n)])) as Record<FigureName, T>;

/** The figures, without a schema id: event payloads are documented on their own, where no id resolves. */
export const figuresObject = () => z.object(shape(countOf));
export const FiguresSchema = figuresObject().meta({ id: 'DailyReportFigures' });

const notes = z.string().trim().min(1).max(4000);

export const DailyReportBody = z
  .object({
    district: districtCode.describe('The district reporting, inside your jurisdiction'),
    date: businessDate.describe('The day reported on (Asia/Shanghai); not in the future'),
    zero: z
      .boolean()
      .default(false)
      .describe('`true`: a zero report, nothing to report. Every figure is then 0 (omit them or send 0)'),
    ...shape((n) => countOf(n).optional()),
    notes: notes.optional().describe('Free text: what the figures do not say'),
  })
  .strict();
export type DailyReportInput = z.infer<typeof DailyReportBody>;

export const reportStatuses = ['on_time', 'late', 'missing', 'pending'] as const;
export type ReportStatus = (typeof reportStatuses)[number];
const statusText =
  '`on_time`: first submitted by the deadline; `late`: after it; `missing`: nothing submitted and the deadline has passed; `pending`: nothing submitted yet, the deadline has not passed';

export const DailyReportVersionSchema = z
  .object({
    version: z.number().int(),
    zero: z.boolean(),
    figures: FiguresSchema,
    notes: z.string().nullable(),
    submittedAt: timestamp,
    submittedBy: z.uuid().nullable().describe('The client that submitted it'),
  })
  .meta({ id: 'DailyReportVersion' });

export const DailyReportSchema = z
  .object({
    id: z.uuid(),
    district: z.string(),
    date: z.iso.date(),
    dueAt: timestamp.describe('The deadline: the day at the policy’s dailyReportCutoff (Asia/Shanghai)'),
    status: z.enum(reportStatuses).describe(statusText),
    version: z.number().int().describe('The current version; 0 when none was submitted'),
    firstSubmittedAt: timestamp.nullable(),
    missingAt: timestamp.nullable().describe('When daily_report.missing was published for it, if it was'),
    current: DailyReportVersionSchema.nullable().describe('The current version; null when none was submitted'),
  })
  .meta({ id: 'DailyReport' });

export const DailyReportVersionsSchema = z.object({
  district: z.string(),
  date: z.iso.date(),
  items: z.array(DailyReportVersionSchema).describe('Every version, the first first'),
});

export const DraftQuery = z.object({
  district: districtCode.describe('The district, inside your jurisdiction'),
  date: businessDate.describe('The day (Asia/Shanghai); not in the future'),
});

export const DraftSchema = z
  .object({
    district: z.string(),
    date: z.iso.date(),
    dueAt: timestamp,
    asOf: timestamp.describe('When the figures were read; a draft of today grows during the day'),
    figures: z
      .object(shape((n) => countOf(n).nullable()))
      .describe('What the service holds for the district and day; null where it holds nothing: fill those in'),
    notHeld: z.array(z.enum(figureNames)).describe('The figures the service does not hold, to fill in'),
    zero: z.boolean().describe('Every figure the service holds is 0 (a zero report may fit)'),
    current: DailyReportVersionSchema.nullable().describe('The version already submitted, if any'),
  })
  .meta({ id: 'DailyReportDraft' });

export const RangeQuery = z.object({
  from: businessDate.describe('First day (included)'),
  to: businessDate.describe('Last day (included); at most 366 days after from'),
  region: regionCode.optional().describe('Districts of this region (prefix), inside your jurisdiction'),
  format: z.enum(['json', 'csv']).optional().describe('`csv`: the same as `Accept: text/csv`'),
});

const DistrictList = z.array(z.string());
export const ComplianceSchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    region: z.string(),
    districts: z.array(
      z.object({
        district: z.string(),
        name: z.string(),
        onTime: z.number().int(),
        late: z.number().int(),
        zero: z.number().int().describe('Of the days reported, those with a zero report'),
        missing: z.number().int(),
        pending: z.number().int(),
      }),
    ),
    days: z.array(
      z.object({
        date: z.iso.date(),
        onTime: DistrictList.describe('Districts that reported by the deadline'),
        late: DistrictList.describe('Districts that reported after it'),
        zero: DistrictList.describe('Of those that reported, the ones with a zero report (counted as reported)'),
        missing: DistrictList.describe('Districts that did not report by the deadline and have not since'),
        pending: DistrictList.describe('Districts whose deadline has not passed and that have not reported yet'),
      }),
    ),
  })
  .meta({ id: 'DailyReportCompliance' });

export const TotalsQuery = RangeQuery.extend({
  by: z
    .enum(['day', 'district'])
    .default('day')
    .describe('`day`: one row a day, the districts summed; `district`: one row a district over the range'),
});

const TotalFigures = FiguresSchema.extend({
  reports: z.number().int().describe('Reports counted (the current version of each)'),
  zeroReports: z.number().int(),
});

export const TotalsSchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    region: z.string(),
    by: z.enum(['day', 'district']),
    districts: z.number().int().describe('Districts in the region'),
    total: TotalFigures.describe(
      'Over the whole range and every district: flows summed, inQuarantine and keyPersonsWithoutCaregiver the highest day’s',
    ),
    rows: z.array(
      TotalFigures.extend({
        date: z.iso.date().nullable().describe('by=day: the day'),
        district: z.string().nullable().describe('by=district: the district'),
        name: z.string().nullable().describe('by=district: its name'),
        notReported: z.number().int().describe('by=day: districts with no report that day; by=district: days'),
      }),
    ),
  })
  .meta({ id: 'DailyReportTotals' });

// ─── Urgent reports ─────────────────────────────────────────────────────────

export const urgentTypes = [
  'infection',
  'death',
  'quarantine_hardship',
  'care_gap',
  'supply_shortage',
  'safety',
  'other',
] as const;
export const severities = ['general', 'serious', 'major', 'critical'] as const;
export const audiences = ['health', 'cdc'] as const;

export const UrgentReportBody = z
  .object({
    district: districtCode.describe('Where it happened, inside your jurisdiction'),
    type: z
      .enum(urgentTypes)
      .describe(
        '`infection` (a cluster or a serious case among recipients) and `death` are pushed to health and disease control too; `quarantine_hardship` (people in quarantine without care or supplies) to disease control',
      ),
    severity: z.enum(severities).describe('general (IV), serious (III), major (II), critical (I)'),
    personIds: z
      .array(z.uuid())
      .max(200)
      .default([])
      .describe('Registry persons involved, inside your jurisdiction (each once)'),
    description: z.string().trim().min(1).max(8000),
    occurredAt: timestamp.optional().describe('When it happened; now when omitted; not in the future'),
  })
  .strict();
export type UrgentReportInput = z.infer<typeof UrgentReportBody>;

export const UrgentReportSchema = z
  .object({
    id: z.uuid(),
    district: z.string(),
    type: z.enum(urgentTypes),
    severity: z.enum(severities),
    personIds: z.array(z.uuid()),
    description: z.string(),
    occurredAt: timestamp,
    audience: z.array(z.enum(audiences)).describe('Agencies it was pushed to besides civil affairs'),
    filedAt: timestamp,
    filedBy: z.uuid().nullable(),
  })
  .meta({ id: 'UrgentReport' });

export const UrgentReportQuery = z.object({
  region: regionCode.optional().describe('Reports of districts in this region (prefix), inside your jurisdiction'),
  type: z.enum(urgentTypes).optional(),
  severity: z.enum(severities).optional(),
});
