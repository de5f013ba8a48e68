-- How many attempts of the import activity a source run records (a retried attempt updates its run).
ALTER TABLE "source_runs" ADD COLUMN "attempts" integer DEFAULT 1 NOT NULL;
--> statement-breakpoint
-- Counts kept beside the runs before this column existed move into it.
UPDATE "source_runs" AS r SET "attempts" = GREATEST(1, COALESCE((kv."value"->>'attempts')::integer, 1))
  FROM "key_values" AS kv
  WHERE kv."namespace" = 'source-run-attempts' AND kv."key" = r."id"::text;
--> statement-breakpoint
DELETE FROM "key_values" WHERE "namespace" = 'source-run-attempts';
