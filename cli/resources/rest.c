/* What the Lambda and API Gateway v2 types share. */
#include <stdarg.h>

#include "aws/protocol.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Enough for any page count a real API reaches, small enough that a
 * service answering the same nextToken forever cannot hang us. */
#define MAX_PAGES 1000

char *dc_rest_path(const char *fmt, ...)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			const char *arg = va_arg(ap, const char *);
			dc_uri_encode(&b, arg, strlen(arg), 0);
			p++;
		} else {
			dc_buf_putc(&b, *p);
		}
	}
	va_end(ap);
	return dc_buf_take(&b);
}

int dc_rest_props(const char *type, const json_t *props, const char *fmt, ...)
{
	json_error_t err;
	va_list ap;
	va_start(ap, fmt);
	int rc = json_vunpack_ex((json_t *)props, &err, 0, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return dc_error_set("%s props: %s", type, err.text);
	return 0;
}

static int append_page(json_t *all, json_t *page)
{
	json_t *items = json_object_get(page, "items");
	if (items && !json_is_array(items))
		return dc_error_set("the list answer has no 'items' array");
	return items ? json_array_extend(all, items) : 0;
}

int dc_apigw_list(struct dc_aws *aws, const char *path, json_t **out)
{
	json_t *all = json_array();
	char *token = NULL;
	int rc = 0;
	for (int page = 0; rc == 0 && page < MAX_PAGES; page++) {
		struct dc_buf url = DC_BUF_INIT(DC_MAX_SMALL);
		dc_buf_puts(&url, path);
		if (token) {
			dc_buf_puts(&url, "?nextToken=");
			dc_uri_encode(&url, token, strlen(token), 0);
		}
		json_t *answer = NULL;
		rc = dc_aws_rest_json(aws, "apigatewayv2", "GET", dc_buf_cstr(&url), NULL, &answer);
		dc_buf_dispose(&url);
		if (rc == 0)
			rc = append_page(all, answer);
		const char *next = json_string_value(json_object_get(answer, "nextToken"));
		free(token);
		token = next && *next ? dc_xstrdup(next) : NULL;
		json_decref(answer);
		if (!token)
			break;
	}
	free(token);
	if (rc < 0) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return 0;
}

json_t *dc_rest_find_item(json_t *list, const char *key, const char *value)
{
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		const char *v = json_string_value(json_object_get(item, key));
		if (v && strcmp(v, value) == 0)
			return item;
	}
	return NULL;
}

static const char *partition(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	return "aws";
}

char *dc_apigw_arn(const struct dc_res_ctx *ctx, const char *resource_path)
{
	return dc_xasprintf("arn:%s:apigateway:%s::%s", partition(ctx->region), ctx->region,
			    resource_path);
}


int dc_apigw_create_child(json_t **attrs, struct dc_aws *aws, const char *path, json_t *body,
			  const char *id_field, const char *api, const char *op)
{
	json_t *answer = NULL;
	int rc = dc_aws_rest_json(aws, "apigatewayv2", "POST", path, body, &answer);
	const char *id = json_string_value(json_object_get(answer, id_field));
	if (rc == 0 && !id)
		rc = dc_error_set("%s answered without an %s", op, id_field);
	if (rc == 0)
		*attrs = json_pack("{s:s, s:s}", "id", id, "api", api);
	json_decref(answer);
	return rc;
}
