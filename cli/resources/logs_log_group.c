/* logs.log_group: a CloudWatch Logs group that keeps its events for
 * retention_days (0: forever). */
#include "aws/protocol.h"
#include "resources/resource.h"
#include "util/error.h"
#include "util/xalloc.h"

#define GROUP_NAME_MAX 512
#define RETENTION_DEFAULT 7

struct group_spec {
	char *name;
	json_int_t retention; /* days; 0 keeps events forever */
};

/* One Logs call; `in` is consumed. out may be NULL. */
static int logs_call(struct dc_res_ctx *ctx, const char *op, json_t *in, json_t **out)
{
	json_t *ignored = NULL;
	int rc = dc_aws_json(ctx->aws, "logs", op, in, out ? out : &ignored);
	json_decref(ignored);
	json_decref(in);
	return rc;
}

static int spec_init(struct group_spec *s, struct dc_res_ctx *ctx, const json_t *props)
{
	const json_t *name = json_object_get(props, "name");
	const json_t *days = json_object_get(props, "retention_days");
	s->name = json_is_string(name) ? dc_xstrdup(json_string_value(name))
				       : dc_resource_name(ctx, GROUP_NAME_MAX);
	s->retention = days ? json_integer_value(days) : RETENTION_DEFAULT;
	if (name && (!json_is_string(name) || !*json_string_value(name)))
		return dc_error_set("log group '%s': \"name\" must be a non-empty string",
				    ctx->logical_id);
	if (days && (!json_is_integer(days) || s->retention < 0))
		return dc_error_set("log group '%s': \"retention_days\" must be a whole number of "
				    "days (0: forever)", s->name);
	return 0;
}

static json_t *group_attrs(const char *name, const char *arn)
{
	return json_pack("{s:s, s:s, s:s}", "id", name, "name", name, "arn", arn);
}

static char *group_arn(const struct dc_res_ctx *ctx, const char *name)
{
	const char *partition = dc_endpoint_partition(ctx->region);
	return dc_xasprintf("arn:%s:logs:%s:%s:log-group:%s", partition ? partition : "aws",
			    ctx->region, ctx->account, name);
}

/* The group of exactly that name (a new reference), or NULL. The exact
 * name sorts first among those it is a prefix of, so one page suffices. */
static int describe_group(struct dc_res_ctx *ctx, const char *name, json_t **group)
{
	json_t *out, *g;
	size_t i;
	*group = NULL;
	if (logs_call(ctx, "DescribeLogGroups", json_pack("{s:s}", "logGroupNamePrefix", name),
		      &out) < 0)
		return -1;
	json_array_foreach(json_object_get(out, "logGroups"), i, g) {
		const char *n = json_string_value(json_object_get(g, "logGroupName"));
		if (n && strcmp(n, name) == 0) {
			*group = json_incref(g);
			break;
		}
	}
	json_decref(out);
	return 0;
}

/* The attrs of an existing group; its ARN as Logs reports it, without the
 * trailing ":*" that DescribeLogGroups adds. */
static int read_group(struct dc_res_ctx *ctx, const char *name, json_t **attrs)
{
	json_t *g;
	*attrs = NULL;
	if (describe_group(ctx, name, &g) < 0)
		return -1;
	if (!g) {
		dc_error_set("log group '%s' not found", name);
		return DC_ENOTFOUND;
	}
	const char *arn = json_string_value(json_object_get(g, "arn"));
	size_t n = arn ? strlen(arn) : 0;
	char *plain = n >= 2 && strcmp(arn + n - 2, ":*") == 0 ? dc_xstrndup(arn, n - 2)
							       : group_arn(ctx, name);
	*attrs = group_attrs(name, plain);
	free(plain);
	json_decref(g);
	return 0;
}

static int set_retention(struct dc_res_ctx *ctx, const struct group_spec *s)
{
	if (s->retention == 0) {
		int rc = logs_call(ctx, "DeleteRetentionPolicy",
				   json_pack("{s:s}", "logGroupName", s->name), NULL);
		return rc == DC_ENOTFOUND ? 0 : rc;
	}
	return logs_call(ctx, "PutRetentionPolicy",
			 json_pack("{s:s, s:I}", "logGroupName", s->name, "retentionInDays",
				   s->retention),
			 NULL);
}

static int tag_group(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	return logs_call(ctx, "TagResource",
			 json_pack("{s:s, s:o}", "resourceArn", arn, "tags", dc_resource_tags(ctx)),
			 NULL);
}

/* CreateLogGroup (tagged in the same call), recorded at once; or the group
 * a crashed run made, tagged now. */
static int create_or_adopt(struct dc_res_ctx *ctx, const struct group_spec *s, json_t **attrs)
{
	int rc = logs_call(ctx, "CreateLogGroup",
			   json_pack("{s:s, s:o}", "logGroupName", s->name, "tags",
				     dc_resource_tags(ctx)),
			   NULL);
	if (rc < 0 && dc_resource_error_is("ResourceAlreadyExistsException")) {
		rc = read_group(ctx, s->name, attrs);
		return rc == 0 ? tag_group(ctx, *attrs) : rc;
	}
	if (rc < 0)
		return rc;
	char *arn = group_arn(ctx, s->name);
	*attrs = group_attrs(s->name, arn);
	free(arn);
	return ctx->record(ctx, *attrs);
}

static int group_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct group_spec s;
	*attrs = NULL;
	if (spec_init(&s, ctx, props) < 0) {
		free(s.name);
		return -1;
	}
	int rc = create_or_adopt(ctx, &s, attrs);
	if (rc == 0)
		rc = set_retention(ctx, &s);
	if (rc < 0) {
		dc_error_prefix("log group '%s'", s.name);
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(s.name);
	return rc;
}

static int group_update(struct dc_res_ctx *ctx, const json_t *old_props,
			const json_t *new_props, json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	struct group_spec s;
	int rc = spec_init(&s, ctx, new_props);
	if (rc == 0 && (!id || strcmp(id, s.name) != 0))
		rc = DC_EREPLACE;
	if (rc == 0)
		rc = set_retention(ctx, &s);
	if (rc == 0)
		rc = tag_group(ctx, attrs);
	if (rc < 0 && rc != DC_EREPLACE && id)
		dc_error_prefix("log group '%s'", id);
	free(s.name);
	return rc;
}

static int group_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	if (!name)
		return dc_error_set("log group: state holds no id");
	int rc = logs_call(ctx, "DeleteLogGroup", json_pack("{s:s}", "logGroupName", name), NULL);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		dc_error_prefix("deleting log group '%s'", name);
	return rc;
}

static int ours(struct dc_res_ctx *ctx, const json_t *attrs)
{
	json_t *out;
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	if (logs_call(ctx, "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn), &out) < 0)
		return -1;
	int yes = dc_resource_tagged(ctx, json_object_get(out, "tags"));
	json_decref(out);
	return yes;
}

static int group_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	struct group_spec s;
	json_t *attrs = NULL;
	int rc = spec_init(&s, ctx, props);
	*found = NULL;
	if (rc == 0)
		rc = read_group(ctx, s.name, &attrs);
	if (rc == 0)
		rc = ours(ctx, attrs);
	free(s.name);
	if (rc < 0 && rc != DC_ENOTFOUND) {
		json_decref(attrs);
		return rc;
	}
	*found = json_array();
	if (rc == 1)
		json_array_append(*found, attrs);
	json_decref(attrs);
	return 0;
}

const struct dc_resource_type dc_type_logs_log_group = {
	.name = "logs.log_group",
	.create = group_create,
	.update = group_update,
	.delete = group_delete,
	.find = group_find,
};
