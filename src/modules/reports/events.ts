import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { audiences, figuresObject, severities, urgentTypes } from './schemas.js';

const at = z.iso.datetime({ offset: true });

/** Daily reports are civil affairs' business: the district's own clients and the city's (scope reports:read). */
const daily = {
  reportId: z.uuid(),
  district: z.string(),
  date: z.iso.date(),
  dueAt: at,
};

const submittedData = z.object({
  ...daily,
  version: z.number().int(),
  zero: z.boolean(),
  late: z.boolean().describe('The report was first submitted after its deadline'),
  figures: figuresObject(),
  submittedAt: at,
});

export const dailyReportSubmitted = defineEvent({
  type: 'daily_report.submitted',
  scope: 'reports:read',
  summary: 'A district submitted its daily report for a day (version 1), or its zero report',
  data: submittedData,
});

export const dailyReportCorrected = defineEvent({
  type: 'daily_report.corrected',
  scope: 'reports:read',
  summary: 'A district corrected its daily report: a new version, the earlier ones kept',
  data: submittedData.extend({ previousVersion: z.number().int() }),
});

export const dailyReportMissing = defineEvent({
  type: 'daily_report.missing',
  scope: 'reports:read',
  summary:
    'A district had not reported for a day when its deadline passed; published once per district and day, by whichever instance of the service saw it first',
  data: z.object({ ...daily, detectedAt: at }),
});

const urgent = z.object({
  urgentReportId: z.uuid(),
  district: z.string(),
  type: z.enum(urgentTypes),
  severity: z.enum(severities),
  personIds: z.array(z.uuid()).describe('Registry persons involved (ids only)'),
  description: z.string(),
  occurredAt: at,
  filedAt: at,
  audience: z.array(z.enum(audiences)),
});

export const urgentReportFiled = defineEvent({
  type: 'urgent_report.filed',
  scope: 'reports:read',
  summary: 'An urgent report was filed (measure 7): civil affairs of the district and the city learn of it at once',
  data: urgent,
});

export const urgentReportSentToHealth = defineEvent({
  type: 'urgent_report.sent_to_health',
  scope: 'referrals:receive',
  summary:
    'An urgent report that concerns health (type infection or death), for the health and disease-control clients covering the district (those that receive referrals)',
  data: urgent,
});

export const urgentReportSentToCdc = defineEvent({
  type: 'urgent_report.sent_to_cdc',
  scope: 'contacts:receive',
  summary:
    'An urgent report that concerns disease control only (type quarantine_hardship), for the disease-control clients covering the district (those that receive close-contact handoffs)',
  data: urgent,
});
