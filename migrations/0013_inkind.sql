CREATE TABLE "inkind_distribution_lines" (
	"distribution_id" uuid NOT NULL,
	"item_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	CONSTRAINT "inkind_distribution_lines_distribution_id_item_id_pk" PRIMARY KEY("distribution_id","item_id"),
	CONSTRAINT "inkind_distribution_lines_quantity_check" CHECK ("inkind_distribution_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "inkind_distributions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region" text NOT NULL,
	"person_id" uuid NOT NULL,
	"household_id" uuid,
	"temporary_assistance_id" uuid,
	"distributed_at" timestamp with time zone NOT NULL,
	"business_date" date NOT NULL,
	"distributed_by" text NOT NULL,
	"note" text,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inkind_distributions_region_check" CHECK ("inkind_distributions"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$')
);
--> statement-breakpoint
CREATE TABLE "inkind_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"unit" text NOT NULL,
	"description" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "inkind_items_code_check" CHECK ("inkind_items"."code" ~ '^[a-z][a-z0-9_]{1,49}$')
);
--> statement-breakpoint
CREATE TABLE "inkind_receipt_lines" (
	"receipt_id" uuid NOT NULL,
	"item_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	CONSTRAINT "inkind_receipt_lines_receipt_id_item_id_pk" PRIMARY KEY("receipt_id","item_id"),
	CONSTRAINT "inkind_receipt_lines_quantity_check" CHECK ("inkind_receipt_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "inkind_receipts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"region" text NOT NULL,
	"source" text NOT NULL,
	"supplier" text,
	"reference" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"note" text,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inkind_receipts_region_check" CHECK ("inkind_receipts"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "inkind_receipts_source_check" CHECK ("inkind_receipts"."source" in ('procurement','donation','allocation','other'))
);
--> statement-breakpoint
CREATE TABLE "inkind_stock" (
	"region" text NOT NULL,
	"item_id" uuid NOT NULL,
	"quantity" bigint DEFAULT 0 NOT NULL,
	"received" bigint DEFAULT 0 NOT NULL,
	"distributed" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inkind_stock_region_item_id_pk" PRIMARY KEY("region","item_id"),
	CONSTRAINT "inkind_stock_region_check" CHECK ("inkind_stock"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "inkind_stock_not_negative_check" CHECK ("inkind_stock"."quantity" >= 0),
	CONSTRAINT "inkind_stock_balance_check" CHECK ("inkind_stock"."quantity" = "inkind_stock"."received" - "inkind_stock"."distributed")
);
--> statement-breakpoint
ALTER TABLE "inkind_distribution_lines" ADD CONSTRAINT "inkind_distribution_lines_distribution_id_inkind_distributions_id_fk" FOREIGN KEY ("distribution_id") REFERENCES "public"."inkind_distributions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_distribution_lines" ADD CONSTRAINT "inkind_distribution_lines_item_id_inkind_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."inkind_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_distributions" ADD CONSTRAINT "inkind_distributions_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_distributions" ADD CONSTRAINT "inkind_distributions_household_id_households_id_fk" FOREIGN KEY ("household_id") REFERENCES "public"."households"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_distributions" ADD CONSTRAINT "inkind_distributions_temporary_assistance_id_temporary_assistance_id_fk" FOREIGN KEY ("temporary_assistance_id") REFERENCES "public"."temporary_assistance"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_distributions" ADD CONSTRAINT "inkind_distributions_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_items" ADD CONSTRAINT "inkind_items_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_receipt_lines" ADD CONSTRAINT "inkind_receipt_lines_receipt_id_inkind_receipts_id_fk" FOREIGN KEY ("receipt_id") REFERENCES "public"."inkind_receipts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_receipt_lines" ADD CONSTRAINT "inkind_receipt_lines_item_id_inkind_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."inkind_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_receipts" ADD CONSTRAINT "inkind_receipts_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inkind_stock" ADD CONSTRAINT "inkind_stock_item_id_inkind_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."inkind_items"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inkind_distributions_day_idx" ON "inkind_distributions" USING btree ("business_date","region");--> statement-breakpoint
CREATE INDEX "inkind_distributions_list_idx" ON "inkind_distributions" USING btree ("distributed_at","id");--> statement-breakpoint
CREATE INDEX "inkind_distributions_person_idx" ON "inkind_distributions" USING btree ("person_id","business_date");--> statement-breakpoint
CREATE INDEX "inkind_distributions_assistance_idx" ON "inkind_distributions" USING btree ("temporary_assistance_id");--> statement-breakpoint
CREATE UNIQUE INDEX "inkind_items_code_idx" ON "inkind_items" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "inkind_receipts_reference_idx" ON "inkind_receipts" USING btree ("region","reference");--> statement-breakpoint
CREATE INDEX "inkind_receipts_received_idx" ON "inkind_receipts" USING btree ("received_at","id");