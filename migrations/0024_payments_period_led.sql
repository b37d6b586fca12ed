DROP INDEX "payment_items_person_idx";--> statement-breakpoint
DROP INDEX "payment_items_enrollment_idx";--> statement-breakpoint
CREATE INDEX "payment_items_period_person_idx" ON "payment_items" USING btree ("period","person_id");--> statement-breakpoint
CREATE INDEX "payment_items_period_enrollment_idx" ON "payment_items" USING btree ("period","enrollment_id");--> statement-breakpoint
-- Custom: the periods payments have been made for, read off payment_items_period_person_idx one
-- key at a time (a descent each from the one before: a few dozen, however many payments). A person's
-- or an enrollment's payments are then looked up period by period in the period-led indexes.
CREATE OR REPLACE FUNCTION payment_item_periods() RETURNS SETOF text AS $$
  WITH RECURSIVE p (period) AS (
    (SELECT i.period FROM payment_items i ORDER BY i.period LIMIT 1)
    UNION ALL
    SELECT (SELECT i.period FROM payment_items i WHERE i.period > p.period ORDER BY i.period LIMIT 1)
    FROM p WHERE p.period IS NOT NULL
  )
  SELECT p.period FROM p WHERE p.period IS NOT NULL
$$ LANGUAGE sql STABLE;
--> statement-breakpoint
-- Custom: the delete guard of migration payments_bulk, finding an enrollment's or a person's
-- payments through the period-led indexes.
CREATE OR REPLACE FUNCTION payment_items_referenced() RETURNS trigger AS $$
DECLARE
  named boolean;
BEGIN
  -- One static query a column (plans kept), rather than dynamic SQL planned for every row deleted.
  CASE TG_ARGV[0]
    WHEN 'batch_id' THEN named := EXISTS (SELECT 1 FROM payment_items WHERE batch_id = OLD.id);
    WHEN 'enrollment_id' THEN named := EXISTS (SELECT 1 FROM payment_items
      WHERE period = ANY (ARRAY(SELECT payment_item_periods())) AND enrollment_id = OLD.id);
    WHEN 'person_id' THEN named := EXISTS (SELECT 1 FROM payment_items
      WHERE period = ANY (ARRAY(SELECT payment_item_periods())) AND person_id = OLD.id);
    WHEN 'temporary_assistance_id' THEN
      named := EXISTS (SELECT 1 FROM payment_items WHERE temporary_assistance_id = OLD.id);
    WHEN 'reissue_of' THEN named := EXISTS (SELECT 1 FROM payment_items WHERE reissue_of = OLD.id);
  END CASE;
  IF named THEN
    RAISE EXCEPTION 'delete on table "%" violates the payments'' reference to it: payments name % %', TG_TABLE_NAME, TG_ARGV[0], OLD.id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'payment_items_' || TG_ARGV[0] || '_ref';
  END IF;
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;
