/* ec2.security_group: a VPC security group whose ingress rules are exactly
 * the template's (extra ones are revoked); egress stays EC2's default, all
 * traffic out. A rule whose cidr or source_group is empty is left out, so a
 * template param can switch a rule off ("--param ssh_cidr="). */
#include "aws/protocol.h"
#include "resources/ec2_common.h"
#include "util/error.h"
#include "util/xalloc.h"

#define GROUP_NAME_MAX 255
/* ENIs of deleted load balancers, tasks or instances can hold a group for
 * minutes after their owner is gone. */
#define RELEASE_LIMIT_S 600

struct rule {
	char proto[8];
	long from, to;      /* -1 for every port (protocol -1) */
	const char *cidr;   /* exactly one of cidr and group */
	const char *group;
};

struct group_spec {
	char *name;
	const char *vpc, *description;
	const json_t *tags;   /* extra tags, may be NULL */
	struct rule *rules;
	size_t nrules;
};

/* A rule's identity, for comparing what the template wants with what EC2
 * has. Caller frees. */
static char *rule_key(const struct rule *r)
{
	return dc_xasprintf("%s|%ld|%ld|%s|%s", r->proto, r->from, r->to, r->cidr ? "cidr" : "sg",
			    r->cidr ? r->cidr : r->group);
}

static int rule_ports(struct rule *r, const json_t *spec, const char *where)
{
	const json_t *port = json_object_get(spec, "port"), *to = json_object_get(spec, "to_port");
	if (strcmp(r->proto, "-1") == 0) {
		r->from = r->to = -1;
		return 0;
	}
	if (!json_is_integer(port) || (to && !json_is_integer(to)))
		return dc_error_set("%s: \"port\" must be a whole number", where);
	r->from = (long)json_integer_value(port);
	r->to = to ? (long)json_integer_value(to) : r->from;
	if (r->from < 0 || r->to > 65535 || r->to < r->from)
		return dc_error_set("%s: ports %ld-%ld are not a range of 0-65535", where, r->from,
				    r->to);
	return 0;
}

/* One ingress entry; *skip when its source is empty (switched off). */
static int rule_parse(struct rule *r, const json_t *spec, const char *self, const char *where,
		      int *skip)
{
	const char *proto = json_string_value(json_object_get(spec, "protocol"));
	const json_t *cidr = json_object_get(spec, "cidr"), *group = json_object_get(spec, "source_group");
	int is_self = json_is_true(json_object_get(spec, "self"));
	*r = (struct rule){ .cidr = json_string_value(cidr), .group = json_string_value(group) };
	*skip = 0;
	proto = !proto ? "tcp" : strcmp(proto, "all") == 0 ? "-1" : proto;
	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "-1"))
		return dc_error_set("%s: \"protocol\" must be tcp, udp or all", where);
	snprintf(r->proto, sizeof(r->proto), "%s", proto);
	if (!json_is_object(spec) || (!!cidr + !!group + is_self) != 1 ||
	    (cidr && !r->cidr) || (group && !r->group))
		return dc_error_set("%s: needs one of \"cidr\", \"source_group\" or \"self\": true",
				    where);
	if (is_self)
		r->group = self;
	*skip = (r->cidr && !*r->cidr) || (r->group && !*r->group);
	return *skip ? 0 : rule_ports(r, spec, where);
}

static void spec_dispose(struct group_spec *s)
{
	free(s->name);
	free(s->rules);
	*s = (struct group_spec){ 0 };
}

/* Check props before any call. `self` is the group's id, or "" before it
 * exists (self rules are only compared once it does). */
static int spec_init(struct group_spec *s, struct dc_res_ctx *ctx, const json_t *props,
		     const char *self)
{
	const json_t *ingress = json_object_get(props, "ingress"), *e;
	size_t i;
	*s = (struct group_spec){ .name = dc_resource_name(ctx, GROUP_NAME_MAX) };
	s->vpc = json_string_value(json_object_get(props, "vpc"));
	s->description = json_string_value(json_object_get(props, "description"));
	s->tags = json_object_get(props, "tags");
	if (!s->vpc || !*s->vpc)
		return dc_error_set("security group '%s': \"vpc\" is missing", s->name);
	if (ingress && !json_is_array(ingress))
		return dc_error_set("security group '%s': \"ingress\" must be a list", s->name);
	s->rules = dc_xcalloc(json_array_size(ingress) + 1, sizeof(*s->rules));
	json_array_foreach(ingress, i, e) {
		char where[300];
		int skip;
		snprintf(where, sizeof(where), "security group '%s': ingress[%zu]", s->name, i);
		if (rule_parse(&s->rules[s->nrules], e, self, where, &skip) < 0)
			return -1;
		s->nrules += !skip;
	}
	return 0;
}

/* ---- what EC2 has --------------------------------------------------------- */

static json_t *describe_by(struct dc_res_ctx *ctx, struct dc_buf *form, int *rc)
{
	xmlDocPtr doc = NULL;
	*rc = dc_ec2_send(ctx, "DescribeSecurityGroups", form, &doc);
	json_t *groups = *rc == 0 ? dc_ec2_json(doc, "securityGroupInfo") : NULL;
	xmlFreeDoc(doc);
	return groups;
}

static int describe_group(struct dc_res_ctx *ctx, const char *id, json_t **out)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = dc_ec2_form_nth(&form, "GroupId", 1, id);
	json_t *groups = rc == 0 ? describe_by(ctx, &form, &rc) : NULL;
	dc_buf_dispose(&form);
	*out = json_incref(json_array_get(groups, 0));
	json_decref(groups);
	if (rc == 0 && !*out)
		rc = DC_ENOTFOUND;
	return rc;
}

static void add_current(json_t *keys, const json_t *perm, const char *field, const char *src,
			int is_cidr)
{
	const char *proto = dc_ec2_str(perm, "ipProtocol");
	const char *from = dc_ec2_str(perm, "fromPort"), *to = dc_ec2_str(perm, "toPort");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(perm, field), i, e) {
		struct rule r = { .from = from && *from ? strtol(from, NULL, 10) : -1,
				  .to = to && *to ? strtol(to, NULL, 10) : -1 };
		snprintf(r.proto, sizeof(r.proto), "%s", proto ? proto : "");
		if (strcmp(r.proto, "-1") == 0)
			r.from = r.to = -1;
		*(is_cidr ? &r.cidr : &r.group) = dc_ec2_str(e, src);
		if (!r.cidr && !r.group)
			continue;
		char *k = rule_key(&r);
		json_object_set_new(keys, k, json_true());
		free(k);
	}
}

/* The group's ingress rules as an object of rule keys. */
static json_t *current_rules(const json_t *group)
{
	json_t *keys = json_object(), *perm;
	size_t i;
	json_array_foreach(json_object_get(group, "ipPermissions"), i, perm) {
		add_current(keys, perm, "ipRanges", "cidrIp", 1);
		add_current(keys, perm, "groups", "groupId", 0);
	}
	return keys;
}

/* ---- convergence ---------------------------------------------------------- */

static int add_permission(struct dc_buf *form, int n, const struct rule *r)
{
	char key[96], num[24];
	int rc = 0;
	snprintf(key, sizeof(key), "IpPermissions.%d.IpProtocol", n);
	rc |= dc_form_add(form, key, r->proto);
	if (r->from >= 0) {
		snprintf(key, sizeof(key), "IpPermissions.%d.FromPort", n);
		snprintf(num, sizeof(num), "%ld", r->from);
		rc |= dc_form_add(form, key, num);
		snprintf(key, sizeof(key), "IpPermissions.%d.ToPort", n);
		snprintf(num, sizeof(num), "%ld", r->to);
		rc |= dc_form_add(form, key, num);
	}
	if (r->cidr)
		snprintf(key, sizeof(key), "IpPermissions.%d.IpRanges.1.CidrIp", n);
	else
		snprintf(key, sizeof(key), "IpPermissions.%d.Groups.1.GroupId", n);
	rc |= dc_form_add(form, key, r->cidr ? r->cidr : r->group);
	return rc ? -1 : 0;
}

/* Parse a rule key back (for revoking what the template no longer names). */
static void rule_from_key(struct rule *r, char *key)
{
	char *save = NULL, *proto = strtok_r(key, "|", &save);
	char *from = strtok_r(NULL, "|", &save), *to = strtok_r(NULL, "|", &save);
	char *kind = strtok_r(NULL, "|", &save), *src = strtok_r(NULL, "|", &save);
	*r = (struct rule){ .from = from ? strtol(from, NULL, 10) : -1,
			    .to = to ? strtol(to, NULL, 10) : -1 };
	snprintf(r->proto, sizeof(r->proto), "%s", proto ? proto : "");
	*(kind && strcmp(kind, "cidr") == 0 ? &r->cidr : &r->group) = src ? src : "";
}

/* Revoke every rule whose key is true in `extra`, in one call. */
static int revoke(struct dc_res_ctx *ctx, const char *id, json_t *extra)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_FILE);
	const char *k;
	json_t *v;
	int n = 0, rc = dc_form_add(&form, "GroupId", id);
	json_object_foreach(extra, k, v) {
		if (!json_is_true(v))
			continue;
		char *copy = dc_xstrdup(k);
		struct rule r;
		rule_from_key(&r, copy);
		if (rc == 0)
			rc = add_permission(&form, ++n, &r);
		free(copy);
	}
	if (rc == 0 && n)
		rc = dc_ec2_send(ctx, "RevokeSecurityGroupIngress", &form, NULL);
	dc_buf_dispose(&form);
	return rc;
}

/* One pass: authorize the template's rules EC2 lacks, revoke the ones it
 * has extra. */
static int converge_once(struct dc_res_ctx *ctx, const struct group_spec *s, const char *id)
{
	json_t *group = NULL;
	struct dc_buf form = DC_BUF_INIT(DC_MAX_FILE);
	int rc = describe_group(ctx, id, &group), n = 0;
	json_t *have = rc == 0 ? current_rules(group) : json_object();
	if (rc == 0)
		rc = dc_form_add(&form, "GroupId", id);
	for (size_t i = 0; rc == 0 && i < s->nrules; i++) {
		/* Kept rules turn false, so a rule named twice is sent once. */
		char *k = rule_key(&s->rules[i]);
		if (!json_object_get(have, k))
			rc = add_permission(&form, ++n, &s->rules[i]);
		json_object_set_new(have, k, json_false());
		free(k);
	}
	if (rc == 0 && n)
		rc = dc_ec2_send(ctx, "AuthorizeSecurityGroupIngress", &form, NULL);
	if (rc == 0)
		rc = revoke(ctx, id, have);
	dc_buf_dispose(&form);
	json_decref(have);
	json_decref(group);
	return rc;
}

/* A retried Authorize whose first answer was lost meets its own rules
 * (InvalidPermission.Duplicate), a retried Revoke finds them gone
 * (InvalidPermission.NotFound): both calls are all-or-nothing, so the
 * group is read again and the pass redone rather than the error taken
 * for success blindly. */
static int converge_rules(struct dc_res_ctx *ctx, const struct group_spec *s, const char *id)
{
	int rc = -1;
	for (int pass = 0; pass < 3; pass++) {
		rc = converge_once(ctx, s, id);
		if (rc == 0 || (!dc_resource_error_is("InvalidPermission.Duplicate") &&
				!dc_resource_error_is("InvalidPermission.NotFound")))
			break;
	}
	if (rc < 0)
		dc_error_prefix("security group '%s' ingress", s->name);
	return rc;
}

/* ---- create --------------------------------------------------------------- */

static json_t *group_attrs(struct dc_res_ctx *ctx, const char *id, const char *name)
{
	char *arn = dc_ec2_arn(ctx, "security-group", id);
	json_t *a = json_pack("{s:s, s:s, s:s}", "id", id, "arn", arn, "name", name);
	free(arn);
	return a;
}

/* The group a crashed run made: same name in the same VPC, and ours. */
static int adopt(struct dc_res_ctx *ctx, const struct group_spec *s, char **id)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = dc_ec2_filter(&form, 1, "group-name", s->name);
	if (rc == 0)
		rc = dc_ec2_filter(&form, 2, "vpc-id", s->vpc);
	json_t *groups = rc == 0 ? describe_by(ctx, &form, &rc) : NULL;
	json_t *g = json_array_get(groups, 0);
	dc_buf_dispose(&form);
	if (rc == 0 && !g)
		rc = dc_error_set("security group '%s' exists but cannot be found", s->name);
	json_t *tags = dc_ec2_tags(json_object_get(g, "tagSet"));
	if (rc == 0 && g && !dc_resource_tagged(ctx, tags))
		rc = dc_error_set("security group '%s' exists but does not belong to stack '%s'",
				  s->name, ctx->stack);
	if (rc == 0)
		*id = dc_xstrdup(dc_ec2_str(g, "groupId"));
	json_decref(tags);
	json_decref(groups);
	return rc;
}

static int create_or_adopt(struct dc_res_ctx *ctx, const struct group_spec *s, char **id)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	xmlDocPtr doc = NULL;
	char *desc = s->description ? NULL : dc_xasprintf("deployctl %s %s", ctx->stack,
							    ctx->logical_id);
	int rc = dc_form_add(&form, "GroupName", s->name);
	if (rc == 0)
		rc = dc_form_add(&form, "GroupDescription", desc ? desc : s->description);
	if (rc == 0)
		rc = dc_form_add(&form, "VpcId", s->vpc);
	if (rc == 0)
		rc = dc_ec2_tag_spec(&form, ctx, "security-group", s->name, s->tags);
	if (rc == 0)
		rc = dc_ec2_send(ctx, "CreateSecurityGroup", &form, &doc);
	dc_buf_dispose(&form);
	free(desc);
	*id = NULL;
	if (rc < 0 && dc_resource_error_is("InvalidGroup.Duplicate"))
		return adopt(ctx, s, id);
	if (rc == 0 && !(*id = dc_xml_text(doc, "groupId")))
		rc = dc_error_set("EC2 CreateSecurityGroup answered without a group id");
	xmlFreeDoc(doc);
	return rc;
}

static int group_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct group_spec s;
	char *id = NULL;
	*attrs = NULL;
	/* Checked before the group exists; self rules get its id below. */
	int rc = spec_init(&s, ctx, props, "sg-unknown-yet");
	if (rc == 0)
		rc = create_or_adopt(ctx, &s, &id);
	if (rc == 0) {
		*attrs = group_attrs(ctx, id, s.name);
		rc = ctx->record(ctx, *attrs);
	}
	spec_dispose(&s);
	if (rc == 0)
		rc = spec_init(&s, ctx, props, id);
	if (rc == 0)
		rc = converge_rules(ctx, &s, id);
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	spec_dispose(&s);
	free(id);
	return rc;
}

/* ---- update, delete, find ------------------------------------------------- */

/* json_equal says two absent values differ: a group without a description
 * would be replaced on every update. */
static int same_string(const json_t *a, const json_t *b)
{
	return a == b || json_equal((json_t *)a, (json_t *)b);
}

static int group_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
			json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	struct group_spec s;
	if (!id)
		return dc_error_set("security group: state holds no id");
	/* EC2 changes neither in place. */
	if (!same_string(json_object_get(old_props, "vpc"), json_object_get(new_props, "vpc")) ||
	    !same_string(json_object_get(old_props, "description"),
			 json_object_get(new_props, "description")))
		return DC_EREPLACE;
	int rc = spec_init(&s, ctx, new_props, id);
	if (rc == 0 && !same_string(json_object_get(old_props, "tags"), s.tags))
		rc = dc_ec2_retag(ctx, id, s.name, json_object_get(old_props, "tags"), s.tags);
	if (rc == 0)
		rc = converge_rules(ctx, &s, id);
	spec_dispose(&s);
	return rc;
}

static int delete_once(struct dc_res_ctx *ctx, void *id)
{
	int rc = dc_ec2_call(ctx, NULL, "DeleteSecurityGroup", "GroupId", (const char *)id, NULL);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int group_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	if (!id)
		return dc_error_set("security group: state holds no id");
	char *why = dc_xasprintf("network interfaces to release security group '%s'", id);
	int rc = dc_resource_retry_while(ctx, "DependencyViolation", NULL, why, RELEASE_LIMIT_S,
					 delete_once, (void *)id);
	free(why);
	if (rc < 0)
		dc_error_prefix("deleting security group '%s'", id);
	return rc;
}

static int group_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	char *name = dc_resource_name(ctx, GROUP_NAME_MAX);
	int rc = dc_ec2_filter_ours(&form, ctx, name);
	json_t *groups = rc == 0 ? describe_by(ctx, &form, &rc) : NULL, *g;
	size_t i;
	*found = rc == 0 ? json_array() : NULL;
	json_array_foreach(groups, i, g) {
		const char *id = dc_ec2_str(g, "groupId");
		if (id)
			json_array_append_new(*found, group_attrs(ctx, id, name));
	}
	json_decref(groups);
	dc_buf_dispose(&form);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_ec2_security_group = {
	.name = "ec2.security_group",
	.create = group_create,
	.update = group_update,
	.delete = group_delete,
	.find = group_find,
};
