/* efs.mount_target: the mount targets of one file system, one per subnet
 * listed (at most one per availability zone), in the given security
 * groups. Each is recorded as soon as it is made. Any change makes them
 * again. */
#include "resources/efs_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define AVAILABLE_LIMIT_S 600

struct mt_spec {
	const char *fs;
	json_t *subnets;         /* borrowed */
	json_t *security_groups; /* borrowed */
};

static int spec_init(struct mt_spec *s, const json_t *props)
{
	if (dc_rest_props("efs.mount_target", props, "{s:s, s:o, s:o}", "file_system", &s->fs,
			  "subnets", &s->subnets, "security_groups", &s->security_groups) < 0)
		return -1;
	if (!json_is_array(s->subnets) || json_array_size(s->subnets) == 0 ||
	    !json_is_array(s->security_groups))
		return dc_error_set("efs.mount_target props: \"subnets\" (not empty) and "
				    "\"security_groups\" must be lists");
	return 0;
}

/* id: the mount target ids joined by ','; mount_targets: [{subnet, id}]. */
static json_t *mt_attrs(const char *fs, json_t *made)
{
	struct dc_buf ids = DC_BUF_INIT(DC_MAX_SMALL);
	size_t i;
	json_t *m;
	json_array_foreach(made, i, m) {
		if (i)
			dc_buf_putc(&ids, ',');
		dc_buf_puts(&ids, json_string_value(json_object_get(m, "id")));
	}
	json_t *attrs = json_pack("{s:s, s:s, s:O}", "id", dc_buf_cstr(&ids), "file_system", fs,
				  "mount_targets", made);
	dc_buf_dispose(&ids);
	return attrs;
}

static const char *in_subnet(const json_t *mts, const char *subnet)
{
	size_t i;
	json_t *mt;
	json_array_foreach(mts, i, mt) {
		const char *s = json_string_value(json_object_get(mt, "SubnetId"));
		if (s && strcmp(s, subnet) == 0)
			return json_string_value(json_object_get(mt, "MountTargetId"));
	}
	return NULL;
}

/* A CreateMountTarget whose answer was lost and was sent again meets its
 * own mount target (MountTargetConflict): the one now in `subnet` is it.
 * 0 and *id when there is one, else -1 with the conflict's message kept. */
static int made_by_retry(struct dc_res_ctx *ctx, const char *fs, const char *subnet, char **id)
{
	struct dc_error conflict = *dc_error_last();
	json_t *now = NULL;
	const char *mt = dc_efs_mount_targets(ctx, fs, &now) == 0 ? in_subnet(now, subnet) : NULL;
	if (mt)
		*id = dc_xstrdup(mt);
	json_decref(now);
	return mt ? 0 : dc_error_set("%s", conflict.message);
}

/* The mount target in `subnet`: the one a crashed run made, or a new one. */
static int make_one(struct dc_res_ctx *ctx, const struct mt_spec *s, const json_t *have,
		    const char *subnet, char **id)
{
	const char *existing = in_subnet(have, subnet);
	json_t *out = NULL;
	*id = NULL;
	if (existing) {
		*id = dc_xstrdup(existing);
		return 0;
	}
	int rc = dc_efs_call(ctx, "POST", "/2015-02-01/mount-targets",
			     json_pack("{s:s, s:s, s:O}", "FileSystemId", s->fs, "SubnetId", subnet,
				       "SecurityGroups", s->security_groups),
			     &out);
	const char *made = json_string_value(json_object_get(out, "MountTargetId"));
	if (rc == 0 && !made)
		rc = dc_error_set("no mount target id in EFS's answer");
	if (rc == 0)
		*id = dc_xstrdup(made);
	else if (dc_resource_error_is("MountTargetConflict"))
		rc = made_by_retry(ctx, s->fs, subnet, id);
	if (rc < 0)
		dc_error_prefix("subnet '%s'", subnet);
	json_decref(out);
	return rc;
}

static int all_available(struct dc_res_ctx *ctx, void *fs)
{
	json_t *mts, *mt;
	size_t i;
	int rc = dc_efs_mount_targets(ctx, fs, &mts);
	int ready = rc == 0;
	json_array_foreach(mts, i, mt) {
		const char *state = json_string_value(json_object_get(mt, "LifeCycleState"));
		ready = ready && state && strcmp(state, "available") == 0;
	}
	json_decref(mts);
	return rc < 0 ? rc : ready;
}

static int make_all(struct dc_res_ctx *ctx, const struct mt_spec *s, json_t **attrs)
{
	json_t *have = NULL, *made = json_array(), *subnet;
	size_t i;
	int rc = dc_efs_mount_targets(ctx, s->fs, &have);
	json_array_foreach(s->subnets, i, subnet) {
		char *id = NULL;
		if (rc == 0 && !json_is_string(subnet))
			rc = dc_error_set("efs.mount_target props: \"subnets\" must hold ids");
		if (rc == 0)
			rc = make_one(ctx, s, have, json_string_value(subnet), &id);
		if (rc < 0)
			break;
		json_array_append_new(made, json_pack("{s:O, s:s}", "subnet", subnet, "id", id));
		free(id);
		json_decref(*attrs);
		*attrs = mt_attrs(s->fs, made);
		rc = ctx->record(ctx, *attrs);
	}
	json_decref(have);
	json_decref(made);
	return rc;
}

static int mt_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct mt_spec s;
	*attrs = NULL;
	int rc = spec_init(&s, props);
	if (rc == 0)
		rc = make_all(ctx, &s, attrs);
	if (rc == 0) {
		char *what = dc_xasprintf("the mount targets of '%s' to become available", s.fs);
		rc = dc_resource_wait(ctx, what, AVAILABLE_LIMIT_S, all_available, (void *)s.fs);
		free(what);
	}
	if (rc < 0) {
		dc_error_prefix("mount targets of '%s'", json_string_value(json_object_get(props,
											"file_system")));
		json_decref(*attrs);
		*attrs = NULL;
	}
	return rc;
}

/* Every mount target of the file system, the recorded ones and any a
 * crash left unrecorded, and wait until they are gone. */
static int mt_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *fs = json_string_value(json_object_get(attrs, "file_system"));
	if (!fs)
		return dc_error_set("mount targets: state holds no file system");
	int rc = dc_efs_mount_targets_remove(ctx, fs);
	if (rc < 0)
		dc_error_prefix("deleting the mount targets of '%s'", fs);
	return rc;
}

/* Only with the file system known: swept, they go with the file system. */
static int mt_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	const char *fs = json_string_value(json_object_get(props, "file_system"));
	json_t *mts = NULL, *mt, *made = json_array();
	size_t i;
	int rc = fs ? dc_efs_mount_targets(ctx, fs, &mts) : 0;
	*found = NULL;
	json_array_foreach(mts, i, mt)
		json_array_append_new(made, json_pack("{s:O, s:O}", "subnet",
						      json_object_get(mt, "SubnetId"), "id",
						      json_object_get(mt, "MountTargetId")));
	if (rc == 0) {
		*found = json_array();
		if (json_array_size(made))
			json_array_append_new(*found, mt_attrs(fs, made));
	}
	json_decref(made);
	json_decref(mts);
	return rc;
}

const struct dc_resource_type dc_type_efs_mount_target = {
	.name = "efs.mount_target",
	.create = mt_create,
	.delete = mt_delete,
	.find = mt_find,
};
