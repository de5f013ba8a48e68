-- Reconcile passes read groups too: what a pass has seen and found is keyed by object type as well,
-- since a target may number its users and groups separately (user 7 and group 7).
ALTER TABLE "reconcile_seen" ADD COLUMN "object_type" text DEFAULT 'user' NOT NULL;
--> statement-breakpoint
ALTER TABLE "reconcile_seen" DROP CONSTRAINT "reconcile_seen_pass_id_target_id_pk";
--> statement-breakpoint
ALTER TABLE "reconcile_seen" ADD CONSTRAINT "reconcile_seen_pass_id_object_type_target_id_pk" PRIMARY KEY("pass_id","object_type","target_id");
--> statement-breakpoint
DROP INDEX "drift_findings_pass_target_idx";
--> statement-breakpoint
CREATE UNIQUE INDEX "drift_findings_pass_type_target_idx" ON "drift_findings" USING btree ("pass_id","object_type","target_id");
