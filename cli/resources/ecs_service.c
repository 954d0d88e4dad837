/* ecs.service: desired_count copies of a task on Fargate Spot, placed by a
 * capacity provider strategy (never a launch type, which would silently
 * run them on regular Fargate), in awsvpc mode with a public IP, registered
 * in a target group. Everything but the cluster changes in place. */
#include "aws/sigv4.h"
#include "resources/ecs_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SERVICE_NAME_MAX 255
#define TOKEN_LEN 32

struct service_spec {
	const char *cluster;
	const char *task_definition;
	const char *provider;
	json_int_t desired;
	json_t *subnets;         /* borrowed */
	json_t *security_groups; /* borrowed */
	int public_ip;
	const char *target_group; /* NULL: no load balancer */
	const char *container;
	json_int_t port;
	json_int_t grace_s;
};

static int spec_init(struct service_spec *s, const json_t *props)
{
	*s = (struct service_spec){ .provider = "FARGATE_SPOT", .desired = 1, .public_ip = 1,
				    .container = "app", .port = 80, .grace_s = 120 };
	if (dc_rest_props("ecs.service", props, "{s:s, s:s, s?s, s?I, s:o, s:o, s?b, s?s, s?s, s?I, "
			  "s?I}", "cluster", &s->cluster, "task_definition", &s->task_definition,
			  "capacity_provider", &s->provider, "desired_count", &s->desired,
			  "subnets", &s->subnets, "security_groups", &s->security_groups,
			  "public_ip", &s->public_ip, "target_group", &s->target_group,
			  "container", &s->container, "port", &s->port, "health_check_grace_s",
			  &s->grace_s) < 0)
		return -1;
	if (!json_is_array(s->subnets) || !json_is_array(s->security_groups))
		return dc_error_set("ecs.service props: \"subnets\" and \"security_groups\" must be "
				    "lists");
	if (s->desired < 0)
		return dc_error_set("ecs.service props: \"desired_count\" must not be negative");
	return 0;
}

/* What CreateService and UpdateService both take. */
static json_t *settings(const struct service_spec *s)
{
	json_t *in = json_pack("{s:s, s:s, s:I, s:[{s:s, s:i, s:i}], s:{s:{s:O, s:O, s:s}}}",
			       "cluster", s->cluster, "taskDefinition", s->task_definition,
			       "desiredCount", s->desired, "capacityProviderStrategy",
			       "capacityProvider", s->provider, "weight", 1, "base", 0,
			       "networkConfiguration", "awsvpcConfiguration", "subnets", s->subnets,
			       "securityGroups", s->security_groups, "assignPublicIp",
			       s->public_ip ? "ENABLED" : "DISABLED");
	if (s->target_group) {
		json_object_set_new(in, "loadBalancers",
				    json_pack("[{s:s, s:s, s:I}]", "targetGroupArn", s->target_group,
					      "containerName", s->container, "containerPort",
					      s->port));
		json_object_set_new(in, "healthCheckGracePeriodSeconds", json_integer(s->grace_s));
	}
	return in;
}

/* The idempotency token: the same for a run that resumes the same create,
 * another for the next stack of that name (whose task definition is a new
 * revision), so ECS never hands back a service deleted since. */
static void client_token(char out[TOKEN_LEN + 1], const char *name, const json_t *props)
{
	char *text = json_dumps(props, JSON_COMPACT | JSON_SORT_KEYS);
	char *all = dc_xasprintf("%s\n%s", name, text ? text : "");
	char hex[65];
	dc_sha256_hex(hex, all, strlen(all));
	snprintf(out, TOKEN_LEN + 1, "%s", hex);
	free(all);
	free(text);
}

static json_t *service_attrs(const char *name, const char *arn, const char *cluster)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "id", name, "name", name, "arn", arn ? arn : "",
			 "cluster", cluster);
}

static int update_call(struct dc_res_ctx *ctx, const char *name, const struct service_spec *s,
		       int force)
{
	json_t *in = settings(s);
	json_object_set_new(in, "service", json_string(name));
	if (force)
		json_object_set_new(in, "forceNewDeployment", json_true());
	return dc_ecs_call(ctx, "UpdateService", in, NULL);
}

/* A service of that name that no token matches (made by a run with other
 * props): ours by its tags, made to say what the template says. */
static int adopt(struct dc_res_ctx *ctx, const char *name, const struct service_spec *s,
		 json_t **attrs)
{
	json_t *svc;
	int rc = dc_ecs_service_describe(ctx, s->cluster, name, &svc);
	const char *status = json_string_value(json_object_get(svc, "status"));
	if (rc == 0 && (!status || strcmp(status, "ACTIVE") != 0))
		rc = dc_error_set("it exists and is %s: wait until it is gone", status ? status
										       : "unknown");
	else if (rc == 0 && !dc_ecs_tagged(ctx, json_object_get(svc, "tags")))
		rc = dc_error_set("it exists and is not this stack's");
	if (rc == 0) {
		*attrs = service_attrs(name, json_string_value(json_object_get(svc, "serviceArn")),
				       s->cluster);
		rc = ctx->record(ctx, *attrs);
	}
	json_decref(svc);
	return rc == 0 ? update_call(ctx, name, s, 1) : rc;
}

static int create_call(struct dc_res_ctx *ctx, const char *name, const struct service_spec *s,
		       const json_t *props, json_t **attrs)
{
	char token[TOKEN_LEN + 1];
	json_t *in = settings(s), *out = NULL;
	client_token(token, name, props);
	json_object_set_new(in, "serviceName", json_string(name));
	json_object_set_new(in, "clientToken", json_string(token));
	json_object_set_new(in, "tags", dc_ecs_tags(ctx));
	json_object_set_new(in, "propagateTags", json_string("SERVICE"));
	json_object_set_new(in, "enableECSManagedTags", json_true());
	int rc = dc_ecs_call(ctx, "CreateService", in, &out);
	if (rc < 0 && dc_resource_error_is("InvalidParameterException") &&
	    strstr(dc_error_last()->message, "idempotent"))
		rc = adopt(ctx, name, s, attrs);
	else if (rc == 0) {
		json_t *svc = json_object_get(out, "service");
		*attrs = service_attrs(name, json_string_value(json_object_get(svc, "serviceArn")),
				       s->cluster);
		rc = ctx->record(ctx, *attrs);
	}
	json_decref(out);
	return rc;
}

/* Returns once ECS has the service; the task starting, passing its health
 * check and the ALB sending it traffic follow within a few minutes. */
static int service_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct service_spec s;
	char *name = dc_resource_name(ctx, SERVICE_NAME_MAX);
	*attrs = NULL;
	int rc = spec_init(&s, props);
	if (rc == 0)
		rc = create_call(ctx, name, &s, props, attrs);
	if (rc < 0) {
		dc_error_prefix("service '%s'", name);
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(name);
	return rc;
}

/* A new capacity provider strategy only takes effect with a new deployment. */
static int service_update(struct dc_res_ctx *ctx, const json_t *old_props,
			  const json_t *new_props, json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	struct service_spec was, now;
	if (!name)
		return dc_error_set("service: state holds no id");
	if (spec_init(&was, old_props) < 0 || spec_init(&now, new_props) < 0)
		return -1;
	if (strcmp(was.cluster, now.cluster) != 0)
		return DC_EREPLACE;
	int rc = update_call(ctx, name, &now, strcmp(was.provider, now.provider) != 0);
	if (rc < 0)
		dc_error_prefix("service '%s'", name);
	return rc;
}

static int service_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	const char *cluster = json_string_value(json_object_get(attrs, "cluster"));
	if (!name || !cluster)
		return dc_error_set("service: state holds no id and cluster");
	return dc_ecs_service_remove(ctx, cluster, name);
}

/* Only with the cluster known: swept, a service goes with its cluster. */
static int service_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	const char *cluster = json_string_value(json_object_get(props, "cluster"));
	char *name = dc_resource_name(ctx, SERVICE_NAME_MAX);
	json_t *svc = NULL;
	int rc = cluster ? dc_ecs_service_describe(ctx, cluster, name, &svc) : 0;
	const char *status = json_string_value(json_object_get(svc, "status"));
	*found = NULL;
	if (rc == 0) {
		*found = json_array();
		if (status && strcmp(status, "INACTIVE") != 0 &&
		    dc_ecs_tagged(ctx, json_object_get(svc, "tags")))
			json_array_append_new(*found, service_attrs(name, json_string_value(
					json_object_get(svc, "serviceArn")), cluster));
	}
	json_decref(svc);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_ecs_service = {
	.name = "ecs.service",
	.create = service_create,
	.update = service_update,
	.delete = service_delete,
	.find = service_find,
};
