ALTER TABLE "program_standards" ADD COLUMN "property_limit" integer;--> statement-breakpoint
ALTER TABLE "program_standards" ADD COLUMN "vehicle_value_limit_fen" bigint;--> statement-breakpoint
ALTER TABLE "program_standards" ADD COLUMN "business_capital_limit_fen" bigint;--> statement-breakpoint
ALTER TABLE "program_standards" ADD CONSTRAINT "program_standards_limits_check" CHECK (("program_standards"."property_limit" is null or "program_standards"."property_limit" >= 0)
        and ("program_standards"."vehicle_value_limit_fen" is null or "program_standards"."vehicle_value_limit_fen" >= 0)
        and ("program_standards"."business_capital_limit_fen" is null or "program_standards"."business_capital_limit_fen" >= 0));