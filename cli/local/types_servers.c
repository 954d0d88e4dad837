/* ec2.instance and elbv2.load_balancer on the local target, and what the
 * server types share: the template's "local" prop (see types.h) turned
 * into a process under uvicorn.
 *
 * Each wraps the AWS type, made in the stack's emulator as on AWS (so its
 * id and ARN, which other resources reference, are real), and adds what
 * serves here: an instance is one process on a socket of the supervisor;
 * a load balancer is a socket of the supervisor that the service's tasks
 * accept on together. Their address, "127.0.0.1:<port>", takes the place
 * of the DNS name, so the template's URLs and http.wait work unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "aws/sigv4.h"
#include "local/proc.h"
#include "local/types.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define NAME_MAX_LEN 64

extern const struct dc_resource_type dc_type_ec2_instance;
extern const struct dc_resource_type dc_type_elbv2_load_balancer;

/* ---- the "local" prop ---- */

static const json_t *local_of(const struct dc_res_ctx *ctx, const json_t *props)
{
	const json_t *local = json_object_get(props, "local");
	if (!json_is_object(local) || !json_is_string(json_object_get(local, "asgi"))) {
		dc_error_set("'%s' needs a \"local\" prop with \"asgi\" to run on the local target",
			     ctx->logical_id);
		return NULL;
	}
	return local;
}

/* The file `rel` beside the template, which must lie in the templates tree
 * (the parent of the template's directory), even through links. */
static int read_template_file(struct dc_buf *out, const struct dc_res_ctx *ctx, const char *rel)
{
	char root[PATH_MAX], real[PATH_MAX];
	if (!ctx->template_dir || !*rel || rel[0] == '/')
		return dc_error_set("local files: '%s' must be a path relative to the template's "
				    "directory", rel);
	char *up = dc_xasprintf("%s/..", ctx->template_dir);
	char *path = dc_xasprintf("%s/%s", ctx->template_dir, rel);
	int rc = 0;
	if (!realpath(up, root) || !realpath(path, real))
		rc = dc_error_set("local files: cannot find '%s'", rel);
	else if (strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/')
		rc = dc_error_set("local files: '%s' lies outside the templates directory", rel);
	else
		rc = dc_buf_read_file(out, real);
	free(up);
	free(path);
	return rc;
}

/* A file name in the app's folder: one plain name. */
static int plain_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Each file of the prop read: fn(arg, name, content). */
static int each_file(struct dc_res_ctx *ctx, const json_t *local,
		     int (*fn)(void *arg, const char *name, const struct dc_buf *b), void *arg)
{
	const char *name;
	json_t *rel;
	json_t *files = json_object_get(local, "files");
	if (files && !json_is_object(files))
		return dc_error_set("local: \"files\" must be an object");
	json_object_foreach(files, name, rel) {
		struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
		int rc = !plain_name(name) || !json_is_string(rel)
				 ? dc_error_set("local files: '%s' must be a plain name given a "
						"template file", name)
				 : read_template_file(&b, ctx, json_string_value(rel));
		if (rc == 0)
			rc = fn(arg, name, &b);
		dc_buf_dispose(&b);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int hash_file(void *arg, const char *name, const struct dc_buf *b)
{
	char hex[65];
	dc_sha256_hex(hex, b->ptr ? b->ptr : "", b->len);
	json_object_set_new(arg, name, json_string(hex));
	return 0;
}

int dc_local_prepare_with(json_t **out, struct dc_res_ctx *ctx,
			  const struct dc_resource_type *aws, const json_t *props)
{
	const json_t *local = local_of(ctx, props);
	*out = NULL;
	if (!local)
		return -1;
	json_t *hashes = json_object(), *bare = json_deep_copy(props);
	json_object_del(bare, "local");
	int rc = each_file(ctx, local, hash_file, hashes);
	if (rc == 0 && aws->prepare)
		rc = aws->prepare(ctx, bare, out);
	else if (rc == 0)
		*out = json_incref(bare);
	if (rc == 0) {
		json_object_set(*out, "local", (json_t *)local);
		json_object_set(*out, "local_sha256", hashes);
	}
	json_decref(bare);
	json_decref(hashes);
	return rc;
}

static int write_file(void *dest, const char *name, const struct dc_buf *b)
{
	char *path = dc_xasprintf("%s/%s", (const char *)dest, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = fd >= 0 && write(fd, b->ptr ? b->ptr : "", b->len) == (ssize_t)b->len ? 0 : -1;
	if (rc < 0)
		dc_error_set("cannot write '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

int dc_local_server_files(struct dc_res_ctx *ctx, const json_t *props, const char *dest)
{
	const json_t *local = local_of(ctx, props);
	if (!local || dc_local_rmtree(dest) < 0 || dc_local_mkdirs(dest) < 0)
		return -1;
	return each_file(ctx, local, write_file, (void *)dest);
}

/* The prop's env as strings (a number such as a port as its digits). */
static json_t *string_env(const json_t *env)
{
	json_t *out = json_object(), *v;
	const char *k;
	json_object_foreach((json_t *)env, k, v) {
		char num[32];
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		json_object_set_new(out, k, json_string(json_is_string(v) ? json_string_value(v)
									: num));
	}
	return out;
}

int dc_local_server_command(json_t **out, struct dc_res_ctx *ctx, const json_t *props)
{
	const json_t *local = local_of(ctx, props);
	json_t *imports = json_object_get(local, "imports");
	json_t *modules = imports ? json_deep_copy(imports) : json_array();
	char *python = NULL;
	*out = NULL;
	if (!local || !json_is_array(modules)) {
		json_decref(modules);
		return local ? dc_error_set("local: \"imports\" must be a list") : -1;
	}
	json_array_append_new(modules, json_string("uvicorn"));
	char *runtime = dc_local_runtime_dir(ctx);
	int rc = runtime ? dc_local_python_with(&python, modules) : -1;
	if (rc == 0) {
		json_t *env = string_env(json_object_get(local, "env"));
		json_object_set_new(env, "PYTHONDONTWRITEBYTECODE", json_string("1"));
		json_object_set_new(env, "PYTHONUNBUFFERED", json_string("1"));
		/* The socket is descriptor 3 (see control.c), served by uvicorn
		 * through the runtime's launcher (why: uvicorn_socket.py). */
		char *launcher = dc_xasprintf("%s/uvicorn_socket.py", runtime);
		*out = json_pack("{s:[s, s, s], s:o}", "argv", python, launcher,
				 json_string_value(json_object_get(local, "asgi")), "env", env);
		free(launcher);
	}
	json_decref(modules);
	free(runtime);
	free(python);
	return rc;
}

char *dc_local_lb_socket(const char *name)
{
	return dc_xasprintf("lb-%s", name);
}

/* ---- ec2.instance: one server process ---- */

static int instance_prepare(struct dc_res_ctx *ctx, const json_t *props, json_t **out)
{
	if (!json_object_get(props, "local"))
		return dc_type_ec2_instance.prepare(ctx, props, out);
	return dc_local_prepare_with(out, ctx, &dc_type_ec2_instance, props);
}

/* Files copied, socket held, process started and answering HTTP. */
static int start_server(struct dc_res_ctx *ctx, json_t *spec, const json_t *props, int *port)
{
	char *name = dc_resource_name(ctx, NAME_MAX_LEN);
	char *dest = dc_xasprintf("%s/servers/%s", ctx->local->dir, name);
	char *sock = dc_xasprintf("/sockets/%s", name), *proc = dc_xasprintf("/processes/%s", name);
	json_t *answer = NULL;
	int rc = dc_local_server_files(ctx, props, dest);
	if (rc == 0)
		rc = dc_local_call(ctx->local, "PUT", sock, NULL, &answer);
	if (rc == 0) {
		*port = (int)json_integer_value(json_object_get(answer, "port"));
		json_object_set_new(spec, "cwd", json_string(dest));
		json_object_set_new(spec, "socket", json_string(name));
		ctx->progress(ctx, "starting server '%s' on 127.0.0.1:%d", name, *port);
		rc = dc_local_call(ctx->local, "PUT", proc, spec, NULL);
	}
	json_decref(answer);
	free(proc);
	free(sock);
	free(dest);
	free(name);
	return rc;
}

static int instance_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	json_t *spec = NULL;
	int port = 0;
	*attrs = NULL;
	/* An instance that runs no app of its own (a k3s agent) is only made
	 * in the emulator: no Kubernetes runs here. */
	if (!json_object_get(props, "local"))
		return dc_type_ec2_instance.create(ctx, props, attrs);
	/* What this machine lacks is said before anything is made. */
	int rc = dc_local_need(ctx) < 0 || dc_local_server_command(&spec, ctx, props) < 0 ? -1 : 0;
	if (rc == 0)
		rc = dc_type_ec2_instance.create(ctx, props, attrs);
	if (rc == 0)
		rc = start_server(ctx, spec, props, &port);
	if (rc == 0) {
		char addr[32];
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		json_t *here = json_pack("{s:s, s:s, s:s, s:s}", "public_dns", addr, "private_dns",
					 addr, "public_ip", "127.0.0.1", "private_ip", "127.0.0.1");
		json_object_update(*attrs, here);
		json_decref(here);
	}
	json_decref(spec);
	return dc_resource_record_or_drop(ctx, rc, attrs);
}

/* Only what changes in place on AWS (security groups, tags) is an update;
 * the app's edits replace the instance there, and so here. */
static int instance_update(struct dc_res_ctx *ctx, const json_t *old_props,
			   const json_t *new_props, json_t *attrs)
{
	return dc_type_ec2_instance.update(ctx, old_props, new_props, attrs);
}

/* A control DELETE; gone already, or no supervisor, is success. */
static int delete_path(struct dc_res_ctx *ctx, char *path)
{
	int rc = ctx->local ? dc_local_call(ctx->local, "DELETE", path, NULL, NULL) : 0;
	free(path);
	return rc == DC_ENOTFOUND ? 0 : rc;
}

static int instance_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	char *name = dc_resource_name(ctx, NAME_MAX_LEN);
	int rc = delete_path(ctx, dc_xasprintf("/processes/%s", name));
	if (rc == 0)
		rc = delete_path(ctx, dc_xasprintf("/sockets/%s", name));
	if (rc == 0 && ctx->local) {
		char *dest = dc_xasprintf("%s/servers/%s", ctx->local->dir, name);
		rc = dc_local_rmtree(dest);
		free(dest);
	}
	free(name);
	return rc == 0 ? dc_type_ec2_instance.delete(ctx, attrs) : rc;
}

const struct dc_resource_type dc_local_ec2_instance = {
	.name = "ec2.instance",
	.prepare = instance_prepare,
	.create = instance_create,
	.update = instance_update,
	.delete = instance_delete,
};

/* ---- elbv2.load_balancer: a socket the service's tasks share ---- */

static int lb_create(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	json_t *answer = NULL;
	*attrs = NULL;
	int rc = dc_local_need(ctx);
	if (rc == 0)
		rc = dc_type_elbv2_load_balancer.create(ctx, props, attrs);
	const char *name = json_string_value(json_object_get(*attrs, "name"));
	if (rc == 0 && !name)
		rc = dc_error_set("load balancer: the emulator gave it no name");
	if (rc == 0) {
		char *sock = dc_local_lb_socket(name);
		char *path = dc_xasprintf("/sockets/%s", sock);
		rc = dc_local_call(ctx->local, "PUT", path, NULL, &answer);
		free(path);
		free(sock);
	}
	if (rc == 0) {
		char *dns = dc_xasprintf("127.0.0.1:%d",
					 (int)json_integer_value(json_object_get(answer, "port")));
		json_object_set_new(*attrs, "dns", json_string(dns));
		free(dns);
	}
	json_decref(answer);
	return dc_resource_record_or_drop(ctx, rc, attrs);
}

static int lb_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		     json_t *attrs)
{
	return dc_type_elbv2_load_balancer.update(ctx, old_props, new_props, attrs);
}

static int lb_delete(struct dc_res_ctx *ctx, const json_t *attrs)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	int rc = 0;
	if (name) {
		char *sock = dc_local_lb_socket(name);
		rc = delete_path(ctx, dc_xasprintf("/sockets/%s", sock));
		free(sock);
	}
	return rc == 0 ? dc_type_elbv2_load_balancer.delete(ctx, attrs) : rc;
}

const struct dc_resource_type dc_local_elbv2_load_balancer = {
	.name = "elbv2.load_balancer",
	.create = lb_create,
	.update = lb_update,
	.delete = lb_delete,
};
