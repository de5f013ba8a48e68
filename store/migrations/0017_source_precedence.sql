ALTER TABLE "directory_users" ADD COLUMN "attribute_sources" jsonb DEFAULT '{}'::jsonb NOT NULL;
--> statement-breakpoint
CREATE TABLE "directory_user_sources" (
	"user_id" text NOT NULL REFERENCES "directory_users"("id") ON DELETE CASCADE,
	"source_id" text NOT NULL REFERENCES "sources"("id") ON DELETE CASCADE,
	"external_id" text,
	"ref" text,
	"attributes" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "directory_user_sources_user_id_source_id_pk" PRIMARY KEY("user_id","source_id")
);
--> statement-breakpoint
CREATE INDEX "directory_user_sources_external_idx" ON "directory_user_sources" USING btree ("source_id","external_id");
--> statement-breakpoint
CREATE INDEX "directory_user_sources_ref_idx" ON "directory_user_sources" USING btree ("source_id","ref");
--> statement-breakpoint
-- Every user a source owns today: what it last wrote is what the user holds, so that is its contribution.
INSERT INTO "directory_user_sources" ("user_id", "source_id", "ref", "attributes")
SELECT u."id", u."source_id", u."source_ref", jsonb_build_object(
	'userPrincipalName', u."user_principal_name", 'mail', u."mail", 'mailNickname', u."mail_nickname",
	'displayName', u."display_name", 'givenName', u."given_name", 'surname', u."surname",
	'accountEnabled', u."account_enabled", 'jobTitle', u."job_title", 'department', u."department",
	'companyName', u."company_name", 'employeeId', u."employee_id", 'mobilePhone', u."mobile_phone",
	'businessPhones', to_jsonb(u."business_phones"), 'officeLocation', u."office_location", 'city', u."city",
	'country', u."country", 'managerId', u."manager_id", 'extensions', u."extensions")
FROM "directory_users" u JOIN "sources" s ON s."id" = u."source_id";
--> statement-breakpoint
UPDATE "directory_users" u SET "attribute_sources" = (
	SELECT coalesce(jsonb_object_agg(e.key, c."source_id"), '{}'::jsonb)
	FROM "directory_user_sources" c, jsonb_each(c."attributes") e
	WHERE c."user_id" = u."id" AND e.value NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb))
WHERE u."source_id" IS NOT NULL;
