import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { rows } from '../../db/client.js';

/**
 * What a run found, read back from its verifications (matching_verifications.run_id):
 * - failing: a household that no longer qualifies for a program it is enrolled in (a rule failed);
 * - deceased_paid: a recipient recorded dead while an enrollment paying them is live (active or
 *   suspended): for tekun the enrolled person; for a household program (dibao, price subsidy) the
 *   household's head, or its only member. Flagged `recipient_deceased` in the verification's flags;
 * - data_errors: records whose name does not match their member's (`name_mismatch` flags, for a
 *   phone check). Records of ID numbers in no household cannot be reached from a household and are
 *   not counted here.
 */
export const runOutcomes = ['failing', 'deceased_paid', 'data_errors', 'all'] as const;
export type RunOutcome = (typeof runOutcomes)[number];

const failing = sql`not v.passed`;
const deceasedPaid = sql`v.flags @> '[{"rule":"recipient_deceased"}]'`;
const dataError = sql`v.flags @> '[{"rule":"name_mismatch"}]'`;

const predicate: Record<RunOutcome, SQL> = {
  failing,
  deceased_paid: deceasedPaid,
  data_errors: dataError,
  all: sql`true`,
};

/** The run's counts, in households. */
export const countsSql = (runId: string) => sql`
  select count(distinct v.household_id)::int as households,
    count(distinct v.household_id) filter (where ${failing})::int as failing,
    count(distinct v.household_id) filter (where ${deceasedPaid})::int as "deceasedPaid",
    count(distinct v.household_id) filter (where ${dataError})::int as "dataErrors"
  from matching_verifications v where v.run_id = ${runId}::uuid`;

export interface RuleOut {
  rule: string;
  outcome: 'pass' | 'fail' | 'flag';
  figures: Record<string, unknown>;
  detail: string;
  sources: Record<string, unknown>[];
}

export interface ResultItem {
  householdId: string;
  region: string;
  failing: boolean;
  deceasedPaid: boolean;
  dataErrors: number;
  verifications: {
    id: string;
    program: 'dibao' | 'tekun' | 'price_subsidy';
    passed: boolean;
    failedRules: RuleOut[];
    flags: RuleOut[];
  }[];
  enrollments: {
    id: string;
    program: string;
    personId: string | null;
    status: string;
    monthlyBenefitFen: number;
  }[];
}

/**
 * One page of the run's households matching `outcome`, by household id after `after`. Each with its
 * verifications (failed rules with their sentences, figures and records; flags) and the
 * enrollments it holds now.
 */
export async function resultPage(
  executor: Executor,
  runId: string,
  outcome: RunOutcome,
  after: string | null,
  limit: number,
): Promise<ResultItem[]> {
  return rows<ResultItem>(
    executor,
    sql`
      select v.household_id as "householdId", min(v.region) as region,
        bool_or(${failing}) as failing, bool_or(${deceasedPaid}) as "deceasedPaid",
        coalesce(sum((select count(*) from jsonb_array_elements(v.flags) f where f->>'rule' = 'name_mismatch')), 0)::int
          as "dataErrors",
        jsonb_agg(jsonb_build_object('id', v.id, 'program', v.program, 'passed', v.passed,
          'failedRules', (select coalesce(jsonb_agg(x order by n), '[]'::jsonb)
                          from jsonb_array_elements(v.rules) with ordinality as q(x, n) where x->>'outcome' = 'fail'),
          'flags', v.flags) order by v.program) as verifications,
        (select coalesce(jsonb_agg(jsonb_build_object('id', e.id, 'program', e.program_code, 'personId', e.person_id,
            'status', e.status, 'monthlyBenefitFen', e.monthly_benefit_fen) order by e.program_code, e.id), '[]'::jsonb)
         from enrollments e where e.household_id = v.household_id and e.status <> 'ended') as enrollments
      from matching_verifications v
      where v.run_id = ${runId}::uuid and (${after}::uuid is null or v.household_id > ${after}::uuid)
      group by v.household_id
      having bool_or(${predicate[outcome]})
      order by v.household_id
      limit ${limit}`,
  );
}

/** Every result matching `outcome`, in keyset pages of `pageSize`: never the whole run in memory. */
export async function* allResults(
  executor: Executor,
  runId: string,
  outcome: RunOutcome,
  pageSize = 500,
): AsyncGenerator<ResultItem> {
  let after: string | null = null;
  for (;;) {
    const page = await resultPage(executor, runId, outcome, after, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1)!.householdId;
  }
}

const cell = (value: string | number | boolean | null) => {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export const csvColumns = [
  'householdId',
  'region',
  'program',
  'verificationId',
  'passed',
  'failedRules',
  'reasons',
  'deceasedPersonIds',
  'nameMismatches',
  'enrollmentIds',
];

/** CSV: one row a verification (a household enrolled in two programs has two rows). */
export function csvRows(item: ResultItem): string {
  return item.verifications
    .map((v) => {
      const deceased = v.flags.filter((f) => f.rule === 'recipient_deceased').map((f) => f.figures.personId as string);
      return [
        item.householdId,
        item.region,
        v.program,
        v.id,
        v.passed,
        v.failedRules.map((r) => r.rule).join(';'),
        v.failedRules.map((r) => r.detail).join(' | '),
        [...new Set(deceased)].join(';'),
        v.flags.filter((f) => f.rule === 'name_mismatch').length,
        item.enrollments
          .filter((e) => e.program === v.program)
          .map((e) => e.id)
          .join(';'),
      ]
        .map(cell)
        .join(',');
    })
    .map((line) => `${line}\r\n`)
    .join('');
}
