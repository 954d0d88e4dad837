/* What the EC2 resource types share: the EC2 query protocol's forms
 * (numbered members "Filter.1.Name", "TagSpecification.1.Tag.2.Key"), its
 * XML answers as JSON, and the tags every EC2 resource carries. */
#ifndef DC_EC2_COMMON_H
#define DC_EC2_COMMON_H

#include "resources/resource.h"
#include "util/buf.h"

/* One EC2 action with NULL-terminated key, value pairs; *doc (may be NULL)
 * is the answer (xmlFreeDoc it). */
__attribute__((sentinel)) int dc_ec2_call(struct dc_res_ctx *ctx, xmlDocPtr *doc,
					  const char *action, ...);

/* The same with a form built by the caller. */
int dc_ec2_send(struct dc_res_ctx *ctx, const char *action, const struct dc_buf *form,
		xmlDocPtr *doc);

/* Add "<prefix>.<n>=value" (prefix "SecurityGroupId", n from 1). */
int dc_ec2_form_nth(struct dc_buf *form, const char *prefix, int n, const char *value);

/* Add filter number n with one value: Filter.n.Name, Filter.n.Value.1. */
int dc_ec2_filter(struct dc_buf *form, int n, const char *name, const char *value);

/* Add the filters that select what this stack tagged with Name = name. */
int dc_ec2_filter_ours(struct dc_buf *form, const struct dc_res_ctx *ctx, const char *name);

/* Add TagSpecification.1 for resource_type ("instance", "security-group"):
 * the stack's tags, Name = name, and `extra` (an object of strings, may be
 * NULL) from the template, whose deployctl:* and Name keys are ignored. */
int dc_ec2_tag_spec(struct dc_buf *form, const struct dc_res_ctx *ctx, const char *resource_type,
		    const char *name, const json_t *extra);

/* Bring the tags of resource `id` from the template's old extra tags to
 * the new ones (objects of strings, may be NULL): CreateTags, then
 * DeleteTags for keys no longer named. */
int dc_ec2_retag(struct dc_res_ctx *ctx, const char *id, const char *name, const json_t *old_extra,
		 const json_t *new_extra);

/* The user data script of an instance, from its props: "user_data" (text)
 * or "user_data_file" (a template file), with right after the "#!" line
 * each value "user_data_env" maps (NAME -> string or number) set as
 * NAME='value', then each file "user_data_files" maps (instance path ->
 * template file) written by a quoted heredoc. Appends to out (give it a cap
 * above 16 KB). */
int dc_ec2_user_data(struct dc_buf *out, const struct dc_res_ctx *ctx, const json_t *props);

/* The element reached by a '/'-separated path from the root's children
 * ("reservationSet"), as JSON: an element whose children are all <item> is
 * an array, one with other children an object of them, a leaf its text.
 * New reference; [] when the element is absent. */
json_t *dc_ec2_json(xmlDocPtr doc, const char *path);

/* A tagSet answer ([{"key": ..., "value": ...}]) as an object {key: value},
 * the shape dc_resource_tagged takes. New reference. */
json_t *dc_ec2_tags(const json_t *tag_set);

/* The string at a '/'-separated path of object keys in v, or NULL. */
const char *dc_ec2_str(const json_t *v, const char *path);

/* The ARN of an EC2 resource ("security-group/sg-1"). Caller frees. */
char *dc_ec2_arn(const struct dc_res_ctx *ctx, const char *kind, const char *id);

#endif
