CREATE TABLE "previews" (
	"id" text PRIMARY KEY NOT NULL,
	"app_id" text NOT NULL REFERENCES "apps"("id") ON DELETE CASCADE,
	"base_version" integer NOT NULL,
	"changes" jsonb NOT NULL,
	"status" text NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"applied_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "previews_app_idx" ON "previews" USING btree ("app_id","created_at");
--> statement-breakpoint
CREATE TABLE "preview_items" (
	"preview_id" text NOT NULL REFERENCES "previews"("id") ON DELETE CASCADE,
	"seq" integer NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text NOT NULL,
	"display_name" text,
	"action" text NOT NULL,
	"reason" text NOT NULL,
	"depends_on_match" boolean DEFAULT false NOT NULL,
	"modified_attributes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "preview_items_preview_id_seq_pk" PRIMARY KEY("preview_id","seq")
);
--> statement-breakpoint
CREATE INDEX "preview_items_action_idx" ON "preview_items" USING btree ("preview_id","action","seq");
