-- Records that someone read something, in one round trip and with asynchronous commit: the row is
-- committed before the answer leaves, but the read does not wait for the WAL flush. A database
-- crash can lose the last fraction of a second of read records; audit rows of changes are written
-- in the change's own transaction and are as durable as the change. Call it only outside a
-- transaction that writes anything else: it makes the commit of the whole transaction asynchronous.
CREATE OR REPLACE FUNCTION audit_record_read(
  p_client_id uuid, p_agency text, p_request_id text, p_operation text, p_resource_type text,
  p_resource_ids text[], p_person_ids uuid[]
) RETURNS void AS $$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  INSERT INTO audit_events (client_id, agency, request_id, operation, resource_type, resource_ids, person_ids, outcome)
  VALUES (p_client_id, p_agency, p_request_id, p_operation, p_resource_type, p_resource_ids, p_person_ids, 'success');
END;
$$ LANGUAGE plpgsql;
