/* apigatewayv2.route: a route key ("GET /hits") of an API and its target
 * ("integrations/<id>"). Route keys are unique within an API, so a route a
 * crashed run made is found by its key. */
#include "aws/protocol.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TYPE "apigatewayv2.route"

struct route {
	const char *api;
	const char *key;
	const char *target;
};

static int read_route(struct route *r, const json_t *props)
{
	return dc_rest_props(TYPE, props, "{s:s, s:s, s:s}", "api", &r->api, "route_key", &r->key,
			     "target", &r->target);
}

static const char *str_at(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_t *route_attrs(const char *id, const char *api)
{
	return json_pack("{s:s, s:s}", "id", id, "api", api);
}

/* PATCH the route with body (borrowed). */
static int patch(struct dc_res_ctx *ctx, const char *api, const char *id, json_t *body)
{
	char *path = dc_rest_path("/v2/apis/%s/routes/%s", api, id);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "PATCH", path, body, NULL);
	free(path);
	return rc;
}

static int set_target(struct dc_res_ctx *ctx, const struct route *r, const char *id)
{
	json_t *body = json_pack("{s:s}", "target", r->target);
	int rc = patch(ctx, r->api, id, body);
	json_decref(body);
	return rc;
}

/* A route with our key, made by a crashed run: adopt it and point it at
 * our target. *id is borrowed from *items. */
static int find_existing(struct dc_res_ctx *ctx, const struct route *r, json_t **items,
			 const char **id)
{
	char *path = dc_rest_path("/v2/apis/%s/routes", r->api);
	int rc = dc_apigw_list(ctx->aws, path, items);
	free(path);
	json_t *item = rc == 0 ? dc_rest_find_item(*items, "routeKey", r->key) : NULL;
	*id = str_at(item, "routeId");
	if (!*id)
		return rc;
	ctx->progress(ctx, "adopting route '%s' made by an earlier run", r->key);
	const char *target = str_at(item, "target");
	if (!target || strcmp(target, r->target) != 0)
		rc = set_target(ctx, r, *id);
	return rc;
}

static int create_route(struct dc_res_ctx *ctx, const struct route *r, json_t **attrs)
{
	char *path = dc_rest_path("/v2/apis/%s/routes", r->api);
	json_t *body = json_pack("{s:s, s:s}", "routeKey", r->key, "target", r->target);
	int rc = dc_apigw_create_child(attrs, ctx->aws, path, body, "routeId", r->api,
				       "CreateRoute");
	json_decref(body);
	free(path);
	return rc;
}

static int route_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct route r;
	json_t *items = NULL;
	const char *id = NULL;
	*attrs = NULL;
	if (read_route(&r, props) < 0)
		return -1;
	int rc = find_existing(ctx, &r, &items, &id);
	if (rc == 0 && id)
		*attrs = route_attrs(id, r.api);
	else if (rc == 0)
		rc = create_route(ctx, &r, attrs);
	rc = dc_resource_record_or_drop(ctx, rc, attrs);
	json_decref(items);
	return rc;
}

static int route_update(struct dc_res_ctx *ctx, const json_t *old_props,
			const json_t *new_props, json_t *attrs)
{
	struct route o, n;
	const char *id = json_string_value(json_object_get(attrs, "id"));
	if (!id)
		return dc_error_set(TYPE " attrs have no 'id'");
	if (read_route(&o, old_props) < 0 || read_route(&n, new_props) < 0)
		return -1;
	if (strcmp(o.api, n.api) != 0)
		return DC_EREPLACE;
	json_t *body = json_object();
	if (strcmp(o.key, n.key) != 0)
		json_object_set_new(body, "routeKey", json_string(n.key));
	if (strcmp(o.target, n.target) != 0)
		json_object_set_new(body, "target", json_string(n.target));
	int rc = json_object_size(body) ? patch(ctx, n.api, id, body) : 0;
	json_decref(body);
	return rc;
}

static int route_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = str_at(attrs, "id"), *api = str_at(attrs, "api");
	if (!id || !api)
		return dc_error_set(TYPE " attrs need 'id' and 'api'");
	char *path = dc_rest_path("/v2/apis/%s/routes/%s", api, id);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "DELETE", path, NULL, NULL);
	free(path);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

const struct dc_resource_type dc_type_apigw_route = {
	.name = "apigatewayv2.route",
	.create = route_create,
	.update = route_update,
	.delete = route_delete,
};
