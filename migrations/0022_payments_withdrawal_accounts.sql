ALTER TABLE "payment_batches" DROP CONSTRAINT "payment_batches_status_check";--> statement-breakpoint
ALTER TABLE "payment_journal" DROP CONSTRAINT "payment_journal_kind_check";--> statement-breakpoint
ALTER TABLE "persons" ADD CONSTRAINT "persons_bank_account_length_check" CHECK (char_length("persons"."bank_account_masked") <= 34);--> statement-breakpoint
ALTER TABLE "payment_batches" ADD CONSTRAINT "payment_batches_status_check" CHECK ("payment_batches"."status" in ('draft','submitted','approved','rejected','dispatched','completed','reconciled','cancelled'));--> statement-breakpoint
ALTER TABLE "payment_journal" ADD CONSTRAINT "payment_journal_kind_check" CHECK ("payment_journal"."kind" in ('approval','results','withdrawal'));