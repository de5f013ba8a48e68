CREATE TABLE "reconcile_passes" (
	"id" text PRIMARY KEY NOT NULL,
	"app_id" text NOT NULL REFERENCES "apps"("id") ON DELETE CASCADE,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "reconcile_passes_app_idx" ON "reconcile_passes" USING btree ("app_id","started_at");
--> statement-breakpoint
CREATE TABLE "reconcile_seen" (
	"pass_id" text NOT NULL REFERENCES "reconcile_passes"("id") ON DELETE CASCADE,
	"target_id" text NOT NULL,
	CONSTRAINT "reconcile_seen_pass_id_target_id_pk" PRIMARY KEY("pass_id","target_id")
);
--> statement-breakpoint
CREATE TABLE "drift_findings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pass_id" text NOT NULL REFERENCES "reconcile_passes"("id") ON DELETE CASCADE,
	"app_id" text NOT NULL REFERENCES "apps"("id") ON DELETE CASCADE,
	"kind" text NOT NULL,
	"object_type" text NOT NULL,
	"source_id" text,
	"target_id" text NOT NULL,
	"display_name" text,
	"attributes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"outcome" text NOT NULL,
	"error_code" text,
	"error_message" text,
	"log_id" text,
	"found_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "drift_findings_pass_target_idx" ON "drift_findings" USING btree ("pass_id","target_id");
--> statement-breakpoint
CREATE INDEX "drift_findings_app_idx" ON "drift_findings" USING btree ("app_id","kind","id");
