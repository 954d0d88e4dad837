/* ecs.task_definition: one Fargate task of one container (awsvpc, 0.25 vCPU
 * and 512 MB by default), logs to a CloudWatch group, optionally an EFS
 * volume through an access point with IAM authorisation and encryption in
 * transit. env_files puts files beside the template into the environment,
 * base64-encoded, so a public image can run an app without a build.
 * An update registers a new revision; delete deregisters (and deletes)
 * every revision of the family, which is this stack's alone. */
#include <limits.h>
#include <openssl/evp.h>

#include "aws/sigv4.h"
#include "resources/ecs_common.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define FAMILY_MAX 255
#define VOLUME "data"
#define LIST_PAGES 100
#define DELETE_BATCH 10

/* ---- props ------------------------------------------------------------- */

/* The file `rel` beside the template, which must lie inside the templates
 * tree (the parent of the template's directory), even through links. */
static int read_template_file(struct dc_buf *out, const struct dc_res_ctx *ctx, const char *rel)
{
	char root[PATH_MAX], real[PATH_MAX];
	if (!ctx->template_dir || !*rel || rel[0] == '/')
		return dc_error_set("env_files: '%s' must be a path relative to the template's "
				    "directory", rel);
	char *up = dc_xasprintf("%s/..", ctx->template_dir);
	char *path = dc_xasprintf("%s/%s", ctx->template_dir, rel);
	int rc = 0;
	if (!realpath(up, root) || !realpath(path, real))
		rc = dc_error_set("env_files: cannot find '%s'", rel);
	else if (strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/')
		rc = dc_error_set("env_files: '%s' lies outside the templates directory", rel);
	else
		rc = dc_buf_read_file(out, real);
	free(up);
	free(path);
	return rc;
}

/* The env_files as {VAR: base64 of the file} (new reference in *out);
 * hashes, when not NULL, gets {VAR: sha256 hex of the file}. */
static int env_files(json_t **out, json_t *hashes, const struct dc_res_ctx *ctx,
		     const json_t *files)
{
	const char *var;
	json_t *path;
	*out = json_object();
	json_object_foreach((json_t *)files, var, path) {
		struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
		if (!json_is_string(path) || read_template_file(&b, ctx, json_string_value(path))) {
			dc_buf_dispose(&b);
			return json_is_string(path) ? -1
						    : dc_error_set("env_files: '%s' must name a file",
								   var);
		}
		char *b64 = dc_xmalloc(4 * ((b.len + 2) / 3) + 1), hex[65];
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)b.ptr, (int)b.len);
		dc_sha256_hex(hex, b.ptr, b.len);
		json_object_set_new(*out, var, json_string(b64));
		if (hashes)
			json_object_set_new(hashes, var, json_string(hex));
		free(b64);
		dc_buf_dispose(&b);
	}
	return 0;
}

/* A changed file is a changed task definition: its hash joins the props. */
static int td_prepare(struct dc_res_ctx *ctx, const json_t *props, json_t **out)
{
	json_t *files = json_object_get(props, "env_files"), *values = NULL;
	json_t *hashes = json_object();
	*out = NULL;
	if (files && !json_is_object(files)) {
		json_decref(hashes);
		return dc_error_set("ecs.task_definition props: \"env_files\" must be an object");
	}
	int rc = env_files(&values, hashes, ctx, files);
	if (rc == 0) {
		*out = json_deep_copy(props);
		/* For the local target only (cli/local/types.h): no change here. */
		json_object_del(*out, "local");
		json_object_set(*out, "env_files_sha256", hashes);
	}
	json_decref(values);
	json_decref(hashes);
	return rc;
}

/* ---- the request ------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
	return strcmp(x, y);
}

/* env and the base64 files as ECS's [{name, value}], sorted by name. */
static int environment(json_t **out, const struct dc_res_ctx *ctx, const json_t *props)
{
	json_t *files = NULL, *env = json_object_get(props, "env"), *v;
	const char *k;
	if (env_files(&files, NULL, ctx, json_object_get(props, "env_files")) < 0) {
		json_decref(files);
		return -1;
	}
	json_object_update_missing(files, env);
	size_t n = json_object_size(files), i = 0;
	json_t **items = dc_xcalloc(n ? n : 1, sizeof(*items));
	json_object_foreach(files, k, v) {
		char num[32];
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		items[i++] = json_pack("{s:s, s:s}", "name", k, "value",
				       json_is_string(v) ? json_string_value(v) : num);
	}
	qsort(items, n, sizeof(*items), by_name);
	*out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(*out, items[i]);
	free(items);
	json_decref(files);
	return 0;
}

/* Names to strings, or to whole numbers (a param such as a port). */
static int is_env_map(const json_t *v)
{
	const char *k;
	json_t *e;
	if (!json_is_object(v))
		return 0;
	json_object_foreach((json_t *)v, k, e)
		if (!json_is_string(e) && !json_is_integer(e))
			return 0;
	return 1;
}

/* The container: the image's command, the port, awslogs, the EFS mount. */
static int container(json_t **out, const struct dc_res_ctx *ctx, const json_t *props)
{
	const char *image, *name = "app", *group = NULL, *path = "/data";
	json_int_t port;
	json_t *command = NULL, *env, *efs = NULL;
	*out = NULL;
	if (dc_rest_props("ecs.task_definition", props, "{s:s, s:I, s?s, s?s, s?o, s?{s?s}}",
			  "image", &image, "port", &port, "container", &name, "log_group", &group,
			  "command", &command, "efs", "path", &path) < 0)
		return -1;
	efs = json_object_get(props, "efs");
	if (json_object_get(props, "env") && !is_env_map(json_object_get(props, "env")))
		return dc_error_set("ecs.task_definition props: \"env\" must map names to strings "
				    "or whole numbers");
	if (environment(&env, ctx, props) < 0)
		return -1;
	*out = json_pack("{s:s, s:s, s:b, s:[{s:I, s:s}], s:o}", "name", name, "image", image,
			 "essential", 1, "portMappings", "containerPort", port, "protocol", "tcp",
			 "environment", env);
	if (command)
		json_object_set(*out, "command", command);
	if (group)
		json_object_set_new(*out, "logConfiguration",
				    json_pack("{s:s, s:{s:s, s:s, s:s}}", "logDriver", "awslogs",
					      "options", "awslogs-group", group, "awslogs-region",
					      ctx->region, "awslogs-stream-prefix", name));
	if (efs)
		json_object_set_new(*out, "mountPoints",
				    json_pack("[{s:s, s:s, s:b}]", "sourceVolume", VOLUME,
					      "containerPath", path, "readOnly", 0));
	return 0;
}

/* The EFS volume: through the access point, IAM-authorised, TLS. */
static int volumes(json_t **out, const json_t *props)
{
	const char *fs = NULL, *ap = NULL;
	*out = json_array();
	if (!json_object_get(props, "efs"))
		return 0;
	if (dc_rest_props("ecs.task_definition", props, "{s:{s:s, s:s}}", "efs", "file_system",
			  &fs, "access_point", &ap) < 0)
		return -1;
	json_array_append_new(*out, json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:s}}}", "name", VOLUME,
					      "efsVolumeConfiguration", "fileSystemId", fs,
					      "transitEncryption", "ENABLED",
					      "authorizationConfig", "accessPointId", ap, "iam",
					      "ENABLED"));
	return 0;
}

static int register_input(json_t **out, const struct dc_res_ctx *ctx, const char *family,
			  const json_t *props)
{
	const char *cpu = "256", *memory = "512", *exec_role, *task_role = NULL;
	json_t *c = NULL, *vols = NULL;
	*out = NULL;
	int rc = dc_rest_props("ecs.task_definition", props, "{s?s, s?s, s:s, s?s}", "cpu", &cpu,
			       "memory", &memory, "execution_role", &exec_role, "task_role",
			       &task_role);
	if (rc == 0)
		rc = container(&c, ctx, props);
	if (rc == 0)
		rc = volumes(&vols, props);
	if (rc == 0)
		*out = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s, s:[O], s:O, s:o}", "family", family,
				 "executionRoleArn", exec_role, "cpu", cpu, "memory", memory,
				 "requiresCompatibilities", "FARGATE", "networkMode", "awsvpc",
				 "containerDefinitions", c, "volumes", vols, "tags",
				 dc_ecs_tags(ctx));
	if (rc == 0 && task_role)
		json_object_set_new(*out, "taskRoleArn", json_string(task_role));
	json_decref(c);
	json_decref(vols);
	return rc;
}

/* ---- revisions --------------------------------------------------------- */

/* Is arn a revision of exactly this family ("...:task-definition/F:N")? */
static int of_family(const char *arn, const char *family)
{
	const char *slash = arn ? strrchr(arn, '/') : NULL, *colon;
	if (!slash || !(colon = strrchr(slash, ':')))
		return 0;
	return (size_t)(colon - slash - 1) == strlen(family) &&
	       strncmp(slash + 1, family, strlen(family)) == 0;
}

/* The ARNs of the family's revisions with this status (a new array). */
static int list_revisions(struct dc_res_ctx *ctx, const char *family, const char *status,
			  json_t **out)
{
	char *token = NULL;
	int rc = 0;
	*out = json_array();
	for (int page = 0; rc == 0 && page < LIST_PAGES; page++) {
		json_t *in = json_pack("{s:s, s:s}", "familyPrefix", family, "status", status), *ans;
		if (token)
			json_object_set_new(in, "nextToken", json_string(token));
		free(token);
		token = NULL;
		if ((rc = dc_ecs_call(ctx, "ListTaskDefinitions", in, &ans)) < 0)
			break;
		size_t i;
		json_t *a;
		json_array_foreach(json_object_get(ans, "taskDefinitionArns"), i, a)
			if (of_family(json_string_value(a), family))
				json_array_append(*out, a);
		const char *next = json_string_value(json_object_get(ans, "nextToken"));
		token = next && *next ? dc_xstrdup(next) : NULL;
		json_decref(ans);
		if (!token)
			break;
	}
	free(token);
	return rc;
}

static void add_unique(json_t *list, json_t *arn)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
		if (json_equal(e, arn))
			return;
	json_array_append(list, arn);
}

static int register_revision(struct dc_res_ctx *ctx, const char *family, const json_t *props,
			     char **arn)
{
	json_t *in, *out;
	*arn = NULL;
	if (register_input(&in, ctx, family, props) < 0)
		return -1;
	int rc = dc_ecs_call(ctx, "RegisterTaskDefinition", in, &out);
	const char *a = json_string_value(
		json_object_get(json_object_get(out, "taskDefinition"), "taskDefinitionArn"));
	if (rc == 0 && !a)
		rc = dc_error_set("RegisterTaskDefinition answered without an ARN");
	if (rc == 0)
		*arn = dc_xstrdup(a);
	json_decref(out);
	return rc;
}

/* ---- the type ---------------------------------------------------------- */

/* Revisions a crashed run registered are listed first, so they are
 * recorded with the new one and go when the stack goes. */
static int td_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	char *family = dc_resource_name(ctx, FAMILY_MAX), *arn = NULL;
	json_t *revisions = NULL;
	*attrs = NULL;
	int rc = list_revisions(ctx, family, "ACTIVE", &revisions);
	if (rc == 0)
		rc = register_revision(ctx, family, props, &arn);
	if (rc == 0) {
		json_t *a = json_string(arn);
		add_unique(revisions, a);
		json_decref(a);
		*attrs = json_pack("{s:s, s:s, s:s, s:O}", "id", family, "family", family, "arn", arn,
				   "revisions", revisions);
		rc = ctx->record(ctx, *attrs);
	}
	if (rc < 0) {
		dc_error_prefix("task definition '%s'", family);
		json_decref(*attrs);
		*attrs = NULL;
	}
	json_decref(revisions);
	free(arn);
	free(family);
	return rc;
}

static int td_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		     json_t *attrs)
{
	const char *family = json_string_value(json_object_get(attrs, "family"));
	json_t *revisions = json_object_get(attrs, "revisions");
	char *arn = NULL;
	if (!family || !json_is_array(revisions))
		return dc_error_set("task definition: state holds no family and revisions");
	int rc = register_revision(ctx, family, new_props, &arn);
	if (rc == 0) {
		json_t *a = json_string(arn);
		add_unique(revisions, a);
		json_object_set_new(attrs, "arn", a);
	}
	if (rc < 0)
		dc_error_prefix("task definition '%s'", family);
	free(arn);
	return rc;
}

/* DeleteTaskDefinitions takes at most 10 INACTIVE revisions a call. Where
 * the API lacks it, deregistered revisions stay INACTIVE, as they did
 * before it existed. */
static int delete_revisions(struct dc_res_ctx *ctx, const json_t *arns)
{
	size_t n = json_array_size(arns);
	for (size_t i = 0; i < n; i += DELETE_BATCH) {
		json_t *batch = json_array();
		for (size_t j = i; j < n && j < i + DELETE_BATCH; j++)
			json_array_append(batch, json_array_get(arns, j));
		int rc = dc_ecs_call(ctx, "DeleteTaskDefinitions",
				     json_pack("{s:o}", "taskDefinitions", batch), NULL);
		if (rc < 0 && (dc_resource_error_is("UnsupportedFeatureException") ||
			       dc_resource_error_is("UnknownOperationException")))
			return 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int deregister_all(struct dc_res_ctx *ctx, const json_t *arns)
{
	size_t i;
	json_t *a;
	json_array_foreach(arns, i, a) {
		int rc = dc_ecs_call(ctx, "DeregisterTaskDefinition",
				     json_pack("{s:O}", "taskDefinition", a), NULL);
		if (rc < 0 && rc != DC_ENOTFOUND)
			return rc;
	}
	return 0;
}

/* Every recorded revision, and any other ACTIVE one of the family: an
 * update whose record a crash lost. */
static int td_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *family = json_string_value(json_object_get(attrs, "family"));
	json_t *all = NULL, *a;
	size_t i;
	if (!family)
		return dc_error_set("task definition: state holds no family");
	int rc = list_revisions(ctx, family, "ACTIVE", &all);
	json_array_foreach(json_object_get(attrs, "revisions"), i, a)
		add_unique(all, a);
	if (rc == 0)
		rc = deregister_all(ctx, all);
	if (rc == 0)
		rc = delete_revisions(ctx, all);
	if (rc < 0)
		dc_error_prefix("deleting task definition '%s'", family);
	json_decref(all);
	return rc;
}

static int ours(struct dc_res_ctx *ctx, const char *arn)
{
	json_t *out;
	if (dc_ecs_call(ctx, "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn), &out) <
	    0)
		return -1;
	int yes = dc_ecs_tagged(ctx, json_object_get(out, "tags"));
	json_decref(out);
	return yes;
}

static int td_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *family = dc_resource_name(ctx, FAMILY_MAX);
	json_t *revisions = NULL;
	*found = NULL;
	int rc = list_revisions(ctx, family, "ACTIVE", &revisions);
	size_t n = json_array_size(revisions);
	const char *last = n ? json_string_value(json_array_get(revisions, n - 1)) : NULL;
	if (rc == 0 && last)
		rc = ours(ctx, last);
	if (rc >= 0) {
		*found = json_array();
		if (rc == 1)
			json_array_append_new(*found, json_pack("{s:s, s:s, s:s, s:O}", "id", family,
								"family", family, "arn", last,
								"revisions", revisions));
		rc = 0;
	}
	json_decref(revisions);
	free(family);
	return rc;
}

const struct dc_resource_type dc_type_ecs_task_definition = {
	.name = "ecs.task_definition",
	.prepare = td_prepare,
	.create = td_create,
	.update = td_update,
	.delete = td_delete,
	.find = td_find,
};
