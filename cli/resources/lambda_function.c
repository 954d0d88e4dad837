/* lambda.function: a function whose code is a folder of the template,
 * zipped in memory and sent in the request. prepare() hashes the sources so
 * an edited file is a change; update() then makes only the calls the change
 * needs (UpdateFunctionCode, UpdateFunctionConfiguration, or both). With a
 * "build" prop the folder holds sources that are compiled first, with the
 * user's toolchain, and the build's output is what is zipped
 * (lambda_build.h); the build is cached under the sources' hash. */
#include <openssl/evp.h>

#include "aws/protocol.h"
#include "resources/lambda_build.h"
#include "resources/lambda_code.h"
#include "resources/rest.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TYPE "lambda.function"
#define NAME_MAX_LEN 64
#define READY_LIMIT_S 300
/* A new IAM role takes a few seconds, rarely more, to become assumable. */
#define ROLE_LIMIT_S 60
#define CONFLICT_LIMIT_S 120

struct fn {
	const char *code;
	const char *handler;
	const char *runtime;
	const char *role;
	const char *arch;
	const char *log_group;   /* NULL: Lambda's default group */
	const char *source_hash; /* added by prepare; NULL if it did not run */
	const char *build;       /* "cpp", "rust", or NULL: the folder is the code */
	json_int_t memory;
	json_int_t timeout;
	json_t *env;             /* borrowed; NULL when none */
};

struct pkg {
	char hash[65];       /* of the sources */
	char *zip_b64;       /* the zip, base64 */
	char zip_sha[45];    /* base64 SHA-256 of the zip, as Lambda's CodeSha256 */
};

static int env_ok(const json_t *env)
{
	const char *k;
	json_t *v;
	if (!json_is_object(env))
		return 0;
	json_object_foreach((json_t *)env, k, v)
		if (!json_is_string(v))
			return 0;
	return 1;
}

static int read_fn(struct fn *f, const json_t *props)
{
	*f = (struct fn){ .arch = "x86_64", .memory = 128, .timeout = 10 };
	if (dc_rest_props(TYPE, props,
			  "{s:s, s:s, s:s, s:s, s?:s, s?:I, s?:I, s?:s, s?:o, s?:s, s?:s}",
			  "code", &f->code, "handler", &f->handler, "runtime", &f->runtime, "role",
			  &f->role, "architecture", &f->arch, "memory_mb", &f->memory, "timeout_s",
			  &f->timeout, "log_group", &f->log_group, "env", &f->env, "code_sha256",
			  &f->source_hash, "build", &f->build) < 0)
		return -1;
	if (f->build && dc_lambda_build_check_kind(f->build) < 0) {
		dc_error_prefix(TYPE " props: ");
		return -1;
	}
	if (json_is_null(f->env))
		f->env = NULL;
	if (f->env && !env_ok(f->env))
		return dc_error_set(TYPE " props: 'env' must be an object of strings");
	return 0;
}

static char *code_dir(const struct dc_res_ctx *ctx, const char *code)
{
	if (code[0] == '/')
		return dc_xstrdup(code);
	return dc_xasprintf("%s/%s", ctx->template_dir, code);
}

static char *base64(const void *data, size_t len)
{
	char *out = dc_xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static void sha256_b64(char out[45], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)n);
}

/* Compile the sources into the build cache, unless already there, and read
 * the package folder in their place. */
static int build(struct dc_lambda_code *code, char **dir, struct dc_res_ctx *ctx,
		 const struct fn *f, const char *hash)
{
	struct dc_lambda_build b = { f->build, f->arch, ctx->arch ? ctx->arch : ctx->logical_id,
				     hash, code };
	char *pkg = NULL;
	*dir = dc_lambda_build_dir(&b);
	if (!*dir)
		return -1;
	if (!dc_lambda_build_done(*dir))
		ctx->progress(ctx, "building the %s handler for %s in '%s'", f->build, f->arch,
			      *dir);
	int rc = dc_lambda_build_run(&pkg, &b, *dir);
	if (rc == 0) {
		dc_lambda_code_dispose(code);
		rc = dc_lambda_code_read(code, pkg);
	}
	free(pkg);
	return rc;
}

/* The zip beside the build it came from, for whoever wants to look at what
 * was sent; a failure to write it changes nothing. */
static void keep_zip(struct dc_res_ctx *ctx, const char *dir, const struct dc_buf *zip)
{
	char *path = dc_xasprintf("%s/function.zip", dir);
	char *tmp = dc_xasprintf("%s.tmp", path);
	FILE *fp = fopen(tmp, "wb");
	int ok = fp && fwrite(zip->ptr, 1, zip->len, fp) == zip->len;
	if (fp && fclose(fp) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0)
		remove(tmp);
	ctx->progress(ctx, "package of %.1f MB zipped", (double)zip->len / 1e6);
	free(tmp);
	free(path);
}

static int package(struct pkg *out, struct dc_res_ctx *ctx, const struct fn *f)
{
	char *dir = code_dir(ctx, f->code);
	char *built = NULL;
	struct dc_lambda_code code;
	struct dc_buf zip = DC_BUF_INIT(DC_MAX_RESPONSE);
	int rc = dc_lambda_code_read(&code, dir);
	if (rc == 0)
		dc_lambda_code_hash(out->hash, &code);
	if (rc == 0 && f->build)
		rc = build(&code, &built, ctx, f, out->hash);
	if (rc == 0)
		rc = dc_lambda_code_zip(&zip, &code);
	if (rc == 0) {
		out->zip_b64 = base64(zip.ptr, zip.len);
		sha256_b64(out->zip_sha, zip.ptr, zip.len);
		if (built)
			keep_zip(ctx, built, &zip);
	}
	dc_buf_dispose(&zip);
	dc_lambda_code_dispose(&code);
	free(built);
	free(dir);
	return rc;
}

static const char *str_at(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_t *logging_config(const struct fn *f, const char *name, int update)
{
	/* Left out at creation, Lambda uses /aws/lambda/<name>; an update that
	 * drops log_group has to say that default out loud. */
	if (f->log_group)
		return json_pack("{s:s}", "LogGroup", f->log_group);
	if (!update)
		return NULL;
	char *group = dc_xasprintf("/aws/lambda/%s", name);
	json_t *lc = json_pack("{s:s}", "LogGroup", group);
	free(group);
	return lc;
}

static json_t *config_body(const struct fn *f, const char *name, int update)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:I, s:I}", "Runtime", f->runtime, "Handler",
			      f->handler, "Role", f->role, "MemorySize", f->memory, "Timeout",
			      f->timeout);
	if (f->env || update) {
		json_t *vars = f->env ? json_incref(f->env) : json_object();
		json_object_set_new(b, "Environment", json_pack("{s:o}", "Variables", vars));
	}
	json_t *lc = logging_config(f, name, update);
	if (lc)
		json_object_set_new(b, "LoggingConfig", lc);
	return b;
}

static json_t *create_body(const struct dc_res_ctx *ctx, const struct fn *f, const char *name,
			   const struct pkg *pkg)
{
	json_t *b = config_body(f, name, 0);
	json_object_set_new(b, "FunctionName", json_string(name));
	json_object_set_new(b, "PackageType", json_string("Zip"));
	json_object_set_new(b, "Code", json_pack("{s:s}", "ZipFile", pkg->zip_b64));
	json_object_set_new(b, "Architectures", json_pack("[s]", f->arch));
	json_object_set_new(b, "Tags", dc_resource_tags(ctx));
	return b;
}

static json_t *fn_attrs(const char *name, const json_t *config, const char *hash)
{
	json_t *a = json_pack("{s:s, s:s}", "id", name, "name", name);
	const char *arn = str_at(config, "FunctionArn");
	if (arn)
		json_object_set_new(a, "arn", json_string(arn));
	if (hash)
		json_object_set_new(a, "code_sha256", json_string(hash));
	return a;
}

/* 1 when the function is ready for use and for the next change, 0 while
 * Lambda is still at work, < 0 when it failed. */
static int ready_state(const json_t *cfg)
{
	const char *state = str_at(cfg, "State");
	const char *update = str_at(cfg, "LastUpdateStatus");
	if (state && strcmp(state, "Failed") == 0)
		return dc_error_set("function '%s' failed to become active: %s",
				    str_at(cfg, "FunctionName"), str_at(cfg, "StateReason"));
	if (update && strcmp(update, "Failed") == 0)
		return dc_error_set("update of function '%s' failed: %s",
				    str_at(cfg, "FunctionName"),
				    str_at(cfg, "LastUpdateStatusReason"));
	return (!state || strcmp(state, "Active") == 0) &&
	       (!update || strcmp(update, "Successful") == 0);
}

static int check_ready(struct dc_res_ctx *ctx, void *arg)
{
	char *path = dc_rest_path("/2015-03-31/functions/%s/configuration", (const char *)arg);
	json_t *cfg = NULL;
	int rc = dc_aws_rest_json(ctx->aws, "lambda", "GET", path, NULL, &cfg);
	free(path);
	if (rc == 0)
		rc = ready_state(cfg);
	json_decref(cfg);
	return rc;
}

static int wait_ready(struct dc_res_ctx *ctx, const char *name, const char *goal)
{
	char *what = dc_xasprintf("function '%s' %s", name, goal);
	int rc = dc_resource_wait(ctx, what, READY_LIMIT_S, check_ready, (void *)name);
	free(what);
	return rc;
}

struct call {
	const char *method;
	const char *path;
	json_t *body;
	json_t *answer;
};

static int send_call(struct dc_res_ctx *ctx, void *arg)
{
	struct call *c = arg;
	json_decref(c->answer);
	c->answer = NULL;
	return dc_aws_rest_json(ctx->aws, "lambda", c->method, c->path, c->body, &c->answer);
}

/* PUT an update, waiting out an update still in progress, then wait until
 * this one is done. */
static int put_update(struct dc_res_ctx *ctx, const char *name, const char *fmt, json_t *body)
{
	char *path = dc_rest_path(fmt, name);
	struct call c = { "PUT", path, body, NULL };
	int rc = dc_resource_retry_while(ctx, "ResourceConflictException", NULL,
					 "an earlier change of the function to finish",
					 CONFLICT_LIMIT_S, send_call, &c);
	json_decref(c.answer);
	free(path);
	if (rc == 0)
		rc = wait_ready(ctx, name, "to finish updating");
	return rc;
}

static int update_code(struct dc_res_ctx *ctx, const char *name, const struct fn *f,
		       const struct pkg *pkg)
{
	ctx->progress(ctx, "updating the code of function '%s'", name);
	json_t *body = json_pack("{s:s, s:[s]}", "ZipFile", pkg->zip_b64, "Architectures", f->arch);
	int rc = put_update(ctx, name, "/2015-03-31/functions/%s/code", body);
	json_decref(body);
	return rc;
}

static int update_config(struct dc_res_ctx *ctx, const char *name, const struct fn *f)
{
	ctx->progress(ctx, "updating the configuration of function '%s'", name);
	json_t *body = config_body(f, name, 1);
	int rc = put_update(ctx, name, "/2015-03-31/functions/%s/configuration", body);
	json_decref(body);
	return rc;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_env(const json_t *a, const json_t *b)
{
	json_t *none = json_object();
	int same = json_equal(a ? (json_t *)a : none, b ? (json_t *)b : none);
	json_decref(none);
	return same;
}

/* Whether the function's configuration as Lambda reports it (cfg) is what
 * f asks for. */
static int config_matches(const json_t *cfg, const struct fn *f, const char *name)
{
	json_t *want = config_body(f, name, 1);
	const json_t *have_lc = json_object_get(cfg, "LoggingConfig");
	int same = same_str(str_at(cfg, "Runtime"), f->runtime) &&
		   same_str(str_at(cfg, "Handler"), f->handler) &&
		   same_str(str_at(cfg, "Role"), f->role) &&
		   json_integer_value(json_object_get(cfg, "MemorySize")) == f->memory &&
		   json_integer_value(json_object_get(cfg, "Timeout")) == f->timeout &&
		   same_env(json_object_get(json_object_get(cfg, "Environment"), "Variables"),
			    f->env) &&
		   same_str(str_at(have_lc, "LogGroup"),
			    str_at(json_object_get(want, "LoggingConfig"), "LogGroup"));
	json_decref(want);
	return same;
}

static int code_matches(const json_t *cfg, const struct fn *f, const struct pkg *pkg)
{
	const char *arch = json_string_value(json_array_get(json_object_get(cfg, "Architectures"), 0));
	return same_str(str_at(cfg, "CodeSha256"), pkg->zip_sha) && same_str(arch ? arch : "x86_64",
									     f->arch);
}

static int get_function(struct dc_res_ctx *ctx, const char *name, json_t **out)
{
	char *path = dc_rest_path("/2015-03-31/functions/%s", name);
	int rc = dc_aws_rest_json(ctx->aws, "lambda", "GET", path, NULL, out);
	free(path);
	return rc;
}

static int ours(const struct dc_res_ctx *ctx, const json_t *fn)
{
	return same_str(str_at(json_object_get(fn, "Tags"), "deployctl:stack"), ctx->stack);
}

/* The name exists: a previous run created it and crashed, or it belongs to
 * somebody else, which the stack tag tells apart. Take it over and bring it
 * to what the props say. */
static int adopt(struct dc_res_ctx *ctx, const char *name, const struct fn *f,
		 const struct pkg *pkg, json_t **attrs)
{
	json_t *fn = NULL;
	int rc = get_function(ctx, name, &fn);
	if (rc == 0 && !ours(ctx, fn))
		rc = dc_error_set("function '%s' exists and is not tagged deployctl:stack=%s",
				  name, ctx->stack);
	const json_t *cfg = json_object_get(fn, "Configuration");
	if (rc == 0) {
		ctx->progress(ctx, "adopting function '%s' made by an earlier run", name);
		*attrs = fn_attrs(name, cfg, pkg->hash);
		rc = ctx->record(ctx, *attrs);
	}
	if (rc == 0)
		rc = wait_ready(ctx, name, "to become Active");
	if (rc == 0 && !code_matches(cfg, f, pkg))
		rc = update_code(ctx, name, f, pkg);
	if (rc == 0 && !config_matches(cfg, f, name))
		rc = update_config(ctx, name, f);
	json_decref(fn);
	return rc;
}

static int create_new(struct dc_res_ctx *ctx, const char *name, const struct fn *f,
		      const struct pkg *pkg, json_t **attrs)
{
	json_t *body = create_body(ctx, f, name, pkg);
	struct call c = { "POST", "/2015-03-31/functions", body, NULL };
	int rc = dc_resource_retry_while(ctx, "InvalidParameterValueException",
					 "cannot be assumed by Lambda",
					 "the new role to become assumable by Lambda", ROLE_LIMIT_S,
					 send_call, &c);
	json_decref(body);
	if (rc == 0) {
		*attrs = fn_attrs(name, c.answer, pkg->hash);
		rc = ctx->record(ctx, *attrs);
		if (rc == 0)
			rc = wait_ready(ctx, name, "to become Active");
	} else if (dc_resource_error_is("ResourceConflictException")) {
		rc = adopt(ctx, name, f, pkg, attrs);
	}
	json_decref(c.answer);
	return rc;
}

static int fn_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	struct fn f;
	struct pkg pkg = { .zip_b64 = NULL };
	char *name = dc_resource_name(ctx, NAME_MAX_LEN);
	*attrs = NULL;
	int rc = read_fn(&f, props);
	if (rc == 0)
		rc = package(&pkg, ctx, &f);
	if (rc == 0)
		rc = create_new(ctx, name, &f, &pkg, attrs);
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	free(pkg.zip_b64);
	free(name);
	return rc;
}

static int same_config(const struct fn *a, const struct fn *b)
{
	return same_str(a->handler, b->handler) && same_str(a->runtime, b->runtime) &&
	       same_str(a->role, b->role) && same_str(a->log_group, b->log_group) &&
	       a->memory == b->memory && a->timeout == b->timeout && same_env(a->env, b->env);
}

static int fn_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		     json_t *attrs)
{
	struct fn o, n;
	struct pkg pkg = { .zip_b64 = NULL };
	const char *name = str_at(attrs, "id");
	if (!name)
		return dc_error_set(TYPE " attrs have no 'id'");
	if (read_fn(&o, old_props) < 0 || read_fn(&n, new_props) < 0)
		return -1;
	/* Without the old hash nothing says the code is unchanged. */
	int code_changed = !o.source_hash || !n.source_hash ||
			   strcmp(o.source_hash, n.source_hash) != 0 || strcmp(o.arch, n.arch) != 0 ||
			   !same_str(o.build, n.build);
	int rc = 0;
	if (code_changed) {
		rc = package(&pkg, ctx, &n);
		if (rc == 0)
			rc = update_code(ctx, name, &n, &pkg);
		if (rc == 0)
			json_object_set_new(attrs, "code_sha256", json_string(pkg.hash));
	}
	if (rc == 0 && !same_config(&o, &n))
		rc = update_config(ctx, name, &n);
	free(pkg.zip_b64);
	return rc;
}

static int fn_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = str_at(attrs, "id");
	if (!name)
		return dc_error_set(TYPE " attrs have no 'id'");
	char *path = dc_rest_path("/2015-03-31/functions/%s", name);
	int rc = dc_aws_rest_json(ctx->aws, "lambda", "DELETE", path, NULL, NULL);
	free(path);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int fn_find(struct dc_res_ctx *ctx, const json_t *props, json_t **found)
{
	char *name = dc_resource_name(ctx, NAME_MAX_LEN);
	json_t *fn = NULL;
	int rc = get_function(ctx, name, &fn);
	if (rc == 0 || rc == DC_ENOTFOUND) {
		*found = json_array();
		if (rc == 0 && ours(ctx, fn))
			json_array_append_new(
				*found, fn_attrs(name, json_object_get(fn, "Configuration"), NULL));
		rc = 0;
	}
	json_decref(fn);
	free(name);
	return rc;
}

static int fn_prepare(struct dc_res_ctx *ctx, const json_t *props, json_t **out)
{
	struct fn f;
	if (read_fn(&f, props) < 0)
		return -1;
	char hash[65];
	char *dir = code_dir(ctx, f.code);
	int rc = dc_lambda_code_hash_dir(hash, dir);
	free(dir);
	if (rc < 0)
		return rc;
	*out = json_copy((json_t *)props);
	json_object_set_new(*out, "code_sha256", json_string(hash));
	return 0;
}

/* Compile before up changes anything; the build is cached, so prepare then
 * finds it done. */
static int fn_precheck(struct dc_res_ctx *ctx, const json_t *props)
{
	struct fn f = { .code = str_at(props, "code"), .build = str_at(props, "build"),
			.arch = str_at(props, "architecture") };
	if (!f.code || !f.build)
		return 0;
	if (!f.arch)
		f.arch = "x86_64";
	char *dir = code_dir(ctx, f.code), *built = NULL;
	char hash[65];
	struct dc_lambda_code code;
	int rc = dc_lambda_code_read(&code, dir);
	if (rc == 0) {
		dc_lambda_code_hash(hash, &code);
		rc = build(&code, &built, ctx, &f, hash);
	}
	dc_lambda_code_dispose(&code);
	free(built);
	free(dir);
	return rc;
}

const struct dc_resource_type dc_type_lambda_function = {
	.name = "lambda.function",
	.prepare = fn_prepare,
	.precheck = fn_precheck,
	.create = fn_create,
	.update = fn_update,
	.delete = fn_delete,
	.find = fn_find,
};
