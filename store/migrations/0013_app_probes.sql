CREATE TABLE "app_probes" (
	"app_id" text PRIMARY KEY NOT NULL REFERENCES "apps"("id") ON DELETE CASCADE,
	"result" jsonb NOT NULL,
	"writes" boolean DEFAULT false NOT NULL,
	"probed_by" text NOT NULL,
	"probed_at" timestamp with time zone DEFAULT now() NOT NULL
);
