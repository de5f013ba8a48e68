ALTER TABLE "cycles" ADD COLUMN "run_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "cycles_run_id_key" ON "cycles" USING btree ("run_id");