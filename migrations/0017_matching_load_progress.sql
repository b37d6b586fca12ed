CREATE TABLE "matching_load_progress" (
	"snapshot_id" uuid PRIMARY KEY NOT NULL,
	"lines" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "matching_load_progress" ADD CONSTRAINT "matching_load_progress_snapshot_id_matching_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."matching_snapshots"("id") ON DELETE cascade ON UPDATE no action;