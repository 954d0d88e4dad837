/* How a Lambda runtime runs on this machine: the command, its environment,
 * and what must be installed first. Adding a runtime is one row of
 * `launchers` and its function. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/sigv4.h"
#include "local/proc.h"
#include "local/types.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

char *dc_local_runtime_dir(const struct dc_res_ctx *ctx)
{
	char *rel = dc_xasprintf("%s/../common/runtime", ctx->template_dir ? ctx->template_dir : ".");
	char *abs = realpath(rel, NULL);
	if (!abs)
		dc_error_set("cannot find the local runtimes' bootstraps in '%s': %s", rel,
			     strerror(errno));
	free(rel);
	return abs;
}

int dc_local_need(const struct dc_res_ctx *ctx)
{
	if (!ctx->local)
		return dc_error_set("the local supervisor of stack '%s' is not running", ctx->stack);
	return 0;
}

void dc_local_object_id(char *out, size_t n, const struct dc_res_ctx *ctx)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char *key = dc_xasprintf("%s/%s", ctx->stack, ctx->logical_id);
	char hex[65];
	dc_sha256_hex(hex, key, strlen(key));
	free(key);
	if (n > 16)
		n = 16;
	for (size_t i = 0; i < n; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };
		out[i] = alphabet[strtoul(byte, NULL, 16) % 36];
	}
	out[n] = '\0';
}

static int need_program(const char *prog, const char *what)
{
	char *path = dc_local_which(prog);
	if (!path)
		return dc_error_set("%s", what);
	free(path);
	return 0;
}

static json_t *interpreted(const char *prog, const char *bootstrap, const char *handler)
{
	return json_pack("[s, s, s]", prog, bootstrap, handler);
}

static int python(json_t *spec, struct dc_res_ctx *ctx, const char *runtime_dir,
		  const char *handler)
{
	if (need_program("python3", "the local target runs Python functions with python3: "
			 "apt-get install python3 python3-boto3") < 0)
		return -1;
	char *boot = dc_xasprintf("%s/python_bootstrap.py", runtime_dir);
	json_object_set_new(spec, "argv", interpreted("python3", boot, handler));
	json_t *env = json_object_get(spec, "env");
	json_object_set_new(env, "PYTHONDONTWRITEBYTECODE", json_string("1"));
	json_object_set_new(env, "PYTHONUNBUFFERED", json_string("1"));
	free(boot);
	return 0;
}

static int node(json_t *spec, struct dc_res_ctx *ctx, const char *runtime_dir,
		const char *handler)
{
	if (need_program("node", "the local target runs Node.js functions with node: "
			 "apt-get install nodejs") < 0)
		return -1;
	char *sdk;
	if (dc_local_node_sdk(&sdk, ctx, runtime_dir) < 0)
		return -1;
	char *boot = dc_xasprintf("%s/node_bootstrap.js", runtime_dir);
	json_object_set_new(spec, "argv", interpreted("node", boot, handler));
	json_object_set_new(json_object_get(spec, "env"), "NODE_PATH", json_string(sdk));
	free(boot);
	free(sdk);
	return 0;
}

/* C++, Rust and any custom runtime: the code's own executable `bootstrap`,
 * as on Lambda's OS-only runtimes. */
static int provided(json_t *spec, struct dc_res_ctx *ctx, const char *runtime_dir,
		    const char *handler)
{
	const char *root = json_string_value(json_object_get(json_object_get(spec, "env"),
							     "LAMBDA_TASK_ROOT"));
	char *boot = dc_xasprintf("%s/bootstrap", root);
	int ok = access(boot, X_OK) == 0;
	if (ok)
		json_object_set_new(spec, "argv", json_pack("[s]", boot));
	else
		dc_error_set("the function's code has no executable 'bootstrap'");
	free(boot);
	return ok ? 0 : -1;
}

static const struct {
	const char *prefix;
	int (*fn)(json_t *spec, struct dc_res_ctx *ctx, const char *runtime_dir,
		  const char *handler);
} launchers[] = {
	{ "python3", python },
	{ "nodejs", node },
	{ "provided", provided },
};

int dc_local_function_command(json_t **out, struct dc_res_ctx *ctx, const char *runtime,
			      const char *handler, const char *code_dir)
{
	for (size_t i = 0; i < sizeof(launchers) / sizeof(launchers[0]); i++) {
		if (strncmp(runtime, launchers[i].prefix, strlen(launchers[i].prefix)) != 0)
			continue;
		char *rdir = dc_local_runtime_dir(ctx);
		if (!rdir)
			return -1;
		char *exec_env = dc_xasprintf("AWS_Lambda_%s", runtime);
		json_t *spec = json_pack("{s:{s:s, s:s, s:s}}", "env", "_HANDLER", handler,
					 "LAMBDA_TASK_ROOT", code_dir, "AWS_EXECUTION_ENV", exec_env);
		free(exec_env);
		int rc = launchers[i].fn(spec, ctx, rdir, handler);
		free(rdir);
		if (rc < 0) {
			json_decref(spec);
			return -1;
		}
		*out = spec;
		return 0;
	}
	return dc_error_set("the local target cannot run functions of runtime '%s'", runtime);
}

/* ---- the AWS SDK for JavaScript v3, as the Node.js runtime has it ---- */

static char *cache_root(void)
{
	const char *d = getenv("DEPLOYCTL_CACHE_DIR");
	if (d && *d)
		return dc_xstrdup(d);
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && *xdg)
		return dc_xasprintf("%s/deployctl", xdg);
	const char *home = getenv("HOME");
	return dc_xasprintf("%s/.cache/deployctl", home && *home ? home : "/tmp");
}

static int copy_file(const char *from, const char *to)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	int rc = dc_buf_read_file(&b, from);
	int fd = rc == 0 ? open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	if (rc == 0 && (fd < 0 || write(fd, b.ptr, b.len) != (ssize_t)b.len))
		rc = dc_error_set("cannot write '%s': %s", to, strerror(errno));
	if (fd >= 0)
		close(fd);
	dc_buf_dispose(&b);
	return rc;
}

/* npm ci in dir, its output in dir/npm.log. */
static int run_npm(const char *npm, const char *dir)
{
	char *log = dc_xasprintf("%s/npm.log", dir);
	int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(log);
	if (logfd < 0)
		return dc_error_set("cannot write in '%s': %s", dir, strerror(errno));
	char *argv[] = { (char *)npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", NULL };
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		dc_local_close_from(3);
		if (chdir(dir) == 0)
			execv(npm, argv);
		_exit(127);
	}
	close(logfd);
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return dc_error_set("fetching the AWS SDK for JavaScript v3 with npm failed; see "
				    "%s/npm.log", dir);
	return 0;
}

static int fetch_sdk(struct dc_res_ctx *ctx, const char *runtime_dir, const char *dest)
{
	char *npm = dc_local_which("npm");
	if (!npm)
		return dc_error_set("the local target needs npm to fetch the AWS SDK for JavaScript "
				    "v3 that the Node.js Lambda runtime provides: apt-get install npm");
	ctx->progress(ctx, "fetching the AWS SDK for JavaScript v3 with npm (once, into %s)", dest);
	char *tmp = dc_xasprintf("%s.tmp-%d", dest, (int)getpid());
	char *pkg_from = dc_xasprintf("%s/node/package.json", runtime_dir);
	char *lock_from = dc_xasprintf("%s/node/package-lock.json", runtime_dir);
	char *pkg_to = dc_xasprintf("%s/package.json", tmp);
	char *lock_to = dc_xasprintf("%s/package-lock.json", tmp);
	int rc = dc_local_rmtree(tmp) < 0 || dc_local_mkdirs(tmp) < 0 ||
			 copy_file(pkg_from, pkg_to) < 0 || copy_file(lock_from, lock_to) < 0 ||
			 run_npm(npm, tmp) < 0
		 ? -1
		 : 0;
	/* Another run may have won the race: its copy is as good as ours. */
	if (rc == 0 && rename(tmp, dest) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		rc = dc_error_set("cannot move '%s' into place: %s", tmp, strerror(errno));
	if (rc == 0)
		dc_local_rmtree(tmp);
	free(npm);
	free(tmp);
	free(pkg_from);
	free(lock_from);
	free(pkg_to);
	free(lock_to);
	return rc;
}

int dc_local_node_sdk(char **out, struct dc_res_ctx *ctx, const char *runtime_dir)
{
	char *lock = dc_xasprintf("%s/node/package-lock.json", runtime_dir);
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	int rc = dc_buf_read_file(&b, lock);
	free(lock);
	if (rc < 0) {
		dc_buf_dispose(&b);
		return -1;
	}
	char hash[65];
	dc_sha256_hex(hash, b.ptr, b.len);
	dc_buf_dispose(&b);
	char *root = cache_root();
	char *dest = dc_xasprintf("%s/node-sdk-%.16s", root, hash);
	char *done = dc_xasprintf("%s/node_modules/.package-lock.json", dest);
	struct stat st;
	rc = stat(done, &st) == 0 ? 0 : dc_local_mkdirs(root);
	if (rc == 0 && stat(done, &st) != 0)
		rc = fetch_sdk(ctx, runtime_dir, dest);
	if (rc == 0)
		*out = dc_xasprintf("%s/node_modules", dest);
	free(root);
	free(dest);
	free(done);
	return rc;
}

/* ---- a python3 for a server ---- */

/* Module names only, since they go into a -c program. */
static int module_names_ok(const json_t *modules)
{
	size_t i;
	json_t *m;
	json_array_foreach(modules, i, m) {
		const char *s = json_string_value(m);
		if (!s || !*s || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789_.") != strlen(s))
			return 0;
	}
	return json_is_array(modules);
}

/* What python prints to stdout (one line) when it exits 0, else NULL. */
static char *run_python(const char *python, const char *program)
{
	int pipefd[2];
	/* Close-on-exec at once, so that no other thread's child holds the
	 * write end and keeps the read below from ending. */
	if (pipe(pipefd) < 0)
		return NULL;
	fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	char *argv[] = { (char *)python, "-c", (char *)program, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(null, 2);
		dc_local_close_from(3);
		execv(python, argv);
		_exit(127);
	}
	close(pipefd[1]);
	char line[PATH_MAX] = { 0 };
	size_t got = 0;
	ssize_t r;
	while (pid > 0 && got < sizeof(line) - 1 && !strchr(line, '\n') &&
	       (r = read(pipefd[0], line + got, sizeof(line) - 1 - got)) > 0)
		got += (size_t)r;
	close(pipefd[0]);
	int status = 1;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	line[strcspn(line, "\n")] = '\0';
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !line[0])
		return NULL;
	return dc_xstrdup(line);
}

/* "a, b.c_d: apt-get install python3-a python3-b-c" for modules a and
 * b.c_d (Debian names a module's package python3-<top-level name>). */
static int need_modules(const json_t *modules)
{
	struct dc_buf names = DC_BUF_INIT(DC_MAX_SMALL), pkgs = DC_BUF_INIT(DC_MAX_SMALL);
	size_t i;
	json_t *m;
	json_array_foreach(modules, i, m) {
		const char *s = json_string_value(m);
		dc_buf_printf(&names, "%s%s", i ? ", " : "", s);
		dc_buf_puts(&pkgs, " python3-");
		for (size_t k = 0; s[k] && s[k] != '.'; k++)
			dc_buf_putc(&pkgs, s[k] == '_' ? '-' : s[k]);
	}
	dc_error_set("the local target needs a python3 on PATH that can import %s: "
		     "apt-get install%s", dc_buf_cstr(&names), dc_buf_cstr(&pkgs));
	dc_buf_dispose(&names);
	dc_buf_dispose(&pkgs);
	return -1;
}

static char *import_program(const json_t *modules)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	size_t i;
	json_t *m;
	dc_buf_puts(&b, "import sys");
	json_array_foreach(modules, i, m)
		dc_buf_printf(&b, "; import %s", json_string_value(m));
	dc_buf_puts(&b, "; print(sys.executable)");
	return dc_buf_take(&b);
}

int dc_local_python_with(char **out, const json_t *modules)
{
	if (!module_names_ok(modules))
		return dc_error_set("python modules must be a list of module names");
	const char *path = getenv("PATH");
	char *copy = dc_xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *program = import_program(modules), *save, *seen = dc_xstrdup("\n");
	*out = NULL;
	for (char *d = strtok_r(copy, ":", &save); d && !*out; d = strtok_r(NULL, ":", &save)) {
		char *py = dc_xasprintf("%s/python3", *d ? d : ".");
		char *real = realpath(py, NULL);
		char *key = real ? dc_xasprintf("\n%s\n", real) : NULL;
		/* /bin and /usr/bin are often one folder: ask each python once. */
		if (key && access(py, X_OK) == 0 && !strstr(seen, key)) {
			char *more = dc_xasprintf("%s%s", seen, key + 1);
			free(seen);
			seen = more;
			*out = run_python(py, program);
		}
		free(key);
		free(real);
		free(py);
	}
	int rc = *out ? 0 : need_modules(modules);
	free(seen);
	free(program);
	free(copy);
	return rc;
}
