/* What the ECS types share: the JSON call, tags in ECS's shape, and the
 * removal of a service, which both ecs.service and ecs.cluster (for
 * services state lost) do. */
#ifndef DC_ECS_COMMON_H
#define DC_ECS_COMMON_H

#include <jansson.h>

#include "resources/resource.h"

/* One ECS call; `in` is consumed (NULL sends {}). out may be NULL. */
int dc_ecs_call(struct dc_res_ctx *ctx, const char *op, json_t *in, json_t **out);

/* dc_resource_tags(ctx) as ECS wants them: [{"key": ..., "value": ...}]. */
json_t *dc_ecs_tags(const struct dc_res_ctx *ctx);

/* dc_resource_tagged for ECS's tag list [{"key": ..., "value": ...}]. */
int dc_ecs_tagged(const struct dc_res_ctx *ctx, const json_t *tags);

/* The service `name` of `cluster` as DescribeServices reports it, with its
 * tags (*out a new reference), or *out NULL when ECS does not know it. */
int dc_ecs_service_describe(struct dc_res_ctx *ctx, const char *cluster, const char *name,
			    json_t **out);

/* Scale the service to 0, wait until its tasks have drained, delete it and
 * wait until it is INACTIVE or gone; each wait bounded, said on the
 * progress line. A service or cluster already gone is success. */
int dc_ecs_service_remove(struct dc_res_ctx *ctx, const char *cluster, const char *name);

#endif
