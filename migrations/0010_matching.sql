CREATE TABLE "matching_records" (
	"snapshot_id" uuid NOT NULL,
	"line" integer NOT NULL,
	"id_index" text NOT NULL,
	"name" text NOT NULL,
	"amount_fen" bigint,
	"event_date" date,
	"ref" text,
	"attrs" jsonb,
	CONSTRAINT "matching_records_snapshot_id_line_pk" PRIMARY KEY("snapshot_id","line")
);
--> statement-breakpoint
CREATE TABLE "matching_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region" text NOT NULL,
	"program" text,
	"as_of" date NOT NULL,
	"status" text NOT NULL,
	"job_id" uuid,
	"households" integer DEFAULT 0 NOT NULL,
	"failing" integer DEFAULT 0 NOT NULL,
	"deceased_paid" integer DEFAULT 0 NOT NULL,
	"data_errors" integer DEFAULT 0 NOT NULL,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "matching_runs_status_check" CHECK ("matching_runs"."status" in ('queued','running','complete','failed'))
);
--> statement-breakpoint
CREATE TABLE "matching_snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"status" text NOT NULL,
	"format" text NOT NULL,
	"upload_key" text NOT NULL,
	"content_sha256" text,
	"lines" integer DEFAULT 0 NOT NULL,
	"records" integer DEFAULT 0 NOT NULL,
	"bad_lines" integer DEFAULT 0 NOT NULL,
	"report" jsonb,
	"job_id" uuid,
	"created_by_client_id" uuid,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"superseded_at" timestamp with time zone,
	CONSTRAINT "matching_snapshots_status_check" CHECK ("matching_snapshots"."status" in ('loading','complete','rejected','failed','superseded')),
	CONSTRAINT "matching_snapshots_format_check" CHECK ("matching_snapshots"."format" in ('ndjson','csv'))
);
--> statement-breakpoint
CREATE TABLE "matching_sources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"provider_client_id" uuid NOT NULL,
	"region" text NOT NULL,
	"current_snapshot_id" uuid,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "matching_sources_kind_check" CHECK ("matching_sources"."kind" in ('income','pension','housing_fund','real_estate','vehicle','deposits','business','death')),
	CONSTRAINT "matching_sources_region_check" CHECK ("matching_sources"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$')
);
--> statement-breakpoint
CREATE TABLE "matching_verifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"household_id" uuid NOT NULL,
	"application_id" uuid,
	"run_id" uuid,
	"program" text NOT NULL,
	"region" text NOT NULL,
	"as_of" date NOT NULL,
	"passed" boolean NOT NULL,
	"members" integer NOT NULL,
	"monthly_income_fen" bigint NOT NULL,
	"financial_assets_fen" bigint NOT NULL,
	"rules" jsonb NOT NULL,
	"flags" jsonb NOT NULL,
	"snapshots" jsonb NOT NULL,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "matching_records" ADD CONSTRAINT "matching_records_snapshot_id_matching_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."matching_snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_runs" ADD CONSTRAINT "matching_runs_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_runs" ADD CONSTRAINT "matching_runs_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_snapshots" ADD CONSTRAINT "matching_snapshots_source_id_matching_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."matching_sources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_snapshots" ADD CONSTRAINT "matching_snapshots_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_snapshots" ADD CONSTRAINT "matching_snapshots_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_sources" ADD CONSTRAINT "matching_sources_provider_client_id_clients_id_fk" FOREIGN KEY ("provider_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_sources" ADD CONSTRAINT "matching_sources_current_snapshot_id_matching_snapshots_id_fk" FOREIGN KEY ("current_snapshot_id") REFERENCES "public"."matching_snapshots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_sources" ADD CONSTRAINT "matching_sources_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_verifications" ADD CONSTRAINT "matching_verifications_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_verifications" ADD CONSTRAINT "matching_verifications_run_id_matching_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."matching_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matching_verifications" ADD CONSTRAINT "matching_verifications_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "matching_records_person_idx" ON "matching_records" USING btree ("snapshot_id","id_index");--> statement-breakpoint
CREATE INDEX "matching_runs_region_idx" ON "matching_runs" USING btree ("region","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "matching_snapshots_upload_key_idx" ON "matching_snapshots" USING btree ("source_id","upload_key");--> statement-breakpoint
CREATE INDEX "matching_snapshots_source_idx" ON "matching_snapshots" USING btree ("source_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "matching_sources_provider_kind_idx" ON "matching_sources" USING btree ("provider_client_id","kind","region");--> statement-breakpoint
CREATE INDEX "matching_verifications_household_idx" ON "matching_verifications" USING btree ("household_id","created_at");--> statement-breakpoint
CREATE INDEX "matching_verifications_run_idx" ON "matching_verifications" USING btree ("run_id","passed");--> statement-breakpoint
CREATE INDEX "matching_verifications_region_idx" ON "matching_verifications" USING btree ("region","created_at");