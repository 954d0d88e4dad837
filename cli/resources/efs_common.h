/* What the EFS types share: the REST-JSON call, tags in EFS's shape, and
 * removing a file system's mount targets and access points, which both
 * their own types and efs.file_system (for children state lost) do. */
#ifndef DC_EFS_COMMON_H
#define DC_EFS_COMMON_H

#include <jansson.h>

#include "resources/resource.h"

/* One EFS call; path_query is encoded; `in` is consumed (NULL: no body).
 * out may be NULL. */
int dc_efs_call(struct dc_res_ctx *ctx, const char *method, const char *path_query, json_t *in,
		json_t **out);

/* dc_resource_tags(ctx) as [{"Key": ..., "Value": ...}], plus Name. */
json_t *dc_efs_tags(const struct dc_res_ctx *ctx, const char *name);

/* The file system's mount targets (*out a new array; [] when the file
 * system is gone). */
int dc_efs_mount_targets(struct dc_res_ctx *ctx, const char *fs, json_t **out);

/* The file system's access points (*out a new array; [] when gone). */
int dc_efs_access_points(struct dc_res_ctx *ctx, const char *fs, json_t **out);

/* Delete every mount target of the file system and wait until none is
 * left, so their network interfaces are released and their security
 * group can go. Bounded, said on the progress line. */
int dc_efs_mount_targets_remove(struct dc_res_ctx *ctx, const char *fs);

#endif
