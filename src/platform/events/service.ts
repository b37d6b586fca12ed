import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { type Db, type Executor, rows } from '../../db/client.js';
import type { AuthenticatedClient } from '../clients/service.js';
import { type EventDefinition, eventDefinition } from './catalogue.js';
import { eventSubjects, events } from './tables.js';

export interface NewEvent<T extends z.ZodType> {
  subject: string;
  region: string;
  data: z.input<T>;
  /** Only this client may see the event. */
  audienceClientId?: string | null;
}

export interface FeedEvent {
  id: string;
  type: string;
  timestamp: string;
  subject: string;
  subjectSeq: number;
  region: string;
  position: number;
  data: Record<string, unknown>;
}

interface FeedRow {
  id: string;
  type: string;
  occurred_at: string | Date;
  subject: string;
  subject_seq: number;
  region: string;
  position: number;
  data: Record<string, unknown>;
}

export const feedEventOf = (r: FeedRow): FeedEvent => ({
  id: r.id,
  type: r.type,
  timestamp: new Date(r.occurred_at).toISOString(),
  subject: r.subject,
  subjectSeq: Number(r.subject_seq),
  region: r.region,
  position: Number(r.position),
  data: r.data,
});

/** Rows a bulk statement carries at most: well under PostgreSQL's 65,535 parameters. */
const PUBLISH_CHUNK = 2_000;

/** An event as the outbox holds it, but for its number: the type checked against the catalogue, the data against its schema. */
export function eventRow<T extends z.ZodType>(definition: EventDefinition<T>, event: NewEvent<T>) {
  if (eventDefinition(definition.type) !== (definition as EventDefinition)) {
    throw new Error(`event type ${definition.type} is not in the catalogue`);
  }
  return {
    type: definition.type,
    subject: event.subject,
    region: event.region,
    scope: definition.scope,
    audienceClientId: event.audienceClientId ?? null,
    data: definition.data.parse(event.data) as Record<string, unknown>,
  };
}

/** A subject's counter: 1 for its first event, one more for each next one. */
const firstOf = (event: { subject: string }) => ({ subject: event.subject, lastSeq: 1 });
const nextOf = { target: eventSubjects.subject, set: { lastSeq: sql`${eventSubjects.lastSeq} + 1` } };

/** The outbox, its sequencer, and the pull feed. */
export function createEventService({ db }: { db: Db }) {
  /**
   * Writes an event in the caller's transaction: it exists if and only if the change commits. The
   * subject's counter row stays locked until then, so the subject's events are numbered in commit
   * order without gaps.
   */
  async function publish<T extends z.ZodType>(tx: Executor, definition: EventDefinition<T>, event: NewEvent<T>) {
    const row = eventRow(definition, event);
    const [counter] = await tx.insert(eventSubjects).values(firstOf(event)).onConflictDoUpdate(nextOf).returning({
      seq: eventSubjects.lastSeq,
    });
    const [written] = await tx
      .insert(events)
      .values({ ...row, subjectSeq: counter!.seq })
      .returning({ id: events.id, subjectSeq: events.subjectSeq });
    return written!;
  }

  /**
   * `publish` for a statement of the caller's own, prepared once: two common table expressions to
   * put in its `with` (`<name>_subject` numbers the event, `<name>` writes it), whose values are
   * placeholders `<name>.*`, and `values(event)` to fill them (checked as `publish` checks them).
   * The event is written in the same round trip as the change, and exists if and only if the
   * statement's transaction commits; the subject's counter row stays locked until then.
   */
  function publishWith<T extends z.ZodType>(definition: EventDefinition<T>, name = 'event') {
    const at = (field: string) => sql.placeholder(`${name}.${field}`);
    const counter = db.$with(`${name}_subject`, {}).as(
      db
        .insert(eventSubjects)
        .values({ subject: at('subject'), lastSeq: 1 })
        .onConflictDoUpdate(nextOf)
        .returning()
        .getSQL(),
    );
    const written = db.$with(name, {}).as(
      db
        .insert(events)
        .values({
          type: definition.type,
          subject: at('subject'),
          subjectSeq: sql`(select ${sql.identifier(eventSubjects.lastSeq.name)} from ${counter})`,
          region: at('region'),
          scope: definition.scope,
          audienceClientId: at('audienceClientId'),
          data: at('data'),
        })
        .getSQL(),
    );
    return {
      ctes: [counter, written],
      values(event: NewEvent<T>): Record<string, unknown> {
        const row = eventRow(definition, event);
        return {
          [`${name}.subject`]: row.subject,
          [`${name}.region`]: row.region,
          [`${name}.audienceClientId`]: row.audienceClientId,
          [`${name}.data`]: row.data,
        };
      },
    };
  }

  /**
   * Like publish, for many events of one type in one go (bulk loads): one upsert of the subjects'
   * counters and one multi-row insert per chunk instead of two statements an event. Subjects are
   * locked in sorted order, so two bulk publishers cannot deadlock on each other.
   */
  async function publishMany<T extends z.ZodType>(
    tx: Executor,
    definition: EventDefinition<T>,
    batch: NewEvent<T>[],
  ): Promise<void> {
    if (eventDefinition(definition.type) !== (definition as EventDefinition)) {
      throw new Error(`event type ${definition.type} is not in the catalogue`);
    }
    const counts = new Map<string, number>();
    for (const e of batch) counts.set(e.subject, (counts.get(e.subject) ?? 0) + 1);
    const subjects = [...counts.keys()].sort();
    const next = new Map<string, number>();
    for (let i = 0; i < subjects.length; i += PUBLISH_CHUNK) {
      const chunk = subjects.slice(i, i + PUBLISH_CHUNK);
      const counters = await tx
        .insert(eventSubjects)
        .values(chunk.map((subject) => ({ subject, lastSeq: counts.get(subject)! })))
        .onConflictDoUpdate({
          target: eventSubjects.subject,
          set: { lastSeq: sql`${eventSubjects.lastSeq} + excluded.last_seq` },
        })
        .returning({ subject: eventSubjects.subject, last: eventSubjects.lastSeq });
      // The first number each subject's new events take.
      for (const c of counters) next.set(c.subject, c.last - counts.get(c.subject)! + 1);
    }
    const values = batch.map((e) => {
      const seq = next.get(e.subject)!;
      next.set(e.subject, seq + 1);
      return {
        type: definition.type,
        subject: e.subject,
        subjectSeq: seq,
        region: e.region,
        scope: definition.scope,
        audienceClientId: e.audienceClientId ?? null,
        data: definition.data.parse(e.data) as Record<string, unknown>,
      };
    });
    for (let i = 0; i < values.length; i += PUBLISH_CHUNK) {
      await tx.insert(events).values(values.slice(i, i + PUBLISH_CHUNK));
    }
  }

  /**
   * Gives committed events their feed positions and fans them out to the webhook subscriptions
   * that may see them, in one transaction (events_sequence(), migration 0003). Safe to run from
   * several instances at once: one sequences, the others find the head taken and return 0.
   */
  async function sequence(batch = 1_000): Promise<number> {
    let total = 0;
    for (;;) {
      const [done] = await rows<{ n: number }>(db, sql`select events_sequence(${batch})::int as n`);
      total += done?.n ?? 0;
      if ((done?.n ?? 0) < batch) return total;
    }
  }

  /**
   * Events the caller may see, oldest first, after a feed position. `nextPosition` is where to go
   * on from: past the last event returned, or, when the page is not full, past everything
   * sequenced so far, so a reader that sees nothing does not scan the same stretch again.
   */
  async function feed(
    caller: AuthenticatedClient,
    query: { after: number; types?: string[] | undefined; limit: number },
  ): Promise<{ items: FeedEvent[]; nextPosition: number }> {
    const [head] = await rows<{ last: number }>(
      db,
      sql`select last_position::float8 as last from event_feed_head where id = 1`,
    );
    const upTo = Number(head?.last ?? 0);
    const found = await rows<FeedRow>(
      db,
      sql`select id, type, occurred_at, subject, subject_seq, region, position::float8 as position, data
          from events
          where events.position > ${query.after} and events.position <= ${upTo}
            and event_visible(scope, region, audience_client_id, ${caller.id}::uuid, ${sql.param(caller.scopes)}::text[], ${caller.jurisdiction})
            ${query.types?.length ? sql`and type = any(${sql.param(query.types)}::text[])` : sql``}
          order by events.position
          limit ${query.limit}`,
    );
    const items = found.map(feedEventOf);
    const nextPosition = items.length === query.limit ? items.at(-1)!.position : Math.max(upTo, query.after);
    return { items, nextPosition };
  }

  return { publish, publishWith, publishMany, sequence, feed };
}

export type EventService = ReturnType<typeof createEventService>;
