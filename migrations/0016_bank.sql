CREATE TABLE "payment_batch_files" (
	"batch_id" uuid PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"payer_account_id" uuid NOT NULL,
	"account_name" text NOT NULL,
	"account_number" text NOT NULL,
	"bank_name" text NOT NULL,
	"bank_bic" text,
	"bank_cnaps" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_client_id" uuid,
	CONSTRAINT "payment_batch_files_message_id_check" CHECK (char_length("payment_batch_files"."message_id") between 1 and 35),
	CONSTRAINT "payment_batch_files_fields_check" CHECK ("payment_batch_files"."account_number" ~ '^[0-9]{6,34}$'
  and char_length("payment_batch_files"."account_name") between 1 and 70 and char_length("payment_batch_files"."bank_name") between 1 and 140
  and ("payment_batch_files"."bank_bic" is null or "payment_batch_files"."bank_bic" ~ '^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$')
  and ("payment_batch_files"."bank_cnaps" is null or "payment_batch_files"."bank_cnaps" ~ '^[0-9]{12}$'))
);
--> statement-breakpoint
CREATE TABLE "payment_payer_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"program_code" text NOT NULL,
	"region" text NOT NULL,
	"account_name" text NOT NULL,
	"account_number" text NOT NULL,
	"bank_name" text NOT NULL,
	"bank_bic" text,
	"bank_cnaps" text,
	"created_by_client_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by_client_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "payment_payer_accounts_region_check" CHECK ("payment_payer_accounts"."region" ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'),
	CONSTRAINT "payment_payer_accounts_fields_check" CHECK ("payment_payer_accounts"."account_number" ~ '^[0-9]{6,34}$'
  and char_length("payment_payer_accounts"."account_name") between 1 and 70 and char_length("payment_payer_accounts"."bank_name") between 1 and 140
  and ("payment_payer_accounts"."bank_bic" is null or "payment_payer_accounts"."bank_bic" ~ '^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$')
  and ("payment_payer_accounts"."bank_cnaps" is null or "payment_payer_accounts"."bank_cnaps" ~ '^[0-9]{12}$'))
);
--> statement-breakpoint
ALTER TABLE "payment_batch_files" ADD CONSTRAINT "payment_batch_files_batch_id_payment_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batch_files" ADD CONSTRAINT "payment_batch_files_payer_account_id_payment_payer_accounts_id_fk" FOREIGN KEY ("payer_account_id") REFERENCES "public"."payment_payer_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batch_files" ADD CONSTRAINT "payment_batch_files_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_payer_accounts" ADD CONSTRAINT "payment_payer_accounts_program_code_programs_code_fk" FOREIGN KEY ("program_code") REFERENCES "public"."programs"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_payer_accounts" ADD CONSTRAINT "payment_payer_accounts_created_by_client_id_clients_id_fk" FOREIGN KEY ("created_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_payer_accounts" ADD CONSTRAINT "payment_payer_accounts_updated_by_client_id_clients_id_fk" FOREIGN KEY ("updated_by_client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_batch_files_message_id_idx" ON "payment_batch_files" USING btree ("message_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_payer_accounts_program_region_idx" ON "payment_payer_accounts" USING btree ("program_code","region");