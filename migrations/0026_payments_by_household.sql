DROP INDEX "payment_items_period_person_idx";--> statement-breakpoint
-- Custom: the periods payments have been made for, now read off the batches (a payment's period is
-- its batch's; a few rows a district, program and month) instead of the index by person dropped above.
CREATE OR REPLACE FUNCTION payment_item_periods() RETURNS SETOF text AS $$
  SELECT DISTINCT b.period FROM payment_batches b
$$ LANGUAGE sql STABLE;
--> statement-breakpoint
-- Custom: a person's payments, without an index by person. Every payment is an enrollment's or a
-- temporary-assistance grant's (payment_items_source_check). An enrollment pays the head of its
-- household or the member it supports, and a re-issue pays the person the failed payment named: a
-- member of the enrollment's household (persons do not change household). A grant's payment, and
-- its re-issue, pay the person aided. So a person's payments are among those of the enrollments of
-- their household (found period by period in the once-only and not-live indexes) and of their
-- grants (payment_items_grant_idx), and are the ones naming them. Each enrollment's payments are
-- looked up in a subquery of its own (OFFSET 0 keeps it one), so that no plan scans payment_items.
CREATE OR REPLACE FUNCTION payment_items_of_person(p uuid) RETURNS SETOF uuid AS $$
  SELECT i.id FROM persons x
    JOIN enrollments e ON e.household_id = x.household_id
    CROSS JOIN LATERAL (
      SELECT i.id FROM payment_items i
      WHERE i.enrollment_id = e.id AND i.period = ANY (ARRAY(SELECT payment_item_periods()))
        AND ((i.live AND i.program_code = e.program_code) OR NOT i.live) AND i.person_id = p
      OFFSET 0) i
  WHERE x.id = p
  UNION ALL
  SELECT i.id FROM temporary_assistance g
    JOIN payment_items i ON i.temporary_assistance_id = g.id
  WHERE g.person_id = p AND i.person_id = p
$$ LANGUAGE sql STABLE;
--> statement-breakpoint
-- Custom: the delete guard of migration payments_fewer_indexes, finding a person's payments with
-- payment_items_of_person().
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
    WHEN 'person_id' THEN named := EXISTS (SELECT FROM payment_items_of_person(OLD.id));
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
