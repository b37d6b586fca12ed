import { and, asc, eq, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { AuditActor } from '../../platform/audit/service.js';
import { type FieldError, notFound, ProblemError, validationError } from '../../platform/errors.js';
import { ifMatchVersion } from '../../platform/http.js';
import type { Jurisdictional } from '../../platform/jurisdiction.js';
import { businessDateOf } from '../registry/dates.js';
import type { ReportDeps } from './common.js';
import { dueAtSql } from './deadlines.js';
import { draftFigures, notHeld } from './draft.sql.js';
import { dailyReportCorrected, dailyReportSubmitted } from './events.js';
import { type DailyReportInput, figureNames, type Figures } from './schemas.js';
import { dailyReports, dailyReportVersions } from './tables.js';
import {
  checkDay,
  checkDistrict,
  type DailyReport,
  type ReportRow,
  reportOut,
  type VersionRow,
  versionOut,
} from './view.js';

const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/** The figures a submission states: a zero report's are all 0; any other states every one. */
function checkFigures(input: DailyReportInput): { figures: Figures; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const figures = {} as Figures;
  for (const name of figureNames) {
    const value = input[name];
    if (input.zero && value !== undefined && value !== 0) {
      errors.push(body(`/${name}`, 'must be 0 (or omitted) in a zero report'));
    } else if (!input.zero && value === undefined) {
      errors.push(body(`/${name}`, 'is required (0 when none; the draft gives what the service holds)'));
    }
    figures[name] = value ?? 0;
  }
  if (!input.zero && errors.length === 0 && figureNames.every((n) => figures[n] === 0)) {
    errors.push(body('/zero', 'every figure is 0: say so with a zero report (zero: true)'));
  }
  return { figures, errors };
}

const sameAs = (v: VersionRow, zero: boolean, figures: Figures, notes: string | null) =>
  v.zero === zero && (v.notes ?? null) === notes && figureNames.every((n) => Number(v[n]) === figures[n]);

/** Daily reports (measure 7, item 1): drafts, submissions and corrections, reads. */
export function createDailyReports({ db, audit, events, regions, clock }: ReportDeps) {
  const today = () => businessDateOf(clock());

  async function load(executor: Executor, district: string, date: string, lock = false) {
    const query = executor
      .select()
      .from(dailyReports)
      .where(and(eq(dailyReports.district, district), eq(dailyReports.day, date)));
    const [row] = lock ? await query.for('update') : await query;
    return row ?? null;
  }

  async function versionOf(executor: Executor, report: ReportRow): Promise<VersionRow | null> {
    if (report.version === 0) return null;
    const [v] = await executor
      .select()
      .from(dailyReportVersions)
      .where(and(eq(dailyReportVersions.reportId, report.id), eq(dailyReportVersions.version, report.version)));
    return v ?? null;
  }

  /**
   * Submits (district, day)'s report: the same content as the current version changes nothing
   * (`created: false`); anything else is a new version, the earlier ones kept. The row of the
   * (district, day) is made if need be and locked, so that submissions of one report run one after
   * another and the deadline check cannot mark it missing meanwhile.
   */
  async function submit(
    caller: Jurisdictional,
    actor: AuditActor,
    input: DailyReportInput,
    ifMatch?: string,
  ): Promise<{ report: DailyReport; created: boolean }> {
    const now = clock();
    const { figures, errors } = checkFigures(input);
    errors.unshift(...checkDay(input.date, today(), { in: 'body', pointer: '/date' }));
    if (errors.length > 0) throw validationError(errors);
    await checkDistrict(regions, caller, input.district, { in: 'body', pointer: '/district' });
    const notes = input.notes ?? null;
    return db.transaction(async (tx) => {
      await tx.execute(
        sql`insert into daily_reports (district, day, due_at)
            values (${input.district}, ${input.date}::date, ${dueAtSql(sql`${input.district}::text`, sql`${input.date}::date`)})
            on conflict (district, day) do nothing`,
      );
      const report = (await load(tx, input.district, input.date, true))!;
      const expected = ifMatchVersion(ifMatch, report.id, 'daily report');
      if (expected !== undefined && expected !== report.version) {
        throw new ProblemError(412, 'precondition-failed', 'If-Match does not match the daily report’s current ETag.');
      }
      const current = await versionOf(tx, report);
      if (current && sameAs(current, input.zero, figures, notes)) {
        return { report: reportOut(report, current, now), created: false };
      }
      const version = report.version + 1;
      const [written] = await tx
        .insert(dailyReportVersions)
        .values({
          reportId: report.id,
          version,
          zero: input.zero,
          ...figures,
          notes,
          submittedAt: now,
          submittedByClientId: actor.clientId,
        })
        .returning();
      const [updated] = await tx
        .update(dailyReports)
        .set({ version, firstSubmittedAt: report.firstSubmittedAt ?? now, lastSubmittedAt: now })
        .where(eq(dailyReports.id, report.id))
        .returning();
      const r = updated!;
      const data = {
        reportId: r.id,
        district: r.district,
        date: r.day,
        dueAt: r.dueAt.toISOString(),
        version,
        zero: input.zero,
        late: r.firstSubmittedAt! > r.dueAt,
        figures,
        submittedAt: now.toISOString(),
      };
      const subject = `daily_report/${r.district}/${r.day}`;
      if (version === 1) await events.publish(tx, dailyReportSubmitted, { subject, region: r.district, data });
      else {
        await events.publish(tx, dailyReportCorrected, {
          subject,
          region: r.district,
          data: { ...data, previousVersion: version - 1 },
        });
      }
      await audit.record(tx, actor, {
        operation: 'submitDailyReport',
        resourceType: 'daily_report',
        resourceIds: [r.id],
        detail: { district: r.district, date: r.day, version, zero: input.zero, late: data.late },
      });
      return { report: reportOut(r, written!, now), created: true };
    });
  }

  async function found(caller: Jurisdictional, district: string, date: string) {
    await checkDistrict(regions, caller, district, { in: 'path', pointer: '/district' });
    const report = await load(db, district, date);
    if (!report) throw notFound('daily report');
    return report;
  }

  async function get(caller: Jurisdictional, district: string, date: string): Promise<DailyReport> {
    const report = await found(caller, district, date);
    return reportOut(report, await versionOf(db, report), clock());
  }

  async function versions(caller: Jurisdictional, district: string, date: string) {
    const report = await found(caller, district, date);
    const all = await db
      .select()
      .from(dailyReportVersions)
      .where(eq(dailyReportVersions.reportId, report.id))
      .orderBy(asc(dailyReportVersions.version));
    return { district, date, items: all.map(versionOut) };
  }

  /** What the service holds for the district and day, to submit as it is or completed. */
  async function draft(caller: Jurisdictional, query: { district: string; date: string }) {
    const now = clock();
    const errors = checkDay(query.date, today(), { in: 'query', pointer: '/date' });
    if (errors.length > 0) throw validationError(errors);
    await checkDistrict(regions, caller, query.district, { in: 'query', pointer: '/district' });
    const figures = await draftFigures(db, query.district, query.date);
    const report = await load(db, query.district, query.date);
    const [due] = report
      ? [{ due_at: report.dueAt }]
      : await rows<{ due_at: string | Date }>(
          db,
          sql`select ${dueAtSql(sql`${query.district}::text`, sql`${query.date}::date`)} as due_at`,
        );
    const current = report ? await versionOf(db, report) : null;
    return {
      district: query.district,
      date: query.date,
      dueAt: new Date(due!.due_at).toISOString(),
      asOf: now.toISOString(),
      figures,
      notHeld,
      zero: figureNames.every((n) => !figures[n]),
      current: current ? versionOut(current) : null,
    };
  }

  return { submit, get, versions, draft };
}
