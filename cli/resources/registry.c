/* Every resource type deployctl knows: one extern and one row each. */
#include "resources/resource.h"

/* BEGIN types (keep sorted) */
/* END types */

static const struct dc_resource_type *const types[] = {
	/* BEGIN rows (keep sorted) */
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
