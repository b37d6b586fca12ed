-- Custom migration: the event feed's sequencer and the one visibility rule of events.

-- Whether a client may see an event: it holds the event's scope, the event's region lies in its
-- jurisdiction, and the event is not meant for another client alone. The feed, the webhook
-- fan-out and redelivery all ask this one function.
CREATE OR REPLACE FUNCTION event_visible(
  e_scope text, e_region text, e_audience uuid, c_id uuid, c_scopes text[], c_jurisdiction text
) RETURNS boolean AS $$
  SELECT e_scope = ANY (c_scopes)
     AND starts_with(e_region, c_jurisdiction)
     AND (e_audience IS NULL OR e_audience = c_id);
$$ LANGUAGE sql IMMUTABLE;
--> statement-breakpoint
-- Gives committed events their feed positions, oldest first, and fans them out to the enabled
-- webhook subscriptions whose client may see them, all in one transaction. Events get positions
-- only once committed, so a reader following positions never passes one that commits late.
-- Sequencers take the head row with SKIP LOCKED: a second one returns 0 instead of waiting.
CREATE OR REPLACE FUNCTION events_sequence(max_rows integer) RETURNS integer AS $$
DECLARE
  head_pos bigint;
  n integer;
BEGIN
  SELECT last_position INTO head_pos FROM event_feed_head WHERE id = 1 FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  WITH picked AS (
    SELECT seq, row_number() OVER (ORDER BY seq) AS rn
    FROM (SELECT seq FROM events WHERE position IS NULL ORDER BY seq LIMIT max_rows) p
  )
  UPDATE events e SET position = head_pos + picked.rn FROM picked WHERE e.seq = picked.seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN
    RETURN 0;
  END IF;
  INSERT INTO webhook_deliveries (subscription_id, event_id, event_position, subject)
  SELECT s.id, e.id, e.position, e.subject
  FROM events e
  JOIN webhook_subscriptions s ON s.enabled
  JOIN clients c ON c.id = s.client_id AND c.enabled
  WHERE e.position > head_pos AND e.position <= head_pos + n
    AND event_visible(e.scope, e.region, e.audience_client_id, c.id, c.scopes, c.jurisdiction)
    AND (cardinality(s.event_types) = 0 OR e.type = ANY (s.event_types))
  ON CONFLICT (subscription_id, event_id) DO NOTHING;
  UPDATE event_feed_head SET last_position = head_pos + n WHERE id = 1;
  RETURN n;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
INSERT INTO event_feed_head (id, last_position) VALUES (1, 0);
--> statement-breakpoint
-- The sender's claim walks due deliveries in this order and stops as soon as it has enough.
CREATE INDEX webhook_deliveries_claim_idx ON webhook_deliveries (next_attempt_at, event_position)
  WHERE status IN ('pending', 'delivering');
--> statement-breakpoint
-- Deliveries not done yet, by subscription and subject: whether an earlier one still waits.
CREATE INDEX webhook_deliveries_undone_idx ON webhook_deliveries (subscription_id, subject, event_position)
  WHERE status IN ('pending', 'delivering');
--> statement-breakpoint
-- Claims up to max_rows due deliveries for one sender: pending ones whose time has come and
-- delivering ones whose sender's lease ran out, oldest first, to enabled subscriptions, each only
-- when no earlier delivery of its subject to its subscription is still pending or delivering (the
-- per-subject order). Rows another sender holds are skipped (SKIP LOCKED) and each row's
-- conditions are checked again as it is locked, so two senders never claim one delivery.
-- A claimed delivery whose subscription's client may no longer see its event (scopes,
-- jurisdiction, enabled) is cancelled instead: returned with status 'cancelled', not to be sent.
--
-- The walk follows webhook_deliveries_claim_idx and stops at max_rows, so a claim costs the same
-- however long the queue behind it; as one query, the planner would sometimes read and sort the
-- whole queue (it believed the table empty until it was analyzed: 100+ ms a claim at 20,000).
CREATE OR REPLACE FUNCTION webhook_deliveries_claim(max_rows integer, lease_seconds double precision)
RETURNS TABLE (id uuid, status text, subscription_id uuid, event_id uuid, attempts integer, subject text) AS $$
#variable_conflict use_column
DECLARE
  candidate uuid;
  taken uuid[] := '{}';
BEGIN
  FOR candidate IN
    SELECT d.id FROM webhook_deliveries d
    WHERE d.status IN ('pending', 'delivering')
      AND ((d.status = 'pending' AND d.next_attempt_at <= now())
           OR (d.status = 'delivering' AND d.lease_until < now()))
    ORDER BY d.next_attempt_at, d.event_position
  LOOP
    PERFORM 1 FROM webhook_deliveries d
    WHERE d.id = candidate
      AND ((d.status = 'pending' AND d.next_attempt_at <= now())
           OR (d.status = 'delivering' AND d.lease_until < now()))
      AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.id = d.subscription_id AND s.enabled)
      AND NOT EXISTS (
        SELECT 1 FROM webhook_deliveries p
        WHERE p.subscription_id = d.subscription_id AND p.subject = d.subject
          AND p.event_position < d.event_position AND p.status IN ('pending', 'delivering'))
    FOR UPDATE OF d SKIP LOCKED;
    IF FOUND THEN
      taken := taken || candidate;
      EXIT WHEN cardinality(taken) >= max_rows;
    END IF;
  END LOOP;
  RETURN QUERY
    UPDATE webhook_deliveries d
    SET status = CASE WHEN v.visible THEN 'delivering' ELSE 'cancelled' END,
        attempts = d.attempts + CASE WHEN v.visible THEN 1 ELSE 0 END,
        lease_until = CASE WHEN v.visible THEN now() + make_interval(secs => lease_seconds) END,
        last_error = CASE WHEN v.visible THEN d.last_error
                          ELSE 'Not sent: the subscription’s client may no longer see this event' END
    FROM (
      SELECT t.id, cl.enabled AND (t.event_id IS NULL OR event_visible(
               e.scope, e.region, e.audience_client_id, cl.id, cl.scopes, cl.jurisdiction)) AS visible
      FROM webhook_deliveries t
      JOIN webhook_subscriptions s ON s.id = t.subscription_id
      JOIN clients cl ON cl.id = s.client_id
      LEFT JOIN events e ON e.id = t.event_id
      WHERE t.id = ANY (taken)
    ) v
    WHERE d.id = v.id
    RETURNING d.id, d.status, d.subscription_id, d.event_id, d.attempts, d.subject;
END;
$$ LANGUAGE plpgsql
ROWS 100
SET enable_sort = off
SET enable_bitmapscan = off;
