/* ecs.cluster: a cluster whose capacity providers are FARGATE and
 * FARGATE_SPOT, FARGATE_SPOT by default. Tagged when it is made: a cluster
 * never goes untagged. Capacity providers change in place. */
#include "resources/ecs_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CLUSTER_NAME_MAX 255
#define ACTIVE_LIMIT_S 300
#define INACTIVE_LIMIT_S 600
#define TASKS_LIMIT_S 300

struct cluster_spec {
	json_t *providers;           /* new reference */
	const char *default_provider;
};

static int spec_init(struct cluster_spec *s, const json_t *props)
{
	json_t *providers = NULL;
	*s = (struct cluster_spec){ .default_provider = "FARGATE_SPOT" };
	if (dc_rest_props("ecs.cluster", props, "{s?o, s?s}", "capacity_providers", &providers,
			  "default_capacity_provider", &s->default_provider) < 0)
		return -1;
	s->providers = providers ? json_incref(providers)
				 : json_pack("[s, s]", "FARGATE", "FARGATE_SPOT");
	if (!json_is_array(s->providers))
		return dc_error_set("ecs.cluster props: \"capacity_providers\" must be a list");
	return 0;
}

static json_t *strategy(const struct cluster_spec *s)
{
	return json_pack("[{s:s, s:i}]", "capacityProvider", s->default_provider, "weight", 1);
}

static json_t *cluster_attrs(const char *name, const char *arn)
{
	return json_pack("{s:s, s:s, s:s}", "id", name, "name", name, "arn", arn ? arn : "");
}

static int describe(struct dc_res_ctx *ctx, const char *name, json_t **cluster)
{
	json_t *out;
	*cluster = NULL;
	int rc = dc_ecs_call(ctx, "DescribeClusters",
			     json_pack("{s:[s], s:[s]}", "clusters", name, "include", "TAGS"), &out);
	if (rc == 0)
		*cluster = json_incref(json_array_get(json_object_get(out, "clusters"), 0));
	json_decref(out);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int put_providers(struct dc_res_ctx *ctx, const char *name, const struct cluster_spec *s)
{
	return dc_ecs_call(ctx, "PutClusterCapacityProviders",
			   json_pack("{s:s, s:O, s:o}", "cluster", name, "capacityProviders",
				     s->providers, "defaultCapacityProviderStrategy", strategy(s)),
			   NULL);
}

static int is_active(struct dc_res_ctx *ctx, void *name)
{
	json_t *c;
	int rc = describe(ctx, name, &c);
	if (rc < 0)
		return rc;
	const char *status = json_string_value(json_object_get(c, "status"));
	rc = status && strcmp(status, "ACTIVE") == 0;
	if (status && strcmp(status, "FAILED") == 0)
		rc = dc_error_set("the cluster is FAILED");
	json_decref(c);
	return rc;
}

/* CreateCluster returns an ACTIVE cluster of that name as it is, so one a
 * crashed run made is adopted; its providers are then set if they differ. */
static int cluster_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct cluster_spec s;
	char *name = dc_resource_name(ctx, CLUSTER_NAME_MAX);
	json_t *out = NULL;
	*attrs = NULL;
	int rc = spec_init(&s, props);
	if (rc == 0)
		rc = dc_ecs_call(ctx, "CreateCluster",
				 json_pack("{s:s, s:o, s:O, s:o}", "clusterName", name, "tags",
					   dc_ecs_tags(ctx), "capacityProviders", s.providers,
					   "defaultCapacityProviderStrategy", strategy(&s)),
				 &out);
	json_t *c = json_object_get(out, "cluster");
	if (rc == 0) {
		*attrs = cluster_attrs(name, json_string_value(json_object_get(c, "clusterArn")));
		rc = ctx->record(ctx, *attrs);
	}
	if (rc == 0 && !json_equal(json_object_get(c, "capacityProviders"), s.providers))
		rc = put_providers(ctx, name, &s);
	if (rc == 0) {
		char *what = dc_xasprintf("cluster '%s' to become ACTIVE", name);
		rc = dc_resource_wait(ctx, what, ACTIVE_LIMIT_S, is_active, name);
		free(what);
	}
	if (rc < 0) {
		dc_error_prefix("cluster '%s'", name);
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(out);
	json_decref(s.providers);
	free(name);
	return rc;
}

static int cluster_update(struct dc_res_ctx *ctx, const json_t *old_props,
			  const json_t *new_props, json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	struct cluster_spec s;
	if (!name)
		return dc_error_set("cluster: state holds no id");
	int rc = spec_init(&s, new_props);
	if (rc == 0)
		rc = put_providers(ctx, name, &s);
	if (rc < 0)
		dc_error_prefix("cluster '%s'", name);
	json_decref(s.providers);
	return rc;
}

/* Services state does not know (a sweep, a crash between CreateService
 * and its record) would keep the cluster from going: they go first. */
static int remove_services(struct dc_res_ctx *ctx, const char *name)
{
	json_t *out, *arn;
	size_t i;
	int rc = dc_ecs_call(ctx, "ListServices", json_pack("{s:s, s:i}", "cluster", name,
							     "maxResults", 100), &out);
	if (rc < 0)
		return rc;
	json_array_foreach(json_object_get(out, "serviceArns"), i, arn) {
		const char *a = json_string_value(arn), *slash = a ? strrchr(a, '/') : NULL;
		if (rc == 0 && slash)
			rc = dc_ecs_service_remove(ctx, name, slash + 1);
	}
	json_decref(out);
	return rc;
}

static int is_inactive(struct dc_res_ctx *ctx, void *name)
{
	json_t *c;
	int rc = describe(ctx, name, &c);
	if (rc < 0)
		return rc;
	const char *status = json_string_value(json_object_get(c, "status"));
	rc = !status || strcmp(status, "INACTIVE") == 0;
	json_decref(c);
	return rc;
}

static int delete_call(struct dc_res_ctx *ctx, void *name)
{
	return dc_ecs_call(ctx, "DeleteCluster", json_pack("{s:s}", "cluster", (char *)name), NULL);
}

static int cluster_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *id = json_string_value(json_object_get(attrs, "id"));
	if (!id)
		return dc_error_set("cluster: state holds no id");
	char *name = dc_xstrdup(id);
	int rc = remove_services(ctx, name);
	/* The tasks of a service just deleted may still be stopping. */
	if (rc == 0)
		rc = dc_resource_retry_while(ctx, "ClusterContainsTasksException", NULL,
					     "the cluster's last tasks to stop", TASKS_LIMIT_S,
					     delete_call, name);
	if (rc == DC_ENOTFOUND)
		rc = 0;
	if (rc == 0) {
		char *what = dc_xasprintf("cluster '%s' to become INACTIVE", name);
		rc = dc_resource_wait(ctx, what, INACTIVE_LIMIT_S, is_inactive, name);
		free(what);
	}
	if (rc < 0)
		dc_error_prefix("deleting cluster '%s'", name);
	free(name);
	return rc;
}

static int cluster_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, CLUSTER_NAME_MAX);
	json_t *c;
	int rc = describe(ctx, name, &c);
	*found = NULL;
	if (rc == 0) {
		const char *status = json_string_value(json_object_get(c, "status"));
		*found = json_array();
		if (status && strcmp(status, "INACTIVE") != 0 &&
		    dc_ecs_tagged(ctx, json_object_get(c, "tags")))
			json_array_append_new(*found, cluster_attrs(name, json_string_value(
					json_object_get(c, "clusterArn"))));
	}
	json_decref(c);
	free(name);
	return rc;
}

const struct dc_resource_type dc_type_ecs_cluster = {
	.name = "ecs.cluster",
	.create = cluster_create,
	.update = cluster_update,
	.delete = cluster_delete,
	.find = cluster_find,
};
