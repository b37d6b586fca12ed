import type { AuditActor } from '../../platform/audit/service.js';
import { etagOf } from '../../platform/http.js';
import { createVisitLookup } from '../care/visits.lookup.js';
import { businessDateOf } from '../registry/dates.js';
import type { ReferralDeps } from './common.js';
import { referralBundle } from './fhir.js';
import { type Act, createLifecycle } from './lifecycle.js';
import { createReads, type ReferralFilter, type ReferralRead } from './reads.js';
import { createReport } from './report.js';
import type { NewReferral } from './schemas.js';
import { personBlock, referralOut, type ReferralRow, stepOut, type Viewer } from './view.js';

/**
 * Suspected-case referrals to health (measure 5; issue 7, items 4-6). Civil affairs reports a
 * person with symptoms; the health and disease-control clients whose jurisdiction covers the
 * person's region receive it, acknowledge it by the deadline, transfer the person to a designated
 * hospital and report the outcome, or send it back; civil affairs may cancel. Every step is an
 * event both sides see.
 */
export function createReferralService(deps: ReferralDeps) {
  const full = {
    ...deps,
    visits: deps.visits ?? createVisitLookup({ db: deps.db }),
    onConfirmed: deps.onConfirmed ?? (async () => {}),
    clock: deps.clock ?? (() => new Date()),
  };
  const { pii, clock } = full;
  const reads = createReads(full);
  const lifecycle = createLifecycle(full);
  const { report } = createReport(full);

  /** A referral as this caller may see it, with its steps, and its ETag. */
  function detail(caller: Viewer, read: ReferralRead) {
    const now = clock();
    const person = personBlock(pii, read.person, caller, businessDateOf(now));
    return {
      body: { ...referralOut(pii, read.row, person, caller, now), steps: read.steps.map(stepOut) },
      etag: etagOf(read.row),
    };
  }

  /** The answer to a change: its audit row (written with it) names the person already. */
  const answer = async (caller: Viewer, row: ReferralRow) => detail(caller, await reads.load(caller, row.id));

  /** An action, then the referral as it is after it. */
  const acting =
    <A extends unknown[]>(action: (s: Act, ...args: A) => Promise<ReferralRow>) =>
    async (s: Act, ...args: A) =>
      answer(s.caller, await action(s, ...args));

  return {
    report: async (caller: Viewer, actor: AuditActor, input: NewReferral) =>
      answer(caller, await report(caller, actor, input)),
    acknowledge: acting(lifecycle.acknowledge),
    transfer: acting(lifecycle.transfer),
    confirm: acting(lifecycle.confirm),
    exclude: acting(lifecycle.exclude),
    reject: acting(lifecycle.reject),
    cancel: acting(lifecycle.cancel),

    async get(caller: Viewer, actor: AuditActor, id: string) {
      return detail(caller, await reads.get(caller, actor, id));
    },

    async list(caller: Viewer, actor: AuditActor, filter: ReferralFilter) {
      const page = await reads.list(caller, actor, filter);
      const now = clock();
      const today = businessDateOf(now);
      return {
        items: page.items.map(({ row, person }) =>
          referralOut(pii, row, personBlock(pii, person, caller, today), caller, now),
        ),
        more: page.more,
      };
    },

    /** The referral as a FHIR R4 Bundle; the read is audited like any other. */
    async fhir(caller: Viewer, actor: AuditActor, id: string) {
      const read = await reads.get(caller, actor, id, 'getReferralFhir');
      const now = clock();
      const person = personBlock(pii, read.person, caller, businessDateOf(now));
      return { bundle: referralBundle(read.row, person, now), etag: etagOf(read.row) };
    },
  };
}

export type ReferralService = ReturnType<typeof createReferralService>;
