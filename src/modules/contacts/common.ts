import { sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { AuditService } from '../../platform/audit/service.js';
import type { FieldError } from '../../platform/errors.js';
import type { EventService } from '../../platform/events/service.js';
import type { Jurisdictional } from '../../platform/jurisdiction.js';
import type { PolicyService } from '../registry/policies.service.js';
import type { PiiProtector } from '../registry/sensitive.js';
import type { ContactStatus, HandoffOrigin, HandoffStatus, Relation } from './schemas.js';
import { handoffContacts, type contactHandoffs, type handoffSteps, type handoffComments } from './tables.js';

export interface ContactDeps {
  db: Db;
  audit: AuditService;
  events: EventService;
  /** The registry's protection of personal information: contacts' phones and ID numbers are kept as persons' are. */
  pii: PiiProtector;
  /** The look-back window comes from the emergency policy in force (contactLookBackDays). */
  policies: PolicyService;
  clock?: () => Date;
}

export type Deps = Required<ContactDeps>;

export type HandoffRow = typeof contactHandoffs.$inferSelect;
export type ContactRow = typeof handoffContacts.$inferSelect;
export type StepRow = typeof handoffSteps.$inferSelect;
export type CommentRow = typeof handoffComments.$inferSelect;

/** A caller as the contacts module sees it. */
export type Viewer = Jurisdictional & { id: string; agency: string; scopes: readonly string[] };

/** Civil affairs: assembles, reviews and sends; sees drafts, recipients and the follow-up list. */
export const isCivil = (v: Viewer) => v.scopes.includes('contacts:create');
/** Disease control: accepts and reports on the contacts. */
export const isReceiver = (v: Viewer) => v.scopes.includes('contacts:receive');
/** Phones whole: the CDC must call the contacts; civil affairs sees them with registry:read_sensitive. */
export const revealsPhones = (v: Viewer) => isReceiver(v) || v.scopes.includes('registry:read_sensitive');
/** ID numbers whole only for civil affairs that may see them; never for health or disease control. */
export const revealsIdNumber = (v: Viewer) =>
  v.agency !== 'cdc' && v.agency !== 'health' && v.scopes.includes('registry:read_sensitive');
/** A handoff never sent is civil affairs' work in progress: nobody else sees it. */
export const visibleTo = (v: Viewer, h: { sentAt: Date | null }) => h.sentAt !== null || isCivil(v);

export const bodyError = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

/** A caller's clock may run a little ahead of ours. */
export const CLOCK_SKEW_MS = 60_000;

/** The instant a business date (Asia/Shanghai) begins, as SQL. */
export const dayStartSql = (date: string) => sql`(${date}::date::timestamp at time zone 'Asia/Shanghai')`;

/** Contacts on the list (removed ones not counted), for events. */
export async function listedContacts(executor: Executor, handoffId: string): Promise<number> {
  const [row] = await executor
    .select({ n: sql<number>`count(*)::int` })
    .from(handoffContacts)
    .where(sql`${handoffContacts.handoffId} = ${handoffId} and ${handoffContacts.status} <> 'removed'`);
  return Number(row?.n ?? 0);
}

/** What every handoff event carries (events.ts): ids, codes, dates and counts. */
export const eventBase = (h: HandoffRow, contacts: number, at: Date) => ({
  handoffId: h.id,
  casePersonId: h.casePersonId,
  referralId: h.referralId,
  region: h.region,
  status: h.status as HandoffStatus,
  origin: h.origin as HandoffOrigin,
  onsetDate: h.onsetDate,
  windowFrom: h.windowFrom,
  windowTo: h.windowTo,
  contacts,
  receiverClientId: h.receiverClientId,
  at: at.toISOString(),
});

/** A contact's codes for its events. */
export const contactEventFields = (c: ContactRow) => ({
  contactId: c.id,
  personId: c.personId,
  contactRegion: c.region,
  relation: c.relation as Relation,
  contactStatus: c.status as ContactStatus,
  lastContactDate: c.lastContactDate,
  quarantineKind: c.quarantineKind as 'home' | 'centralised' | null,
  quarantineFrom: c.quarantineFrom,
  quarantineTo: c.quarantineTo,
});

/** The event subject of a handoff: its events and its contacts' share one sequence. */
export const subjectOf = (handoffId: string) => `contact_handoff/${handoffId}`;

/** A unique violation of `index`, through drizzle's wrapper or not. */
export function isUniqueViolation(err: unknown, index: string): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, constraint, message } = e as { code?: unknown; constraint?: unknown; message?: unknown };
    if (code === '23505') return constraint === index || (typeof message === 'string' && message.includes(index));
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
