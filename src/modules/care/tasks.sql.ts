import { sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import { intervalSql, keyPersonSql, policiesInForce } from './interval.js';

/**
 * The advisory lock that orders task generation with assignment changes: a generation holds it
 * exclusively, an assignment change shared (assignments never wait for each other). Without it a
 * reassignment could move a person's open tasks while a generation inserts another one for the
 * old caregiver, unseen by the move.
 */
export const CARE_TASKS_LOCK = 22_010_007;

export const lockTasksShared = (tx: Executor) =>
  tx.execute(sql`select pg_advisory_xact_lock_shared(${CARE_TASKS_LOCK})`);

/**
 * A person's open tasks go to `caregiverId`, or, with none, to the civil-affairs office of the
 * person's subdistrict (the first 9 digits of their region, or the region itself when shorter).
 */
export const moveOpenTasks = (tx: Executor, personId: string, caregiverId: string | null, region: string) =>
  tx.execute(sql`update visit_tasks
    set caregiver_id = ${caregiverId}, fallback_region = ${caregiverId === null ? region.slice(0, 9) : null}
    where person_id = ${personId} and status = 'open'`);

export interface Generated {
  keyPersons: number;
  created: number;
  cancelled: number;
}

/**
 * One INSERT … SELECT: for every key person of `prefix` without an open task, a task whose window
 * starts at their last visit's date (`date` when never visited) and is due the interval in force
 * on `date` later, for their active caregiver or else their subdistrict's office. The unique index
 * (person_id, window_start) makes it idempotent (ON CONFLICT DO NOTHING).
 *
 * A window never starts on a day an earlier task of the person started: when a visit completed a
 * task on the very day its window began (a never-visited person visited the day the task was made),
 * the next window starts the day after, still due the interval after that visit (and at least a
 * day after it starts).
 *
 * Open tasks of persons who are no longer key persons are cancelled first.
 */
export async function generateTasks(tx: Executor, prefix: string, date: string): Promise<Generated> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CARE_TASKS_LOCK})`);
  const pattern = `${prefix}%`;
  const cancelled = await rows<{ n: number }>(
    tx,
    sql`with c as (
      update visit_tasks t set status = 'cancelled', completed_at = now()
      from persons p
      where p.id = t.person_id and t.status = 'open' and t.region like ${pattern} and not ${keyPersonSql('p')}
      returning 1)
    select count(*)::int as n from c`,
  );
  const days = intervalSql(sql`todo.region`, await policiesInForce(tx, prefix, date));
  const [result] = await rows<{ created: number; key_persons: number }>(
    tx,
    sql`with kp as (
      select p.id, p.region from persons p
      where ${keyPersonSql('p')} and p.region like ${pattern}
    ), todo as (
      select kp.* from kp
      where not exists (select 1 from visit_tasks t where t.person_id = kp.id and t.status = 'open')
    ), c as (
      select todo.id, todo.region, ${days} as days, a.caregiver_id,
        (l.visited_at at time zone 'Asia/Shanghai')::date as last_date,
        greatest(coalesce((l.visited_at at time zone 'Asia/Shanghai')::date, ${date}::date),
                 (select max(t.window_start) + 1 from visit_tasks t where t.person_id = todo.id)) as window_start
      from todo
      left join care_assignments a on a.person_id = todo.id and a.ended_at is null
      left join care_last_visits l on l.person_id = todo.id
    ), ins as (
      insert into visit_tasks (person_id, region, caregiver_id, fallback_region, window_start, due_date, interval_days)
      select id, region, caregiver_id, case when caregiver_id is null then left(region, 9) end, window_start,
        greatest(coalesce(last_date, window_start) + days, window_start + 1), days
      from c
      on conflict (person_id, window_start) do nothing
      returning 1
    )
    select (select count(*) from ins)::int as created, (select count(*) from kp)::int as key_persons`,
  );
  return { keyPersons: result!.key_persons, created: result!.created, cancelled: cancelled[0]!.n };
}
