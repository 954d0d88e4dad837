/* ecs.task_definition and ecs.service on the local target. Both wrap the
 * AWS type, made in the stack's emulator. A task definition's revision
 * also gets a folder, <local dir>/tasks/<family>/<revision>/, holding its
 * "local" prop's files (app/) and the process that runs them (run.json);
 * its EFS volume is a folder, <local dir>/efs/<file system>/<access
 * point>, and an env value naming a path under the volume's container path
 * names the same path in that folder, as the mount would. A service runs
 * desired_count such processes on the socket of the load balancer its
 * target group is behind, so the kernel spreads connections over them. */
#include <stdio.h>

#include "aws/protocol.h"
#include "local/proc.h"
#include "local/types.h"
#include "resources/elbv2_common.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SERVICE_NAME_MAX 255
#define TG_MEMBER "DescribeTargetGroupsResult/TargetGroups/member"

extern const struct dc_resource_type dc_type_ecs_task_definition;
extern const struct dc_resource_type dc_type_ecs_service;

/* <local dir>/tasks/<family>/<revision> of a task definition's ARN
 * ("...:task-definition/<family>:<revision>"), or NULL. */
static char *run_dir(const struct dc_res_ctx *ctx, const char *arn)
{
	const char *slash = arn ? strrchr(arn, '/') : NULL;
	const char *colon = slash ? strrchr(slash, ':') : NULL;
	if (!colon || colon == slash + 1 || !colon[1]) {
		dc_error_set("'%s' is not a task definition revision's ARN", arn ? arn : "");
		return NULL;
	}
	return dc_xasprintf("%s/tasks/%.*s/%s", ctx->local->dir, (int)(colon - slash - 1),
			    slash + 1, colon + 1);
}

/* A container path under `mount` as the same path under `host`. */
static json_t *mapped(const char *value, const char *mount, const char *host)
{
	size_t n = strlen(mount);
	if (mount[0] == '/' && strncmp(value, mount, n) == 0 && (!value[n] || value[n] == '/'))
		return json_sprintf("%s%s", host, value + n);
	return json_string(value);
}

/* The task's environment: its "env" (not env_files, which carry the files
 * the container's command unpacks), the local prop's on top, paths on the
 * EFS volume mapped to its folder (made here). */
static int task_env(json_t *env, struct dc_res_ctx *ctx, const json_t *props)
{
	const json_t *efs = json_object_get(props, "efs");
	const char *fs = json_string_value(json_object_get(efs, "file_system"));
	const char *ap = json_string_value(json_object_get(efs, "access_point"));
	const char *mount = json_string_value(json_object_get(efs, "path"));
	json_t *all = json_deep_copy(json_object_get(props, "env")), *v;
	const char *k;
	if (!json_is_object(all)) {
		json_decref(all);
		all = json_object();
	}
	json_object_update(all, env);
	char *host = efs ? dc_xasprintf("%s/efs/%s/%s", ctx->local->dir, fs ? fs : "fs",
					ap ? ap : "root")
			 : NULL;
	int rc = host ? dc_local_mkdirs(host) : 0;
	json_object_foreach(all, k, v) {
		char num[32];
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		const char *s = json_is_string(v) ? json_string_value(v) : num;
		json_object_set_new(env, k, host ? mapped(s, mount ? mount : "/data", host)
						 : json_string(s));
	}
	free(host);
	json_decref(all);
	return rc;
}

/* The revision's folder: the app's files and run.json. */
static int write_run(struct dc_res_ctx *ctx, json_t *spec, const json_t *props, const char *arn)
{
	char *dir = run_dir(ctx, arn);
	if (!dir)
		return -1;
	char *app = dc_xasprintf("%s/app", dir), *run = dc_xasprintf("%s/run.json", dir);
	int rc = task_env(json_object_get(spec, "env"), ctx, props);
	if (rc == 0)
		rc = dc_local_server_files(ctx, props, app);
	if (rc == 0) {
		json_object_set_new(spec, "cwd", json_string(app));
		rc = dc_local_write_json(run, spec);
	}
	free(run);
	free(app);
	free(dir);
	return rc;
}

static int td_prepare(struct dc_res_ctx *ctx, const json_t *props, json_t **out)
{
	return dc_local_prepare_with(out, ctx, &dc_type_ecs_task_definition, props);
}

static int td_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	json_t *spec = NULL;
	*attrs = NULL;
	/* What this machine lacks is said before anything is made. */
	int rc = dc_local_need(ctx) < 0 || dc_local_server_command(&spec, ctx, props) < 0 ? -1 : 0;
	if (rc == 0)
		rc = dc_type_ecs_task_definition.create(ctx, props, attrs);
	if (rc == 0)
		rc = write_run(ctx, spec, props,
			       json_string_value(json_object_get(*attrs, "arn")));
	json_decref(spec);
	return dc_resource_record_or_drop(ctx, rc, attrs);
}

static int td_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		     json_t *attrs)
{
	json_t *spec = NULL;
	int rc = dc_local_need(ctx) < 0 || dc_local_server_command(&spec, ctx, new_props) < 0
			 ? -1
			 : dc_type_ecs_task_definition.update(ctx, old_props, new_props, attrs);
	if (rc == 0)
		rc = write_run(ctx, spec, new_props,
			       json_string_value(json_object_get(attrs, "arn")));
	json_decref(spec);
	return rc;
}

static int td_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *family = json_string_value(json_object_get(attrs, "family"));
	int rc = dc_type_ecs_task_definition.delete(ctx, attrs);
	if (rc == 0 && family && ctx->local) {
		char *dir = dc_xasprintf("%s/tasks/%s", ctx->local->dir, family);
		rc = dc_local_rmtree(dir);
		free(dir);
	}
	return rc;
}

const struct dc_resource_type dc_local_ecs_task_definition = {
	.name = "ecs.task_definition",
	.prepare = td_prepare,
	.create = td_create,
	.update = td_update,
	.delete = td_delete,
};

/* ---- ecs.service ---- */

/* The socket of the load balancer the target group is behind ("lb-<name>"
 * from ".../loadbalancer/app/<name>/<id>") and its health check path. */
static int balancer_of(struct dc_res_ctx *ctx, const char *tg, json_t *spec)
{
	static const char marker[] = ":loadbalancer/app/";
	xmlDocPtr doc = NULL;
	int rc = dc_elbv2_call(ctx, &doc, "DescribeTargetGroups", "TargetGroupArns.member.1", tg,
			       NULL);
	char *lb = rc == 0 ? dc_xml_text(doc, TG_MEMBER "/LoadBalancerArns/member") : NULL;
	char *probe = rc == 0 ? dc_xml_text(doc, TG_MEMBER "/HealthCheckPath") : NULL;
	const char *at = lb ? strstr(lb, marker) : NULL;
	const char *name = at ? at + strlen(marker) : NULL, *end = name ? strchr(name, '/') : NULL;
	if (rc == 0 && !end)
		rc = dc_error_set("target group '%s' is behind no load balancer", tg);
	if (rc == 0) {
		char *n = dc_xasprintf("%.*s", (int)(end - name), name), *sock = dc_local_lb_socket(n);
		json_object_set_new(spec, "socket", json_string(sock));
		json_object_set_new(spec, "probe", json_string(probe ? probe : "/"));
		free(sock);
		free(n);
	}
	xmlFreeDoc(doc);
	free(lb);
	free(probe);
	return rc;
}

/* What one task runs: the revision's run.json, on the load balancer's
 * socket, ready when it answers the target group's health check path. */
static int task_spec(json_t **out, struct dc_res_ctx *ctx, const json_t *props)
{
	const char *td = json_string_value(json_object_get(props, "task_definition"));
	const char *tg = json_string_value(json_object_get(props, "target_group"));
	char *dir = run_dir(ctx, td), *run = dir ? dc_xasprintf("%s/run.json", dir) : NULL;
	struct dc_buf text = DC_BUF_INIT(DC_MAX_FILE);
	int rc = run ? 0 : -1;
	*out = NULL;
	if (rc == 0 && !tg)
		rc = dc_error_set("the local target runs services behind a load balancer only: "
				  "\"target_group\" is missing");
	if (rc == 0 && dc_buf_read_file(&text, run) < 0)
		rc = dc_error_set("task definition '%s' has no local run: give it a \"local\" prop",
				  td);
	if (rc == 0 && !(*out = json_loadb(text.ptr, text.len, 0, NULL)))
		rc = dc_error_set("cannot read '%s'", run);
	if (rc == 0)
		rc = balancer_of(ctx, tg, *out);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	dc_buf_dispose(&text);
	free(run);
	free(dir);
	return rc;
}

static json_int_t desired_of(const json_t *props)
{
	json_t *n = json_object_get(props, "desired_count");
	return n ? json_integer_value(n) : 1;
}

static json_int_t tasks_of(const json_t *attrs)
{
	return json_integer_value(json_object_get(attrs, "tasks"));
}

/* Tasks 1..want started (anew), want+1..had stopped. */
static int set_tasks(struct dc_res_ctx *ctx, const char *service, const json_t *spec,
		     json_int_t want, json_int_t had)
{
	int rc = 0;
	for (json_int_t i = 1; rc == 0 && (i <= want || i <= had); i++) {
		char *path = dc_xasprintf("/processes/%s-task-%lld", service, (long long)i);
		if (i <= want)
			ctx->progress(ctx, "starting task %lld of service '%s'", (long long)i,
				      service);
		rc = i <= want ? dc_local_call(ctx->local, "PUT", path, spec, NULL)
			       : dc_local_call(ctx->local, "DELETE", path, NULL, NULL);
		free(path);
		if (rc == DC_ENOTFOUND)
			rc = 0;
	}
	return rc;
}

static int service_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	json_t *spec = NULL;
	*attrs = NULL;
	int rc = dc_local_need(ctx) < 0 || task_spec(&spec, ctx, props) < 0 ? -1 : 0;
	if (rc == 0)
		rc = dc_type_ecs_service.create(ctx, props, attrs);
	const char *name = json_string_value(json_object_get(*attrs, "name"));
	if (rc == 0 && name)
		rc = set_tasks(ctx, name, spec, desired_of(props), 0);
	if (rc == 0)
		json_object_set_new(*attrs, "tasks", json_integer(desired_of(props)));
	json_decref(spec);
	return dc_resource_record_or_drop(ctx, rc, attrs);
}

static int service_update(struct dc_res_ctx *ctx, const json_t *old_props,
			  const json_t *new_props, json_t *attrs)
{
	json_t *spec = NULL;
	const char *name = json_string_value(json_object_get(attrs, "name"));
	int rc = dc_local_need(ctx) < 0 || task_spec(&spec, ctx, new_props) < 0
			 ? -1
			 : dc_type_ecs_service.update(ctx, old_props, new_props, attrs);
	if (rc == 0 && name)
		rc = set_tasks(ctx, name, spec, desired_of(new_props), tasks_of(attrs));
	if (rc == 0)
		json_object_set_new(attrs, "tasks", json_integer(desired_of(new_props)));
	json_decref(spec);
	return rc;
}

static int service_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	int rc = ctx->local && name ? set_tasks(ctx, name, NULL, 0, tasks_of(attrs)) : 0;
	return rc == 0 ? dc_type_ecs_service.delete(ctx, attrs) : rc;
}

const struct dc_resource_type dc_local_ecs_service = {
	.name = "ecs.service",
	.create = service_create,
	.update = service_update,
	.delete = service_delete,
};
