/* EC2 query forms and answers for the EC2 resource types. */
#include <stdarg.h>

#include "aws/protocol.h"
#include "resources/ec2_common.h"
#include "util/error.h"
#include "util/xalloc.h"

int dc_ec2_send(struct dc_res_ctx *ctx, const char *action, const struct dc_buf *form,
		xmlDocPtr *doc)
{
	return dc_aws_query(ctx->aws, "ec2", action, dc_buf_cstr(form), doc);
}

int dc_ec2_call(struct dc_res_ctx *ctx, xmlDocPtr *doc, const char *action, ...)
{
	va_list ap;
	va_start(ap, action);
	int rc = dc_aws_queryv(ctx->aws, "ec2", action, doc, ap);
	va_end(ap);
	return rc;
}

int dc_ec2_form_nth(struct dc_buf *form, const char *prefix, int n, const char *value)
{
	char key[160];
	snprintf(key, sizeof(key), "%s.%d", prefix, n);
	return dc_form_add(form, key, value);
}

int dc_ec2_filter(struct dc_buf *form, int n, const char *name, const char *value)
{
	char key[64];
	snprintf(key, sizeof(key), "Filter.%d.Name", n);
	if (dc_form_add(form, key, name) < 0)
		return -1;
	snprintf(key, sizeof(key), "Filter.%d.Value.1", n);
	return dc_form_add(form, key, value);
}

int dc_ec2_filter_ours(struct dc_buf *form, const struct dc_res_ctx *ctx, const char *name)
{
	if (dc_ec2_filter(form, 1, "tag:deployctl:stack", ctx->stack) < 0)
		return -1;
	return dc_ec2_filter(form, 2, "tag:Name", name);
}

/* The stack's tags, Name, then the template's own; deployctl's keys and
 * Name, by which a resource is found again, cannot be overridden. */
static json_t *all_tags(const struct dc_res_ctx *ctx, const char *name, const json_t *extra)
{
	json_t *tags = dc_resource_tags(ctx);
	const char *k;
	json_t *v;
	json_object_set_new(tags, "Name", json_string(name));
	json_object_foreach((json_t *)extra, k, v)
		if (json_is_string(v) && strncmp(k, "deployctl:", 10) != 0 &&
		    strcmp(k, "Name") != 0)
			json_object_set(tags, k, v);
	return tags;
}

int dc_ec2_tag_spec(struct dc_buf *form, const struct dc_res_ctx *ctx, const char *resource_type,
		    const char *name, const json_t *extra)
{
	json_t *tags = all_tags(ctx, name, extra);
	const char *k;
	json_t *v;
	char key[64];
	int n = 0, rc = dc_form_add(form, "TagSpecification.1.ResourceType", resource_type);
	json_object_foreach(tags, k, v) {
		n++;
		snprintf(key, sizeof(key), "TagSpecification.1.Tag.%d.Key", n);
		if (rc == 0)
			rc = dc_form_add(form, key, k);
		snprintf(key, sizeof(key), "TagSpecification.1.Tag.%d.Value", n);
		if (rc == 0)
			rc = dc_form_add(form, key, json_string_value(v));
	}
	json_decref(tags);
	return rc;
}

static int is_element(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE;
}

static json_t *node_json(xmlNodePtr n)
{
	int any = 0, all_items = 1;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (!is_element(c))
			continue;
		any = 1;
		if (strcmp((const char *)c->name, "item") != 0)
			all_items = 0;
	}
	if (!any) {
		xmlChar *t = xmlNodeGetContent(n);
		json_t *s = json_string(t ? (const char *)t : "");
		xmlFree(t);
		return s ? s : json_string("");
	}
	json_t *out = all_items ? json_array() : json_object();
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (!is_element(c))
			continue;
		if (all_items)
			json_array_append_new(out, node_json(c));
		else
			json_object_set_new(out, (const char *)c->name, node_json(c));
	}
	return out;
}

static xmlNodePtr child_named(xmlNodePtr parent, const char *name, size_t len)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (is_element(c) && strlen((const char *)c->name) == len &&
		    strncmp((const char *)c->name, name, len) == 0)
			return c;
	return NULL;
}

json_t *dc_ec2_json(xmlDocPtr doc, const char *path)
{
	xmlNodePtr n = doc ? xmlDocGetRootElement(doc) : NULL;
	while (n && *path) {
		size_t len = strcspn(path, "/");
		n = child_named(n, path, len);
		path += len + (path[len] == '/');
	}
	if (!n)
		return json_array();
	json_t *v = node_json(n);
	/* An empty set (<groupSet/>) is a leaf: an empty list, not "". */
	if (json_is_string(v) && !*json_string_value(v)) {
		json_decref(v);
		return json_array();
	}
	return v;
}

json_t *dc_ec2_tags(const json_t *tag_set)
{
	json_t *out = json_object(), *t;
	size_t i;
	json_array_foreach(tag_set, i, t) {
		const char *k = dc_ec2_str(t, "key"), *v = dc_ec2_str(t, "value");
		if (k && v)
			json_object_set_new(out, k, json_string(v));
	}
	return out;
}

const char *dc_ec2_str(const json_t *v, const char *path)
{
	while (v && *path) {
		size_t len = strcspn(path, "/");
		char key[128];
		snprintf(key, sizeof(key), "%.*s", (int)len, path);
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
		path += len + (path[len] == '/');
	}
	return json_string_value(v);
}

char *dc_ec2_arn(const struct dc_res_ctx *ctx, const char *kind, const char *id)
{
	const char *partition = dc_endpoint_partition(ctx->region);
	return dc_xasprintf("arn:%s:ec2:%s:%s:%s/%s", partition ? partition : "aws", ctx->region,
			    ctx->account, kind, id);
}

static int tag_form(struct dc_buf *form, const char *id, const json_t *tags, int with_values)
{
	const char *k;
	json_t *v;
	char key[48];
	int n = 0, rc = dc_form_add(form, "ResourceId.1", id);
	json_object_foreach((json_t *)tags, k, v) {
		n++;
		snprintf(key, sizeof(key), "Tag.%d.Key", n);
		if (rc == 0)
			rc = dc_form_add(form, key, k);
		snprintf(key, sizeof(key), "Tag.%d.Value", n);
		if (rc == 0 && with_values)
			rc = dc_form_add(form, key, json_string_value(v));
	}
	return rc < 0 ? rc : n;
}

int dc_ec2_retag(struct dc_res_ctx *ctx, const char *id, const char *name, const json_t *old_extra,
		 const json_t *new_extra)
{
	json_t *want = all_tags(ctx, name, new_extra), *gone = json_object(), *v;
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	const char *k;
	int rc = tag_form(&form, id, want, 1);
	if (rc >= 0)
		rc = dc_ec2_send(ctx, "CreateTags", &form, NULL);
	json_object_foreach((json_t *)old_extra, k, v)
		if (!json_object_get(want, k))
			json_object_set_new(gone, k, json_string(""));
	dc_buf_reset(&form);
	if (rc == 0 && json_object_size(gone)) {
		rc = tag_form(&form, id, gone, 0);
		if (rc >= 0)
			rc = dc_ec2_send(ctx, "DeleteTags", &form, NULL);
	}
	dc_buf_dispose(&form);
	json_decref(want);
	json_decref(gone);
	return rc;
}
