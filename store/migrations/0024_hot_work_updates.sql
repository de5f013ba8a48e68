-- A work item's status changes once per object per cycle (pending → done). With `status` in an index,
-- each of those updates wrote a new entry in every index of the table; now no index holds a column
-- such an update changes, so Postgres updates the row in its page (a HOT update), with room kept free
-- on each page for the new version. Staged deletions, the only status looked up across cycles, are
-- found through `held`, which stays false for every other status.
DROP INDEX IF EXISTS "cycle_work_status_idx";
--> statement-breakpoint
ALTER TABLE "cycle_work" ADD COLUMN "held" boolean GENERATED ALWAYS AS ("status" = 'staged') STORED;
--> statement-breakpoint
CREATE INDEX "cycle_work_held_idx" ON "cycle_work" ("cycle_id") WHERE "held";
--> statement-breakpoint
ALTER TABLE "cycle_work" SET (fillfactor = 50);
--> statement-breakpoint
-- Object claims last minutes and are taken again by the next attempt: they need no crash safety, and
-- an unlogged table writes no WAL for its inserts and deletes (two per exported object). After a
-- crash of Postgres the table is empty: an attempt that held claims finds them gone at its next
-- fencing check and stops; its retry claims them again.
ALTER TABLE "object_locks" SET UNLOGGED;
