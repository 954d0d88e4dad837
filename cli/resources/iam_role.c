/* iam.role: a role one AWS service may assume, whose inline policy
 * "deployctl" is exactly the template's allow list (least privilege: nothing
 * is added), plus optional managed policies. */
#include <stdarg.h>

#include "aws/protocol.h"
#include "resources/resource.h"
#include "util/error.h"
#include "util/xalloc.h"

#define ROLE_NAME_MAX 64
#define POLICY_NAME "deployctl"
#define VISIBLE_LIMIT_S 60

struct role_spec {
	char *name;
	char *trust;           /* the assume-role policy document */
	char *policy;          /* the inline policy; NULL when allow is empty */
	const json_t *managed; /* managed policy ARNs (borrowed); NULL for none */
};

/* ---- IAM calls ----------------------------------------------------------- */

static int iam_send(struct dc_res_ctx *ctx, const char *action, const struct dc_buf *form,
		    xmlDocPtr *doc)
{
	return dc_aws_query(ctx->aws, "iam", action, dc_buf_cstr(form), doc);
}

/* One IAM action with NULL-terminated key, value pairs. doc may be NULL. */
__attribute__((sentinel)) static int iam_call(struct dc_res_ctx *ctx, xmlDocPtr *doc,
					      const char *action, ...)
{
	va_list ap;
	va_start(ap, action);
	int rc = dc_aws_queryv(ctx->aws, "iam", action, doc, ap);
	va_end(ap);
	return rc;
}

static int add_tags(struct dc_buf *form, const struct dc_res_ctx *ctx)
{
	json_t *tags = dc_resource_tags(ctx);
	const char *k;
	json_t *v;
	int n = 0, rc = 0;
	json_object_foreach(tags, k, v) {
		char key[64], value[64];
		n++;
		snprintf(key, sizeof(key), "Tags.member.%d.Key", n);
		snprintf(value, sizeof(value), "Tags.member.%d.Value", n);
		if (dc_form_add(form, key, k) < 0 ||
		    dc_form_add(form, value, json_string_value(v)) < 0)
			rc = -1;
	}
	json_decref(tags);
	return rc;
}

/* An IAM list answer: the texts (or field `field` of the objects) at path. */
static json_t *xml_strings(xmlDocPtr doc, const char *path, const char *field)
{
	json_t *all = dc_resource_xml_list(doc, path), *out = json_array(), *e;
	size_t i;
	json_array_foreach(all, i, e) {
		json_t *s = field ? json_object_get(e, field) : e;
		if (json_is_string(s))
			json_array_append(out, s);
	}
	json_decref(all);
	return out;
}

static int contains(const json_t *list, const char *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
			return 1;
	return 0;
}

/* ---- policy documents ------------------------------------------------- */

/* The document of these statements (borrowed). Malloc'ed. */
static char *iam_policy_json(json_t *statements)
{
	json_t *doc = json_pack("{s:s, s:O}", "Version", "2012-10-17", "Statement", statements);
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return text;
}

static char *trust_policy(const char *service)
{
	json_t *st = json_pack("[{s:s, s:{s:s}, s:s}]", "Effect", "Allow", "Principal", "Service",
			       service, "Action", "sts:AssumeRole");
	char *text = iam_policy_json(st);
	json_decref(st);
	return text;
}

static int is_string_list(const json_t *v)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return 0;
	return 1;
}

/* A string or a non-empty list of strings. */
static int is_names(const json_t *v)
{
	return json_is_string(v) || (is_string_list(v) && json_array_size(v) > 0);
}

static int allow_policy(char **out, const char *role, const json_t *allow)
{
	size_t i;
	json_t *a;
	*out = NULL;
	if (allow && !json_is_array(allow))
		return dc_error_set("role '%s': \"allow\" must be a list", role);
	if (json_array_size(allow) == 0)
		return 0;
	json_t *st = json_array();
	json_array_foreach(allow, i, a) {
		json_t *act = json_object_get(a, "action"), *res = json_object_get(a, "resource");
		if (!is_names(act) || !is_names(res)) {
			json_decref(st);
			return dc_error_set("role '%s': allow[%zu] needs \"action\" and "
					    "\"resource\", each a string or a list of strings",
					    role, i);
		}
		json_t *cond = json_object_get(a, "condition");
		if (cond && !json_is_object(cond)) {
			json_decref(st);
			return dc_error_set("role '%s': allow[%zu] \"condition\" must be an object "
					    "(IAM's Condition block)", role, i);
		}
		json_array_append_new(st, json_pack("{s:s, s:O, s:O, s:O*}", "Effect", "Allow",
						    "Action", act, "Resource", res, "Condition",
						    cond));
	}
	*out = iam_policy_json(st);
	json_decref(st);
	return 0;
}

static void spec_dispose(struct role_spec *s)
{
	free(s->name);
	free(s->trust);
	free(s->policy);
}

/* Check props and build the documents, before any call is made. */
static int spec_init(struct role_spec *s, const json_t *props, const char *name)
{
	const char *service = json_string_value(json_object_get(props, "service"));
	*s = (struct role_spec){ .name = dc_xstrdup(name) };
	s->managed = json_object_get(props, "managed_policies");
	if (!service || !*service)
		return dc_error_set("role '%s': \"service\" (the trusted principal) is missing",
				    name);
	if (s->managed && !is_string_list(s->managed))
		return dc_error_set("role '%s': \"managed_policies\" must be a list of ARNs", name);
	s->trust = trust_policy(service);
	return allow_policy(&s->policy, name, json_object_get(props, "allow"));
}

/* ---- convergence ------------------------------------------------------ */

/* A policy already gone counts as removed: a retry whose first answer was
 * lost meets NoSuchEntity. Were the role itself gone, the DeleteRole or
 * the next call says so. */
static int detach(struct dc_res_ctx *ctx, const char *role, const char *arn)
{
	int rc = iam_call(ctx, NULL, "DetachRolePolicy", "RoleName", role, "PolicyArn", arn,
			  NULL);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int delete_inline(struct dc_res_ctx *ctx, const char *role, const char *policy)
{
	int rc = iam_call(ctx, NULL, "DeleteRolePolicy", "RoleName", role, "PolicyName", policy,
			  NULL);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int put_inline_policy(struct dc_res_ctx *ctx, const struct role_spec *s)
{
	if (s->policy)
		return iam_call(ctx, NULL, "PutRolePolicy", "RoleName", s->name, "PolicyName",
				POLICY_NAME, "PolicyDocument", s->policy, NULL);
	return delete_inline(ctx, s->name, POLICY_NAME);
}

static int list_attached(struct dc_res_ctx *ctx, const char *name, json_t **out)
{
	xmlDocPtr doc;
	*out = NULL;
	if (iam_call(ctx, &doc, "ListAttachedRolePolicies", "RoleName", name, "MaxItems", "1000",
		     NULL) < 0)
		return -1;
	*out = xml_strings(doc, "ListAttachedRolePoliciesResult/AttachedPolicies/member",
			   "PolicyArn");
	xmlFreeDoc(doc);
	return 0;
}

/* Attach what the template names, detach what it no longer names. */
static int sync_managed(struct dc_res_ctx *ctx, const struct role_spec *s)
{
	json_t *have, *e;
	size_t i;
	int rc = list_attached(ctx, s->name, &have);
	json_array_foreach(have, i, e)
		if (rc == 0 && !contains(s->managed, json_string_value(e)))
			rc = detach(ctx, s->name, json_string_value(e));
	json_array_foreach(s->managed, i, e)
		if (rc == 0 && !contains(have, json_string_value(e)))
			rc = iam_call(ctx, NULL, "AttachRolePolicy", "RoleName", s->name,
				      "PolicyArn", json_string_value(e), NULL);
	json_decref(have);
	return rc;
}

static int tag_role(struct dc_res_ctx *ctx, const char *name)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = dc_form_add(&form, "RoleName", name);
	if (rc == 0)
		rc = add_tags(&form, ctx);
	if (rc == 0)
		rc = iam_send(ctx, "TagRole", &form, NULL);
	dc_buf_dispose(&form);
	return rc;
}

/* Make the role say what the spec says. A role made just now already has
 * its trust policy and tags; an adopted or updated one (`all`) gets them. */
static int converge(struct dc_res_ctx *ctx, const struct role_spec *s, int all)
{
	int rc = 0;
	if (all)
		rc = iam_call(ctx, NULL, "UpdateAssumeRolePolicy", "RoleName", s->name,
			      "PolicyDocument", s->trust, NULL);
	if (rc == 0 && all)
		rc = tag_role(ctx, s->name);
	if (rc == 0)
		rc = put_inline_policy(ctx, s);
	if (rc == 0)
		rc = sync_managed(ctx, s);
	if (rc < 0)
		dc_error_prefix("role '%s'", s->name);
	return rc;
}

/* ---- create ----------------------------------------------------------- */

static json_t *role_attrs(const char *name, const char *arn)
{
	return json_pack("{s:s, s:s, s:s}", "id", name, "name", name, "arn", arn ? arn : "");
}

static int read_role(struct dc_res_ctx *ctx, const char *name, json_t **attrs)
{
	xmlDocPtr doc;
	int rc = iam_call(ctx, &doc, "GetRole", "RoleName", name, NULL);
	if (rc < 0)
		return rc;
	char *arn = dc_xml_text(doc, "GetRoleResult/Role/Arn");
	*attrs = role_attrs(name, arn);
	free(arn);
	xmlFreeDoc(doc);
	return 0;
}

/* CreateRole, recorded at once; or, when a crashed run made it, the role
 * as it is (*adopted set). */
static int create_or_adopt(struct dc_res_ctx *ctx, const struct role_spec *s, json_t **attrs,
			   int *adopted)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_FILE);
	xmlDocPtr doc = NULL;
	int rc = dc_form_add(&form, "RoleName", s->name);
	if (rc == 0)
		rc = dc_form_add(&form, "AssumeRolePolicyDocument", s->trust);
	if (rc == 0)
		rc = add_tags(&form, ctx);
	if (rc == 0)
		rc = iam_send(ctx, "CreateRole", &form, &doc);
	dc_buf_dispose(&form);
	*adopted = rc < 0 && dc_resource_error_is("EntityAlreadyExists");
	if (*adopted)
		return read_role(ctx, s->name, attrs);
	if (rc < 0)
		return rc;
	char *arn = dc_xml_text(doc, "CreateRoleResult/Role/Arn");
	xmlFreeDoc(doc);
	*attrs = role_attrs(s->name, arn);
	free(arn);
	return ctx->record(ctx, *attrs);
}

static int role_visible(struct dc_res_ctx *ctx, void *name)
{
	int rc = iam_call(ctx, NULL, "GetRole", "RoleName", (const char *)name, NULL);
	return rc == DC_ENOTFOUND ? 0 : rc == 0 ? 1 : rc;
}

static int role_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct role_spec s;
	char *name = dc_resource_name(ctx, ROLE_NAME_MAX);
	int adopted = 0;
	int rc = spec_init(&s, props, name);
	*attrs = NULL;
	if (rc == 0)
		rc = create_or_adopt(ctx, &s, attrs, &adopted);
	if (rc == 0)
		rc = converge(ctx, &s, adopted);
	if (rc == 0) {
		char *what = dc_xasprintf("role '%s' to become visible", name);
		rc = dc_resource_wait(ctx, what, VISIBLE_LIMIT_S, role_visible, name);
		free(what);
	}
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	spec_dispose(&s);
	free(name);
	return rc;
}

/* ---- update, delete, find --------------------------------------------- */

static int role_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		       json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	struct role_spec s;
	if (!name)
		return dc_error_set("role: state holds no id");
	int rc = spec_init(&s, new_props, name);
	if (rc == 0)
		rc = converge(ctx, &s, 1);
	spec_dispose(&s);
	return rc;
}

/* Inline policies first, then managed ones: IAM refuses to delete a role
 * that still has either. */
static int strip_policies(struct dc_res_ctx *ctx, const char *name)
{
	xmlDocPtr doc;
	json_t *names = NULL, *e;
	size_t i;
	int rc = iam_call(ctx, &doc, "ListRolePolicies", "RoleName", name, "MaxItems", "1000",
			  NULL);
	if (rc < 0)
		return rc;
	names = xml_strings(doc, "ListRolePoliciesResult/PolicyNames/member", NULL);
	xmlFreeDoc(doc);
	json_array_foreach(names, i, e)
		if (rc == 0)
			rc = delete_inline(ctx, name, json_string_value(e));
	json_decref(names);
	names = NULL; /* list_attached is skipped after a failure */
	if (rc == 0)
		rc = list_attached(ctx, name, &names);
	json_array_foreach(names, i, e)
		if (rc == 0)
			rc = detach(ctx, name, json_string_value(e));
	json_decref(names);
	return rc;
}

static int role_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	if (!name)
		return dc_error_set("role: state holds no id");
	int rc = strip_policies(ctx, name);
	if (rc == 0)
		rc = iam_call(ctx, NULL, "DeleteRole", "RoleName", name, NULL);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		dc_error_prefix("deleting role '%s'", name);
	return rc;
}

static int role_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, ROLE_NAME_MAX);
	xmlDocPtr doc;
	json_t *attrs = NULL;
	*found = json_array();
	int rc = iam_call(ctx, &doc, "ListRoleTags", "RoleName", name, "MaxItems", "1000", NULL);
	if (rc == 0) {
		json_t *tags = dc_resource_xml_list(doc, "ListRoleTagsResult/Tags/member");
		xmlFreeDoc(doc);
		if (dc_resource_tagged(ctx, tags))
			rc = read_role(ctx, name, &attrs);
		json_decref(tags);
	}
	if (attrs)
		json_array_append_new(*found, attrs);
	free(name);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0) {
		json_decref(*found);
		*found = NULL;
	}
	return rc;
}

const struct dc_resource_type dc_type_iam_role = {
	.name = "iam.role",
	.create = role_create,
	.update = role_update,
	.delete = role_delete,
	.find = role_find,
};
