DROP INDEX "payment_items_period_enrollment_idx";--> statement-breakpoint
DROP INDEX "payment_items_end_to_end_idx";--> statement-breakpoint
CREATE INDEX "payment_items_period_enrollment_not_live_idx" ON "payment_items" USING btree ("period","enrollment_id") WHERE "payment_items"."enrollment_id" is not null and not "payment_items"."live";--> statement-breakpoint
CREATE UNIQUE INDEX "payment_items_end_to_end_idx" ON "payment_items" USING btree ("end_to_end_id") WHERE "payment_items"."end_to_end_id" <> replace("payment_items"."id"::text, '-', '');--> statement-breakpoint
-- Custom: the delete guard of migration payments_period_led, finding an enrollment's payments in
-- payment_items_enrollment_once_idx (live ones: pending, sent, paid) and in
-- payment_items_period_enrollment_not_live_idx (the others).
CREATE OR REPLACE FUNCTION payment_items_referenced() RETURNS trigger AS $$
DECLARE
  named boolean;
BEGIN
  -- One static query a column (plans kept), rather than dynamic SQL planned for every row deleted.
  CASE TG_ARGV[0]
    WHEN 'batch_id' THEN named := EXISTS (SELECT 1 FROM payment_items WHERE batch_id = OLD.id);
    WHEN 'enrollment_id' THEN named := EXISTS (SELECT 1 FROM payment_items
      WHERE period = ANY (ARRAY(SELECT payment_item_periods())) AND enrollment_id = OLD.id
        AND ((live AND program_code = OLD.program_code) OR NOT live));
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
