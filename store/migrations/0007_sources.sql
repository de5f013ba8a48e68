CREATE TABLE "sources" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secret" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "source_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL REFERENCES "sources"("id") ON DELETE CASCADE,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"created" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"deleted" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"staged_deletions" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE INDEX "source_runs_source_idx" ON "source_runs" USING btree ("source_id","id");
--> statement-breakpoint
ALTER TABLE "directory_users" ADD COLUMN "source_id" text;
--> statement-breakpoint
ALTER TABLE "directory_users" ADD COLUMN "source_ref" text;
--> statement-breakpoint
ALTER TABLE "directory_groups" ADD COLUMN "source_id" text;
--> statement-breakpoint
ALTER TABLE "directory_groups" ADD COLUMN "source_ref" text;
--> statement-breakpoint
CREATE INDEX "directory_users_source_idx" ON "directory_users" USING btree ("source_id","source_ref");
--> statement-breakpoint
CREATE INDEX "directory_groups_source_idx" ON "directory_groups" USING btree ("source_id","source_ref");
