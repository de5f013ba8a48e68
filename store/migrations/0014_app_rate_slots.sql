CREATE TABLE "app_rate_slots" (
	"app_id" text PRIMARY KEY NOT NULL,
	"next_start" timestamp with time zone NOT NULL,
	"paused_until" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "app_rate_slots" ADD CONSTRAINT "app_rate_slots_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;
