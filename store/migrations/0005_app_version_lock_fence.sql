ALTER TABLE "apps" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "object_locks" ADD COLUMN "fence" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE SEQUENCE "object_lock_fence_seq";
