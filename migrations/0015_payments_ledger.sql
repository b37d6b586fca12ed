-- Custom migration: the payments ledger's rules, which drizzle's schema cannot say.

-- Double entry: the entries of each journal transaction balance (debits = credits, at least two
-- entries), and an approval allocates exactly the batch's declared total. Checked at commit by
-- deferred constraint triggers, once the whole transaction's entries are written.
CREATE OR REPLACE FUNCTION payment_journal_check(j_id uuid) RETURNS void AS $$
DECLARE
  debits bigint;
  credits bigint;
  n integer;
  j_kind text;
  allocated bigint;
  declared bigint;
BEGIN
  SELECT coalesce(sum(amount_fen) FILTER (WHERE side = 'debit'), 0),
         coalesce(sum(amount_fen) FILTER (WHERE side = 'credit'), 0),
         count(*),
         coalesce(sum(amount_fen) FILTER (WHERE side = 'credit' AND account = 'allocated'), 0)
    INTO debits, credits, n, allocated
    FROM payment_ledger_entries WHERE journal_id = j_id;
  IF n < 2 OR debits <> credits THEN
    RAISE EXCEPTION 'payment journal % does not balance: % entries, debits % fen, credits % fen', j_id, n, debits, credits
      USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_journal_balanced';
  END IF;
  SELECT j.kind, b.total_fen INTO j_kind, declared
    FROM payment_journal j JOIN payment_batches b ON b.id = j.batch_id WHERE j.id = j_id;
  IF j_kind = 'approval' AND allocated <> declared THEN
    RAISE EXCEPTION 'payment journal % allocates % fen; the batch declares % fen', j_id, allocated, declared
      USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_journal_allocates_declared';
  END IF;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION payment_journal_balanced() RETURNS trigger AS $$
BEGIN
  IF TG_TABLE_NAME = 'payment_journal' THEN
    PERFORM payment_journal_check(NEW.id);
  ELSE
    PERFORM payment_journal_check(NEW.journal_id);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER payment_journal_balanced AFTER INSERT ON payment_journal
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payment_journal_balanced();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER payment_ledger_entries_balanced AFTER INSERT ON payment_ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payment_journal_balanced();
--> statement-breakpoint
-- The journal is append-only: a mistake is corrected by a new transaction, never by an edit.
CREATE OR REPLACE FUNCTION payment_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, lower(TG_OP);
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER payment_journal_append_only BEFORE UPDATE OR DELETE ON payment_journal
  FOR EACH ROW EXECUTE FUNCTION payment_ledger_append_only();
--> statement-breakpoint
CREATE TRIGGER payment_journal_no_truncate BEFORE TRUNCATE ON payment_journal
  FOR EACH STATEMENT EXECUTE FUNCTION payment_ledger_append_only();
--> statement-breakpoint
CREATE TRIGGER payment_ledger_entries_append_only BEFORE UPDATE OR DELETE ON payment_ledger_entries
  FOR EACH ROW EXECUTE FUNCTION payment_ledger_append_only();
--> statement-breakpoint
CREATE TRIGGER payment_ledger_entries_no_truncate BEFORE TRUNCATE ON payment_ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION payment_ledger_append_only();
