ALTER TABLE "sources" ADD COLUMN "token_hash" text;
--> statement-breakpoint
CREATE UNIQUE INDEX "sources_token_hash_idx" ON "sources" USING btree ("token_hash");
