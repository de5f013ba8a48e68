CREATE TABLE "apps" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"template" text NOT NULL,
	"configuration" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secrets" text,
	"secret_names" text[] DEFAULT '{}'::text[] NOT NULL,
	"provisioning_enabled" boolean DEFAULT false NOT NULL,
	"config_version" integer DEFAULT 1 NOT NULL,
	"watermark" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "app_role_assignments" (
	"app_id" text NOT NULL,
	"principal_id" text NOT NULL,
	"principal_type" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "app_role_assignments_app_id_principal_id_role_pk" PRIMARY KEY("app_id","principal_id","role")
);
--> statement-breakpoint
CREATE TABLE "directory_changes" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text NOT NULL,
	"op" text NOT NULL,
	"app_id" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cycle_work" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"cycle_id" text NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text NOT NULL,
	"change_seq" bigint,
	"status" text DEFAULT 'pending' NOT NULL,
	"action" text,
	"detail" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cycles" (
	"id" text PRIMARY KEY NOT NULL,
	"app_id" text NOT NULL,
	"number" integer NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"counts" jsonb NOT NULL,
	"processed" integer DEFAULT 0 NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"operations" integer DEFAULT 0 NOT NULL,
	"watermark_from" bigint,
	"watermark_to" bigint,
	"failure" jsonb,
	"pending_deletions" integer DEFAULT 0 NOT NULL,
	"deletion_threshold_exceeded" boolean DEFAULT false NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "directory_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"display_name" text NOT NULL,
	"mail_nickname" text,
	"description" text,
	"mail" text,
	"extensions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"deleted_date_time" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "key_values" (
	"namespace" text NOT NULL,
	"key" text NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "key_values_namespace_key_pk" PRIMARY KEY("namespace","key")
);
--> statement-breakpoint
CREATE TABLE "links" (
	"app_id" text NOT NULL,
	"object_type" text NOT NULL,
	"source_id" text NOT NULL,
	"target_id" text,
	"exported_hash" text,
	"active" boolean DEFAULT true NOT NULL,
	"failure_count" integer DEFAULT 0 NOT NULL,
	"first_failed_at" timestamp with time zone,
	"next_retry_at" timestamp with time zone,
	"last_error" text,
	"last_error_code" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "links_app_id_object_type_source_id_pk" PRIMARY KEY("app_id","object_type","source_id")
);
--> statement-breakpoint
CREATE TABLE "directory_memberships" (
	"group_id" text NOT NULL,
	"member_id" text NOT NULL,
	"member_type" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "directory_memberships_group_id_member_id_pk" PRIMARY KEY("group_id","member_id")
);
--> statement-breakpoint
CREATE TABLE "object_locks" (
	"app_id" text NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "object_locks_app_id_object_type_object_id_pk" PRIMARY KEY("app_id","object_type","object_id")
);
--> statement-breakpoint
CREATE TABLE "provisioning_logs" (
	"id" text PRIMARY KEY NOT NULL,
	"time" timestamp with time zone NOT NULL,
	"app_id" text NOT NULL,
	"cycle_id" text,
	"change_id" text,
	"object_type" text NOT NULL,
	"source_id" text NOT NULL,
	"source_display_name" text,
	"target_id" text,
	"action" text NOT NULL,
	"status" text NOT NULL,
	"error_code" text,
	"error_message" text,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"modified_attributes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"duration_ms" integer DEFAULT 0 NOT NULL,
	"on_demand" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "directory_users" (
	"id" text PRIMARY KEY NOT NULL,
	"user_principal_name" text NOT NULL,
	"mail" text,
	"mail_nickname" text,
	"display_name" text,
	"given_name" text,
	"surname" text,
	"account_enabled" boolean DEFAULT true NOT NULL,
	"job_title" text,
	"department" text,
	"company_name" text,
	"employee_id" text,
	"mobile_phone" text,
	"business_phones" text[] DEFAULT '{}'::text[] NOT NULL,
	"office_location" text,
	"city" text,
	"country" text,
	"manager_id" text,
	"extensions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"deleted_date_time" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "app_role_assignments" ADD CONSTRAINT "app_role_assignments_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cycle_work" ADD CONSTRAINT "cycle_work_cycle_id_cycles_id_fk" FOREIGN KEY ("cycle_id") REFERENCES "public"."cycles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cycles" ADD CONSTRAINT "cycles_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "links" ADD CONSTRAINT "links_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directory_memberships" ADD CONSTRAINT "directory_memberships_group_id_directory_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."directory_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "app_role_assignments_principal_idx" ON "app_role_assignments" USING btree ("principal_id");--> statement-breakpoint
CREATE INDEX "directory_changes_object_idx" ON "directory_changes" USING btree ("object_type","object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "cycle_work_object_key" ON "cycle_work" USING btree ("cycle_id","object_type","object_id");--> statement-breakpoint
CREATE INDEX "cycle_work_cursor_idx" ON "cycle_work" USING btree ("cycle_id","object_type","seq");--> statement-breakpoint
CREATE INDEX "cycle_work_status_idx" ON "cycle_work" USING btree ("cycle_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "cycles_app_number_key" ON "cycles" USING btree ("app_id","number");--> statement-breakpoint
CREATE INDEX "cycles_app_started_idx" ON "cycles" USING btree ("app_id","started_at");--> statement-breakpoint
CREATE INDEX "directory_groups_display_name_idx" ON "directory_groups" USING btree ("display_name");--> statement-breakpoint
CREATE INDEX "links_target_idx" ON "links" USING btree ("app_id","object_type","target_id");--> statement-breakpoint
CREATE INDEX "links_retry_idx" ON "links" USING btree ("app_id","next_retry_at") WHERE "links"."next_retry_at" is not null;--> statement-breakpoint
CREATE INDEX "directory_memberships_member_idx" ON "directory_memberships" USING btree ("member_id");--> statement-breakpoint
CREATE INDEX "provisioning_logs_app_time_idx" ON "provisioning_logs" USING btree ("app_id","time","id");--> statement-breakpoint
CREATE INDEX "provisioning_logs_cycle_idx" ON "provisioning_logs" USING btree ("cycle_id","time");--> statement-breakpoint
CREATE INDEX "provisioning_logs_source_idx" ON "provisioning_logs" USING btree ("app_id","source_id","time");--> statement-breakpoint
CREATE INDEX "provisioning_logs_target_idx" ON "provisioning_logs" USING btree ("app_id","target_id");--> statement-breakpoint
CREATE INDEX "provisioning_logs_action_idx" ON "provisioning_logs" USING btree ("app_id","action","time");--> statement-breakpoint
CREATE INDEX "provisioning_logs_status_idx" ON "provisioning_logs" USING btree ("app_id","status","time");--> statement-breakpoint
CREATE UNIQUE INDEX "directory_users_upn_key" ON "directory_users" USING btree (lower("user_principal_name"));--> statement-breakpoint
CREATE INDEX "directory_users_manager_idx" ON "directory_users" USING btree ("manager_id");