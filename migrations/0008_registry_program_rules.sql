-- Custom migration: the programs' normal rules (regulation, not amounts). Dibao and tekun
-- applications are decided within 30 days and enrollments reviewed every 12 months; temporary
-- assistance is decided within 15 days, and aid granted on the spot has its paperwork completed
-- within 5 days. An emergency policy may shorten the decision deadline and extend reviews.
UPDATE programs SET decision_deadline_days = 30, review_interval_months = 12 WHERE code IN ('dibao', 'tekun');--> statement-breakpoint
UPDATE programs SET decision_deadline_days = 15, paperwork_deadline_days = 5 WHERE code = 'temporary_assistance';--> statement-breakpoint
UPDATE programs SET decision_deadline_days = 30 WHERE code = 'price_subsidy';
