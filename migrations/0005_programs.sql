CREATE TABLE "program_standards" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"program_code" text NOT NULL,
	"region" text NOT NULL,
	"effective_from" date NOT NULL,
	"effective_to" date,
	"monthly_standard_fen" bigint NOT NULL,
	"asset_multiple" integer,
	"care_able_fen" bigint,
	"care_partially_unable_fen" bigint,
	"care_unable_fen" bigint,
	"label" text,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_by_client_id" uuid,
	"ended_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "program_standards_region_check" CHECK ("program_standards"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "program_standards_period_check" CHECK ("program_standards"."effective_to" is null or "program_standards"."effective_to" >= "program_standards"."effective_from"),
	CONSTRAINT "program_standards_standard_check" CHECK ("program_standards"."monthly_standard_fen" > 0),
	CONSTRAINT "program_standards_asset_multiple_check" CHECK ("program_standards"."asset_multiple" is null or "program_standards"."asset_multiple" > 0),
	CONSTRAINT "program_standards_care_check" CHECK (("program_standards"."care_able_fen" is null and "program_standards"."care_partially_unable_fen" is null and "program_standards"."care_unable_fen" is null)
        or ("program_standards"."program_code" = 'tekun' and "program_standards"."care_able_fen" >= 0 and "program_standards"."care_partially_unable_fen" >= 0 and "program_standards"."care_unable_fen" >= 0))
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_zh" text NOT NULL,
	"frequency" text NOT NULL,
	"what_is_paid" text NOT NULL,
	"standard_meaning" text NOT NULL,
	CONSTRAINT "programs_code_check" CHECK ("programs"."code" in ('dibao','tekun','temporary_assistance','price_subsidy')),
	CONSTRAINT "programs_frequency_check" CHECK ("programs"."frequency" in ('monthly','one_off'))
);
--> statement-breakpoint
ALTER TABLE "program_standards" ADD CONSTRAINT "program_standards_program_code_programs_code_fk" FOREIGN KEY ("program_code") REFERENCES "public"."programs"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_standards" ADD CONSTRAINT "program_standards_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "program_standards" ADD CONSTRAINT "program_standards_ended_by_client_id_clients_id_fk" FOREIGN KEY ("ended_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "program_standards_program_region_idx" ON "program_standards" USING btree ("program_code","region","effective_from");