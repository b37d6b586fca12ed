CREATE TABLE "contact_handoffs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region" text NOT NULL,
	"case_person_id" uuid NOT NULL,
	"case_household_id" uuid,
	"origin" text NOT NULL,
	"referral_id" uuid,
	"source_contact_id" uuid,
	"onset_date" date NOT NULL,
	"confirmed_on" date,
	"look_back_days" integer NOT NULL,
	"window_from" date NOT NULL,
	"window_to" date NOT NULL,
	"note" text,
	"status" text DEFAULT 'draft' NOT NULL,
	"sent_at" timestamp with time zone,
	"accepted_at" timestamp with time zone,
	"receiver_client_id" uuid,
	"closed_reason" text,
	"closed_at" timestamp with time zone,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "contact_handoffs_region_check" CHECK ("contact_handoffs"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "contact_handoffs_origin_check" CHECK ("contact_handoffs"."origin" in ('referral','direct','contact')),
	CONSTRAINT "contact_handoffs_origin_link_check" CHECK (("contact_handoffs"."origin" = 'referral') = ("contact_handoffs"."referral_id" is not null) and ("contact_handoffs"."origin" = 'contact') = ("contact_handoffs"."source_contact_id" is not null)),
	CONSTRAINT "contact_handoffs_status_check" CHECK ("contact_handoffs"."status" in ('draft','sent','accepted','rejected','closed','revoked')),
	CONSTRAINT "contact_handoffs_window_check" CHECK ("contact_handoffs"."look_back_days" between 1 and 60 and "contact_handoffs"."window_from" = "contact_handoffs"."onset_date" - "contact_handoffs"."look_back_days" and "contact_handoffs"."onset_date" <= "contact_handoffs"."window_to"),
	CONSTRAINT "contact_handoffs_reason_check" CHECK ("contact_handoffs"."status" not in ('rejected','revoked') or "contact_handoffs"."closed_reason" is not null)
);
--> statement-breakpoint
CREATE TABLE "handoff_comments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"handoff_id" uuid NOT NULL,
	"contact_id" uuid,
	"client_id" uuid,
	"agency" text,
	"text" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "handoff_contacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"handoff_id" uuid NOT NULL,
	"person_id" uuid,
	"caregiver_id" uuid,
	"region" text,
	"relation" text NOT NULL,
	"origin" text NOT NULL,
	"name" text NOT NULL,
	"id_type" text,
	"id_number_sealed" text,
	"id_number_masked" text,
	"phone_sealed" text,
	"phone_masked" text,
	"sealed_key_id" text,
	"identity_key" text,
	"address" text,
	"recipient" boolean DEFAULT false NOT NULL,
	"first_contact_date" date,
	"last_contact_date" date,
	"in_person_contacts" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reached_at" timestamp with time zone,
	"quarantine_kind" text,
	"quarantine_from" date,
	"quarantine_to" date,
	"quarantine_place" text,
	"released_on" date,
	"became_case_on" date,
	"next_handoff_id" uuid,
	"status_reason" text,
	"added_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "handoff_contacts_region_check" CHECK ("handoff_contacts"."region" is null or "handoff_contacts"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "handoff_contacts_relation_check" CHECK ("handoff_contacts"."relation" in ('household','family','care','visit')),
	CONSTRAINT "handoff_contacts_origin_check" CHECK ("handoff_contacts"."origin" in ('assembled','added')),
	CONSTRAINT "handoff_contacts_status_check" CHECK ("handoff_contacts"."status" in ('pending','reached','quarantined','released','unreachable','became_case','removed')),
	CONSTRAINT "handoff_contacts_quarantine_check" CHECK (("handoff_contacts"."quarantine_kind" is null or "handoff_contacts"."quarantine_kind" in ('home','centralised'))
        and ("handoff_contacts"."quarantine_kind" is null) = ("handoff_contacts"."quarantine_from" is null)
        and ("handoff_contacts"."quarantine_kind" is null) = ("handoff_contacts"."quarantine_to" is null)
        and ("handoff_contacts"."quarantine_to" is null or "handoff_contacts"."quarantine_to" >= "handoff_contacts"."quarantine_from")
        and ("handoff_contacts"."status" not in ('quarantined','released') or "handoff_contacts"."quarantine_kind" is not null)),
	CONSTRAINT "handoff_contacts_reason_check" CHECK ("handoff_contacts"."status" not in ('unreachable','removed') or "handoff_contacts"."status_reason" is not null),
	CONSTRAINT "handoff_contacts_sealed_check" CHECK (("handoff_contacts"."phone_sealed" is null) = ("handoff_contacts"."phone_masked" is null) and ("handoff_contacts"."id_number_sealed" is null) = ("handoff_contacts"."id_number_masked" is null)
        and ("handoff_contacts"."id_number_sealed" is null or "handoff_contacts"."id_type" is not null)
        and (("handoff_contacts"."phone_sealed" is null and "handoff_contacts"."id_number_sealed" is null) or "handoff_contacts"."sealed_key_id" is not null)),
	CONSTRAINT "handoff_contacts_count_check" CHECK ("handoff_contacts"."in_person_contacts" >= 0)
);
--> statement-breakpoint
CREATE TABLE "handoff_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"handoff_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"contact_id" uuid,
	"action" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"client_id" uuid,
	"agency" text,
	"note" text,
	"detail" jsonb
);
--> statement-breakpoint
ALTER TABLE "contact_handoffs" ADD CONSTRAINT "contact_handoffs_case_person_id_persons_id_fk" FOREIGN KEY ("case_person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_handoffs" ADD CONSTRAINT "contact_handoffs_case_household_id_households_id_fk" FOREIGN KEY ("case_household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_handoffs" ADD CONSTRAINT "contact_handoffs_referral_id_referrals_id_fk" FOREIGN KEY ("referral_id") REFERENCES "public"."referrals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_handoffs" ADD CONSTRAINT "contact_handoffs_source_contact_id_handoff_contacts_id_fk" FOREIGN KEY ("source_contact_id") REFERENCES "public"."handoff_contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_handoffs" ADD CONSTRAINT "contact_handoffs_receiver_client_id_clients_id_fk" FOREIGN KEY ("receiver_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_handoffs" ADD CONSTRAINT "contact_handoffs_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_comments" ADD CONSTRAINT "handoff_comments_handoff_id_contact_handoffs_id_fk" FOREIGN KEY ("handoff_id") REFERENCES "public"."contact_handoffs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_comments" ADD CONSTRAINT "handoff_comments_contact_id_handoff_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."handoff_contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_comments" ADD CONSTRAINT "handoff_comments_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_contacts" ADD CONSTRAINT "handoff_contacts_handoff_id_contact_handoffs_id_fk" FOREIGN KEY ("handoff_id") REFERENCES "public"."contact_handoffs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_contacts" ADD CONSTRAINT "handoff_contacts_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_contacts" ADD CONSTRAINT "handoff_contacts_caregiver_id_caregivers_id_fk" FOREIGN KEY ("caregiver_id") REFERENCES "public"."caregivers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_contacts" ADD CONSTRAINT "handoff_contacts_next_handoff_id_contact_handoffs_id_fk" FOREIGN KEY ("next_handoff_id") REFERENCES "public"."contact_handoffs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_contacts" ADD CONSTRAINT "handoff_contacts_added_by_client_id_clients_id_fk" FOREIGN KEY ("added_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_steps" ADD CONSTRAINT "handoff_steps_handoff_id_contact_handoffs_id_fk" FOREIGN KEY ("handoff_id") REFERENCES "public"."contact_handoffs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_steps" ADD CONSTRAINT "handoff_steps_contact_id_handoff_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."handoff_contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_steps" ADD CONSTRAINT "handoff_steps_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "contact_handoffs_one_open_idx" ON "contact_handoffs" USING btree ("case_person_id") WHERE "contact_handoffs"."status" in ('draft','sent','accepted','rejected');--> statement-breakpoint
CREATE UNIQUE INDEX "contact_handoffs_referral_idx" ON "contact_handoffs" USING btree ("referral_id") WHERE "contact_handoffs"."referral_id" is not null;--> statement-breakpoint
CREATE INDEX "contact_handoffs_region_idx" ON "contact_handoffs" USING btree ("region","created_at","id");--> statement-breakpoint
CREATE INDEX "contact_handoffs_case_idx" ON "contact_handoffs" USING btree ("case_person_id","created_at");--> statement-breakpoint
CREATE INDEX "handoff_comments_handoff_idx" ON "handoff_comments" USING btree ("handoff_id","at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "handoff_contacts_identity_idx" ON "handoff_contacts" USING btree ("handoff_id","identity_key") WHERE "handoff_contacts"."identity_key" is not null and "handoff_contacts"."status" <> 'removed';--> statement-breakpoint
CREATE UNIQUE INDEX "handoff_contacts_person_idx" ON "handoff_contacts" USING btree ("handoff_id","person_id") WHERE "handoff_contacts"."person_id" is not null and "handoff_contacts"."status" <> 'removed';--> statement-breakpoint
CREATE INDEX "handoff_contacts_handoff_idx" ON "handoff_contacts" USING btree ("handoff_id","created_at","id");--> statement-breakpoint
CREATE INDEX "handoff_contacts_identity_key_idx" ON "handoff_contacts" USING btree ("identity_key") WHERE "handoff_contacts"."identity_key" is not null;--> statement-breakpoint
CREATE INDEX "handoff_contacts_registry_person_idx" ON "handoff_contacts" USING btree ("person_id") WHERE "handoff_contacts"."person_id" is not null;--> statement-breakpoint
CREATE INDEX "handoff_contacts_quarantined_idx" ON "handoff_contacts" USING btree ("region","quarantine_to") WHERE "handoff_contacts"."status" = 'quarantined';--> statement-breakpoint
CREATE UNIQUE INDEX "handoff_steps_seq_idx" ON "handoff_steps" USING btree ("handoff_id","seq");