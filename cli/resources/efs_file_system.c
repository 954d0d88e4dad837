/* efs.file_system: an encrypted EFS file system, general purpose, elastic
 * throughput (billed only for what is read and written). Its creation
 * token is the deterministic name, EFS's own idempotency token. Nothing
 * changes in place. */
#include "resources/efs_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TOKEN_MAX 64
#define AVAILABLE_LIMIT_S 300
#define GONE_LIMIT_S 600

static json_t *fs_attrs(const json_t *fs)
{
	return json_pack("{s:O?, s:O?, s:O?}", "id", json_object_get(fs, "FileSystemId"), "arn",
			 json_object_get(fs, "FileSystemArn"), "creation_token",
			 json_object_get(fs, "CreationToken"));
}

/* The file system with this creation token (or id), or NULL. */
static int describe(struct dc_res_ctx *ctx, const char *key, const char *value, json_t **fs)
{
	char *path = dc_rest_path(strcmp(key, "id") == 0 ? "/2015-02-01/file-systems?FileSystemId=%s"
							  : "/2015-02-01/file-systems?CreationToken=%s",
				  value);
	json_t *out = NULL;
	*fs = NULL;
	int rc = dc_efs_call(ctx, "GET", path, NULL, &out);
	free(path);
	if (rc == 0)
		*fs = json_incref(json_array_get(json_object_get(out, "FileSystems"), 0));
	json_decref(out);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int lifecycle_is(struct dc_res_ctx *ctx, const char *id, const char *want)
{
	json_t *fs;
	int rc = describe(ctx, "id", id, &fs);
	if (rc < 0)
		return rc;
	const char *state = json_string_value(json_object_get(fs, "LifeCycleState"));
	rc = want ? state && strcmp(state, want) == 0 : !fs;
	if (state && strcmp(state, "error") == 0)
		rc = dc_error_set("file system '%s' is in state 'error'", id);
	json_decref(fs);
	return rc;
}

static int is_available(struct dc_res_ctx *ctx, void *id)
{
	return lifecycle_is(ctx, id, "available");
}

static int is_gone(struct dc_res_ctx *ctx, void *id)
{
	return lifecycle_is(ctx, id, NULL);
}

static int create_call(struct dc_res_ctx *ctx, const char *token, json_t **attrs)
{
	json_t *out = NULL;
	int rc = dc_efs_call(ctx, "POST", "/2015-02-01/file-systems",
			     json_pack("{s:s, s:b, s:s, s:s, s:o}", "CreationToken", token,
				       "Encrypted", 1, "PerformanceMode", "generalPurpose",
				       "ThroughputMode", "elastic", "Tags", dc_efs_tags(ctx, token)),
			     &out);
	json_t *fs = NULL;
	if (rc < 0 && dc_resource_error_is("FileSystemAlreadyExists"))
		rc = describe(ctx, "token", token, &fs);
	else if (rc == 0)
		fs = json_incref(out);
	if (rc == 0 && !json_string_value(json_object_get(fs, "FileSystemId")))
		rc = dc_error_set("no file system id in EFS's answer");
	if (rc == 0) {
		*attrs = fs_attrs(fs);
		rc = ctx->record(ctx, *attrs);
	}
	json_decref(fs);
	json_decref(out);
	return rc;
}

static int fs_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	char *token = dc_resource_name(ctx, TOKEN_MAX);
	*attrs = NULL;
	int rc = create_call(ctx, token, attrs);
	if (rc == 0) {
		const char *id = json_string_value(json_object_get(*attrs, "id"));
		char *what = dc_xasprintf("file system '%s' to become available", id);
		rc = dc_resource_wait(ctx, what, AVAILABLE_LIMIT_S, is_available, (void *)id);
		free(what);
	}
	if (rc < 0) {
		dc_error_prefix("file system '%s'", token);
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(token);
	return rc;
}

static int remove_access_points(struct dc_res_ctx *ctx, const char *fs)
{
	json_t *aps, *ap;
	size_t i;
	int rc = dc_efs_access_points(ctx, fs, &aps);
	json_array_foreach(aps, i, ap) {
		const char *id = json_string_value(json_object_get(ap, "AccessPointId"));
		if (rc < 0 || !id)
			continue;
		char *path = dc_rest_path("/2015-02-01/access-points/%s", id);
		rc = dc_efs_call(ctx, "DELETE", path, NULL, NULL);
		rc = rc == DC_ENOTFOUND ? 0 : rc;
		free(path);
	}
	json_decref(aps);
	return rc;
}

/* Mount targets and access points state does not know (a sweep, a crash)
 * would keep the file system from going: they go first. */
static int fs_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	if (!id)
		return dc_error_set("file system: state holds no id");
	int rc = dc_efs_mount_targets_remove(ctx, id);
	if (rc == 0)
		rc = remove_access_points(ctx, id);
	if (rc == 0) {
		char *path = dc_rest_path("/2015-02-01/file-systems/%s", id);
		rc = dc_efs_call(ctx, "DELETE", path, NULL, NULL);
		free(path);
	}
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc == 0) {
		char *what = dc_xasprintf("file system '%s' to be deleted", id);
		rc = dc_resource_wait(ctx, what, GONE_LIMIT_S, is_gone, (void *)id);
		free(what);
	}
	if (rc < 0)
		dc_error_prefix("deleting file system '%s'", id);
	return rc;
}

static int fs_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *token = dc_resource_name(ctx, TOKEN_MAX);
	json_t *fs;
	int rc = describe(ctx, "token", token, &fs);
	*found = NULL;
	if (rc == 0) {
		*found = json_array();
		if (fs && dc_resource_tagged(ctx, json_object_get(fs, "Tags")))
			json_array_append_new(*found, fs_attrs(fs));
	}
	json_decref(fs);
	free(token);
	return rc;
}

const struct dc_resource_type dc_type_efs_file_system = {
	.name = "efs.file_system",
	.create = fs_create,
	.delete = fs_delete,
	.find = fs_find,
};
