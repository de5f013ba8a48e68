DROP INDEX "links_target_idx";--> statement-breakpoint
CREATE INDEX "links_target_idx" ON "links" USING btree ("target_id","app_id","object_type");