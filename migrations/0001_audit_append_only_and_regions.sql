-- Custom migration: what drizzle's schema cannot say.

-- The audit trail is append-only. A row may be updated once, by the sealer, to set its place in the
-- hash chain; nothing else about it may ever change, and no row may be deleted.
CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_events is append-only: rows cannot be deleted';
  END IF;
  IF OLD.chain_seq IS NOT NULL
     OR NEW.seq IS DISTINCT FROM OLD.seq
     OR NEW.id IS DISTINCT FROM OLD.id
     OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at
     OR NEW.client_id IS DISTINCT FROM OLD.client_id
     OR NEW.agency IS DISTINCT FROM OLD.agency
     OR NEW.operation IS DISTINCT FROM OLD.operation
     OR NEW.resource_type IS DISTINCT FROM OLD.resource_type
     OR NEW.resource_ids IS DISTINCT FROM OLD.resource_ids
     OR NEW.person_ids IS DISTINCT FROM OLD.person_ids
     OR NEW.outcome IS DISTINCT FROM OLD.outcome
     OR NEW.request_id IS DISTINCT FROM OLD.request_id
     OR NEW.detail IS DISTINCT FROM OLD.detail THEN
    RAISE EXCEPTION 'audit_events is append-only: only sealing an unsealed row is allowed';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_events_no_truncate() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: it cannot be truncated';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();
--> statement-breakpoint
-- The hash of one audit row, given the hash before it and its place in the chain. Computed in SQL
-- so that sealing and verifying see exactly the same text (timestamps to the microsecond, jsonb in
-- its canonical form) on PostgreSQL and PGlite alike.
CREATE OR REPLACE FUNCTION audit_event_hash(prev_hash text, chain_seq bigint, e audit_events) RETURNS text AS $$
  SELECT encode(sha256(convert_to(prev_hash || jsonb_build_array(
    chain_seq, e.id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    e.client_id, e.agency, e.operation, e.resource_type, e.resource_ids, e.person_ids, e.outcome,
    e.request_id, e.detail
  )::text, 'UTF8')), 'hex');
$$ LANGUAGE sql IMMUTABLE;
--> statement-breakpoint
-- Chains up to max_rows unsealed rows, oldest first, after the current head. Sealers take the head
-- row with SKIP LOCKED: a second sealer finds it taken and returns 0 instead of waiting.
CREATE OR REPLACE FUNCTION audit_seal(max_rows integer) RETURNS integer AS $$
DECLARE
  head record;
  r audit_events;
  n integer := 0;
  next_seq bigint;
  last text;
  next_hash text;
BEGIN
  SELECT last_chain_seq, last_hash INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  next_seq := head.last_chain_seq;
  last := head.last_hash;
  FOR r IN SELECT * FROM audit_events WHERE chain_seq IS NULL ORDER BY seq LIMIT max_rows LOOP
    next_seq := next_seq + 1;
    next_hash := audit_event_hash(last, next_seq, r);
    UPDATE audit_events SET chain_seq = next_seq, prev_hash = last, hash = next_hash WHERE seq = r.seq;
    last := next_hash;
    n := n + 1;
  END LOOP;
  IF n > 0 THEN
    UPDATE audit_chain_head SET last_chain_seq = next_seq, last_hash = last WHERE id = 1;
  END IF;
  RETURN n;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
-- The chain starts from a fixed genesis hash (64 zeros).
INSERT INTO audit_chain_head (id, last_chain_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
--> statement-breakpoint
-- Changchun (长春市) and its county-level divisions, GB/T 2260.
INSERT INTO regions (code, name, name_zh, level, parent_code) VALUES
  ('2201',   'Changchun',   '长春市',   'city',   NULL),
  ('220102', 'Nanguan',     '南关区',   'county', '2201'),
  ('220103', 'Kuancheng',   '宽城区',   'county', '2201'),
  ('220104', 'Chaoyang',    '朝阳区',   'county', '2201'),
  ('220105', 'Erdao',       '二道区',   'county', '2201'),
  ('220106', 'Lüyuan',      '绿园区',   'county', '2201'),
  ('220112', 'Shuangyang',  '双阳区',   'county', '2201'),
  ('220113', 'Jiutai',      '九台区',   'county', '2201'),
  ('220122', 'Nong''an',    '农安县',   'county', '2201'),
  ('220182', 'Yushu',       '榆树市',   'county', '2201'),
  ('220183', 'Dehui',       '德惠市',   'county', '2201'),
  ('220184', 'Gongzhuling', '公主岭市', 'county', '2201');
