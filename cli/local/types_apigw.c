/* apigatewayv2.api, .integration, .route and .stage on the local target:
 * an API is a port of the supervisor's gateway, its integrations and routes
 * are entries there, live at once (as with an auto-deployed $default
 * stage). Ids are derived from the stack and logical id, so a retried
 * create finds what a crashed run made. */
#include "local/types.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define API_ID_LEN 10
#define CHILD_ID_LEN 7

static int api_put(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *protocol = "HTTP", *name = NULL;
	if (dc_rest_props("apigatewayv2.api", props, "{s?:s, s?:s}", "protocol", &protocol, "name",
			  &name) < 0 || dc_local_need(ctx) < 0)
		return -1;
	if (strcmp(protocol, "HTTP") != 0)
		return dc_error_set("the local gateway serves HTTP APIs, not '%s'", protocol);
	char id[API_ID_LEN + 1];
	dc_local_object_id(id, API_ID_LEN, ctx);
	char *path = dc_xasprintf("/apis/%s", id);
	json_t *answer = NULL;
	int rc = dc_local_call(ctx->local, "PUT", path, NULL, &answer);
	if (rc == 0) {
		char *endpoint = dc_xasprintf("http://127.0.0.1:%d",
					      (int)json_integer_value(json_object_get(answer, "port")));
		char *dflt = dc_resource_name(ctx, 128);
		*attrs = json_pack("{s:s, s:s, s:s}", "id", id, "endpoint", endpoint, "name",
				   name ? name : dflt);
		free(dflt);
		free(endpoint);
	}
	json_decref(answer);
	free(path);
	return rc;
}

static int api_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	if (api_put(ctx, props, attrs) < 0)
		return -1;
	return ctx->record(ctx, *attrs);
}

static int api_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		      json_t *attrs)
{
	json_t *made;
	if (api_put(ctx, new_props, &made) < 0)
		return -1;
	json_object_update(attrs, made);
	json_decref(made);
	return 0;
}

/* DELETE of a control path; gone already, or no supervisor, is success. */
static int delete_path(struct dc_res_ctx *ctx, char *path)
{
	int rc = ctx->local ? dc_local_call(ctx->local, "DELETE", path, NULL, NULL) : 0;
	free(path);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int api_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	return id ? delete_path(ctx, dc_xasprintf("/apis/%s", id)) : 0;
}

const struct dc_resource_type dc_local_apigw_api = {
	.name = "apigatewayv2.api",
	.create = api_create,
	.update = api_update,
	.delete = api_delete,
};

/* ---- integrations and routes: an entry of one API ---- */

static int member_put(struct dc_res_ctx *ctx, const char *kind, const char *api, json_t *body,
		      json_t **attrs)
{
	if (dc_local_need(ctx) < 0)
		return -1;
	char id[CHILD_ID_LEN + 1];
	dc_local_object_id(id, CHILD_ID_LEN, ctx);
	char *path = dc_xasprintf("/apis/%s/%s/%s", api, kind, id);
	int rc = dc_local_call(ctx->local, "PUT", path, body, NULL);
	free(path);
	if (rc == 0)
		*attrs = json_pack("{s:s, s:s}", "id", id, "api", api);
	return rc;
}

static int member_delete(struct dc_res_ctx *ctx, const char *kind, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	const char *api = json_string_value(json_object_get(attrs, "api"));
	if (!id || !api)
		return 0;
	return delete_path(ctx, dc_xasprintf("/apis/%s/%s/%s", api, kind, id));
}

static int integration_put(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *api, *uri, *type = "AWS_PROXY", *format = "2.0";
	if (dc_rest_props("apigatewayv2.integration", props, "{s:s, s:s, s?:s, s?:s}", "api", &api,
			  "uri", &uri, "type", &type, "payload_format", &format) < 0)
		return -1;
	if (strcmp(type, "AWS_PROXY") != 0 || strcmp(format, "2.0") != 0)
		return dc_error_set("the local gateway runs AWS_PROXY integrations of payload "
				    "format 2.0, not %s %s", type, format);
	json_t *body = json_pack("{s:s}", "uri", uri);
	int rc = member_put(ctx, "integrations", api, body, attrs);
	json_decref(body);
	return rc;
}

static int integration_update(struct dc_res_ctx *ctx, const json_t *old_props,
			      const json_t *new_props, json_t *attrs)
{
	json_t *made;
	if (integration_put(ctx, new_props, &made) < 0)
		return -1;
	json_object_update(attrs, made);
	json_decref(made);
	return 0;
}

static int integration_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	return integration_put(ctx, props, attrs);
}

static int integration_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	return member_delete(ctx, "integrations", attrs);
}

const struct dc_resource_type dc_local_apigw_integration = {
	.name = "apigatewayv2.integration",
	.create = integration_create,
	.update = integration_update,
	.delete = integration_delete,
};

static int route_put(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *api, *key, *target = NULL;
	if (dc_rest_props("apigatewayv2.route", props, "{s:s, s:s, s?:s}", "api", &api,
			  "route_key", &key, "target", &target) < 0)
		return -1;
	json_t *body = json_pack("{s:s, s:s?}", "route_key", key, "target", target);
	int rc = member_put(ctx, "routes", api, body, attrs);
	json_decref(body);
	return rc;
}

static int route_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	return route_put(ctx, props, attrs);
}

static int route_update(struct dc_res_ctx *ctx, const json_t *old_props,
			const json_t *new_props, json_t *attrs)
{
	json_t *made;
	if (route_put(ctx, new_props, &made) < 0)
		return -1;
	json_object_update(attrs, made);
	json_decref(made);
	return 0;
}

static int route_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	return member_delete(ctx, "routes", attrs);
}

const struct dc_resource_type dc_local_apigw_route = {
	.name = "apigatewayv2.route",
	.create = route_create,
	.update = route_update,
	.delete = route_delete,
};

/* ---- stages: routes are live as soon as they exist ---- */

static int stage_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *api, *name = "$default";
	if (dc_rest_props("apigatewayv2.stage", props, "{s:s, s?:s}", "api", &api, "name",
			  &name) < 0)
		return -1;
	if (strcmp(name, "$default") != 0)
		return dc_error_set("the local gateway serves the $default stage only, not '%s'",
				    name);
	*attrs = json_pack("{s:s, s:s}", "id", name, "api", api);
	return 0;
}

static int stage_update(struct dc_res_ctx *ctx, const json_t *old_props,
			const json_t *new_props, json_t *attrs)
{
	json_t *made;
	if (stage_create(ctx, new_props, &made) < 0)
		return -1;
	json_object_update(attrs, made);
	json_decref(made);
	return 0;
}

static int stage_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	return 0;
}

const struct dc_resource_type dc_local_apigw_stage = {
	.name = "apigatewayv2.stage",
	.create = stage_create,
	.update = stage_update,
	.delete = stage_delete,
};
