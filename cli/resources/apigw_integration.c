/* apigatewayv2.integration: how an API hands a request to its backend (a
 * Lambda function, AWS_PROXY). An integration has no name and no token, so
 * one a crashed run made is recognised by its URI within the API. */
#include "aws/protocol.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TYPE "apigatewayv2.integration"

struct integ {
	const char *api;
	const char *type;
	const char *uri;
	const char *payload_format;
};

static int read_integ(struct integ *g, const json_t *props)
{
	*g = (struct integ){ .type = "AWS_PROXY", .payload_format = "2.0" };
	return dc_rest_props(TYPE, props, "{s:s, s?:s, s:s, s?:s}", "api", &g->api, "type",
			     &g->type, "uri", &g->uri, "payload_format", &g->payload_format);
}

static const char *str_at(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int same_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static json_t *integ_attrs(const char *id, const char *api)
{
	return json_pack("{s:s, s:s}", "id", id, "api", api);
}

/* The body of a create or an update: the same three fields. */
static json_t *integ_body(const struct integ *g)
{
	return json_pack("{s:s, s:s, s:s}", "integrationType", g->type, "integrationUri", g->uri,
			 "payloadFormatVersion", g->payload_format);
}

static int patch(struct dc_res_ctx *ctx, const char *id, const struct integ *g)
{
	char *path = dc_rest_path("/v2/apis/%s/integrations/%s", g->api, id);
	json_t *body = integ_body(g);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "PATCH", path, body, NULL);
	json_decref(body);
	free(path);
	return rc;
}

/* An integration of the API with our URI, made by a crashed run: adopt it,
 * bringing its type and payload format to the props. *id is borrowed from
 * *items. */
static int find_existing(struct dc_res_ctx *ctx, const struct integ *g, json_t **items,
			 const char **id)
{
	char *path = dc_rest_path("/v2/apis/%s/integrations", g->api);
	int rc = dc_apigw_list(ctx->aws, path, items);
	free(path);
	json_t *item = rc == 0 ? dc_rest_find_item(*items, "integrationUri", g->uri) : NULL;
	*id = str_at(item, "integrationId");
	if (!*id)
		return rc;
	ctx->progress(ctx, "adopting the integration with '%s' made by an earlier run", g->uri);
	if (!same_str(str_at(item, "integrationType"), g->type) ||
	    !same_str(str_at(item, "payloadFormatVersion"), g->payload_format))
		rc = patch(ctx, *id, g);
	return rc;
}

static int create_integ(struct dc_res_ctx *ctx, const struct integ *g, json_t **attrs)
{
	char *path = dc_rest_path("/v2/apis/%s/integrations", g->api);
	json_t *body = integ_body(g);
	int rc = dc_apigw_create_child(attrs, ctx->aws, path, body, "integrationId", g->api,
				       "CreateIntegration");
	json_decref(body);
	free(path);
	return rc;
}

static int integ_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct integ g;
	json_t *items = NULL;
	const char *id = NULL;
	*attrs = NULL;
	if (read_integ(&g, props) < 0)
		return -1;
	int rc = find_existing(ctx, &g, &items, &id);
	if (rc == 0 && id)
		*attrs = integ_attrs(id, g.api);
	else if (rc == 0)
		rc = create_integ(ctx, &g, attrs);
	rc = dc_resource_record_or_drop(ctx, rc, attrs);
	json_decref(items);
	return rc;
}

static int integ_update(struct dc_res_ctx *ctx, const json_t *old_props,
			const json_t *new_props, json_t *attrs)
{
	struct integ o, n;
	const char *id = str_at(attrs, "id");
	if (!id)
		return dc_error_set(TYPE " attrs have no 'id'");
	if (read_integ(&o, old_props) < 0 || read_integ(&n, new_props) < 0)
		return -1;
	if (strcmp(o.api, n.api) != 0)
		return DC_EREPLACE;
	return patch(ctx, id, &n);
}

static int integ_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = str_at(attrs, "id"), *api = str_at(attrs, "api");
	if (!id || !api)
		return dc_error_set(TYPE " attrs need 'id' and 'api'");
	char *path = dc_rest_path("/v2/apis/%s/integrations/%s", api, id);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "DELETE", path, NULL, NULL);
	free(path);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

const struct dc_resource_type dc_type_apigw_integration = {
	.name = "apigatewayv2.integration",
	.create = integ_create,
	.update = integ_update,
	.delete = integ_delete,
};
