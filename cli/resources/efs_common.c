/* What the EFS types share. */
#include "aws/protocol.h"
#include "resources/efs_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define GONE_LIMIT_S 900

int dc_efs_call(struct dc_res_ctx *ctx, const char *method, const char *path_query, json_t *in,
		json_t **out)
{
	json_t *ignored = NULL;
	int rc = dc_aws_rest_json(ctx->aws, "efs", method, path_query, in, out ? out : &ignored);
	json_decref(ignored);
	json_decref(in);
	return rc;
}

json_t *dc_efs_tags(const struct dc_res_ctx *ctx, const char *name)
{
	json_t *tags = dc_resource_tags(ctx), *list = json_array(), *v;
	const char *k;
	json_object_foreach(tags, k, v)
		json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
	json_array_append_new(list, json_pack("{s:s, s:s}", "Key", "Name", "Value", name));
	json_decref(tags);
	return list;
}

/* GET a list of one file system (at most a few per file system, one page). */
static int list_of(struct dc_res_ctx *ctx, const char *what, const char *key, const char *fs,
		   json_t **out)
{
	char *path = dc_rest_path("/2015-02-01/%s?FileSystemId=%s", what, fs);
	json_t *ans = NULL;
	*out = NULL;
	int rc = dc_efs_call(ctx, "GET", path, NULL, &ans);
	free(path);
	if (rc == DC_ENOTFOUND) {
		*out = json_array();
		return 0;
	}
	if (rc == 0) {
		json_t *list = json_object_get(ans, key);
		*out = json_is_array(list) ? json_incref(list) : json_array();
	}
	json_decref(ans);
	return rc;
}

int dc_efs_mount_targets(struct dc_res_ctx *ctx, const char *fs, json_t **out)
{
	return list_of(ctx, "mount-targets", "MountTargets", fs, out);
}

int dc_efs_access_points(struct dc_res_ctx *ctx, const char *fs, json_t **out)
{
	return list_of(ctx, "access-points", "AccessPoints", fs, out);
}

static int none_left(struct dc_res_ctx *ctx, void *fs)
{
	json_t *mts;
	int rc = dc_efs_mount_targets(ctx, fs, &mts);
	if (rc == 0)
		rc = json_array_size(mts) == 0;
	json_decref(mts);
	return rc;
}

int dc_efs_mount_targets_remove(struct dc_res_ctx *ctx, const char *fs)
{
	json_t *mts, *mt;
	size_t i;
	int rc = dc_efs_mount_targets(ctx, fs, &mts);
	json_array_foreach(mts, i, mt) {
		const char *id = json_string_value(json_object_get(mt, "MountTargetId"));
		const char *state = json_string_value(json_object_get(mt, "LifeCycleState"));
		if (rc < 0 || !id || (state && strcmp(state, "deleting") == 0))
			continue;
		char *path = dc_rest_path("/2015-02-01/mount-targets/%s", id);
		rc = dc_efs_call(ctx, "DELETE", path, NULL, NULL);
		rc = rc == DC_ENOTFOUND ? 0 : rc;
		free(path);
	}
	json_decref(mts);
	if (rc == 0) {
		char *what = dc_xasprintf("the mount targets of '%s' to be deleted", fs);
		rc = dc_resource_wait(ctx, what, GONE_LIMIT_S, none_left, (void *)fs);
		free(what);
	}
	return rc;
}
