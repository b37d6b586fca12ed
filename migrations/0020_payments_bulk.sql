ALTER TABLE "payment_items" DROP CONSTRAINT "payment_items_batch_id_payment_batches_id_fk";
--> statement-breakpoint
ALTER TABLE "payment_items" DROP CONSTRAINT "payment_items_enrollment_id_enrollments_id_fk";
--> statement-breakpoint
ALTER TABLE "payment_items" DROP CONSTRAINT "payment_items_temporary_assistance_id_temporary_assistance_id_fk";
--> statement-breakpoint
ALTER TABLE "payment_items" DROP CONSTRAINT "payment_items_household_id_households_id_fk";
--> statement-breakpoint
ALTER TABLE "payment_items" DROP CONSTRAINT "payment_items_person_id_persons_id_fk";
--> statement-breakpoint
ALTER TABLE "payment_items" DROP CONSTRAINT "payment_items_reissue_of_payment_items_id_fk";
--> statement-breakpoint
DROP INDEX "payment_items_batch_status_idx";--> statement-breakpoint
DROP INDEX "payment_items_report_idx";--> statement-breakpoint
DROP INDEX "payment_items_enrollment_once_idx";--> statement-breakpoint
DROP INDEX "payment_items_grant_once_idx";--> statement-breakpoint
ALTER TABLE "payment_batches" ADD COLUMN "result_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_items" ADD COLUMN "live" boolean GENERATED ALWAYS AS (status in ('pending','sent','paid')) STORED;--> statement-breakpoint
CREATE INDEX "payment_items_grant_idx" ON "payment_items" USING btree ("temporary_assistance_id") WHERE "payment_items"."temporary_assistance_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_items_enrollment_once_idx" ON "payment_items" USING btree ("program_code","period","enrollment_id") WHERE "payment_items"."enrollment_id" is not null and "payment_items"."live";--> statement-breakpoint
CREATE UNIQUE INDEX "payment_items_grant_once_idx" ON "payment_items" USING btree ("temporary_assistance_id") WHERE "payment_items"."temporary_assistance_id" is not null and "payment_items"."live";--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_result_count_check" CHECK ("payment_batches"."result_count" between 0 and "payment_batches"."item_count");
--> statement-breakpoint
-- Custom: room in each page for a payment's next versions (collected, then paid), so that they are
-- written beside it (HOT updates: the indexes look at no column they change) and no index is touched.
-- Pages written from now on; existing ones keep theirs.
ALTER TABLE "payment_items" SET (fillfactor = 50);
--> statement-breakpoint
-- Batches already given results count them.
UPDATE "payment_batches" b SET "result_count" = (
  SELECT count(*) FROM "payment_items" i WHERE i."batch_id" = b."id" AND i."status" IN ('paid','failed','returned'));
--> statement-breakpoint
-- Custom: what the foreign keys of payment_items kept, without a check per inserted payment. A
-- batch, enrollment, person, grant or payment that payments name cannot be deleted (households are
-- kept by their enrollments' and grants' own foreign keys). TG_ARGV[0]: payment_items' column.
CREATE OR REPLACE FUNCTION payment_items_referenced() RETURNS trigger AS $$
DECLARE
  named boolean;
BEGIN
  -- One static query a column (plans kept), rather than dynamic SQL planned for every row deleted.
  CASE TG_ARGV[0]
    WHEN 'batch_id' THEN named := EXISTS (SELECT 1 FROM payment_items WHERE batch_id = OLD.id);
    WHEN 'enrollment_id' THEN named := EXISTS (SELECT 1 FROM payment_items WHERE enrollment_id = OLD.id);
    WHEN 'person_id' THEN named := EXISTS (SELECT 1 FROM payment_items WHERE person_id = OLD.id);
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
--> statement-breakpoint
CREATE TRIGGER payment_items_batch_ref BEFORE DELETE ON payment_batches
  FOR EACH ROW EXECUTE FUNCTION payment_items_referenced('batch_id');
--> statement-breakpoint
CREATE TRIGGER payment_items_enrollment_ref BEFORE DELETE ON enrollments
  FOR EACH ROW EXECUTE FUNCTION payment_items_referenced('enrollment_id');
--> statement-breakpoint
CREATE TRIGGER payment_items_person_ref BEFORE DELETE ON persons
  FOR EACH ROW EXECUTE FUNCTION payment_items_referenced('person_id');
--> statement-breakpoint
CREATE TRIGGER payment_items_grant_ref BEFORE DELETE ON temporary_assistance
  FOR EACH ROW EXECUTE FUNCTION payment_items_referenced('temporary_assistance_id');
--> statement-breakpoint
CREATE TRIGGER payment_items_reissue_ref BEFORE DELETE ON payment_items
  FOR EACH ROW EXECUTE FUNCTION payment_items_referenced('reissue_of');
