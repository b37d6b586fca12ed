import { z } from 'zod';
import type { Scope } from '../scopes.js';

/** What the service says about one type of event: who may see it and what its data holds. */
export interface EventDefinition<T extends z.ZodType = z.ZodType> {
  type: string;
  /** A receiver sees the event only when it holds this scope (and the region is in its jurisdiction). */
  scope: Scope;
  summary: string;
  data: T;
}

const catalogue = new Map<string, EventDefinition>();

/**
 * Declares an event type. Types are named `<resource>.<past-tense verb>` (API.md); the data schema
 * is what receivers get and what the OpenAPI document shows under `webhooks`.
 */
export function defineEvent<T extends z.ZodType>(definition: EventDefinition<T>): EventDefinition<T> {
  if (!/^[a-z_]+\.[a-z_]+$/.test(definition.type)) throw new Error(`bad event type name ${definition.type}`);
  if (catalogue.has(definition.type)) throw new Error(`event type ${definition.type} defined twice`);
  catalogue.set(definition.type, definition);
  return definition;
}

export const eventDefinition = (type: string) => catalogue.get(type);
export const eventTypes = () => [...catalogue.keys()].sort();
export const eventDefinitions = () => [...catalogue.values()].sort((a, b) => a.type.localeCompare(b.type));

// The platform's own events. Modules define theirs next to their service.
export const clientCreated = defineEvent({
  type: 'client.created',
  scope: 'clients:read',
  summary: 'An API client was created',
  data: z.object({ clientId: z.uuid(), name: z.string(), agency: z.string(), jurisdiction: z.string() }),
});

export const clientUpdated = defineEvent({
  type: 'client.updated',
  scope: 'clients:read',
  summary: 'An API client’s name, scopes, jurisdiction or enabled flag changed',
  data: z.object({ clientId: z.uuid(), changed: z.array(z.string()), enabled: z.boolean() }),
});

export const apiKeyIssued = defineEvent({
  type: 'api_key.issued',
  scope: 'clients:read',
  summary: 'A new API key was issued to a client',
  data: z.object({ clientId: z.uuid(), keyId: z.uuid() }),
});

export const apiKeyRevoked = defineEvent({
  type: 'api_key.revoked',
  scope: 'clients:read',
  summary: 'An API key was revoked',
  data: z.object({ clientId: z.uuid(), keyId: z.uuid() }),
});

export const jobFinished = defineEvent({
  type: 'job.finished',
  scope: 'jobs:read',
  summary: 'A job the receiving client started has finished (succeeded or failed)',
  data: z.object({ jobId: z.uuid(), jobType: z.string(), status: z.enum(['succeeded', 'failed']) }),
});

/** Sent by the test-ping action to one subscription; never in the feed. */
export const webhookPinged = {
  type: 'webhook.pinged',
  summary: 'A test message sent on request to check a subscription’s endpoint and signature',
  data: z.object({ subscriptionId: z.uuid(), message: z.string() }),
};

/** What a receiver gets, in the feed and as a webhook body. */
export const eventEnvelope = <T extends z.ZodType>(data: T, type?: string) =>
  z.object({
    id: z.uuid().describe('The event’s id'),
    type: type ? z.literal(type) : z.string(),
    timestamp: z.iso.datetime({ offset: true }).describe('When the change happened'),
    subject: z.string().describe('What the event is about, e.g. `referral/<id>`'),
    subjectSeq: z.number().int().describe('1, 2, 3… for the events of one subject, without gaps, in order'),
    region: z.string().describe('Region code of the subject'),
    position: z.number().int().describe('Place in the feed'),
    data,
  });
