DROP INDEX "matching_verifications_run_idx";--> statement-breakpoint
ALTER TABLE "matching_runs" ADD COLUMN "skipped" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "matching_verifications_run_idx" ON "matching_verifications" USING btree ("run_id","household_id");