/* apigatewayv2.api: an HTTP API. CreateApi takes no idempotency token and
 * API names need not be unique, so before creating one we look for an API
 * of the same name carrying our stack tag: a crashed run made it. */
#include "aws/protocol.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TYPE "apigatewayv2.api"
#define NAME_MAX_LEN 128

struct api {
	const char *protocol;
	const char *name; /* NULL: the deterministic name */
};

static int read_api(struct api *a, const json_t *props)
{
	*a = (struct api){ .protocol = "HTTP" };
	return dc_rest_props(TYPE, props, "{s?:s, s?:s}", "protocol", &a->protocol, "name",
			     &a->name);
}

static char *api_name(const struct dc_res_ctx *ctx, const struct api *a)
{
	return a->name ? dc_xstrdup(a->name) : dc_resource_name(ctx, NAME_MAX_LEN);
}

static const char *str_at(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_t *api_attrs(const json_t *item)
{
	return json_pack("{s:s?, s:s?, s:s?}", "id", str_at(item, "apiId"), "endpoint",
			 str_at(item, "apiEndpoint"), "name", str_at(item, "name"));
}

static int ours(const struct dc_res_ctx *ctx, const json_t *item, const char *name)
{
	const char *stack = str_at(json_object_get(item, "tags"), "deployctl:stack");
	const char *n = str_at(item, "name");
	return stack && n && strcmp(stack, ctx->stack) == 0 && strcmp(n, name) == 0;
}

/* attrs of every API named `name` that carries our stack tag. */
static int search(struct dc_res_ctx *ctx, const char *name, json_t **out)
{
	json_t *items = NULL;
	if (dc_apigw_list(ctx->aws, "/v2/apis", &items) < 0)
		return -1;
	*out = json_array();
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item)
		if (ours(ctx, item, name))
			json_array_append_new(*out, api_attrs(item));
	json_decref(items);
	return 0;
}

static int create_api(struct dc_res_ctx *ctx, const struct api *a, const char *name,
		      json_t **attrs)
{
	json_t *body = json_pack("{s:s, s:s, s:o}", "name", name, "protocolType", a->protocol,
				 "tags", dc_resource_tags(ctx));
	json_t *answer = NULL;
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "POST", "/v2/apis", body, &answer);
	if (rc == 0 && !str_at(answer, "apiId"))
		rc = dc_error_set("CreateApi answered without an apiId");
	if (rc == 0)
		*attrs = api_attrs(answer);
	json_decref(answer);
	json_decref(body);
	return rc;
}

static int api_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct api a;
	json_t *found = NULL;
	*attrs = NULL;
	if (read_api(&a, props) < 0)
		return -1;
	char *name = api_name(ctx, &a);
	int rc = search(ctx, name, &found);
	if (rc == 0 && json_array_size(found) > 0) {
		ctx->progress(ctx, "adopting API '%s' made by an earlier run", name);
		*attrs = json_incref(json_array_get(found, 0));
	} else if (rc == 0) {
		rc = create_api(ctx, &a, name, attrs);
	}
	rc = dc_resource_record_or_drop(ctx, rc, attrs);
	json_decref(found);
	free(name);
	return rc;
}

static int set_name(struct dc_res_ctx *ctx, const char *id, const char *name, json_t *attrs)
{
	char *path = dc_rest_path("/v2/apis/%s", id);
	json_t *body = json_pack("{s:s}", "name", name);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "PATCH", path, body, NULL);
	if (rc == 0)
		json_object_set_new(attrs, "name", json_string(name));
	json_decref(body);
	free(path);
	return rc;
}

static int set_tags(struct dc_res_ctx *ctx, const char *id)
{
	char *res = dc_xasprintf("/apis/%s", id);
	char *arn = dc_apigw_arn(ctx, res);
	char *path = dc_rest_path("/v2/tags/%s", arn);
	json_t *body = json_pack("{s:o}", "tags", dc_resource_tags(ctx));
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "POST", path, body, NULL);
	json_decref(body);
	free(path);
	free(arn);
	free(res);
	return rc;
}

static int api_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		      json_t *attrs)
{
	struct api o, n;
	const char *id = str_at(attrs, "id");
	if (!id)
		return dc_error_set(TYPE " attrs have no 'id'");
	if (read_api(&o, old_props) < 0 || read_api(&n, new_props) < 0)
		return -1;
	if (strcmp(o.protocol, n.protocol) != 0)
		return DC_EREPLACE;
	char *old_name = api_name(ctx, &o), *new_name = api_name(ctx, &n);
	int rc = 0;
	if (strcmp(old_name, new_name) != 0)
		rc = set_name(ctx, id, new_name, attrs);
	if (rc == 0)
		rc = set_tags(ctx, id);
	free(old_name);
	free(new_name);
	return rc;
}

static int api_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = str_at(attrs, "id");
	if (!id)
		return dc_error_set(TYPE " attrs have no 'id'");
	char *path = dc_rest_path("/v2/apis/%s", id);
	int rc = dc_aws_rest_json(ctx->aws, "apigatewayv2", "DELETE", path, NULL, NULL);
	free(path);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int api_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	struct api a;
	if (read_api(&a, props) < 0)
		return -1;
	char *name = api_name(ctx, &a);
	int rc = search(ctx, name, found);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_apigw_api = {
	.name = "apigatewayv2.api",
	.create = api_create,
	.update = api_update,
	.delete = api_delete,
	.find = api_find,
};
