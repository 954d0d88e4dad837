/* Every resource type deployctl knows: one extern and one row each. */
#include "local/local.h"
#include "resources/resource.h"

/* BEGIN types (keep sorted) */
extern const struct dc_resource_type dc_type_apigw_api;
extern const struct dc_resource_type dc_type_apigw_integration;
extern const struct dc_resource_type dc_type_apigw_route;
extern const struct dc_resource_type dc_type_apigw_stage;
extern const struct dc_resource_type dc_type_dynamodb_table;
extern const struct dc_resource_type dc_type_ec2_default_vpc;
extern const struct dc_resource_type dc_type_ec2_instance;
extern const struct dc_resource_type dc_type_ec2_security_group;
extern const struct dc_resource_type dc_type_ecs_cluster;
extern const struct dc_resource_type dc_type_ecs_service;
extern const struct dc_resource_type dc_type_ecs_task_definition;
extern const struct dc_resource_type dc_type_efs_access_point;
extern const struct dc_resource_type dc_type_efs_file_system;
extern const struct dc_resource_type dc_type_efs_mount_target;
extern const struct dc_resource_type dc_type_elbv2_listener;
extern const struct dc_resource_type dc_type_elbv2_load_balancer;
extern const struct dc_resource_type dc_type_elbv2_target_group;
extern const struct dc_resource_type dc_type_http_wait;
extern const struct dc_resource_type dc_type_iam_instance_profile;
extern const struct dc_resource_type dc_type_iam_role;
extern const struct dc_resource_type dc_type_lambda_function;
extern const struct dc_resource_type dc_type_lambda_permission;
extern const struct dc_resource_type dc_type_logs_log_group;
extern const struct dc_resource_type dc_type_s3_bucket;
extern const struct dc_resource_type dc_type_s3_object;
extern const struct dc_resource_type dc_type_ssm_parameter;
extern const struct dc_resource_type dc_type_ssm_secure_parameter;
/* END types */

static const struct dc_resource_type *const types[] = {
	/* BEGIN rows (keep sorted) */
	&dc_type_apigw_api,
	&dc_type_apigw_integration,
	&dc_type_apigw_route,
	&dc_type_apigw_stage,
	&dc_type_dynamodb_table,
	&dc_type_ec2_default_vpc,
	&dc_type_ec2_instance,
	&dc_type_ec2_security_group,
	&dc_type_ecs_cluster,
	&dc_type_ecs_service,
	&dc_type_ecs_task_definition,
	&dc_type_efs_access_point,
	&dc_type_efs_file_system,
	&dc_type_efs_mount_target,
	&dc_type_elbv2_listener,
	&dc_type_elbv2_load_balancer,
	&dc_type_elbv2_target_group,
	&dc_type_http_wait,
	&dc_type_iam_instance_profile,
	&dc_type_iam_role,
	&dc_type_lambda_function,
	&dc_type_lambda_permission,
	&dc_type_logs_log_group,
	&dc_type_s3_bucket,
	&dc_type_s3_object,
	&dc_type_ssm_parameter,
	&dc_type_ssm_secure_parameter,
	/* END rows */
	NULL
};

const struct dc_resource_type *dc_resource_type_find(const char *name)
{
	for (size_t i = 0; types[i]; i++)
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

const struct dc_resource_type *dc_resource_type_find_for(const char *name, const char *target)
{
	if (target && strcmp(target, DC_LOCAL_TARGET) == 0) {
		const struct dc_resource_type *local = dc_local_type_find(name);
		if (local)
			return local;
	}
	return dc_resource_type_find(name);
}
