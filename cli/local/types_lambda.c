/* lambda.function and lambda.permission on the local target. A function is
 * a copy of its code under the stack's local folder and a process the
 * supervisor runs under its Lambda Runtime API; the props are the AWS
 * type's, so the same template serves both targets. With a "build" prop
 * the copy is of the package lambda_build makes of the sources, for this
 * machine's architecture (the process runs here, whatever the template
 * asks of AWS). A permission changes nothing here: the local gateway may
 * call every function of its stack. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "local/proc.h"
#include "local/types.h"
#include "resources/lambda_build.h"
#include "resources/lambda_code.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TYPE "lambda.function"
#define NAME_MAX_LEN 64

extern const struct dc_resource_type dc_type_lambda_function;

struct lfn {
	const char *code;
	const char *handler;
	const char *runtime;
	const char *log_group;
	const char *sha; /* of the sources, added by prepare */
	const char *build; /* "cpp", "rust", or NULL: the folder is the code */
	json_int_t memory;
	json_int_t timeout;
	json_t *env;
};

static int read_lfn(struct lfn *f, const json_t *props)
{
	*f = (struct lfn){ .memory = 128, .timeout = 10 };
	if (dc_rest_props(TYPE, props, "{s:s, s:s, s:s, s?:I, s?:I, s?:s, s?:o, s?:s, s?:s}",
			  "code", &f->code, "handler", &f->handler, "runtime", &f->runtime,
			  "memory_mb", &f->memory, "timeout_s", &f->timeout, "log_group",
			  &f->log_group, "env", &f->env, "code_sha256", &f->sha, "build",
			  &f->build) < 0)
		return -1;
	if (f->build && dc_lambda_build_check_kind(f->build) < 0) {
		dc_error_prefix(TYPE " props: ");
		return -1;
	}
	if (json_is_null(f->env))
		f->env = NULL;
	return 0;
}

static int write_file(const char *dir, const struct dc_lambda_file *file)
{
	char *path = dc_xasprintf("%s/%s", dir, file->path);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	int rc = dc_local_mkdirs(path);
	*slash = '/';
	int fd = rc == 0 ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				file->exec ? 0755 : 0644)
			 : -1;
	if (rc == 0 && (fd < 0 || write(fd, file->data, file->len) != (ssize_t)file->len))
		rc = dc_error_set("cannot write '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* The folder src as Lambda would unpack it, into dest (made anew). */
static int copy_code(const char *src, const char *dest)
{
	struct dc_lambda_code c = { 0 };
	int rc = dc_lambda_code_read(&c, src);
	if (rc == 0)
		rc = dc_local_rmtree(dest) < 0 || dc_local_mkdirs(dest) < 0 ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < c.n; i++)
		rc = write_file(dest, &c.files[i]);
	dc_lambda_code_dispose(&c);
	return rc;
}

/* Lambda's name for this machine's architecture, else the kernel's, which
 * lambda_build then refuses by name. Caller frees. */
static char *host_arch(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return dc_xstrdup("x86_64");
	if (strcmp(u.machine, "aarch64") == 0 || strcmp(u.machine, "arm64") == 0)
		return dc_xstrdup("arm64");
	return dc_xstrdup(u.machine);
}

/* The package lambda_build makes of the sources in src, as for AWS: the
 * same cache, keyed by the sources' hash, so that unchanged sources are
 * not compiled again (not even after a destroy). *out is its folder. */
static int build_code(char **out, struct dc_res_ctx *ctx, const struct lfn *f, const char *src)
{
	struct dc_lambda_code code = { 0 };
	char hash[65];
	char *arch = host_arch();
	char *dir = NULL;
	int rc = dc_lambda_code_read(&code, src);
	if (rc < 0)
		goto done;
	dc_lambda_code_hash(hash, &code);
	struct dc_lambda_build b = { f->build, arch, ctx->arch ? ctx->arch : ctx->logical_id,
				     hash, &code };
	dir = dc_lambda_build_dir(&b);
	if (!dir) {
		rc = -1;
		goto done;
	}
	if (!dc_lambda_build_done(dir))
		ctx->progress(ctx, "building the %s handler for %s in '%s'", f->build, arch, dir);
	rc = dc_lambda_build_run(out, &b, dir);
done:
	dc_lambda_code_dispose(&code);
	free(dir);
	free(arch);
	return rc;
}

/* What the function runs, into dest: the code folder, or its build. */
static int place_code(struct dc_res_ctx *ctx, const struct lfn *f, const char *dest)
{
	char *src = f->code[0] == '/' ? dc_xstrdup(f->code)
				      : dc_xasprintf("%s/%s", ctx->template_dir, f->code);
	char *pkg = NULL;
	int rc = f->build ? build_code(&pkg, ctx, f, src) : 0;
	if (rc == 0)
		rc = copy_code(pkg ? pkg : src, dest);
	free(pkg);
	free(src);
	return rc;
}

/* Copies of earlier versions of this function's code ("<name>-<hash>"). */
static void drop_old_code(const char *code_root, const char *name, const char *keep)
{
	DIR *d = opendir(code_root);
	size_t n = strlen(name);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		const char *rest = e->d_name + n;
		if (strncmp(e->d_name, name, n) != 0 || rest[0] != '-' || strlen(rest) != 13 ||
		    strcmp(e->d_name, keep) == 0)
			continue;
		char *path = dc_xasprintf("%s/%s", code_root, e->d_name);
		dc_local_rmtree(path);
		free(path);
	}
	if (d)
		closedir(d);
}

static json_t *spec_for(struct dc_res_ctx *ctx, const struct lfn *f, const char *name,
			const char *arn, const char *dest)
{
	json_t *spec;
	if (dc_local_function_command(&spec, ctx, f->runtime, f->handler, dest) < 0)
		return NULL;
	/* The function's own env first: what the runtime sets wins, as on Lambda. */
	json_t *env = f->env ? json_deep_copy(f->env) : json_object();
	json_object_update(env, json_object_get(spec, "env"));
	char *group = f->log_group ? dc_xstrdup(f->log_group) : dc_xasprintf("/aws/lambda/%s", name);
	json_object_set_new(env, "AWS_LAMBDA_LOG_GROUP_NAME", json_string(group));
	free(group);
	json_object_set_new(spec, "env", env);
	json_object_set_new(spec, "arn", json_string(arn));
	json_object_set_new(spec, "cwd", json_string(dest));
	json_object_set_new(spec, "timeout_s", json_integer(f->timeout));
	json_object_set_new(spec, "memory_mb", json_integer(f->memory));
	return spec;
}

/* Copy the code, then have the supervisor (re)start the function and wait
 * until it asks for its first event. */
static int put_function(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct lfn f;
	if (dc_local_need(ctx) < 0 || read_lfn(&f, props) < 0)
		return -1;
	char *name = dc_resource_name(ctx, NAME_MAX_LEN);
	char *arn = dc_xasprintf("arn:aws:lambda:%s:%s:function:%s", DC_LOCAL_EMULATOR_REGION,
				 DC_LOCAL_ACCOUNT, name);
	char *code_root = dc_xasprintf("%s/code", ctx->local->dir);
	char *leaf = dc_xasprintf("%s-%.12s", name, f.sha ? f.sha : "000000000000");
	char *dest = dc_xasprintf("%s/%s", code_root, leaf);
	json_t *spec = NULL;
	char *path = dc_xasprintf("/functions/%s", name);
	int rc = place_code(ctx, &f, dest);
	if (rc == 0 && !(spec = spec_for(ctx, &f, name, arn, dest)))
		rc = -1;
	if (rc == 0)
		ctx->progress(ctx, "starting function '%s' (%s)", name, f.runtime);
	if (rc == 0)
		rc = dc_local_call(ctx->local, "PUT", path, spec, NULL);
	if (rc == 0) {
		drop_old_code(code_root, name, leaf);
		*attrs = json_pack("{s:s, s:s, s:s, s:s?}", "id", name, "name", name, "arn", arn,
				   "code_sha256", f.sha);
	}
	json_decref(spec);
	free(path);
	free(dest);
	free(leaf);
	free(code_root);
	free(arn);
	free(name);
	return rc;
}

static int lfn_prepare(struct dc_res_ctx *ctx, const json_t *props, json_t **out)
{
	return dc_type_lambda_function.prepare(ctx, props, out);
}

static int lfn_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	if (put_function(ctx, props, attrs) < 0)
		return -1;
	return ctx->record(ctx, *attrs);
}

static int lfn_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		      json_t *attrs)
{
	json_t *made;
	if (put_function(ctx, new_props, &made) < 0)
		return -1;
	json_object_update(attrs, made);
	json_decref(made);
	return 0;
}

static int lfn_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "id"));
	/* No supervisor: the process went with it. */
	if (!ctx->local || !name)
		return 0;
	char *path = dc_xasprintf("/functions/%s", name);
	int rc = dc_local_call(ctx->local, "DELETE", path, NULL, NULL);
	free(path);
	if (rc == 0) {
		char *code_root = dc_xasprintf("%s/code", ctx->local->dir);
		drop_old_code(code_root, name, "");
		free(code_root);
	}
	return rc == DC_ENOTFOUND ? 0 : rc;
}

const struct dc_resource_type dc_local_lambda_function = {
	.name = "lambda.function",
	.prepare = lfn_prepare,
	.create = lfn_create,
	.update = lfn_update,
	.delete = lfn_delete,
};

/* ---- lambda.permission ---- */

static int perm_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *fn = json_string_value(json_object_get(props, "function"));
	if (!fn)
		return dc_error_set("lambda.permission props: 'function' is required");
	char *sid = dc_resource_name(ctx, 100);
	char *id = dc_xasprintf("%s/%s", fn, sid);
	*attrs = json_pack("{s:s, s:s}", "id", id, "statement_id", sid);
	free(id);
	free(sid);
	return 0;
}

static int perm_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		       json_t *attrs)
{
	json_t *made;
	if (perm_create(ctx, new_props, &made) < 0)
		return -1;
	json_object_update(attrs, made);
	json_decref(made);
	return 0;
}

static int perm_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	return 0;
}

const struct dc_resource_type dc_local_lambda_permission = {
	.name = "lambda.permission",
	.create = perm_create,
	.update = perm_update,
	.delete = perm_delete,
};
