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
