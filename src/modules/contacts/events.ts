import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { contactStatuses, handoffOrigins, handoffStatuses, quarantineKinds, relations } from './schemas.js';

const at = z.iso.datetime({ offset: true });
const date = z.iso.date();

/**
 * What every handoff event carries: ids, codes, dates and counts, never a name, phone, address or
 * ID number (receivers read those from the handoff itself, audited), nor anything about payments.
 * Region-routed: subject `contact_handoff/<id>`, region the case person's residence region.
 */
const base = z.object({
  handoffId: z.uuid(),
  casePersonId: z.uuid(),
  referralId: z.uuid().nullable(),
  region: z.string().describe('The case person’s residence region'),
  status: z.enum(handoffStatuses),
  origin: z.enum(handoffOrigins),
  onsetDate: date,
  windowFrom: date,
  windowTo: date,
  contacts: z.number().int().describe('Contacts on the list (removed ones not counted)'),
  receiverClientId: z.uuid().nullable(),
  at: at.describe('When this step happened'),
});

/** A contact's step: the handoff's base and the contact's codes. */
const contactBase = base.extend({
  contactId: z.uuid(),
  personId: z.uuid().nullable().describe('The contact as a registry person, when known'),
  contactRegion: z.string().nullable().describe('The contact’s residence region, when known'),
  relation: z.enum(relations),
  contactStatus: z.enum(contactStatuses),
  lastContactDate: date.nullable(),
  quarantineKind: z.enum(quarantineKinds).nullable(),
  quarantineFrom: date.nullable(),
  quarantineTo: date.nullable(),
});

const handoffEvent = <T extends z.ZodRawShape>(
  verb: string,
  summary: string,
  extra: T,
  scope: 'contacts:read' | 'contacts:create' = 'contacts:read',
) => defineEvent({ type: `contact_handoff.${verb}`, scope, summary, data: base.extend(extra) });

const contactEvent = <T extends z.ZodRawShape>(verb: string, summary: string, extra: T) =>
  defineEvent({ type: `handoff_contact.${verb}`, scope: 'contacts:read', summary, data: contactBase.extend(extra) });

// Before a handoff is first sent only civil affairs sees it: its draft events need contacts:create.
export const handoffDrafted = handoffEvent(
  'drafted',
  'A confirmed case’s close-contact list was assembled as a draft for civil affairs to review (civil affairs only)',
  { sourceContactId: z.uuid().nullable() },
  'contacts:create',
);
export const handoffDraftChanged = handoffEvent(
  'draft_changed',
  'A caseworker added or removed a contact of a draft never sent (civil affairs only)',
  { contactId: z.uuid(), change: z.enum(['added', 'removed']), relation: z.enum(relations) },
  'contacts:create',
);
export const handoffDiscarded = handoffEvent(
  'discarded',
  'Civil affairs withdrew a draft that was never sent, with a reason (civil affairs only)',
  { reason: z.string() },
  'contacts:create',
);

export const handoffSent = handoffEvent(
  'sent',
  'Civil affairs sent the close-contact list to the CDC (again, after a revision): the CDC of the region accepts or rejects it',
  { sentAt: at },
);
export const handoffAccepted = handoffEvent(
  'accepted',
  'A disease-control client took the handoff on; it reports on the contacts from now on',
  { acceptedAt: at },
);
export const handoffRejected = handoffEvent(
  'rejected',
  'The CDC sent the handoff back to civil affairs, with a reason',
  {
    reason: z.string(),
  },
);
export const handoffReopened = handoffEvent(
  'reopened',
  'Civil affairs took a rejected handoff back to revise it (a draft again, to be sent again)',
  { note: z.string().nullable() },
);
export const handoffRevoked = handoffEvent(
  'revoked',
  'Civil affairs revoked a handoff it had sent (e.g. the confirmation was withdrawn), with a reason',
  { reason: z.string() },
);
export const handoffClosed = handoffEvent(
  'closed',
  'The CDC closed the handoff: every contact is released, unreachable, a case or removed',
  {},
);
export const handoffContactAdded = handoffEvent(
  'contact_added',
  'Civil affairs added a contact to a handoff the CDC has (it learnt of another contact)',
  { contactId: z.uuid(), relation: z.enum(relations), personId: z.uuid().nullable() },
);
export const handoffContactRemoved = handoffEvent(
  'contact_removed',
  'Civil affairs removed a contact still pending from a handoff the CDC has, with a reason',
  { contactId: z.uuid(), reason: z.string() },
);
export const handoffCommented = handoffEvent(
  'commented',
  'A question or answer about the handoff or one of its contacts (read the text on the handoff)',
  { commentId: z.uuid(), contactId: z.uuid().nullable(), agency: z.string().nullable() },
);

export const contactReached = contactEvent('reached', 'The CDC reached the contact', { reachedAt: at });
export const contactQuarantined = contactEvent(
  'quarantined',
  'The contact is in quarantine, at home or centralised, from/to (again when the period or place changed)',
  {},
);
export const contactReleased = contactEvent('released', 'The contact was released from quarantine', {
  releasedOn: date,
});
export const contactUnreachable = contactEvent('unreachable', 'The CDC could not reach the contact', {
  reason: z.string(),
});
export const contactBecameCase = contactEvent(
  'became_case',
  'The contact became a confirmed case: a handoff of their own opens (a draft for civil affairs) when they are a registry person',
  { becameCaseOn: date, nextHandoffId: z.uuid().nullable() },
);
