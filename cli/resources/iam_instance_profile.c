/* iam.instance_profile: what hands a role to EC2 instances. Holds exactly
 * one role, the template's; tagged at creation. */
#include "aws/protocol.h"
#include "resources/resource.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PROFILE_NAME_MAX 128
#define PROFILE_PATH "GetInstanceProfileResult/InstanceProfile"

struct profile {
	char *arn;
	json_t *roles; /* role names */
	json_t *tags;  /* [{"Key", "Value"}] */
};

static void profile_dispose(struct profile *p)
{
	free(p->arn);
	json_decref(p->roles);
	json_decref(p->tags);
}

static int iam_form(struct dc_res_ctx *ctx, const char *action, const struct dc_buf *form,
		    xmlDocPtr *doc)
{
	return dc_aws_query(ctx->aws, "iam", action, dc_buf_cstr(form), doc);
}

static int with_role(struct dc_res_ctx *ctx, const char *action, const char *name,
		     const char *role)
{
	return dc_aws_query_pairs(ctx->aws, "iam", action, NULL, "InstanceProfileName", name,
				  "RoleName", role, NULL);
}

static json_t *profile_attrs(const char *name, const char *arn)
{
	return json_pack("{s:s, s:s, s:s}", "id", name, "name", name, "arn", arn ? arn : "");
}

/* GetInstanceProfile: its ARN, roles and tags. */
static int read_profile(struct dc_res_ctx *ctx, const char *name, struct profile *p)
{
	xmlDocPtr doc = NULL;
	*p = (struct profile){ 0 };
	int rc = dc_aws_query_pairs(ctx->aws, "iam", "GetInstanceProfile", &doc,
				    "InstanceProfileName", name, NULL);
	if (rc < 0)
		return rc;
	p->arn = dc_xml_text(doc, PROFILE_PATH "/Arn");
	json_t *roles = dc_resource_xml_list(doc, PROFILE_PATH "/Roles/member"), *r;
	size_t i;
	p->roles = json_array();
	json_array_foreach(roles, i, r)
		if (json_is_string(json_object_get(r, "RoleName")))
			json_array_append(p->roles, json_object_get(r, "RoleName"));
	json_decref(roles);
	p->tags = dc_resource_xml_list(doc, PROFILE_PATH "/Tags/member");
	xmlFreeDoc(doc);
	return 0;
}

static int create_call(struct dc_res_ctx *ctx, const char *name, char **arn)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	json_t *tags = dc_resource_tags(ctx), *v;
	const char *k;
	xmlDocPtr doc = NULL;
	int n = 0, rc = dc_form_add(&form, "InstanceProfileName", name);
	json_object_foreach(tags, k, v) {
		char key[48], value[48];
		n++;
		snprintf(key, sizeof(key), "Tags.member.%d.Key", n);
		snprintf(value, sizeof(value), "Tags.member.%d.Value", n);
		if (rc == 0)
			rc = dc_form_add(&form, key, k);
		if (rc == 0)
			rc = dc_form_add(&form, value, json_string_value(v));
	}
	if (rc == 0)
		rc = iam_form(ctx, "CreateInstanceProfile", &form, &doc);
	*arn = rc == 0 ? dc_xml_text(doc, "CreateInstanceProfileResult/InstanceProfile/Arn") : NULL;
	xmlFreeDoc(doc);
	json_decref(tags);
	dc_buf_dispose(&form);
	return rc;
}

/* After AddRoleToInstanceProfile met LimitExceeded (the profile is full):
 * success when what fills it is `role`, added by an earlier attempt whose
 * answer was lost. */
static int holds_role(struct dc_res_ctx *ctx, const char *name, const char *role)
{
	struct profile p;
	int rc = read_profile(ctx, name, &p);
	if (rc == 0 && !(json_array_size(p.roles) == 1 &&
			 strcmp(json_string_value(json_array_get(p.roles, 0)), role) == 0))
		rc = dc_error_set("instance profile '%s' holds another role than '%s'", name, role);
	profile_dispose(&p);
	return rc;
}

/* Make the profile hold `role` and nothing else (IAM allows one role). */
static int set_role(struct dc_res_ctx *ctx, const char *name, const json_t *have, const char *role)
{
	size_t i;
	json_t *r;
	int rc = 0, present = 0;
	json_array_foreach(have, i, r) {
		if (strcmp(json_string_value(r), role) == 0)
			present = 1;
		else if (rc == 0)
			rc = with_role(ctx, "RemoveRoleFromInstanceProfile", name,
				       json_string_value(r));
		if (rc == DC_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0 && !present) {
		rc = with_role(ctx, "AddRoleToInstanceProfile", name, role);
		if (rc < 0 && dc_resource_error_is("LimitExceeded"))
			rc = holds_role(ctx, name, role);
	}
	return rc;
}

/* CreateInstanceProfile, recorded at once; or, when a crashed run made it
 * (its tag says so), the profile as it is, roles and all. */
static int create_or_adopt(struct dc_res_ctx *ctx, const char *name, json_t **attrs,
			   json_t **roles)
{
	char *arn = NULL;
	struct profile p;
	int rc = create_call(ctx, name, &arn);
	if (rc == 0) {
		*attrs = profile_attrs(name, arn);
		*roles = json_array();
		free(arn);
		return ctx->record(ctx, *attrs);
	}
	if (!dc_resource_error_is("EntityAlreadyExists"))
		return rc;
	rc = read_profile(ctx, name, &p);
	if (rc < 0)
		return rc;
	if (dc_resource_tagged(ctx, p.tags)) {
		*attrs = profile_attrs(name, p.arn);
		*roles = json_incref(p.roles);
	} else {
		rc = dc_error_set("instance profile '%s' exists and is not this stack's", name);
	}
	profile_dispose(&p);
	return rc;
}

static int profile_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *role = json_string_value(json_object_get(props, "role"));
	char *name = dc_resource_name(ctx, PROFILE_NAME_MAX);
	json_t *roles = NULL;
	int rc = 0;
	*attrs = NULL;
	if (!role || !*role)
		rc = dc_error_set("instance profile '%s': \"role\" (a role name) is missing", name);
	if (rc == 0)
		rc = create_or_adopt(ctx, name, attrs, &roles);
	if (rc == 0)
		rc = set_role(ctx, name, roles, role);
	if (rc < 0) {
		dc_error_prefix("instance profile '%s'", name);
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(roles);
	free(name);
	return rc;
}

static int profile_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
			  json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	const char *role = json_string_value(json_object_get(new_props, "role"));
	struct profile p;
	if (!name)
		return dc_error_set("instance profile: state holds no id");
	if (!role || !*role)
		return dc_error_set("instance profile '%s': \"role\" (a role name) is missing",
				    name);
	int rc = read_profile(ctx, name, &p);
	if (rc == 0) {
		rc = set_role(ctx, name, p.roles, role);
		profile_dispose(&p);
	}
	if (rc < 0)
		dc_error_prefix("instance profile '%s'", name);
	return rc;
}

/* Its role removed first: IAM refuses to delete a profile that has one. */
static int profile_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	struct profile p;
	size_t i;
	json_t *r;
	if (!name)
		return dc_error_set("instance profile: state holds no id");
	int rc = read_profile(ctx, name, &p);
	if (rc == DC_ENOTFOUND)
		return 0;
	json_array_foreach(p.roles, i, r) {
		if (rc == 0)
			rc = with_role(ctx, "RemoveRoleFromInstanceProfile", name,
				       json_string_value(r));
		if (rc == DC_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = dc_aws_query_pairs(ctx->aws, "iam", "DeleteInstanceProfile", NULL,
					"InstanceProfileName", name, NULL);
	if (rc == 0 || rc == DC_ENOTFOUND)
		rc = 0;
	else
		dc_error_prefix("deleting instance profile '%s'", name);
	profile_dispose(&p);
	return rc;
}

static int profile_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, PROFILE_NAME_MAX);
	struct profile p;
	int rc = read_profile(ctx, name, &p);
	*found = rc == 0 || rc == DC_ENOTFOUND ? json_array() : NULL;
	if (rc == 0 && dc_resource_tagged(ctx, p.tags))
		json_array_append_new(*found, profile_attrs(name, p.arn));
	if (rc == 0)
		profile_dispose(&p);
	free(name);
	return *found ? 0 : rc;
}

const struct dc_resource_type dc_type_iam_instance_profile = {
	.name = "iam.instance_profile",
	.create = profile_create,
	.update = profile_update,
	.delete = profile_delete,
	.find = profile_find,
};
