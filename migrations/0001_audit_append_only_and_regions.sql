-- Custom migration: what drizzle's schema cannot say.

-- The audit trail and its hash chain are append-only: no row is ever changed or removed.
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, lower(TG_OP);
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
--> statement-breakpoint
-- Every new audit row joins the sealer's queue, in the writer's own transaction.
CREATE OR REPLACE FUNCTION audit_queue_for_sealing() RETURNS trigger AS $$
BEGIN
  INSERT INTO audit_unsealed (seq) SELECT seq FROM new_rows;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_events_queue AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_for_sealing();
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
-- Chains up to max_rows queued rows, oldest first, after the current head. Sealers take the head
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
  FOR r IN
    SELECT e.* FROM audit_unsealed u JOIN audit_events e ON e.seq = u.seq ORDER BY u.seq LIMIT max_rows
  LOOP
    next_seq := next_seq + 1;
    next_hash := audit_event_hash(last, next_seq, r);
    INSERT INTO audit_chain (chain_seq, audit_seq, prev_hash, hash) VALUES (next_seq, r.seq, last, next_hash);
    last := next_hash;
    n := n + 1;
  END LOOP;
  IF n > 0 THEN
    DELETE FROM audit_unsealed u USING audit_chain c
      WHERE c.audit_seq = u.seq AND c.chain_seq > head.last_chain_seq;
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
