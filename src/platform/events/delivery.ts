import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import ipaddr from 'ipaddr.js';
import { type Agent, request } from 'undici';
import { type Db, rows } from '../../db/client.js';
import type { SecretBox } from '../secrets.js';
import { webhookHeaders } from './signing.js';
import { addressAllowed, guardedAgent, type UrlPolicy } from './ssrf.js';

/**
 * Seconds to wait after each failed attempt: the Standard Webhooks schedule, 8 attempts over more
 * than a day. Each wait is jittered by ±20% so that receivers coming back are not hit all at once.
 */
export const retrySchedule = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
const MAX_RETRY_AFTER_S = 86_400;

interface Claimed {
  id: string;
  /** `cancelled` when the subscription's client may no longer see the event: not sent. */
  status: 'delivering' | 'cancelled';
  subscription_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_valid: boolean;
  attempts: number;
  event_id: string | null;
  type: string | null;
  occurred_at: string | Date | null;
  subject: string;
  subject_seq: number | null;
  region: string | null;
  position: number | null;
  data: Record<string, unknown> | null;
}

interface Outcome {
  id: string;
  subscription_id: string;
  status: 'delivered' | 'pending' | 'failed';
  next_in_s: number | null;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  gone: boolean;
}

interface Deps {
  db: Db;
  log: FastifyBaseLogger;
  secrets: SecretBox;
  policy: UrlPolicy;
  timeoutMs: number;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Seconds of the retry schedule; tests shorten it. */
  schedule?: number[];
}

export function nextAttemptDelay(attempts: number, schedule: number[], retryAfter: number | null): number | null {
  const base = schedule[attempts - 1];
  if (base === undefined) return null;
  const jittered = base * (0.8 + Math.random() * 0.4);
  return Math.max(jittered, Math.min(retryAfter ?? 0, MAX_RETRY_AFTER_S));
}

function retryAfterSeconds(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

/**
 * The webhook sender: claims due deliveries in batches (FOR UPDATE SKIP LOCKED, so instances share
 * the work and never send one delivery twice at once), sends them concurrently, and records every
 * attempt. At least once: a delivery whose sender died is claimed again when its lease runs out.
 */
export function createWebhookDeliverer({
  db,
  log,
  secrets,
  policy,
  timeoutMs,
  concurrency,
  leaseMs,
  pollMs,
  schedule,
}: Deps) {
  const agent: Agent = guardedAgent(policy, concurrency);
  const steps = schedule ?? retrySchedule;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  async function claim(limit: number): Promise<Claimed[]> {
    return rows<Claimed>(
      db,
      // webhook_deliveries_claim (migration 0003) picks, locks and marks the batch.
      sql`with claimed as (select * from webhook_deliveries_claim(${limit}, ${leaseMs / 1000}))
          select c.id, c.status, c.subscription_id, c.attempts, c.event_id, c.subject,
                 s.url, s.secret, s.previous_secret,
                 coalesce(s.previous_secret_expires_at > now(), false) as previous_valid,
                 e.type, e.occurred_at, e.subject_seq, e.region, e.position::float8 as position, e.data
          from claimed c
          join webhook_subscriptions s on s.id = c.subscription_id
          left join events e on e.id = c.event_id`,
    );
  }

  function bodyOf(d: Claimed): string {
    if (!d.event_id) {
      return JSON.stringify({
        id: d.id,
        type: 'webhook.pinged',
        timestamp: new Date().toISOString(),
        subject: d.subject,
        data: { subscriptionId: d.subscription_id, message: 'Test message from Doudi: your endpoint is reachable.' },
      });
    }
    return JSON.stringify({
      id: d.event_id,
      type: d.type,
      timestamp: new Date(d.occurred_at!).toISOString(),
      subject: d.subject,
      subjectSeq: d.subject_seq,
      region: d.region,
      position: d.position,
      data: d.data,
    });
  }

  async function send(d: Claimed): Promise<Outcome> {
    const started = performance.now();
    const outcome = (partial: Omit<Outcome, 'id' | 'subscription_id' | 'duration_ms'>): Outcome => ({
      id: d.id,
      subscription_id: d.subscription_id,
      duration_ms: Math.round(performance.now() - started),
      ...partial,
    });
    const retry = (statusCode: number | null, error: string | null, retryAfter: number | null = null) => {
      const wait = nextAttemptDelay(d.attempts, steps, retryAfter);
      return outcome({
        status: wait === null ? 'failed' : 'pending',
        next_in_s: wait,
        status_code: statusCode,
        error,
        gone: false,
      });
    };
    try {
      const host = new URL(d.url).hostname.replace(/^\[|\]$/g, '');
      // The agent checks the addresses a name resolves to; a literal address is checked here.
      if (ipaddr.isValid(host) && !addressAllowed(host, policy)) {
        return retry(null, `refusing to connect to ${host}`);
      }
      const body = bodyOf(d);
      const signing = [secrets.open(d.secret)];
      if (d.previous_secret && d.previous_valid) signing.push(secrets.open(d.previous_secret));
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await request(d.url, {
        method: 'POST',
        dispatcher: agent,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Doudi-Webhooks/1',
          ...webhookHeaders(signing, d.id, timestamp, body),
        },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      const code = response.statusCode;
      if (code >= 200 && code < 300) {
        return outcome({ status: 'delivered', next_in_s: null, status_code: code, error: null, gone: false });
      }
      if (code === 410) {
        return outcome({
          status: 'failed',
          next_in_s: null,
          status_code: code,
          error: 'the receiver answered 410 Gone',
          gone: true,
        });
      }
      const retryAfter = code === 429 || code === 503 ? retryAfterSeconds(response.headers['retry-after']) : null;
      return retry(code, `the receiver answered ${code}`, retryAfter);
    } catch (err) {
      return retry(null, (err as Error).message.slice(0, 500));
    }
  }

  /** Records a batch's attempts and outcomes in one statement, so in one transaction and one round trip. */
  async function record(outcomes: Outcome[]) {
    await db.execute(sql`
      with o as (
        select * from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb) as o(
          id uuid, subscription_id uuid, status text, status_code int, error text,
          next_in_s float8, duration_ms int, gone boolean)),
      attempts as (
        insert into webhook_attempts (delivery_id, subscription_id, duration_ms, status_code, error)
        select id, subscription_id, duration_ms, status_code, error from o),
      deliveries as (
        update webhook_deliveries d
        set status = o.status,
            last_status_code = o.status_code,
            last_error = o.error,
            lease_until = null,
            delivered_at = case when o.status = 'delivered' then now() end,
            next_attempt_at = case when o.next_in_s is not null then now() + make_interval(secs => o.next_in_s) else d.next_attempt_at end
        from o where d.id = o.id and d.status = 'delivering')
      update webhook_subscriptions s
      set enabled = false, disabled_reason = 'The receiver answered 410 Gone', updated_at = now(), version = s.version + 1
      from o where s.id = o.subscription_id and o.gone`);
  }

  /** Sends what is due until nothing is. Returns how many attempts were made. */
  async function drain(): Promise<number> {
    let sent = 0;
    while (!stopped) {
      const batch = await claim(concurrency);
      if (batch.length === 0) break;
      // Visibility is checked again when sending: the client's scopes, jurisdiction or enabled flag
      // may have changed since the event was fanned out (e.g. while the receiver was down).
      const outcomes = await Promise.all(batch.filter((d) => d.status === 'delivering').map(send));
      if (outcomes.length > 0) await record(outcomes);
      sent += outcomes.length;
    }
    return sent;
  }

  function start() {
    const tick = async () => {
      try {
        await drain();
      } catch (err) {
        log.warn({ err }, 'webhook sender could not run');
      }
      if (!stopped) timer = setTimeout(() => (running = tick()), pollMs);
    };
    running = tick();
  }

  let closed: Promise<void> | null = null;
  function stop(): Promise<void> {
    closed ??= (async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await agent.close();
    })();
    return closed;
  }

  return { drain, start, stop };
}

export type WebhookDeliverer = ReturnType<typeof createWebhookDeliverer>;
