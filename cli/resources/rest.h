/* Helpers shared by the resource types of the REST-JSON services (Lambda,
 * API Gateway v2): request paths, props, API Gateway's paged lists. */
#ifndef DC_RES_REST_H
#define DC_RES_REST_H

#include <jansson.h>

#include "resources/resource.h"

/* A request path made from fmt, each %s replaced by its argument
 * percent-encoded as one path segment ('/' and ':' encoded too). No other
 * conversion is known. The caller frees it. */
char *dc_rest_path(const char *fmt, ...);

/* Read the props with json_unpack's format (see jansson); a mismatch is an
 * error that names the type and what was wrong. */
int dc_rest_props(const char *type, const json_t *props, const char *fmt, ...);

/* Every item of an API Gateway v2 list (GetApis, GetRoutes, ...) at path,
 * following nextToken; *out is a new JSON array. */
int dc_apigw_list(struct dc_aws *aws, const char *path, json_t **out);

/* POST body to an API Gateway v2 collection at path; *attrs are the new
 * item's {"id": <the answer's id_field>, "api": api}. `op` names the call in
 * the error when the answer has no id. */
int dc_apigw_create_child(json_t **attrs, struct dc_aws *aws, const char *path, json_t *body,
			  const char *id_field, const char *api, const char *op);

/* The first item of *list whose string member key equals value, or NULL
 * (borrowed). */
json_t *dc_rest_find_item(json_t *list, const char *key, const char *value);

/* The ARN of an API Gateway resource ("/apis/<id>") in ctx's region, for
 * tagging. The caller frees it. */
char *dc_apigw_arn(const struct dc_res_ctx *ctx, const char *resource_path);


#endif
