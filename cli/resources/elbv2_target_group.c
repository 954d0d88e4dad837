/* elbv2.target_group: where a load balancer sends requests; type ip for
 * Fargate tasks, health checked on health_check_path. The health check and
 * the deregistration delay change in place; the rest does not. */
#include "aws/protocol.h"
#include "resources/elbv2_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TG_NAME_MAX 32
#define IN_USE_LIMIT_S 300
#define MEMBER "DescribeTargetGroupsResult/TargetGroups/member"

struct tg_spec {
	const char *vpc;
	json_int_t port;
	const char *protocol;
	const char *target_type;
	const char *health_path;
	json_int_t delay_s; /* deregistration delay: how long a stopping task drains */
};

static int spec_init(struct tg_spec *s, const json_t *props)
{
	*s = (struct tg_spec){ .protocol = "HTTP", .target_type = "ip",
			       .health_path = "/healthz", .delay_s = 30 };
	if (dc_rest_props("elbv2.target_group", props, "{s:s, s:I, s?s, s?s, s?s, s?I}", "vpc",
			  &s->vpc, "port", &s->port, "protocol", &s->protocol, "target_type",
			  &s->target_type, "health_check_path", &s->health_path,
			  "deregistration_delay_s", &s->delay_s) < 0)
		return -1;
	if (s->port < 1 || s->port > 65535 || s->delay_s < 0 || s->delay_s > 3600)
		return dc_error_set("elbv2.target_group props: \"port\" must be 1-65535 and "
				    "\"deregistration_delay_s\" 0-3600");
	return 0;
}

static json_t *tg_attrs(const json_t *tg)
{
	return json_pack("{s:O?, s:O?, s:O?}", "id", json_object_get(tg, "TargetGroupArn"), "arn",
			 json_object_get(tg, "TargetGroupArn"), "name",
			 json_object_get(tg, "TargetGroupName"));
}

static int describe_by_name(struct dc_res_ctx *ctx, const char *name, json_t **tg)
{
	return dc_elbv2_describe_one(ctx, "DescribeTargetGroups", "Names.member.1", name, MEMBER,
				     tg);
}

static int health_form(struct dc_buf *form, const struct tg_spec *s)
{
	int rc = dc_form_add(form, "HealthCheckProtocol", s->protocol);
	if (rc == 0)
		rc = dc_form_add(form, "HealthCheckPath", s->health_path);
	if (rc == 0)
		rc = dc_form_add(form, "HealthCheckIntervalSeconds", "10");
	if (rc == 0)
		rc = dc_form_add(form, "HealthyThresholdCount", "2");
	if (rc == 0)
		rc = dc_form_add(form, "Matcher.HttpCode", "200");
	return rc;
}

static int create_call(struct dc_res_ctx *ctx, const char *name, const struct tg_spec *s,
		       json_t **attrs)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	xmlDocPtr doc = NULL;
	char port[16];
	snprintf(port, sizeof(port), "%lld", (long long)s->port);
	int rc = dc_form_add(&form, "Name", name);
	if (rc == 0)
		rc = dc_form_add(&form, "Protocol", s->protocol);
	if (rc == 0)
		rc = dc_form_add(&form, "Port", port);
	if (rc == 0)
		rc = dc_form_add(&form, "VpcId", s->vpc);
	if (rc == 0)
		rc = dc_form_add(&form, "TargetType", s->target_type);
	if (rc == 0)
		rc = health_form(&form, s);
	if (rc == 0)
		rc = dc_elbv2_form_tags(&form, ctx);
	if (rc == 0)
		rc = dc_elbv2_send(ctx, "CreateTargetGroup", &form, &doc);
	dc_buf_dispose(&form);
	if (rc < 0)
		return rc;
	json_t *all = dc_resource_xml_list(doc, "CreateTargetGroupResult/TargetGroups/member");
	xmlFreeDoc(doc);
	*attrs = tg_attrs(json_array_get(all, 0));
	json_decref(all);
	if (!json_string_value(json_object_get(*attrs, "id")))
		return dc_error_set("CreateTargetGroup answered without an ARN");
	return ctx->record(ctx, *attrs);
}

static int set_delay(struct dc_res_ctx *ctx, const char *arn, const struct tg_spec *s)
{
	char delay[16];
	snprintf(delay, sizeof(delay), "%lld", (long long)s->delay_s);
	return dc_elbv2_call(ctx, NULL, "ModifyTargetGroupAttributes", "TargetGroupArn", arn,
			     "Attributes.member.1.Key", "deregistration_delay.timeout_seconds",
			     "Attributes.member.1.Value", delay, NULL);
}

static int tg_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct tg_spec s;
	char *name = dc_resource_name(ctx, TG_NAME_MAX);
	json_t *tg = NULL;
	*attrs = NULL;
	int rc = spec_init(&s, props);
	if (rc == 0)
		rc = describe_by_name(ctx, name, &tg);
	if (rc == 0 && tg) {
		const char *arn = json_string_value(json_object_get(tg, "TargetGroupArn"));
		rc = dc_elbv2_ours(ctx, arn ? arn : "");
		if (rc == 0)
			rc = dc_error_set("it exists and is not this stack's");
		*attrs = rc > 0 ? tg_attrs(tg) : NULL;
		rc = rc > 0 ? 0 : rc;
	} else if (rc == 0) {
		rc = create_call(ctx, name, &s, attrs);
	}
	if (rc == 0)
		rc = set_delay(ctx, json_string_value(json_object_get(*attrs, "arn")), &s);
	if (rc < 0) {
		dc_error_prefix("target group '%s'", name);
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(tg);
	free(name);
	return rc;
}

static int modify(struct dc_res_ctx *ctx, const char *arn, const struct tg_spec *s)
{
	struct dc_buf form = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = dc_form_add(&form, "TargetGroupArn", arn);
	if (rc == 0)
		rc = health_form(&form, s);
	if (rc == 0)
		rc = dc_elbv2_send(ctx, "ModifyTargetGroup", &form, NULL);
	dc_buf_dispose(&form);
	return rc;
}

static int tg_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		     json_t *attrs)
{
	struct tg_spec was, now;
	const char *arn = json_string_value(json_object_get(attrs, "arn"));
	if (!arn)
		return dc_error_set("target group: state holds no arn");
	if (spec_init(&was, old_props) < 0 || spec_init(&now, new_props) < 0)
		return -1;
	if (strcmp(was.vpc, now.vpc) || was.port != now.port ||
	    strcmp(was.protocol, now.protocol) || strcmp(was.target_type, now.target_type))
		return DC_EREPLACE;
	int rc = modify(ctx, arn, &now);
	if (rc == 0)
		rc = set_delay(ctx, arn, &now);
	if (rc < 0)
		dc_error_prefix("target group '%s'", arn);
	return rc;
}

struct deletion {
	const char *arn;
};

static int delete_call(struct dc_res_ctx *ctx, void *arg)
{
	struct deletion *d = arg;
	return dc_elbv2_call(ctx, NULL, "DeleteTargetGroup", "TargetGroupArn", d->arn, NULL);
}

/* A listener or rule deleted just before may still hold it for a moment. */
static int tg_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	struct deletion d = { json_string_value(json_object_get(attrs, "arn")) };
	if (!d.arn)
		return dc_error_set("target group: state holds no arn");
	int rc = dc_resource_retry_while(ctx, "ResourceInUse", NULL,
					 "the target group to be released by its listener",
					 IN_USE_LIMIT_S, delete_call, &d);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		dc_error_prefix("deleting target group '%s'", d.arn);
	return rc;
}

static int tg_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, TG_NAME_MAX);
	json_t *tg = NULL;
	int rc = describe_by_name(ctx, name, &tg);
	*found = NULL;
	if (rc == 0 && tg)
		rc = dc_elbv2_ours(ctx, json_string_value(json_object_get(tg, "TargetGroupArn")));
	if (rc >= 0 || rc == DC_ENOTFOUND) {
		*found = json_array();
		if (rc == 1)
			json_array_append_new(*found, tg_attrs(tg));
		rc = 0;
	}
	json_decref(tg);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_elbv2_target_group = {
	.name = "elbv2.target_group",
	.create = tg_create,
	.update = tg_update,
	.delete = tg_delete,
	.find = tg_find,
};
