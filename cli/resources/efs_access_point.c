/* efs.access_point: an entry to one directory of a file system as one
 * POSIX user (1000 by default), the directory made with that owner when
 * first used. Its ClientToken is derived from the deterministic name and
 * the file system, so a retried create finds the one a crash left. Any
 * change makes it again. */
#include "aws/sigv4.h"
#include "resources/efs_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TOKEN_MAX 64
#define NAME_MAX_LEN 55
#define AVAILABLE_LIMIT_S 120
#define GONE_LIMIT_S 120

struct ap_spec {
	const char *fs;
	json_int_t uid, gid;
	const char *path;
	const char *permissions;
};

static int spec_init(struct ap_spec *s, const json_t *props)
{
	*s = (struct ap_spec){ .uid = 1000, .gid = 1000, .path = "/counter", .permissions = "755" };
	if (dc_rest_props("efs.access_point", props, "{s:s, s?I, s?I, s?s, s?s}", "file_system",
			  &s->fs, "uid", &s->uid, "gid", &s->gid, "path", &s->path, "permissions",
			  &s->permissions) < 0)
		return -1;
	if (s->path[0] != '/' || s->uid < 0 || s->gid < 0)
		return dc_error_set("efs.access_point props: \"path\" must be absolute, \"uid\" and "
				    "\"gid\" not negative");
	return 0;
}

/* "<name>-<8 hex of the file system id>": a new file system (the next
 * stack of that name) gets a new token. The caller frees it. */
static char *client_token(const struct dc_res_ctx *ctx, const char *fs)
{
	char *name = dc_resource_name(ctx, NAME_MAX_LEN), hex[65];
	dc_sha256_hex(hex, fs, strlen(fs));
	char *token = dc_xasprintf("%s-%.8s", name, hex);
	free(name);
	return token;
}

static json_t *ap_attrs(const json_t *ap)
{
	return json_pack("{s:O?, s:O?, s:O?}", "id", json_object_get(ap, "AccessPointId"), "arn",
			 json_object_get(ap, "AccessPointArn"), "file_system",
			 json_object_get(ap, "FileSystemId"));
}

/* The file system's access point made with this token (a new reference),
 * or NULL. */
static int find_by_token(struct dc_res_ctx *ctx, const char *fs, const char *token, json_t **ap)
{
	json_t *aps, *a;
	size_t i;
	*ap = NULL;
	int rc = dc_efs_access_points(ctx, fs, &aps);
	json_array_foreach(aps, i, a) {
		const char *t = json_string_value(json_object_get(a, "ClientToken"));
		if (t && strcmp(t, token) == 0 && !*ap)
			*ap = json_incref(a);
	}
	json_decref(aps);
	return rc;
}

static json_t *create_input(const struct dc_res_ctx *ctx, const struct ap_spec *s,
			    const char *token)
{
	char *name = dc_resource_name(ctx, TOKEN_MAX);
	json_t *in = json_pack("{s:s, s:s, s:{s:I, s:I}, s:{s:s, s:{s:I, s:I, s:s}}, s:o}",
			       "ClientToken", token, "FileSystemId", s->fs, "PosixUser", "Uid",
			       s->uid, "Gid", s->gid, "RootDirectory", "Path", s->path,
			       "CreationInfo", "OwnerUid", s->uid, "OwnerGid", s->gid,
			       "Permissions", s->permissions, "Tags", dc_efs_tags(ctx, name));
	free(name);
	return in;
}

static int is_available(struct dc_res_ctx *ctx, void *id)
{
	char *path = dc_rest_path("/2015-02-01/access-points?AccessPointId=%s", (char *)id);
	json_t *out = NULL;
	int rc = dc_efs_call(ctx, "GET", path, NULL, &out);
	free(path);
	json_t *ap = json_array_get(json_object_get(out, "AccessPoints"), 0);
	const char *state = json_string_value(json_object_get(ap, "LifeCycleState"));
	if (rc == 0)
		rc = state && strcmp(state, "available") == 0;
	if (state && strcmp(state, "error") == 0)
		rc = dc_error_set("access point '%s' is in state 'error'", (char *)id);
	json_decref(out);
	return rc;
}

static int ap_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct ap_spec s;
	char *token = NULL;
	json_t *ap = NULL;
	*attrs = NULL;
	int rc = spec_init(&s, props);
	if (rc == 0) {
		token = client_token(ctx, s.fs);
		rc = find_by_token(ctx, s.fs, token, &ap);
	}
	if (rc == 0 && !ap)
		rc = dc_efs_call(ctx, "POST", "/2015-02-01/access-points",
				 create_input(ctx, &s, token), &ap);
	if (rc == 0 && !json_string_value(json_object_get(ap, "AccessPointId")))
		rc = dc_error_set("no access point id in EFS's answer");
	if (rc == 0) {
		*attrs = ap_attrs(ap);
		rc = ctx->record(ctx, *attrs);
	}
	if (rc == 0) {
		const char *id = json_string_value(json_object_get(*attrs, "id"));
		char *what = dc_xasprintf("access point '%s' to become available", id);
		rc = dc_resource_wait(ctx, what, AVAILABLE_LIMIT_S, is_available, (void *)id);
		free(what);
	}
	if (rc < 0) {
		dc_error_prefix("access point of '%s'", s.fs ? s.fs : "?");
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(ap);
	free(token);
	return rc;
}

static int is_gone(struct dc_res_ctx *ctx, void *id)
{
	char *path = dc_rest_path("/2015-02-01/access-points?AccessPointId=%s", (char *)id);
	json_t *out = NULL;
	int rc = dc_efs_call(ctx, "GET", path, NULL, &out);
	free(path);
	json_decref(out);
	return rc == DC_ENOTFOUND ? 1 : rc < 0 ? rc : 0;
}

static int ap_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	if (!id)
		return dc_error_set("access point: state holds no id");
	char *path = dc_rest_path("/2015-02-01/access-points/%s", id);
	int rc = dc_efs_call(ctx, "DELETE", path, NULL, NULL);
	free(path);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc == 0) {
		char *what = dc_xasprintf("access point '%s' to be deleted", id);
		rc = dc_resource_wait(ctx, what, GONE_LIMIT_S, is_gone, (void *)id);
		free(what);
	}
	if (rc < 0)
		dc_error_prefix("deleting access point '%s'", id);
	return rc;
}

/* Only with the file system known: swept, it goes with the file system. */
static int ap_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	struct ap_spec s;
	json_t *ap = NULL;
	*found = json_array();
	if (spec_init(&s, props) < 0)
		return 0;
	char *token = client_token(ctx, s.fs);
	int rc = find_by_token(ctx, s.fs, token, &ap);
	if (rc == 0 && ap)
		json_array_append_new(*found, ap_attrs(ap));
	json_decref(ap);
	free(token);
	if (rc < 0) {
		json_decref(*found);
		*found = NULL;
	}
	return rc;
}

const struct dc_resource_type dc_type_efs_access_point = {
	.name = "efs.access_point",
	.create = ap_create,
	.delete = ap_delete,
	.find = ap_find,
};
