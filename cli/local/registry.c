/* Resource types with a local implementation: compute, and the load
 * balancer in front of it. Every other type (data: tables, buckets,
 * objects, roles, log groups; networks, file systems, clusters) is the AWS
 * type itself, pointed at the stack's local emulator. */
#include "local/local.h"
#include "resources/resource.h"

/* BEGIN local types (keep sorted) */
extern const struct dc_resource_type dc_local_apigw_api;
extern const struct dc_resource_type dc_local_apigw_integration;
extern const struct dc_resource_type dc_local_apigw_route;
extern const struct dc_resource_type dc_local_apigw_stage;
extern const struct dc_resource_type dc_local_ec2_instance;
extern const struct dc_resource_type dc_local_ecs_service;
extern const struct dc_resource_type dc_local_ecs_task_definition;
extern const struct dc_resource_type dc_local_elbv2_load_balancer;
extern const struct dc_resource_type dc_local_lambda_function;
extern const struct dc_resource_type dc_local_lambda_permission;
/* END local types */

static const struct dc_resource_type *const types[] = {
	/* BEGIN local rows (keep sorted) */
	&dc_local_apigw_api,
	&dc_local_apigw_integration,
	&dc_local_apigw_route,
	&dc_local_apigw_stage,
	&dc_local_ec2_instance,
	&dc_local_ecs_service,
	&dc_local_ecs_task_definition,
	&dc_local_elbv2_load_balancer,
	&dc_local_lambda_function,
	&dc_local_lambda_permission,
	/* END local rows */
	NULL
};

const struct dc_resource_type *dc_local_type_find(const char *name)
{
	for (size_t i = 0; types[i]; i++)
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}
