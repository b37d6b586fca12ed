CREATE TABLE "daily_report_versions" (
	"report_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"zero" boolean NOT NULL,
	"suspected" integer NOT NULL,
	"confirmed" integer NOT NULL,
	"hospitalized" integer NOT NULL,
	"in_quarantine" integer NOT NULL,
	"recovered" integer NOT NULL,
	"died" integer NOT NULL,
	"emergency_grants" integer NOT NULL,
	"emergency_grants_fen" bigint NOT NULL,
	"in_kind_handouts" integer NOT NULL,
	"in_kind_items" bigint NOT NULL,
	"visits" integer NOT NULL,
	"key_persons_without_caregiver" integer NOT NULL,
	"notes" text,
	"submitted_at" timestamp with time zone NOT NULL,
	"submitted_by_client_id" uuid,
	CONSTRAINT "daily_report_versions_report_id_version_pk" PRIMARY KEY("report_id","version"),
	CONSTRAINT "daily_report_versions_version_check" CHECK ("daily_report_versions"."version" >= 1),
	CONSTRAINT "daily_report_versions_figures_check" CHECK (least("daily_report_versions"."suspected", "daily_report_versions"."confirmed", "daily_report_versions"."hospitalized", "daily_report_versions"."in_quarantine", "daily_report_versions"."recovered", "daily_report_versions"."died",
        "daily_report_versions"."emergency_grants", "daily_report_versions"."emergency_grants_fen", "daily_report_versions"."in_kind_handouts", "daily_report_versions"."in_kind_items", "daily_report_versions"."visits",
        "daily_report_versions"."key_persons_without_caregiver") >= 0),
	CONSTRAINT "daily_report_versions_zero_check" CHECK (not "daily_report_versions"."zero" or greatest("daily_report_versions"."suspected", "daily_report_versions"."confirmed", "daily_report_versions"."hospitalized", "daily_report_versions"."in_quarantine", "daily_report_versions"."recovered",
        "daily_report_versions"."died", "daily_report_versions"."emergency_grants", "daily_report_versions"."emergency_grants_fen", "daily_report_versions"."in_kind_handouts", "daily_report_versions"."in_kind_items", "daily_report_versions"."visits",
        "daily_report_versions"."key_persons_without_caregiver") = 0)
);
--> statement-breakpoint
CREATE TABLE "daily_reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"district" text NOT NULL,
	"day" date NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"first_submitted_at" timestamp with time zone,
	"last_submitted_at" timestamp with time zone,
	"missing_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_reports_district_check" CHECK ("daily_reports"."district" ~ '^[0-9]{6}$'),
	CONSTRAINT "daily_reports_version_check" CHECK ("daily_reports"."version" >= 0),
	CONSTRAINT "daily_reports_submitted_check" CHECK (("daily_reports"."version" = 0) = ("daily_reports"."first_submitted_at" is null) and ("daily_reports"."first_submitted_at" is null) = ("daily_reports"."last_submitted_at" is null))
);
--> statement-breakpoint
CREATE TABLE "urgent_report_persons" (
	"report_id" uuid NOT NULL,
	"person_id" uuid NOT NULL,
	CONSTRAINT "urgent_report_persons_report_id_person_id_pk" PRIMARY KEY("report_id","person_id")
);
--> statement-breakpoint
CREATE TABLE "urgent_reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"district" text NOT NULL,
	"type" text NOT NULL,
	"severity" text NOT NULL,
	"description" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"audience" text[] NOT NULL,
	"filed_at" timestamp with time zone NOT NULL,
	"filed_by_client_id" uuid,
	CONSTRAINT "urgent_reports_district_check" CHECK ("urgent_reports"."district" ~ '^[0-9]{6}$'),
	CONSTRAINT "urgent_reports_type_check" CHECK ("urgent_reports"."type" in ('infection','death','quarantine_hardship','care_gap','supply_shortage','safety','other')),
	CONSTRAINT "urgent_reports_severity_check" CHECK ("urgent_reports"."severity" in ('general','serious','major','critical'))
);
--> statement-breakpoint
ALTER TABLE "daily_report_versions" ADD CONSTRAINT "daily_report_versions_report_id_daily_reports_id_fk" FOREIGN KEY ("report_id") REFERENCES "public"."daily_reports"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "daily_report_versions" ADD CONSTRAINT "daily_report_versions_submitted_by_client_id_clients_id_fk" FOREIGN KEY ("submitted_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "urgent_report_persons" ADD CONSTRAINT "urgent_report_persons_report_id_urgent_reports_id_fk" FOREIGN KEY ("report_id") REFERENCES "public"."urgent_reports"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "urgent_report_persons" ADD CONSTRAINT "urgent_report_persons_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "urgent_reports" ADD CONSTRAINT "urgent_reports_filed_by_client_id_clients_id_fk" FOREIGN KEY ("filed_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "daily_reports_district_day_idx" ON "daily_reports" USING btree ("district","day");--> statement-breakpoint
CREATE INDEX "daily_reports_day_idx" ON "daily_reports" USING btree ("day","district");--> statement-breakpoint
CREATE INDEX "urgent_report_persons_person_idx" ON "urgent_report_persons" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "urgent_reports_district_idx" ON "urgent_reports" USING btree ("district","filed_at","id");--> statement-breakpoint
CREATE INDEX "urgent_reports_filed_idx" ON "urgent_reports" USING btree ("filed_at","id");