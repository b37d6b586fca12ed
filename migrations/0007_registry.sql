CREATE TABLE "households" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region" text NOT NULL,
	"address" text,
	"hukou_region" text,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "households_region_check" CHECK ("households"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "households_hukou_region_check" CHECK ("households"."hukou_region" is null or "households"."hukou_region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$')
);
--> statement-breakpoint
CREATE TABLE "persons" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"household_id" uuid,
	"relationship" text,
	"name" text NOT NULL,
	"id_type" text NOT NULL,
	"id_number_sealed" text NOT NULL,
	"id_number_index" text NOT NULL,
	"id_number_masked" text NOT NULL,
	"birth_date" date,
	"sex" text,
	"region" text NOT NULL,
	"address" text,
	"hukou_region" text,
	"phone_sealed" text,
	"phone_index" text,
	"phone_masked" text,
	"bank_name" text,
	"bank_account_holder" text,
	"bank_account_sealed" text,
	"bank_account_masked" text,
	"sealed_key_id" text NOT NULL,
	"scattered_extremely_poor" boolean DEFAULT false NOT NULL,
	"lives_alone" boolean DEFAULT false NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"self_care" text,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "persons_region_check" CHECK ("persons"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "persons_hukou_region_check" CHECK ("persons"."hukou_region" is null or "persons"."hukou_region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "persons_id_type_check" CHECK ("persons"."id_type" in ('resident_id','passport','hk_macao_permit','taiwan_permit','foreign_permanent_residence','other')),
	CONSTRAINT "persons_sex_check" CHECK ("persons"."sex" is null or "persons"."sex" in ('male','female')),
	CONSTRAINT "persons_relationship_check" CHECK ("persons"."relationship" is null or "persons"."relationship" in ('head','spouse','child','parent','sibling','grandchild','grandparent','other')),
	CONSTRAINT "persons_self_care_check" CHECK ("persons"."self_care" is null or "persons"."self_care" in ('able','partially_unable','unable')),
	CONSTRAINT "persons_bank_check" CHECK (("persons"."bank_account_sealed" is null) = ("persons"."bank_account_masked" is null))
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"region" text NOT NULL,
	"effective_from" date NOT NULL,
	"effective_to" date,
	"fast_track" boolean DEFAULT false NOT NULL,
	"decision_deadline_days" integer,
	"review_extension_months" integer DEFAULT 0 NOT NULL,
	"hukou_relaxed" boolean DEFAULT false NOT NULL,
	"daily_report_cutoff" text,
	"green_channel_hours" integer,
	"visit_interval_days" integer,
	"description" text,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_by_client_id" uuid,
	"ended_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "policies_region_check" CHECK ("policies"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "policies_period_check" CHECK ("policies"."effective_to" is null or "policies"."effective_to" >= "policies"."effective_from"),
	CONSTRAINT "policies_decision_deadline_check" CHECK ("policies"."decision_deadline_days" is null or "policies"."decision_deadline_days" > 0),
	CONSTRAINT "policies_review_extension_check" CHECK ("policies"."review_extension_months" between 0 and 24),
	CONSTRAINT "policies_cutoff_check" CHECK ("policies"."daily_report_cutoff" is null or "policies"."daily_report_cutoff" ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
	CONSTRAINT "policies_green_channel_check" CHECK ("policies"."green_channel_hours" is null or "policies"."green_channel_hours" > 0),
	CONSTRAINT "policies_visit_interval_check" CHECK ("policies"."visit_interval_days" is null or "policies"."visit_interval_days" > 0)
);
--> statement-breakpoint
CREATE TABLE "application_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"application_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text NOT NULL,
	"action" text NOT NULL,
	"note" text,
	"by_client_id" uuid
);
--> statement-breakpoint
CREATE TABLE "applications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"program_code" text NOT NULL,
	"household_id" uuid NOT NULL,
	"person_id" uuid,
	"region" text NOT NULL,
	"channel" text NOT NULL,
	"submitted_by_client_id" uuid NOT NULL,
	"submitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text NOT NULL,
	"policy_id" uuid,
	"fast_track" boolean DEFAULT false NOT NULL,
	"home_visit_required" boolean DEFAULT true NOT NULL,
	"decision_due_date" date NOT NULL,
	"declared_monthly_income_fen" bigint,
	"phone_survey" jsonb,
	"home_visit" jsonb,
	"verification" jsonb,
	"decision" text,
	"decision_reasons" jsonb,
	"decided_at" timestamp with time zone,
	"decided_by_client_id" uuid,
	"notes" text,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "applications_program_check" CHECK ("applications"."program_code" in ('dibao','tekun','price_subsidy')),
	CONSTRAINT "applications_channel_check" CHECK ("applications"."channel" in ('caseworker','portal')),
	CONSTRAINT "applications_status_check" CHECK ("applications"."status" in ('verifying','verified','approved','rejected','withdrawn')),
	CONSTRAINT "applications_decision_check" CHECK ("applications"."decision" is null or "applications"."decision" in ('approved','rejected')),
	CONSTRAINT "applications_income_check" CHECK ("applications"."declared_monthly_income_fen" is null or "applications"."declared_monthly_income_fen" >= 0)
);
--> statement-breakpoint
CREATE TABLE "enrollment_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"enrollment_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text NOT NULL,
	"monthly_benefit_fen" bigint NOT NULL,
	"action" text NOT NULL,
	"reason" text,
	"by_client_id" uuid
);
--> statement-breakpoint
CREATE TABLE "enrollments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"program_code" text NOT NULL,
	"household_id" uuid NOT NULL,
	"person_id" uuid,
	"application_id" uuid,
	"region" text NOT NULL,
	"status" text NOT NULL,
	"monthly_benefit_fen" bigint NOT NULL,
	"benefit_basis" jsonb NOT NULL,
	"start_date" date NOT NULL,
	"end_date" date,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "enrollments_status_check" CHECK ("enrollments"."status" in ('active','suspended','ended')),
	CONSTRAINT "enrollments_benefit_check" CHECK ("enrollments"."monthly_benefit_fen" >= 0),
	CONSTRAINT "enrollments_ended_check" CHECK (("enrollments"."status" = 'ended') = ("enrollments"."end_date" is not null))
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"enrollment_id" uuid NOT NULL,
	"region" text NOT NULL,
	"due_date" date NOT NULL,
	"status" text DEFAULT 'due' NOT NULL,
	"outcome" text,
	"notes" text,
	"completed_at" timestamp with time zone,
	"completed_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "reviews_status_check" CHECK ("reviews"."status" in ('due','completed')),
	CONSTRAINT "reviews_outcome_check" CHECK ("reviews"."outcome" is null or "reviews"."outcome" in ('continued','benefit_changed','ended')),
	CONSTRAINT "reviews_completed_check" CHECK (("reviews"."status" = 'completed') = ("reviews"."completed_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "temporary_assistance" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"household_id" uuid,
	"region" text NOT NULL,
	"hukou_region" text,
	"non_local" boolean DEFAULT false NOT NULL,
	"policy_id" uuid,
	"stranded_reason" text,
	"infection_status" text,
	"status" text NOT NULL,
	"needs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cash_fen" bigint DEFAULT 0 NOT NULL,
	"in_kind" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reason" text,
	"welfare_contact_id" uuid,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"granted_at" timestamp with time zone,
	"granted_by_client_id" uuid,
	"paperwork_due_date" date,
	"completed_at" timestamp with time zone,
	"closed_reason" text,
	"created_by_client_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "temporary_assistance_status_check" CHECK ("temporary_assistance"."status" in ('opened','granted','completed','refused','cancelled')),
	CONSTRAINT "temporary_assistance_stranded_reason_check" CHECK ("temporary_assistance"."stranded_reason" is null or "temporary_assistance"."stranded_reason" in ('family_visit','travel','work','other')),
	CONSTRAINT "temporary_assistance_infection_check" CHECK ("temporary_assistance"."infection_status" is null or "temporary_assistance"."infection_status" in ('confirmed','suspected','close_contact','not_infected')),
	CONSTRAINT "temporary_assistance_cash_check" CHECK ("temporary_assistance"."cash_fen" >= 0),
	CONSTRAINT "temporary_assistance_granted_check" CHECK ("temporary_assistance"."status" not in ('granted','completed') or ("temporary_assistance"."granted_at" is not null and "temporary_assistance"."paperwork_due_date" is not null))
);
--> statement-breakpoint
CREATE TABLE "welfare_contacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"household_id" uuid,
	"person_id" uuid,
	"region" text NOT NULL,
	"contacted_at" timestamp with time zone NOT NULL,
	"channel" text NOT NULL,
	"outcome" text NOT NULL,
	"needs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"notes" text,
	"caseworker" text NOT NULL,
	"temporary_assistance_id" uuid,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "welfare_contacts_subject_check" CHECK ("welfare_contacts"."household_id" is not null or "welfare_contacts"."person_id" is not null),
	CONSTRAINT "welfare_contacts_channel_check" CHECK ("welfare_contacts"."channel" in ('phone','wechat','video','in_person')),
	CONSTRAINT "welfare_contacts_outcome_check" CHECK ("welfare_contacts"."outcome" in ('fine','hardship','symptoms','unreachable'))
);
--> statement-breakpoint
ALTER TABLE "programs" ADD COLUMN "decision_deadline_days" integer;--> statement-breakpoint
ALTER TABLE "programs" ADD COLUMN "review_interval_months" integer;--> statement-breakpoint
ALTER TABLE "programs" ADD COLUMN "paperwork_deadline_days" integer;--> statement-breakpoint
ALTER TABLE "households" ADD CONSTRAINT "households_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "persons" ADD CONSTRAINT "persons_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "persons" ADD CONSTRAINT "persons_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_ended_by_client_id_clients_id_fk" FOREIGN KEY ("ended_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "application_history" ADD CONSTRAINT "application_history_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."applications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "application_history" ADD CONSTRAINT "application_history_by_client_id_clients_id_fk" FOREIGN KEY ("by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "applications" ADD CONSTRAINT "applications_program_code_programs_code_fk" FOREIGN KEY ("program_code") REFERENCES "public"."programs"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "applications" ADD CONSTRAINT "applications_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "applications" ADD CONSTRAINT "applications_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "applications" ADD CONSTRAINT "applications_submitted_by_client_id_clients_id_fk" FOREIGN KEY ("submitted_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "applications" ADD CONSTRAINT "applications_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "applications" ADD CONSTRAINT "applications_decided_by_client_id_clients_id_fk" FOREIGN KEY ("decided_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_history" ADD CONSTRAINT "enrollment_history_enrollment_id_enrollments_id_fk" FOREIGN KEY ("enrollment_id") REFERENCES "public"."enrollments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_history" ADD CONSTRAINT "enrollment_history_by_client_id_clients_id_fk" FOREIGN KEY ("by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_program_code_programs_code_fk" FOREIGN KEY ("program_code") REFERENCES "public"."programs"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."applications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_enrollment_id_enrollments_id_fk" FOREIGN KEY ("enrollment_id") REFERENCES "public"."enrollments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_completed_by_client_id_clients_id_fk" FOREIGN KEY ("completed_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "temporary_assistance" ADD CONSTRAINT "temporary_assistance_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "temporary_assistance" ADD CONSTRAINT "temporary_assistance_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "temporary_assistance" ADD CONSTRAINT "temporary_assistance_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "temporary_assistance" ADD CONSTRAINT "temporary_assistance_granted_by_client_id_clients_id_fk" FOREIGN KEY ("granted_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "temporary_assistance" ADD CONSTRAINT "temporary_assistance_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "welfare_contacts" ADD CONSTRAINT "welfare_contacts_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "welfare_contacts" ADD CONSTRAINT "welfare_contacts_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "welfare_contacts" ADD CONSTRAINT "welfare_contacts_temporary_assistance_id_temporary_assistance_id_fk" FOREIGN KEY ("temporary_assistance_id") REFERENCES "public"."temporary_assistance"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "welfare_contacts" ADD CONSTRAINT "welfare_contacts_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "households_region_idx" ON "households" USING btree ("region","id");--> statement-breakpoint
CREATE UNIQUE INDEX "persons_id_document_idx" ON "persons" USING btree ("id_type","id_number_index");--> statement-breakpoint
CREATE INDEX "persons_phone_index_idx" ON "persons" USING btree ("phone_index");--> statement-breakpoint
CREATE INDEX "persons_household_idx" ON "persons" USING btree ("household_id");--> statement-breakpoint
CREATE INDEX "persons_region_idx" ON "persons" USING btree ("region","id");--> statement-breakpoint
CREATE INDEX "persons_sealed_key_idx" ON "persons" USING btree ("sealed_key_id");--> statement-breakpoint
CREATE INDEX "policies_region_period_idx" ON "policies" USING btree ("region","effective_from");--> statement-breakpoint
CREATE INDEX "application_history_application_idx" ON "application_history" USING btree ("application_id","id");--> statement-breakpoint
CREATE INDEX "applications_region_idx" ON "applications" USING btree ("region","submitted_at","id");--> statement-breakpoint
CREATE INDEX "applications_submitter_idx" ON "applications" USING btree ("submitted_by_client_id","submitted_at","id");--> statement-breakpoint
CREATE INDEX "applications_household_idx" ON "applications" USING btree ("household_id");--> statement-breakpoint
CREATE INDEX "applications_status_due_idx" ON "applications" USING btree ("status","decision_due_date");--> statement-breakpoint
CREATE INDEX "enrollment_history_enrollment_idx" ON "enrollment_history" USING btree ("enrollment_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollments_live_household_idx" ON "enrollments" USING btree ("program_code","household_id") WHERE "enrollments"."status" <> 'ended' and "enrollments"."person_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "enrollments_live_person_idx" ON "enrollments" USING btree ("program_code","person_id") WHERE "enrollments"."status" <> 'ended' and "enrollments"."person_id" is not null;--> statement-breakpoint
CREATE INDEX "enrollments_region_idx" ON "enrollments" USING btree ("region","id");--> statement-breakpoint
CREATE INDEX "enrollments_household_idx" ON "enrollments" USING btree ("household_id");--> statement-breakpoint
CREATE UNIQUE INDEX "reviews_open_idx" ON "reviews" USING btree ("enrollment_id") WHERE "reviews"."status" = 'due';--> statement-breakpoint
CREATE INDEX "reviews_region_due_idx" ON "reviews" USING btree ("region","due_date");--> statement-breakpoint
CREATE UNIQUE INDEX "temporary_assistance_once_per_emergency_idx" ON "temporary_assistance" USING btree ("person_id","policy_id") WHERE "temporary_assistance"."status" in ('granted','completed') and "temporary_assistance"."policy_id" is not null;--> statement-breakpoint
CREATE INDEX "temporary_assistance_region_idx" ON "temporary_assistance" USING btree ("region","opened_at","id");--> statement-breakpoint
CREATE INDEX "temporary_assistance_person_idx" ON "temporary_assistance" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "welfare_contacts_region_idx" ON "welfare_contacts" USING btree ("region","contacted_at","id");--> statement-breakpoint
CREATE INDEX "welfare_contacts_household_idx" ON "welfare_contacts" USING btree ("household_id");--> statement-breakpoint
CREATE INDEX "welfare_contacts_person_idx" ON "welfare_contacts" USING btree ("person_id");