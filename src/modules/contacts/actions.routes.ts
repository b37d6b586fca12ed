import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, callerOf } from '../../platform/auth.js';
import { ifMatchVersion, problems } from '../../platform/http.js';
import type { Scope } from '../../platform/scopes.js';
import type { Act } from './lifecycle.js';
import {
  BecameCaseBody,
  CommentBody,
  HandoffDetailSchema,
  NewContactBody,
  NoteBody,
  QuarantineBody,
  ReachBody,
  ReasonBody,
  ReleaseBody,
} from './schemas.js';
import type { ContactAct, ContactService } from './service.js';

const idParams = z.object({ id: z.uuid() });
const contactParams = z.object({ id: z.uuid(), contactId: z.uuid() });
const ifMatch = z.object({ 'if-match': z.string().max(100).optional() });
const conditional =
  ' Send `If-Match` (the handoff’s ETag) to act only on the version you read (412 when it changed). 404 outside your jurisdiction.';
const receiverOnly =
  ' Only the CDC client that accepted the handoff reports on it: another gets 409 `conflict` naming `receiverClientId`. The handoff must be `accepted` (409 invalid-state otherwise).';

type Answer = Awaited<ReturnType<ContactService['get']>>;

interface Spec<B extends z.ZodType, S> {
  path: string;
  operationId: string;
  summary: string;
  description: string;
  scope: Scope;
  /** One of these as well (the handler checks it too). */
  anyOfScopes?: Scope[];
  tags: string[];
  body: B;
  act: (s: S, body: z.infer<B>) => Promise<Answer>;
}

/** The handoff's lifecycle and its contacts' tracing, one action each (scope, If-Match, step, event, audit row). */
export const handoffActionRoutes: FastifyPluginAsyncZod<{ contacts: ContactService }> = async (app, { contacts }) => {
  const action = <B extends z.ZodType>(spec: Spec<B, Act>) =>
    app.post(
      `/v1/contact-handoffs/:id/${spec.path}`,
      {
        config: { scopes: [spec.scope], ...(spec.anyOfScopes && { anyOfScopes: spec.anyOfScopes }) },
        schema: {
          operationId: spec.operationId,
          summary: spec.summary,
          description: `${spec.description} 409 invalid-state (with \`currentState\`) from any other state.${conditional}`,
          tags: spec.tags,
          params: idParams,
          headers: ifMatch,
          body: spec.body,
          response: { 200: HandoffDetailSchema, ...problems(400, 404, 409, 412) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const version = ifMatchVersion(request.headers['if-match'], id, 'contact handoff');
        const s = { caller: callerOf(request), actor: actorOf(request), id, version };
        const { body, etag } = await spec.act(s, request.body as z.infer<B>);
        return reply.header('etag', etag).send(body);
      },
    );

  const contactAction = <B extends z.ZodType>(spec: Spec<B, ContactAct>) =>
    app.post(
      `/v1/contact-handoffs/:id/contacts/:contactId/${spec.path}`,
      {
        config: { scopes: [spec.scope], ...(spec.anyOfScopes && { anyOfScopes: spec.anyOfScopes }) },
        schema: {
          operationId: spec.operationId,
          summary: spec.summary,
          description: `${spec.description} 409 invalid-state (with \`currentState\`, the contact’s) from any other status.${conditional}`,
          tags: spec.tags,
          params: contactParams,
          headers: ifMatch,
          body: spec.body,
          response: { 200: HandoffDetailSchema, ...problems(400, 404, 409, 412) },
        },
      },
      async (request, reply) => {
        const { id, contactId } = request.params;
        const version = ifMatchVersion(request.headers['if-match'], id, 'contact handoff');
        const s = { caller: callerOf(request), actor: actorOf(request), id, contactId, version };
        const { body, etag } = await spec.act(s, request.body as z.infer<B>);
        return reply.header('etag', etag).send(body);
      },
    );

  const civil = ['Civil affairs'];
  const cdc = ['CDC'];

  action({
    path: 'send',
    operationId: 'sendContactHandoff',
    summary: 'Send the reviewed contact list to the CDC',
    description:
      '`draft` → `sent`. From now on the CDC clients of the case’s region see the handoff. Publishes `contact_handoff.sent`.',
    scope: 'contacts:create',
    tags: civil,
    body: NoteBody,
    act: (s, b) => contacts.send(s, b.note),
  });
  action({
    path: 'accept',
    operationId: 'acceptContactHandoff',
    summary: 'Accept a handoff: take the tracing on',
    description:
      '`sent` → `accepted`. Your client becomes the handoff’s receiver and reports on its contacts from now on. Publishes `contact_handoff.accepted`.',
    scope: 'contacts:receive',
    tags: cdc,
    body: NoteBody,
    act: (s, b) => contacts.accept(s, b.note),
  });
  action({
    path: 'reject',
    operationId: 'rejectContactHandoff',
    summary: 'Send a handoff back to civil affairs, with a reason',
    description:
      '`sent` → `rejected` (e.g. not this district’s, or the list is incomplete). Civil affairs reopens it to revise and send again, or revokes it. Publishes `contact_handoff.rejected`.',
    scope: 'contacts:receive',
    tags: cdc,
    body: ReasonBody,
    act: (s, b) => contacts.reject(s, b.reason),
  });
  action({
    path: 'reopen',
    operationId: 'reopenContactHandoff',
    summary: 'Take a rejected handoff back to revise it',
    description:
      '`rejected` → `draft`: contacts may be added or removed, then it is sent again. Publishes `contact_handoff.reopened`.',
    scope: 'contacts:create',
    tags: civil,
    body: NoteBody,
    act: (s, b) => contacts.reopen(s, b.note),
  });
  action({
    path: 'revoke',
    operationId: 'revokeContactHandoff',
    summary: 'Revoke a handoff, with a reason',
    description:
      '`draft`, `sent`, `accepted` or `rejected` → `revoked` (e.g. the confirmation was withdrawn). Publishes `contact_handoff.revoked`, or `contact_handoff.discarded` (civil affairs only) for a draft never sent.',
    scope: 'contacts:create',
    tags: civil,
    body: ReasonBody,
    act: (s, b) => contacts.revoke(s, b.reason),
  });
  action({
    path: 'close',
    operationId: 'closeContactHandoff',
    summary: 'Close a handoff whose contacts are all settled',
    description: `\`accepted\` → \`closed\`, once every contact is released, unreachable, a case or removed (409 \`conflict\` naming \`openContacts\` otherwise). Publishes \`contact_handoff.closed\`.${receiverOnly}`,
    scope: 'contacts:receive',
    tags: cdc,
    body: NoteBody,
    act: (s, b) => contacts.close(s, b.note),
  });
  action({
    path: 'contacts',
    operationId: 'addHandoffContact',
    summary: 'Add a contact, with a reason',
    description:
      'While the handoff is `draft`, `sent` or `accepted`. A registry person inside your jurisdiction (`personId`; 404 otherwise), or a name with a phone and/or an identity document (a resident ID number is checked; a document the registry knows, inside your jurisdiction, makes the contact that person). The same person twice on one list is a 409 naming `existingContactId`. Publishes `contact_handoff.contact_added`, or `contact_handoff.draft_changed` (civil affairs only) for a draft never sent.',
    scope: 'contacts:create',
    tags: civil,
    body: NewContactBody,
    act: (s, b) => contacts.addContact(s, b),
  });
  action({
    path: 'comments',
    operationId: 'commentContactHandoff',
    summary: 'Ask or answer a question about the handoff or one of its contacts',
    description:
      'Civil affairs (contacts:create) and the CDC (contacts:receive) write to each other once the handoff is sent (409 before), in any state after. Publishes `contact_handoff.commented` (the text is read on the handoff).',
    scope: 'contacts:read',
    anyOfScopes: ['contacts:create', 'contacts:receive'],
    tags: [...civil, ...cdc],
    body: CommentBody,
    act: (s, b) => contacts.comment(s, b),
  });

  contactAction({
    path: 'remove',
    operationId: 'removeHandoffContact',
    summary: 'Remove a contact still pending, with a reason',
    description:
      '`pending` → `removed` (kept, with the reason), while the handoff is `draft`, `sent` or `accepted`. Publishes `contact_handoff.contact_removed`, or `contact_handoff.draft_changed` for a draft never sent.',
    scope: 'contacts:create',
    tags: civil,
    body: ReasonBody,
    act: (s, b) => contacts.removeContact(s, b.reason),
  });
  contactAction({
    path: 'reach',
    operationId: 'reachContact',
    summary: 'Report a contact reached',
    description: `\`pending\` or \`unreachable\` → \`reached\`. Publishes \`handoff_contact.reached\`.${receiverOnly}`,
    scope: 'contacts:receive',
    tags: cdc,
    body: ReachBody,
    act: (s, b) => contacts.reach(s, b),
  });
  contactAction({
    path: 'quarantine',
    operationId: 'quarantineContact',
    summary: 'Report a contact in quarantine, at home or centralised',
    description: `\`pending\`, \`reached\` or \`quarantined\` (a change of place or period) → \`quarantined\`, from/to (from not in the future, to on or after from). Publishes \`handoff_contact.quarantined\`.${receiverOnly}`,
    scope: 'contacts:receive',
    tags: cdc,
    body: QuarantineBody,
    act: (s, b) => contacts.quarantine(s, b),
  });
  contactAction({
    path: 'release',
    operationId: 'releaseContact',
    summary: 'Report a contact released from quarantine',
    description: `\`quarantined\` → \`released\`. Publishes \`handoff_contact.released\`.${receiverOnly}`,
    scope: 'contacts:receive',
    tags: cdc,
    body: ReleaseBody,
    act: (s, b) => contacts.release(s, b),
  });
  contactAction({
    path: 'mark-unreachable',
    operationId: 'markContactUnreachable',
    summary: 'Report a contact unreachable, with a reason',
    description: `\`pending\` or \`reached\` → \`unreachable\` (reached later: \`reach\`). Publishes \`handoff_contact.unreachable\`.${receiverOnly}`,
    scope: 'contacts:receive',
    tags: cdc,
    body: ReasonBody,
    act: (s, b) => contacts.unreachable(s, b.reason),
  });
  contactAction({
    path: 'mark-case',
    operationId: 'markContactCase',
    summary: 'Report that a contact became a confirmed case',
    description: `\`pending\`, \`reached\`, \`quarantined\` or \`unreachable\` → \`became_case\`. The next step opens at once: a contact who is a registry person gets a close-contact handoff of their own (a \`draft\` for civil affairs of their region, assembled now with onset \`onsetDate\`; \`nextHandoffId\`), or the one they have open already. Publishes \`handoff_contact.became_case\` (and \`contact_handoff.drafted\` for the new one).${receiverOnly}`,
    scope: 'contacts:receive',
    tags: cdc,
    body: BecameCaseBody,
    act: (s, b) => contacts.becameCase(s, b),
  });
};
