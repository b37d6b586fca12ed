import { type SQL, sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import type { Jurisdictional } from '../../platform/jurisdiction.js';
import { policyInForceSql } from './policies.service.js';

/** A review as read: its dates, the policy that extends it (if any), and its enrollment. */
export interface ReviewView {
  id: string;
  enrollmentId: string;
  program: string;
  householdId: string;
  personId: string | null;
  enrollmentStatus: string;
  region: string;
  status: string;
  dueDate: string;
  extendedDueDate: string | null;
  extendedByPolicy: { id: string; name: string; months: number } | null;
  effectiveDueDate: string;
  outcome: string | null;
  notes: string | null;
  completedAt: Date | null;
  completedByClientId: string | null;
  version: number;
}

interface Row {
  id: string;
  enrollment_id: string;
  program_code: string;
  household_id: string;
  person_id: string | null;
  enrollment_status: string;
  region: string;
  status: string;
  due_date: string;
  extended_due_date: string | null;
  policy_id: string | null;
  policy_name: string | null;
  policy_months: number | null;
  effective_on: string;
  outcome: string | null;
  notes: string | null;
  completed_at: Date | string | null;
  completed_by_client_id: string | null;
  version: number;
}

const viewOf = (r: Row): ReviewView => ({
  id: r.id,
  enrollmentId: r.enrollment_id,
  program: r.program_code,
  householdId: r.household_id,
  personId: r.person_id,
  enrollmentStatus: r.enrollment_status,
  region: r.region,
  status: r.status,
  dueDate: r.due_date,
  extendedDueDate: r.extended_due_date,
  extendedByPolicy:
    r.policy_id === null ? null : { id: r.policy_id, name: r.policy_name!, months: Number(r.policy_months) },
  effectiveDueDate: r.effective_on,
  outcome: r.outcome,
  notes: r.notes,
  completedAt: r.completed_at === null ? null : new Date(r.completed_at),
  completedByClientId: r.completed_by_client_id,
  version: Number(r.version),
});

/**
 * Reviews with their effective due dates, worked out when read (nothing is stored, so a policy
 * declared, extended or ended later moves the dates with it): the emergency policy in force for the
 * review's region on its ORIGINAL due date, the most specific region's, moves it by its
 * `review_extension_months` when that is above zero. `where` and the order read the columns of `v`.
 */
export async function queryReviews(
  executor: Executor,
  where: SQL,
  options: { limit: number; after?: { effectiveDueDate: string; id: string } | undefined },
): Promise<ReviewView[]> {
  const after = options.after
    ? sql`and (v.effective_due_date, v.id) > (${options.after.effectiveDueDate}::date, ${options.after.id}::uuid)`
    : sql``;
  const found = await rows<Row>(
    executor,
    sql`select v.*, v.effective_due_date::text as effective_on from (
      select r.id, r.enrollment_id, r.region, r.due_date::text as due_date, r.status, r.outcome, r.notes,
        r.completed_at, r.completed_by_client_id, r.version,
        e.program_code, e.household_id, e.person_id, e.status as enrollment_status, e.application_id,
        x.id as policy_id, x.name as policy_name, x.review_extension_months as policy_months,
        (r.due_date + make_interval(months => x.review_extension_months))::date::text as extended_due_date,
        coalesce((r.due_date + make_interval(months => x.review_extension_months))::date, r.due_date) as effective_due_date
      from reviews r
      join enrollments e on e.id = r.enrollment_id
      left join policies x on x.id = ${policyInForceSql(sql`r.region`, sql`r.due_date`)}
        and x.review_extension_months > 0
    ) v
    where ${where} ${after}
    order by v.effective_due_date, v.id
    limit ${options.limit}`,
  );
  return found.map(viewOf);
}

/** Reviews the caller may see: inside its jurisdiction; a portal only those of enrollments from its applications. */
export const reviewVisibility = (caller: Jurisdictional & { id: string; agency: string }) =>
  caller.agency === 'portal'
    ? sql`starts_with(v.region, ${caller.jurisdiction}) and exists (select 1 from applications a
        where a.id = v.application_id and a.submitted_by_client_id = ${caller.id})`
    : sql`starts_with(v.region, ${caller.jurisdiction})`;
