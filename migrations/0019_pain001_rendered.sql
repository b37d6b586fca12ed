CREATE TABLE "payment_batch_file_parts" (
	"batch_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"end_offset" bigint NOT NULL,
	"sealed" "bytea" NOT NULL,
	CONSTRAINT "payment_batch_file_parts_batch_id_seq_pk" PRIMARY KEY("batch_id","seq")
);
--> statement-breakpoint
ALTER TABLE "payment_batch_files" ADD COLUMN "rendered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payment_batch_files" ADD COLUMN "rendered_parts" integer;--> statement-breakpoint
ALTER TABLE "payment_batch_files" ADD COLUMN "rendered_bytes" bigint;--> statement-breakpoint
ALTER TABLE "payment_batch_file_parts" ADD CONSTRAINT "payment_batch_file_parts_batch_id_payment_batch_files_batch_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."payment_batch_files"("batch_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_batch_files" ADD CONSTRAINT "payment_batch_files_rendered_check" CHECK (("payment_batch_files"."rendered_at" is null) = ("payment_batch_files"."rendered_parts" is null) and ("payment_batch_files"."rendered_at" is null) = ("payment_batch_files"."rendered_bytes" is null));