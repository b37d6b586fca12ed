import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { idTypes } from '../registry/people.schemas.js';
import { businessDate, regionCode } from '../registry/programs.schemas.js';

export const handoffStatuses = ['draft', 'sent', 'accepted', 'rejected', 'closed', 'revoked'] as const;
export type HandoffStatus = (typeof handoffStatuses)[number];
/** A handoff under way: one such per case person (the database's partial unique index). */
export const openHandoffStatuses: HandoffStatus[] = ['draft', 'sent', 'accepted', 'rejected'];
export const handoffOrigins = ['referral', 'direct', 'contact'] as const;
export type HandoffOrigin = (typeof handoffOrigins)[number];

export const contactStatuses = [
  'pending',
  'reached',
  'quarantined',
  'released',
  'unreachable',
  'became_case',
  'removed',
] as const;
export type ContactStatus = (typeof contactStatuses)[number];
export const relations = ['household', 'family', 'care', 'visit'] as const;
export type Relation = (typeof relations)[number];
export const quarantineKinds = ['home', 'centralised'] as const;
export const contactOrigins = ['assembled', 'added'] as const;

/** Contacts' statuses from which nothing more is reported: a handoff closes once every contact is in one. */
export const finalContactStatuses: ContactStatus[] = ['released', 'unreachable', 'became_case', 'removed'];

/** Without an emergency policy's contactLookBackDays: 14 days before onset. */
export const NORMAL_LOOK_BACK_DAYS = 14;

const text = (max: number) => z.string().trim().min(1).max(max);
const phone = z
  .string()
  .regex(/^\+?[0-9][0-9 -]{4,22}$/, 'must be a phone number: digits, with an optional leading + and spaces or dashes');
const note = text(2000).optional().describe('A note kept in the handoff’s steps');
const reason = text(2000).describe('Why, in words the other side reads');

export const NewHandoffBody = z
  .object({
    personId: z.uuid().describe('The confirmed case, a registry person living inside your jurisdiction'),
    onsetDate: businessDate.describe('When the symptoms began (or the positive test); not in the future'),
    confirmedOn: businessDate.optional().describe('When the case was confirmed; not before onset, not in the future'),
    note: text(2000).optional().describe('How the confirmation was learnt (e.g. the CDC’s notice number)'),
  })
  .strict();
export type NewHandoff = z.infer<typeof NewHandoffBody>;

export const NewContactBody = z
  .object({
    relation: z.enum(relations).describe('household, family, care (a carer) or visit'),
    personId: z
      .uuid()
      .optional()
      .describe('The contact as a registry person inside your jurisdiction; or give name (and phone or ID)'),
    name: text(100).optional().describe('Required without personId'),
    phone: phone.optional().describe('Kept sealed; shown whole to the CDC'),
    idType: z.enum(idTypes).optional().describe('With idNumber'),
    idNumber: z
      .string()
      .min(1)
      .max(40)
      .optional()
      .describe('With idType; a resident ID number is checked. Kept sealed, shown masked'),
    address: text(300).optional(),
    lastContactDate: businessDate.optional().describe('Not in the future'),
    reason: reason.describe('Why the contact is added (kept in the handoff’s steps)'),
  })
  .strict();
export type NewContact = z.infer<typeof NewContactBody>;

export const NoteBody = z.object({ note }).strict();
export const ReasonBody = z.object({ reason }).strict();
export const ReachBody = z
  .object({ reachedAt: timestamp.optional().describe('When; now when omitted. Not in the future'), note })
  .strict();
export const QuarantineBody = z
  .object({
    kind: z.enum(quarantineKinds).describe('At home, or at a centralised quarantine site'),
    from: businessDate.describe('First day'),
    to: businessDate.describe('Last day planned; on or after `from`'),
    place: text(300).optional().describe('Where (the site), when centralised'),
    note,
  })
  .strict();
export const ReleaseBody = z
  .object({ releasedOn: businessDate.optional().describe('Today when omitted; not before `from`'), note })
  .strict();
export const BecameCaseBody = z
  .object({
    onsetDate: businessDate.optional().describe('The contact’s own onset; today when omitted'),
    note,
  })
  .strict();
export const CommentBody = z
  .object({
    text: text(4000),
    contactId: z.uuid().optional().describe('The contact the comment is about, if any'),
  })
  .strict();

export const HandoffQuery = z.object({
  status: z.enum(handoffStatuses).optional(),
  region: regionCode.optional().describe('Handoffs of this region (prefix), inside your jurisdiction'),
  casePersonId: z.uuid().optional(),
  referralId: z.uuid().optional(),
});

const masked = (what: string) => z.boolean().describe(`true: ${what} is masked; false: it is whole`);

export const CasePersonSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    sex: z.enum(['male', 'female']).nullable(),
    birthDate: businessDate.nullable(),
    age: z.number().int().nullable().describe('Whole years today (Asia/Shanghai)'),
    phone: z.string().nullable().describe('Whole for the CDC (it calls) and callers with registry:read_sensitive'),
    phoneMasked: masked('phone'),
    address: z.string().nullable(),
    region: z.string().describe('Residence region'),
    idType: z.string(),
    idNumber: z.string().describe('Masked, except for civil affairs holding registry:read_sensitive'),
    idNumberMasked: masked('idNumber'),
  })
  .meta({ id: 'HandoffCasePerson' });

const OtherHandoffSchema = z.object({
  handoffId: z.uuid(),
  contactId: z.uuid(),
  casePersonId: z.uuid(),
  relation: z.enum(relations),
  status: z.enum(contactStatuses),
  lastContactDate: businessDate.nullable(),
});

export const HandoffContactSchema = z
  .object({
    id: z.uuid(),
    handoffId: z.uuid(),
    status: z.enum(contactStatuses),
    relation: z.enum(relations),
    origin: z.enum(contactOrigins).describe('`assembled` from the service’s records, or `added` by a caseworker'),
    personId: z.uuid().nullable().describe('The contact as a registry person, when known'),
    caregiverId: z.uuid().nullable(),
    region: z.string().nullable().describe('Residence region, when known'),
    name: z.string(),
    sex: z.enum(['male', 'female']).nullable(),
    age: z.number().int().nullable(),
    phone: z.string().nullable().describe('Whole for the CDC and callers with registry:read_sensitive'),
    phoneMasked: masked('phone'),
    address: z.string().nullable(),
    idType: z.string().nullable(),
    idNumber: z.string().nullable().describe('Masked, except for civil affairs holding registry:read_sensitive'),
    idNumberMasked: masked('idNumber'),
    recipient: z
      .boolean()
      .nullable()
      .describe('An assistance recipient (active enrollment): civil affairs only, null for disease control'),
    firstContactDate: businessDate.nullable(),
    lastContactDate: businessDate.nullable(),
    inPersonContacts: z.number().int().describe('In-person visits and contacts found in the window'),
    reachedAt: timestamp.nullable(),
    quarantineKind: z.enum(quarantineKinds).nullable(),
    quarantineFrom: businessDate.nullable(),
    quarantineTo: businessDate.nullable(),
    quarantinePlace: z.string().nullable(),
    releasedOn: businessDate.nullable(),
    becameCaseOn: businessDate.nullable(),
    nextHandoffId: z.uuid().nullable().describe('The handoff the contact’s own confirmation opened'),
    statusReason: z.string().nullable().describe('Why unreachable, or why removed'),
    otherHandoffs: z
      .array(OtherHandoffSchema)
      .describe('The same person (blind index of the ID document, else the phone) in other handoffs you may see'),
    updatedAt: timestamp,
  })
  .meta({ id: 'HandoffContact' });
export type HandoffContactOut = z.infer<typeof HandoffContactSchema>;

const count = z.number().int();
const counts = z.object({
  pending: count,
  reached: count,
  quarantined: count,
  released: count,
  unreachable: count,
  became_case: count,
  removed: count,
});
export type ContactCounts = z.infer<typeof counts>;

export const HandoffSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(handoffStatuses),
    region: z.string().describe('The case person’s residence region: who receives it'),
    origin: z.enum(handoffOrigins),
    casePersonId: z.uuid(),
    referralId: z.uuid().nullable(),
    sourceContactId: z.uuid().nullable().describe('The contact of another handoff who became this case'),
    onsetDate: businessDate,
    confirmedOn: businessDate.nullable(),
    lookBackDays: z.number().int(),
    windowFrom: businessDate.describe('Contacts are looked for from this day (onset minus lookBackDays)…'),
    windowTo: businessDate.describe('…to this day (when the list was assembled)'),
    note: z.string().nullable(),
    sentAt: timestamp.nullable(),
    acceptedAt: timestamp.nullable(),
    receiverClientId: z.uuid().nullable(),
    closedReason: z.string().nullable(),
    closedAt: timestamp.nullable(),
    contactCounts: counts.describe('Contacts by status'),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    casePerson: CasePersonSchema,
  })
  .meta({ id: 'ContactHandoff' });
export type HandoffOut = z.infer<typeof HandoffSchema>;

export const HandoffStepSchema = z.object({
  seq: z.number().int(),
  action: z.string(),
  contactId: z.uuid().nullable(),
  fromStatus: z.string().nullable(),
  toStatus: z.string(),
  at: timestamp,
  clientId: z.uuid().nullable(),
  agency: z.string().nullable(),
  note: z.string().nullable(),
});
export type HandoffStepOut = z.infer<typeof HandoffStepSchema>;

export const HandoffCommentSchema = z.object({
  id: z.uuid(),
  contactId: z.uuid().nullable(),
  clientId: z.uuid().nullable(),
  agency: z.string().nullable(),
  text: z.string(),
  at: timestamp,
});

export const HandoffDetailSchema = HandoffSchema.extend({
  contacts: z.array(HandoffContactSchema).describe('Every contact, removed ones included'),
  steps: z.array(HandoffStepSchema).describe('Every step, oldest first'),
  comments: z.array(HandoffCommentSchema).describe('Oldest first'),
}).meta({ id: 'ContactHandoffDetail' });

export const followUpReasons = ['recipient', 'earner_quarantined'] as const;

export const FollowUpSchema = z
  .object({
    contactId: z.uuid(),
    handoffId: z.uuid(),
    personId: z.uuid(),
    householdId: z.uuid().nullable(),
    name: z.string(),
    region: z.string(),
    reasons: z
      .array(z.enum(followUpReasons))
      .describe(
        '`recipient`: an active enrollment; `earner_quarantined`: every working-age member (16 to 59) of the household is in quarantine (or became a case)',
      ),
    programs: z.array(z.string()).describe('Programs of the active enrollments'),
    quarantineKind: z.enum(quarantineKinds),
    quarantineFrom: businessDate,
    quarantineTo: businessDate,
    temporaryAssistanceId: z
      .uuid()
      .nullable()
      .describe('Temporary assistance already opened or granted for the person since the quarantine began'),
    openTemporaryAssistance: z
      .object({
        method: z.literal('POST'),
        href: z.string(),
        body: z.object({ personId: z.uuid(), reason: z.string() }),
      })
      .describe('How to open emergency temporary assistance for the person (measure 1)'),
  })
  .meta({ id: 'ContactFollowUp' });
export type FollowUpOut = z.infer<typeof FollowUpSchema>;

export const FollowUpQuery = z.object({
  region: regionCode.optional().describe('Contacts living in this region (prefix), inside your jurisdiction'),
});
