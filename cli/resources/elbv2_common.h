/* What the ELBv2 types (load balancer, target group, listener) share: the
 * query call with its member lists, tags, and the ownership check. */
#ifndef DC_ELBV2_COMMON_H
#define DC_ELBV2_COMMON_H

#include <jansson.h>
#include <libxml/tree.h>

#include "resources/resource.h"
#include "util/buf.h"

/* One ELBv2 action with the form built so far; doc may be NULL. */
int dc_elbv2_send(struct dc_res_ctx *ctx, const char *action, const struct dc_buf *form,
		  xmlDocPtr *doc);

/* One ELBv2 action with NULL-terminated key, value pairs; doc may be NULL. */
int dc_elbv2_call(struct dc_res_ctx *ctx, xmlDocPtr *doc, const char *action, ...)
	__attribute__((sentinel));

/* Append "<prefix>.member.N=<string>" for each string of list (N from 1).
 * A member that is not a string is an error. */
int dc_elbv2_form_list(struct dc_buf *form, const char *prefix, const json_t *list);

/* Append dc_resource_tags(ctx) as Tags.member.N.Key / .Value. */
int dc_elbv2_form_tags(struct dc_buf *form, const struct dc_res_ctx *ctx);

/* 1 when the resource at arn carries this stack's tag (or the name is
 * ours), 0 when not, DC_ENOTFOUND when it is gone, -1 on failure. */
int dc_elbv2_ours(struct dc_res_ctx *ctx, const char *arn);

/* The first member at path of a Describe* answer for one name or ARN
 * (key "Names.member.1", "LoadBalancerArns.member.1", ...) as an object of
 * its children's texts (see dc_resource_xml_list). *out is NULL when AWS
 * answers with a NotFound code. */
int dc_elbv2_describe_one(struct dc_res_ctx *ctx, const char *action, const char *key,
			  const char *value, const char *path, json_t **out);

#endif
