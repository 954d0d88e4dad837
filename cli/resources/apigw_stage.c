/* apigatewayv2.stage: where an API is served ("$default"), deploying every
 * change itself (auto_deploy). Stage names are unique within an API, so
 * ConflictException on create means a crashed run made it. */
#include "aws/protocol.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TYPE "apigatewayv2.stage"

struct stage {
	const char *api;
	const char *name;
	int auto_deploy;
};

static int read_stage(struct stage *s, const json_t *props)
{
	*s = (struct stage){ .name = "$default", .auto_deploy = 1 };
	return dc_rest_props(TYPE, props, "{s:s, s?:s, s?:b}", "api", &s->api, "name", &s->name,
			     "auto_deploy", &s->auto_deploy);
}

static json_t *stage_attrs(const struct stage *s)
{
	return json_pack("{s:s, s:s}", "id", s->name, "api", s->api);
}

static int set_auto_deploy(struct dc_res_ctx *ctx, const struct stage *s)
{
	char *path = dc_rest_path("/v2/apis/%s/stages/%s", s->api, s->name);
	json_t *body = json_pack("{s:b}", "autoDeploy", s->auto_deploy);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "PATCH", path, body, NULL);
	json_decref(body);
	free(path);
	return rc;
}

/* The stage exists: bring its auto-deploy setting to the props. */
static int adopt(struct dc_res_ctx *ctx, const struct stage *s)
{
	ctx->progress(ctx, "adopting stage '%s' made by an earlier run", s->name);
	char *path = dc_rest_path("/v2/apis/%s/stages/%s", s->api, s->name);
	json_t *answer = NULL;
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "GET", path, NULL, &answer);
	if (rc == 0 && json_is_true(json_object_get(answer, "autoDeploy")) != s->auto_deploy)
		rc = set_auto_deploy(ctx, s);
	json_decref(answer);
	free(path);
	return rc;
}

static int stage_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct stage s;
	*attrs = NULL;
	if (read_stage(&s, props) < 0)
		return -1;
	char *path = dc_rest_path("/v2/apis/%s/stages", s.api);
	json_t *body = json_pack("{s:s, s:b, s:o}", "stageName", s.name, "autoDeploy",
				 s.auto_deploy, "tags", dc_resource_tags(ctx));
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "POST", path, body, NULL);
	if (rc < 0 && dc_resource_error_is("ConflictException"))
		rc = adopt(ctx, &s);
	if (rc == 0)
		*attrs = stage_attrs(&s);
	rc = dc_resource_record_or_drop(ctx, rc, attrs);
	json_decref(body);
	free(path);
	return rc;
}

static int stage_update(struct dc_res_ctx *ctx, const json_t *old_props,
			const json_t *new_props, json_t *attrs)
{
	struct stage o, n;
	if (read_stage(&o, old_props) < 0 || read_stage(&n, new_props) < 0)
		return -1;
	if (strcmp(o.api, n.api) != 0 || strcmp(o.name, n.name) != 0)
		return DC_EREPLACE;
	return o.auto_deploy == n.auto_deploy ? 0 : set_auto_deploy(ctx, &n);
}

static int stage_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	const char *api = json_string_value(json_object_get(attrs, "api"));
	if (!id || !api)
		return dc_error_set(TYPE " attrs need 'id' and 'api'");
	char *path = dc_rest_path("/v2/apis/%s/stages/%s", api, id);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "DELETE", path, NULL, NULL);
	free(path);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

const struct dc_resource_type dc_type_apigw_stage = {
	.name = "apigatewayv2.stage",
	.create = stage_create,
	.update = stage_update,
	.delete = stage_delete,
};
