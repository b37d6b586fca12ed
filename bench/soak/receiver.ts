/**
 * The soak's webhook receiver, in the soak's own process on 127.0.0.1: verifies every message's
 * signature with the standardwebhooks package, answers 204, and counts what it holds: distinct
 * events (by the event's id), repeats, bad signatures, and how long each event took from its commit
 * (the body's `timestamp`, the event's occurred_at) to its first arrival. Messages that come before the secret is known wait for it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Receiver {
  url: string;
  /** The subscription's secret, once it is known. */
  setSecret(secret: string): void;
  /** Event ids held (first arrival of each). */
  events: Set<string>;
  byType: Map<string, number>;
  messages: number;
  repeats: number;
  badSignatures: number;
  problems: string[];
  /** Milliseconds from each event's timestamp (when it occurred) to its first arrival. */
  lagsMs: number[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  let webhook: Webhook | null = null;
  /** Messages that came before the secret was known, checked once it is. */
  const early: { body: string; headers: Record<string, string> }[] = [];
  const state: Receiver = {
    url: '',
    setSecret: (secret) => {
      webhook = new Webhook(secret);
      for (const m of early.splice(0)) take(m.body, m.headers);
    },
    events: new Set(),
    byType: new Map(),
    messages: 0,
    repeats: 0,
    badSignatures: 0,
    problems: [],
    lagsMs: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  function take(body: string, headers: Record<string, string>) {
    try {
      webhook!.verify(body, headers);
    } catch (err) {
      state.badSignatures++;
      if (state.problems.length < 10) state.problems.push(`a message did not verify: ${(err as Error).message}`);
      return;
    }
    const event = JSON.parse(body) as { id: string; type: string; timestamp: string };
    if (state.events.has(event.id)) {
      state.repeats++;
      return;
    }
    state.events.add(event.id);
    state.byType.set(event.type, (state.byType.get(event.type) ?? 0) + 1);
    state.lagsMs.push(Date.now() - Date.parse(event.timestamp));
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204).end();
      state.messages++;
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(req.headers[h])]),
      );
      if (webhook) take(body, headers);
      else early.push({ body, headers });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return state;
}
