/* elbv2.load_balancer: an application load balancer in the given subnets
 * with the given security groups. Subnets and security groups change in
 * place; the scheme does not. */
#include "aws/protocol.h"
#include "resources/elbv2_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define LB_NAME_MAX 32
#define ACTIVE_LIMIT_S 600
#define GONE_LIMIT_S 600
#define MEMBER "DescribeLoadBalancersResult/LoadBalancers/member"

struct lb_spec {
	json_t *subnets;         /* borrowed */
	json_t *security_groups; /* borrowed */
	const char *scheme;
};

static int spec_init(struct lb_spec *s, const json_t *props)
{
	*s = (struct lb_spec){ .scheme = "internet-facing" };
	if (dc_rest_props("elbv2.load_balancer", props, "{s:o, s:o, s?s}", "subnets", &s->subnets,
			  "security_groups", &s->security_groups, "scheme", &s->scheme) < 0)
		return -1;
	if (!json_is_array(s->subnets) || json_array_size(s->subnets) < 2)
		return dc_error_set("elbv2.load_balancer props: \"subnets\" must list at least two "
				    "subnets (in two availability zones)");
	if (!json_is_array(s->security_groups))
		return dc_error_set("elbv2.load_balancer props: \"security_groups\" must be a list");
	return 0;
}

static json_t *lb_attrs(const json_t *lb)
{
	return json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "id",
			 json_object_get(lb, "LoadBalancerArn"), "arn",
			 json_object_get(lb, "LoadBalancerArn"), "name",
			 json_object_get(lb, "LoadBalancerName"), "dns",
			 json_object_get(lb, "DNSName"), "zone",
			 json_object_get(lb, "CanonicalHostedZoneId"));
}

static int describe_by_name(struct dc_res_ctx *ctx, const char *name, json_t **lb)
{
	return dc_elbv2_describe_one(ctx, "DescribeLoadBalancers", "Names.member.1", name, MEMBER,
				     lb);
}

/* A load balancer of that name a crashed run made: ours by its tags. */
static int adopt(struct dc_res_ctx *ctx, const char *name, json_t *lb, json_t **attrs)
{
	const char *arn = json_string_value(json_object_get(lb, "LoadBalancerArn"));
	int rc = dc_elbv2_ours(ctx, arn ? arn : "");
	if (rc == 0)
		return dc_error_set("load balancer '%s' exists and is not this stack's", name);
	if (rc < 0)
		return rc;
	*attrs = lb_attrs(lb);
	return 0;
}

static int create_call(struct dc_res_ctx *ctx, const char *name, const struct lb_spec *s,
		       json_t **attrs)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	xmlDocPtr doc = NULL;
	int rc = dc_form_add(&form, "Name", name);
	if (rc == 0)
		rc = dc_elbv2_form_list(&form, "Subnets", s->subnets);
	if (rc == 0)
		rc = dc_elbv2_form_list(&form, "SecurityGroups", s->security_groups);
	if (rc == 0)
		rc = dc_form_add(&form, "Scheme", s->scheme);
	if (rc == 0)
		rc = dc_form_add(&form, "Type", "application");
	if (rc == 0)
		rc = dc_form_add(&form, "IpAddressType", "ipv4");
	if (rc == 0)
		rc = dc_elbv2_form_tags(&form, ctx);
	if (rc == 0)
		rc = dc_elbv2_send(ctx, "CreateLoadBalancer", &form, &doc);
	dc_buf_dispose(&form);
	if (rc < 0)
		return rc;
	json_t *all = dc_resource_xml_list(doc, "CreateLoadBalancerResult/LoadBalancers/member");
	xmlFreeDoc(doc);
	*attrs = lb_attrs(json_array_get(all, 0));
	json_decref(all);
	if (!json_string_value(json_object_get(*attrs, "id")))
		return dc_error_set("CreateLoadBalancer answered without an ARN");
	return ctx->record(ctx, *attrs);
}

static int is_active(struct dc_res_ctx *ctx, void *arn)
{
	xmlDocPtr doc;
	int rc = dc_elbv2_call(ctx, &doc, "DescribeLoadBalancers", "LoadBalancerArns.member.1",
			       (const char *)arn, NULL);
	if (rc < 0)
		return rc;
	char *state = dc_xml_text(doc, MEMBER "/State/Code");
	xmlFreeDoc(doc);
	rc = state && strcmp(state, "active") == 0;
	if (state && (strcmp(state, "failed") == 0 || strcmp(state, "active_impaired") == 0))
		rc = dc_error_set("load balancer is '%s'", state);
	free(state);
	return rc;
}

static int lb_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct lb_spec s;
	char *name = dc_resource_name(ctx, LB_NAME_MAX);
	json_t *lb = NULL;
	*attrs = NULL;
	int rc = spec_init(&s, props);
	if (rc == 0)
		rc = describe_by_name(ctx, name, &lb);
	if (rc == 0)
		rc = lb ? adopt(ctx, name, lb, attrs) : create_call(ctx, name, &s, attrs);
	if (rc == 0) {
		char *what = dc_xasprintf("load balancer '%s' to become active", name);
		rc = dc_resource_wait(ctx, what, ACTIVE_LIMIT_S, is_active,
				      (void *)json_string_value(json_object_get(*attrs, "arn")));
		free(what);
	}
	if (rc < 0) {
		dc_error_prefix("load balancer '%s'", name);
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(lb);
	free(name);
	return rc;
}

/* SetSubnets or SetSecurityGroups with the list under `prefix`. */
static int set_list(struct dc_res_ctx *ctx, const char *action, const char *arn,
		    const char *prefix, const json_t *list)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = dc_form_add(&form, "LoadBalancerArn", arn);
	if (rc == 0)
		rc = dc_elbv2_form_list(&form, prefix, list);
	if (rc == 0)
		rc = dc_elbv2_send(ctx, action, &form, NULL);
	dc_buf_dispose(&form);
	return rc;
}

static int lb_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		     json_t *attrs)
{
	struct lb_spec was, now;
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	if (!arn)
		return dc_error_set("load balancer: state holds no arn");
	if (spec_init(&was, old_props) < 0 || spec_init(&now, new_props) < 0)
		return -1;
	if (strcmp(was.scheme, now.scheme) != 0)
		return DC_EREPLACE;
	int rc = 0;
	if (!json_equal(was.subnets, now.subnets))
		rc = set_list(ctx, "SetSubnets", arn, "Subnets", now.subnets);
	if (rc == 0 && !json_equal(was.security_groups, now.security_groups))
		rc = set_list(ctx, "SetSecurityGroups", arn, "SecurityGroups", now.security_groups);
	if (rc < 0)
		dc_error_prefix("load balancer '%s'", arn);
	return rc;
}

static int is_gone(struct dc_res_ctx *ctx, void *arn)
{
	int rc = dc_elbv2_call(ctx, NULL, "DescribeLoadBalancers", "LoadBalancerArns.member.1",
			       (const char *)arn, NULL);
	return rc == DC_ENOTFOUND ? 1 : rc < 0 ? rc : 0;
}

/* Its listeners go with it. Waiting until it is gone is what lets its
 * security group be deleted next (the balancer's network interfaces are
 * released last). */
static int lb_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	if (!arn)
		return dc_error_set("load balancer: state holds no arn");
	int rc = dc_elbv2_call(ctx, NULL, "DeleteLoadBalancer", "LoadBalancerArn", arn, NULL);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc == 0) {
		char *what = dc_xasprintf("load balancer '%s' to be deleted",
					  json_string_value(json_object_get(attrs, "name")));
		rc = dc_resource_wait(ctx, what, GONE_LIMIT_S, is_gone, (void *)arn);
		free(what);
	}
	if (rc < 0)
		dc_error_prefix("deleting load balancer '%s'", arn);
	return rc;
}

static int lb_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, LB_NAME_MAX);
	json_t *lb = NULL;
	int rc = describe_by_name(ctx, name, &lb);
	*found = NULL;
	if (rc == 0 && lb)
		rc = dc_elbv2_ours(ctx, json_string_value(json_object_get(lb, "LoadBalancerArn")));
	if (rc >= 0 || rc == DC_ENOTFOUND) {
		*found = json_array();
		if (rc == 1)
			json_array_append_new(*found, lb_attrs(lb));
		rc = 0;
	}
	json_decref(lb);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_elbv2_load_balancer = {
	.name = "elbv2.load_balancer",
	.create = lb_create,
	.update = lb_update,
	.delete = lb_delete,
	.find = lb_find,
};
