/* What the ECS types share. */
#include "aws/protocol.h"
#include "resources/ecs_common.h"
#include "util/error.h"
#include "util/xalloc.h"

#define DRAIN_LIMIT_S 900
#define GONE_LIMIT_S 600

int dc_ecs_call(struct dc_res_ctx *ctx, const char *op, json_t *in, json_t **out)
{
	json_t *ignored = NULL;
	int rc = dc_aws_json(ctx->aws, "ecs", op, in, out ? out : &ignored);
	json_decref(ignored);
	json_decref(in);
	return rc;
}

json_t *dc_ecs_tags(const struct dc_res_ctx *ctx)
{
	json_t *tags = dc_resource_tags(ctx), *list = json_array(), *v;
	const char *k;
	json_object_foreach(tags, k, v)
		json_array_append_new(list, json_pack("{s:s, s:O}", "key", k, "value", v));
	json_decref(tags);
	return list;
}

int dc_ecs_tagged(const struct dc_res_ctx *ctx, const json_t *tags)
{
	json_t *obj = json_object(), *t;
	size_t i;
	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));
		json_t *v = json_object_get(t, "value");
		if (k && json_is_string(v))
			json_object_set(obj, k, v);
	}
	int yes = dc_resource_tagged(ctx, obj);
	json_decref(obj);
	return yes;
}

int dc_ecs_service_describe(struct dc_res_ctx *ctx, const char *cluster, const char *name,
			    json_t **out)
{
	json_t *answer;
	*out = NULL;
	int rc = dc_ecs_call(ctx, "DescribeServices",
			     json_pack("{s:s, s:[s], s:[s]}", "cluster", cluster, "services", name,
				       "include", "TAGS"),
			     &answer);
	if (rc == DC_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	*out = json_incref(json_array_get(json_object_get(answer, "services"), 0));
	json_decref(answer);
	return 0;
}

struct service_ref {
	const char *cluster;
	const char *name;
};

/* 1 once no task of the service runs or is about to. */
static int drained(struct dc_res_ctx *ctx, void *arg)
{
	struct service_ref *s = arg;
	json_t *svc;
	int rc = dc_ecs_service_describe(ctx, s->cluster, s->name, &svc);
	if (rc < 0 || !svc)
		return rc < 0 ? rc : 1;
	rc = json_integer_value(json_object_get(svc, "runningCount")) == 0 &&
	     json_integer_value(json_object_get(svc, "pendingCount")) == 0;
	json_decref(svc);
	return rc;
}

/* 1 once ECS reports the service INACTIVE or no longer knows it. */
static int service_gone(struct dc_res_ctx *ctx, void *arg)
{
	struct service_ref *s = arg;
	json_t *svc;
	int rc = dc_ecs_service_describe(ctx, s->cluster, s->name, &svc);
	if (rc < 0 || !svc)
		return rc < 0 ? rc : 1;
	const char *status = json_string_value(json_object_get(svc, "status"));
	rc = status && strcmp(status, "INACTIVE") == 0;
	json_decref(svc);
	return rc;
}

static int wait_for(struct dc_res_ctx *ctx, const char *fmt, const char *name, int limit_s,
		    int (*check)(struct dc_res_ctx *, void *), struct service_ref *s)
{
	char *what = dc_xasprintf(fmt, name);
	int rc = dc_resource_wait(ctx, what, limit_s, check, s);
	free(what);
	return rc;
}

/* A service that is no longer ACTIVE (DRAINING or INACTIVE) refuses both
 * calls with ServiceNotActiveException: it is on its way out already. */
static int gone_or_going(int rc)
{
	return rc == DC_ENOTFOUND ||
	       (rc < 0 && dc_resource_error_is("ServiceNotActiveException"));
}

int dc_ecs_service_remove(struct dc_res_ctx *ctx, const char *cluster, const char *name)
{
	struct service_ref s = { cluster, name };
	int rc = dc_ecs_call(ctx, "UpdateService",
			     json_pack("{s:s, s:s, s:i}", "cluster", cluster, "service", name,
				       "desiredCount", 0),
			     NULL);
	if (rc == 0)
		rc = wait_for(ctx, "the tasks of service '%s' to drain", name, DRAIN_LIMIT_S,
			      drained, &s);
	if (rc == 0)
		rc = dc_ecs_call(ctx, "DeleteService",
				 json_pack("{s:s, s:s}", "cluster", cluster, "service", name), NULL);
	if (gone_or_going(rc))
		rc = 0;
	if (rc == 0)
		rc = wait_for(ctx, "service '%s' to become inactive", name, GONE_LIMIT_S,
			      service_gone, &s);
	if (rc < 0)
		dc_error_prefix("deleting service '%s'", name);
	return rc;
}
