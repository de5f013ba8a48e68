CREATE TABLE "cycle_target_listings" (
	"cycle_id" text NOT NULL REFERENCES "cycles"("id") ON DELETE CASCADE,
	"object_type" text NOT NULL,
	"attributes" jsonb NOT NULL,
	"next_index" integer DEFAULT 1 NOT NULL,
	"done" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	PRIMARY KEY ("cycle_id", "object_type")
);
--> statement-breakpoint
CREATE TABLE "cycle_target_accounts" (
	"cycle_id" text NOT NULL,
	"object_type" text NOT NULL,
	"target_id" text NOT NULL,
	"first_index" integer NOT NULL,
	"resource" jsonb NOT NULL,
	PRIMARY KEY ("cycle_id", "object_type", "target_id"),
	FOREIGN KEY ("cycle_id", "object_type") REFERENCES "cycle_target_listings"("cycle_id", "object_type") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE "cycle_target_keys" (
	"cycle_id" text NOT NULL,
	"object_type" text NOT NULL,
	"attribute" text NOT NULL,
	"key" text NOT NULL,
	"target_id" text NOT NULL,
	PRIMARY KEY ("cycle_id", "object_type", "attribute", "key", "target_id"),
	FOREIGN KEY ("cycle_id", "object_type") REFERENCES "cycle_target_listings"("cycle_id", "object_type") ON DELETE CASCADE
);
