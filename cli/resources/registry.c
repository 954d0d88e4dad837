/* Every resource type deployctl knows: one extern and one row each. */
#include "resources/resource.h"

/* BEGIN types (keep sorted) */
extern const struct dc_resource_type dc_apigw_api;
extern const struct dc_resource_type dc_apigw_integration;
extern const struct dc_resource_type dc_apigw_route;
extern const struct dc_resource_type dc_apigw_stage;
extern const struct dc_resource_type dc_lambda_function;
extern const struct dc_resource_type dc_lambda_permission;
/* END types */

static const struct dc_resource_type *const types[] = {
	/* BEGIN rows (keep sorted) */
	&dc_apigw_api,
	&dc_apigw_integration,
	&dc_apigw_route,
	&dc_apigw_stage,
	&dc_lambda_function,
	&dc_lambda_permission,
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
