ALTER TABLE "links" ADD COLUMN "exported_values" jsonb;
