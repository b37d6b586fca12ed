CREATE TABLE "care_assignments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"caregiver_id" uuid NOT NULL,
	"region" text NOT NULL,
	"note" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"assigned_by_client_id" uuid,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"ended_by_client_id" uuid,
	CONSTRAINT "care_assignments_region_check" CHECK ("care_assignments"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "care_assignments_end_check" CHECK (("care_assignments"."ended_at" is null) = ("care_assignments"."end_reason" is null))
);
--> statement-breakpoint
CREATE TABLE "care_last_visits" (
	"person_id" uuid PRIMARY KEY NOT NULL,
	"visit_id" uuid NOT NULL,
	"visited_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "caregivers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"organisation" text,
	"person_id" uuid,
	"phone_sealed" text,
	"phone_index" text,
	"phone_masked" text,
	"sealed_key_id" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "caregivers_region_check" CHECK ("caregivers"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "caregivers_kind_check" CHECK ("caregivers"."kind" in ('caseworker','social_worker','cadre','volunteer','relative','neighbour','other')),
	CONSTRAINT "caregivers_phone_check" CHECK (("caregivers"."phone_sealed" is null) = ("caregivers"."phone_masked" is null) and ("caregivers"."phone_sealed" is null) = ("caregivers"."sealed_key_id" is null))
);
--> statement-breakpoint
CREATE TABLE "visit_tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"region" text NOT NULL,
	"caregiver_id" uuid,
	"fallback_region" text,
	"window_start" date NOT NULL,
	"due_date" date NOT NULL,
	"interval_days" integer NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"visit_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "visit_tasks_region_check" CHECK ("visit_tasks"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "visit_tasks_status_check" CHECK ("visit_tasks"."status" in ('open','done','cancelled')),
	CONSTRAINT "visit_tasks_assignee_check" CHECK ("visit_tasks"."caregiver_id" is not null or "visit_tasks"."fallback_region" is not null),
	CONSTRAINT "visit_tasks_window_check" CHECK ("visit_tasks"."due_date" > "visit_tasks"."window_start" and "visit_tasks"."interval_days" > 0)
);
--> statement-breakpoint
CREATE TABLE "visits" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"region" text NOT NULL,
	"caregiver_id" uuid,
	"visitor_name" text,
	"visitor_phone_sealed" text,
	"visitor_phone_index" text,
	"visitor_phone_masked" text,
	"sealed_key_id" text,
	"task_id" uuid,
	"channel" text NOT NULL,
	"visited_at" timestamp with time zone NOT NULL,
	"health_status" text NOT NULL,
	"symptoms" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"symptoms_text" text,
	"needs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"needs_text" text,
	"follow_up" text,
	"follow_up_date" date,
	"recorded_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "visits_region_check" CHECK ("visits"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "visits_channel_check" CHECK ("visits"."channel" in ('phone','wechat_video','in_person')),
	CONSTRAINT "visits_health_status_check" CHECK ("visits"."health_status" in ('well','unwell','symptomatic','hospitalized','deceased')),
	CONSTRAINT "visits_visitor_check" CHECK ("visits"."caregiver_id" is not null or "visits"."visitor_name" is not null),
	CONSTRAINT "visits_visitor_phone_check" CHECK (("visits"."visitor_phone_sealed" is null) = ("visits"."visitor_phone_masked" is null) and ("visits"."visitor_phone_sealed" is null or "visits"."sealed_key_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "referral_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"referral_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"action" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"client_id" uuid,
	"agency" text,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "referrals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"household_id" uuid,
	"region" text NOT NULL,
	"origin" text NOT NULL,
	"visit_id" uuid,
	"welfare_contact_id" uuid,
	"symptoms" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"symptoms_text" text,
	"onset_date" date,
	"location_kind" text NOT NULL,
	"location_text" text,
	"transport_needed" boolean DEFAULT false NOT NULL,
	"reporter_name" text NOT NULL,
	"reporter_phone_sealed" text,
	"reporter_phone_masked" text,
	"sealed_key_id" text,
	"status" text DEFAULT 'reported' NOT NULL,
	"ack_due_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"receiver_client_id" uuid,
	"hospital" text,
	"transferred_at" timestamp with time zone,
	"outcome" text,
	"outcome_at" timestamp with time zone,
	"closed_reason" text,
	"closed_at" timestamp with time zone,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "referrals_region_check" CHECK ("referrals"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "referrals_origin_check" CHECK ("referrals"."origin" in ('visit','welfare_contact','direct')),
	CONSTRAINT "referrals_origin_link_check" CHECK (("referrals"."origin" = 'visit') = ("referrals"."visit_id" is not null) and ("referrals"."origin" = 'welfare_contact') = ("referrals"."welfare_contact_id" is not null)),
	CONSTRAINT "referrals_location_check" CHECK ("referrals"."location_kind" in ('home','care_institution','hospital','quarantine_site','other')),
	CONSTRAINT "referrals_status_check" CHECK ("referrals"."status" in ('reported','acknowledged','transferred','confirmed','excluded','rejected','cancelled')),
	CONSTRAINT "referrals_outcome_check" CHECK (("referrals"."outcome" is null and "referrals"."status" not in ('confirmed','excluded')) or "referrals"."outcome" = "referrals"."status"),
	CONSTRAINT "referrals_reporter_phone_check" CHECK (("referrals"."reporter_phone_sealed" is null) = ("referrals"."reporter_phone_masked" is null) and ("referrals"."reporter_phone_sealed" is null or "referrals"."sealed_key_id" is not null))
);
--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "referral_ack_hours" integer;--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "contact_look_back_days" integer;--> statement-breakpoint
ALTER TABLE "care_assignments" ADD CONSTRAINT "care_assignments_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_assignments" ADD CONSTRAINT "care_assignments_caregiver_id_caregivers_id_fk" FOREIGN KEY ("caregiver_id") REFERENCES "public"."caregivers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_assignments" ADD CONSTRAINT "care_assignments_assigned_by_client_id_clients_id_fk" FOREIGN KEY ("assigned_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_assignments" ADD CONSTRAINT "care_assignments_ended_by_client_id_clients_id_fk" FOREIGN KEY ("ended_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_last_visits" ADD CONSTRAINT "care_last_visits_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "care_last_visits" ADD CONSTRAINT "care_last_visits_visit_id_visits_id_fk" FOREIGN KEY ("visit_id") REFERENCES "public"."visits"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "caregivers" ADD CONSTRAINT "caregivers_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "caregivers" ADD CONSTRAINT "caregivers_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "visit_tasks" ADD CONSTRAINT "visit_tasks_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "visit_tasks" ADD CONSTRAINT "visit_tasks_caregiver_id_caregivers_id_fk" FOREIGN KEY ("caregiver_id") REFERENCES "public"."caregivers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "visits" ADD CONSTRAINT "visits_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "visits" ADD CONSTRAINT "visits_caregiver_id_caregivers_id_fk" FOREIGN KEY ("caregiver_id") REFERENCES "public"."caregivers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "visits" ADD CONSTRAINT "visits_task_id_visit_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."visit_tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "visits" ADD CONSTRAINT "visits_recorded_by_client_id_clients_id_fk" FOREIGN KEY ("recorded_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_steps" ADD CONSTRAINT "referral_steps_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_steps" ADD CONSTRAINT "referral_steps_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_visit_id_visits_id_fk" FOREIGN KEY ("visit_id") REFERENCES "public"."visits"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_welfare_contact_id_welfare_contacts_id_fk" FOREIGN KEY ("welfare_contact_id") REFERENCES "public"."welfare_contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_receiver_client_id_clients_id_fk" FOREIGN KEY ("receiver_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "care_assignments_one_active_idx" ON "care_assignments" USING btree ("person_id") WHERE "care_assignments"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "care_assignments_caregiver_idx" ON "care_assignments" USING btree ("caregiver_id") WHERE "care_assignments"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "care_assignments_person_idx" ON "care_assignments" USING btree ("person_id","started_at");--> statement-breakpoint
CREATE INDEX "care_assignments_region_idx" ON "care_assignments" USING btree ("region","id");--> statement-breakpoint
CREATE INDEX "caregivers_region_idx" ON "caregivers" USING btree ("region","id");--> statement-breakpoint
CREATE INDEX "caregivers_person_idx" ON "caregivers" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "caregivers_phone_index_idx" ON "caregivers" USING btree ("phone_index");--> statement-breakpoint
CREATE UNIQUE INDEX "visit_tasks_person_window_idx" ON "visit_tasks" USING btree ("person_id","window_start");--> statement-breakpoint
CREATE INDEX "visit_tasks_open_region_idx" ON "visit_tasks" USING btree ("region","due_date") WHERE "visit_tasks"."status" = 'open';--> statement-breakpoint
CREATE INDEX "visit_tasks_open_caregiver_idx" ON "visit_tasks" USING btree ("caregiver_id","due_date") WHERE "visit_tasks"."status" = 'open';--> statement-breakpoint
CREATE INDEX "visits_person_idx" ON "visits" USING btree ("person_id","visited_at");--> statement-breakpoint
CREATE INDEX "visits_region_idx" ON "visits" USING btree ("region","visited_at","id");--> statement-breakpoint
CREATE INDEX "visits_caregiver_idx" ON "visits" USING btree ("caregiver_id","visited_at");--> statement-breakpoint
CREATE UNIQUE INDEX "referral_steps_seq_idx" ON "referral_steps" USING btree ("referral_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "referrals_one_open_idx" ON "referrals" USING btree ("person_id") WHERE "referrals"."status" in ('reported','acknowledged','transferred');--> statement-breakpoint
CREATE INDEX "referrals_region_idx" ON "referrals" USING btree ("region","created_at","id");--> statement-breakpoint
CREATE INDEX "referrals_ack_due_idx" ON "referrals" USING btree ("ack_due_at") WHERE "referrals"."status" = 'reported';--> statement-breakpoint
CREATE INDEX "referrals_person_idx" ON "referrals" USING btree ("person_id","created_at");--> statement-breakpoint
CREATE INDEX "persons_key_region_idx" ON "persons" USING btree ("region","id") WHERE "persons"."scattered_extremely_poor" or "persons"."lives_alone" or "persons"."disabled";--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_referral_ack_check" CHECK ("policies"."referral_ack_hours" is null or "policies"."referral_ack_hours" > 0);--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_contact_look_back_check" CHECK ("policies"."contact_look_back_days" is null or "policies"."contact_look_back_days" between 1 and 60);