CREATE TABLE "payment_batch_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"batch_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text NOT NULL,
	"action" text NOT NULL,
	"note" text,
	"detail" jsonb,
	"by_client_id" uuid
);
--> statement-breakpoint
CREATE TABLE "payment_batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"program_code" text NOT NULL,
	"period" text NOT NULL,
	"region" text NOT NULL,
	"status" text NOT NULL,
	"expedited" boolean DEFAULT false NOT NULL,
	"deadline" timestamp with time zone,
	"policy_id" uuid,
	"temporary_assistance_id" uuid,
	"follows_batch_id" uuid,
	"item_count" integer DEFAULT 0 NOT NULL,
	"total_fen" bigint DEFAULT 0 NOT NULL,
	"excluded_count" integer DEFAULT 0 NOT NULL,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_at" timestamp with time zone,
	"decided_at" timestamp with time zone,
	"decided_by_client_id" uuid,
	"decision_reason" text,
	"dispatched_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"reconciled_at" timestamp with time zone,
	"reconciliation" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "payment_batches_kind_check" CHECK ("payment_batches"."kind" in ('regular','follow_up','emergency')),
	CONSTRAINT "payment_batches_status_check" CHECK ("payment_batches"."status" in ('draft','submitted','approved','rejected','dispatched','completed','reconciled')),
	CONSTRAINT "payment_batches_period_check" CHECK ("payment_batches"."period" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT "payment_batches_region_check" CHECK ("payment_batches"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "payment_batches_counts_check" CHECK ("payment_batches"."item_count" >= 0 and "payment_batches"."total_fen" >= 0 and "payment_batches"."excluded_count" >= 0),
	CONSTRAINT "payment_batches_deadline_check" CHECK ("payment_batches"."deadline" is null or "payment_batches"."expedited"),
	CONSTRAINT "payment_batches_kind_source_check" CHECK (("payment_batches"."kind" = 'emergency') = ("payment_batches"."temporary_assistance_id" is not null)
        and ("payment_batches"."kind" = 'follow_up') = ("payment_batches"."follows_batch_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "payment_exclusions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"batch_id" uuid NOT NULL,
	"enrollment_id" uuid,
	"failed_item_id" uuid,
	"household_id" uuid,
	"person_id" uuid,
	"region" text NOT NULL,
	"reason" text NOT NULL,
	CONSTRAINT "payment_exclusions_reason_check" CHECK ("payment_exclusions"."reason" in ('no_bank_account','no_payee','no_standard','zero_amount'))
);
--> statement-breakpoint
CREATE TABLE "payment_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"batch_id" uuid NOT NULL,
	"program_code" text NOT NULL,
	"period" text NOT NULL,
	"region" text NOT NULL,
	"enrollment_id" uuid,
	"temporary_assistance_id" uuid,
	"household_id" uuid,
	"person_id" uuid NOT NULL,
	"amount_fen" bigint NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"end_to_end_id" text DEFAULT replace(gen_random_uuid()::text, '-', '') NOT NULL,
	"payee_name" text NOT NULL,
	"bank_name" text NOT NULL,
	"account_holder" text NOT NULL,
	"account_sealed" text NOT NULL,
	"account_masked" text NOT NULL,
	"reissue_of" uuid,
	"sent_at" timestamp with time zone,
	"result_at" timestamp with time zone,
	"result_code" text,
	"result_detail" text,
	"bank_reference" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_items_status_check" CHECK ("payment_items"."status" in ('pending','sent','paid','failed','returned','cancelled')),
	CONSTRAINT "payment_items_amount_check" CHECK ("payment_items"."amount_fen" > 0),
	CONSTRAINT "payment_items_period_check" CHECK ("payment_items"."period" ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
	CONSTRAINT "payment_items_source_check" CHECK (num_nonnulls("payment_items"."enrollment_id", "payment_items"."temporary_assistance_id") = 1),
	CONSTRAINT "payment_items_end_to_end_check" CHECK (length("payment_items"."end_to_end_id") between 1 and 35),
	CONSTRAINT "payment_items_result_check" CHECK (("payment_items"."status" in ('paid','failed','returned')) = ("payment_items"."result_at" is not null)),
	CONSTRAINT "payment_items_sent_check" CHECK ("payment_items"."status" in ('pending','cancelled') or "payment_items"."sent_at" is not null)
);
--> statement-breakpoint
CREATE TABLE "payment_journal" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"batch_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"by_client_id" uuid,
	"request_id" text,
	CONSTRAINT "payment_journal_kind_check" CHECK ("payment_journal"."kind" in ('approval','results'))
);
--> statement-breakpoint
CREATE TABLE "payment_ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"journal_id" uuid NOT NULL,
	"batch_id" uuid NOT NULL,
	"program_code" text NOT NULL,
	"period" text NOT NULL,
	"region" text NOT NULL,
	"account" text NOT NULL,
	"side" text NOT NULL,
	"amount_fen" bigint NOT NULL,
	CONSTRAINT "payment_ledger_entries_account_check" CHECK ("payment_ledger_entries"."account" in ('allocated','pending','paid','failed','returned')),
	CONSTRAINT "payment_ledger_entries_side_check" CHECK ("payment_ledger_entries"."side" in ('debit','credit')),
	CONSTRAINT "payment_ledger_entries_amount_check" CHECK ("payment_ledger_entries"."amount_fen" > 0)
);
--> statement-breakpoint
ALTER TABLE "payment_batch_history" ADD CONSTRAINT "payment_batch_history_batch_id_payment_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batch_history" ADD CONSTRAINT "payment_batch_history_by_client_id_clients_id_fk" FOREIGN KEY ("by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_program_code_programs_code_fk" FOREIGN KEY ("program_code") REFERENCES "public"."programs"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_temporary_assistance_id_temporary_assistance_id_fk" FOREIGN KEY ("temporary_assistance_id") REFERENCES "public"."temporary_assistance"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_follows_batch_id_payment_batches_id_fk" FOREIGN KEY ("follows_batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_decided_by_client_id_clients_id_fk" FOREIGN KEY ("decided_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_exclusions" ADD CONSTRAINT "payment_exclusions_batch_id_payment_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_exclusions" ADD CONSTRAINT "payment_exclusions_enrollment_id_enrollments_id_fk" FOREIGN KEY ("enrollment_id") REFERENCES "public"."enrollments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_exclusions" ADD CONSTRAINT "payment_exclusions_failed_item_id_payment_items_id_fk" FOREIGN KEY ("failed_item_id") REFERENCES "public"."payment_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_exclusions" ADD CONSTRAINT "payment_exclusions_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_exclusions" ADD CONSTRAINT "payment_exclusions_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_items" ADD CONSTRAINT "payment_items_batch_id_payment_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_items" ADD CONSTRAINT "payment_items_enrollment_id_enrollments_id_fk" FOREIGN KEY ("enrollment_id") REFERENCES "public"."enrollments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_items" ADD CONSTRAINT "payment_items_temporary_assistance_id_temporary_assistance_id_fk" FOREIGN KEY ("temporary_assistance_id") REFERENCES "public"."temporary_assistance"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_items" ADD CONSTRAINT "payment_items_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_items" ADD CONSTRAINT "payment_items_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_items" ADD CONSTRAINT "payment_items_reissue_of_payment_items_id_fk" FOREIGN KEY ("reissue_of") REFERENCES "public"."payment_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_journal" ADD CONSTRAINT "payment_journal_batch_id_payment_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_journal" ADD CONSTRAINT "payment_journal_by_client_id_clients_id_fk" FOREIGN KEY ("by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_ledger_entries" ADD CONSTRAINT "payment_ledger_entries_journal_id_payment_journal_id_fk" FOREIGN KEY ("journal_id") REFERENCES "public"."payment_journal"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_ledger_entries" ADD CONSTRAINT "payment_ledger_entries_batch_id_payment_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payment_batch_history_batch_idx" ON "payment_batch_history" USING btree ("batch_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_batches_regular_once_idx" ON "payment_batches" USING btree ("program_code","period","region") WHERE "payment_batches"."kind" = 'regular' and "payment_batches"."status" <> 'rejected';--> statement-breakpoint
CREATE UNIQUE INDEX "payment_batches_emergency_once_idx" ON "payment_batches" USING btree ("temporary_assistance_id") WHERE "payment_batches"."kind" = 'emergency' and "payment_batches"."status" <> 'rejected';--> statement-breakpoint
CREATE INDEX "payment_batches_region_idx" ON "payment_batches" USING btree ("region","created_at","id");--> statement-breakpoint
CREATE INDEX "payment_batches_status_deadline_idx" ON "payment_batches" USING btree ("status","deadline");--> statement-breakpoint
CREATE INDEX "payment_batches_follows_idx" ON "payment_batches" USING btree ("follows_batch_id");--> statement-breakpoint
CREATE INDEX "payment_exclusions_batch_idx" ON "payment_exclusions" USING btree ("batch_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_items_end_to_end_idx" ON "payment_items" USING btree ("end_to_end_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_items_enrollment_once_idx" ON "payment_items" USING btree ("enrollment_id","program_code","period") WHERE "payment_items"."enrollment_id" is not null and "payment_items"."status" in ('pending','sent','paid');--> statement-breakpoint
CREATE UNIQUE INDEX "payment_items_grant_once_idx" ON "payment_items" USING btree ("temporary_assistance_id") WHERE "payment_items"."temporary_assistance_id" is not null and "payment_items"."status" in ('pending','sent','paid');--> statement-breakpoint
CREATE UNIQUE INDEX "payment_items_reissue_once_idx" ON "payment_items" USING btree ("reissue_of") WHERE "payment_items"."reissue_of" is not null;--> statement-breakpoint
CREATE INDEX "payment_items_batch_idx" ON "payment_items" USING btree ("batch_id","id");--> statement-breakpoint
CREATE INDEX "payment_items_batch_status_idx" ON "payment_items" USING btree ("batch_id","status");--> statement-breakpoint
CREATE INDEX "payment_items_report_idx" ON "payment_items" USING btree ("program_code","period","region");--> statement-breakpoint
CREATE INDEX "payment_items_person_idx" ON "payment_items" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "payment_items_enrollment_idx" ON "payment_items" USING btree ("enrollment_id");--> statement-breakpoint
CREATE INDEX "payment_journal_batch_idx" ON "payment_journal" USING btree ("batch_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_journal_approval_once_idx" ON "payment_journal" USING btree ("batch_id") WHERE "payment_journal"."kind" = 'approval';--> statement-breakpoint
CREATE INDEX "payment_ledger_entries_journal_idx" ON "payment_ledger_entries" USING btree ("journal_id");--> statement-breakpoint
CREATE INDEX "payment_ledger_entries_batch_idx" ON "payment_ledger_entries" USING btree ("batch_id","account");--> statement-breakpoint
CREATE INDEX "payment_ledger_entries_report_idx" ON "payment_ledger_entries" USING btree ("program_code","period","region");