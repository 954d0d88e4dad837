/* What the ELBv2 types share. */
#include <stdarg.h>

#include "aws/protocol.h"
#include "resources/elbv2_common.h"
#include "util/error.h"
#include "util/xalloc.h"

int dc_elbv2_send(struct dc_res_ctx *ctx, const char *action, const struct dc_buf *form,
		  xmlDocPtr *doc)
{
	return dc_aws_query(ctx->aws, "elbv2", action, dc_buf_cstr(form), doc);
}

int dc_elbv2_call(struct dc_res_ctx *ctx, xmlDocPtr *doc, const char *action, ...)
{
	va_list ap;
	va_start(ap, action);
	int rc = dc_aws_queryv(ctx->aws, "elbv2", action, doc, ap);
	va_end(ap);
	return rc;
}

int dc_elbv2_form_list(struct dc_buf *form, const char *prefix, const json_t *list)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char key[128];
		if (!json_is_string(v))
			return dc_error_set("'%s' must be a list of strings", prefix);
		snprintf(key, sizeof(key), "%s.member.%zu", prefix, i + 1);
		if (dc_form_add(form, key, json_string_value(v)) < 0)
			return -1;
	}
	return 0;
}

int dc_elbv2_form_tags(struct dc_buf *form, const struct dc_res_ctx *ctx)
{
	json_t *tags = dc_resource_tags(ctx), *v;
	const char *k;
	int n = 0, rc = 0;
	json_object_foreach(tags, k, v) {
		char key[64], value[64];
		n++;
		snprintf(key, sizeof(key), "Tags.member.%d.Key", n);
		snprintf(value, sizeof(value), "Tags.member.%d.Value", n);
		if (dc_form_add(form, key, k) < 0 || dc_form_add(form, value, json_string_value(v)) < 0)
			rc = -1;
	}
	json_decref(tags);
	return rc;
}

int dc_elbv2_ours(struct dc_res_ctx *ctx, const char *arn)
{
	xmlDocPtr doc;
	int rc = dc_elbv2_call(ctx, &doc, "DescribeTags", "ResourceArns.member.1", arn, NULL);
	if (rc < 0)
		return rc;
	json_t *tags = dc_resource_xml_list(doc, "DescribeTagsResult/TagDescriptions/member/Tags/"
						 "member");
	xmlFreeDoc(doc);
	rc = dc_resource_tagged(ctx, tags);
	json_decref(tags);
	return rc;
}

int dc_elbv2_describe_one(struct dc_res_ctx *ctx, const char *action, const char *key,
			  const char *value, const char *path, json_t **out)
{
	xmlDocPtr doc;
	*out = NULL;
	int rc = dc_elbv2_call(ctx, &doc, action, key, value, NULL);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	json_t *all = dc_resource_xml_list(doc, path);
	xmlFreeDoc(doc);
	*out = json_incref(json_array_get(all, 0));
	json_decref(all);
	return 0;
}
