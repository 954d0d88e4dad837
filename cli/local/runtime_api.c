/* Lambda functions in the supervisor: one process each, and one Lambda
 * Runtime API port each, speaking AWS's protocol:
 *   GET  /2018-06-01/runtime/invocation/next          (long poll: the next event)
 *   POST /2018-06-01/runtime/invocation/{id}/response (the handler's result)
 *   POST /2018-06-01/runtime/invocation/{id}/error    (the handler failed)
 *   POST /2018-06-01/runtime/init/error               (the handler could not load)
 * Events wait in a queue; whichever process polls takes the oldest. An
 * invocation that outlives the function's timeout fails and its process is
 * killed and restarted, as Lambda resets a timed-out environment. */
#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include "local/local.h"
#include "local/proc.h"
#include "local/supervisor.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PREFIX "/2018-06-01/runtime/"
/* How long a new process may take to ask for its first event. */
#define START_LIMIT_S 30.0
/* How long an event may wait for a process (API Gateway's own limit). */
#define QUEUE_LIMIT_S 30.0

enum { QUEUED, RUNNING, DONE };

struct sv_inv {
	char id[37];
	char *event;
	double queued, started;
	int state;
	int failed;
	char *result; /* the response body, or NULL */
	char *why;    /* what failed, or NULL */
	struct sv_inv *next;
};

struct sv_fn *sv_fn_find(const char *name)
{
	for (struct sv_fn *f = sv.fns; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void uuid(char out[37])
{
	char hex[33];
	sv_random_hex(hex, 16);
	snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
}

static void unlink_inv(struct sv_inv **list, struct sv_inv *inv)
{
	for (; *list; list = &(*list)->next)
		if (*list == inv) {
			*list = inv->next;
			inv->next = NULL;
			return;
		}
}

static void finish(struct sv_inv *inv, const char *result, const char *why)
{
	inv->state = DONE;
	inv->failed = why != NULL;
	inv->result = result ? dc_xstrdup(result) : NULL;
	inv->why = why ? dc_xstrdup(why) : NULL;
	pthread_cond_broadcast(&sv.cond);
}

static void fail_list(struct sv_inv **list, const char *why)
{
	while (*list) {
		struct sv_inv *inv = *list;
		*list = inv->next;
		inv->next = NULL;
		finish(inv, NULL, why);
	}
}

/* The process is gone: what it was running has failed. */
static void fn_proc_exited(struct sv_child *c)
{
	struct sv_fn *f = c->owner;
	f->gen++;
	fail_list(&f->running, "Runtime.ExitError: the function's process exited");
}

json_t *sv_fn_describe(const struct sv_fn *f)
{
	int queued = 0;
	for (struct sv_inv *i = f->queue; i; i = i->next)
		queued++;
	return json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "name", f->name, "arn", f->arn,
			 "runtime_port", f->runtime ? dc_server_port(f->runtime) : 0, "pid",
			 f->proc ? (int)f->proc->pid : 0, "restarts",
			 f->proc ? f->proc->restarts : 0, "queued", queued);
}

/* The last non-empty line of a log, for an error message (malloc'ed). */
char *sv_log_tail(const char *path)
{
	char buf[2048];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;
	if (fd >= 0) {
		off_t end = lseek(fd, 0, SEEK_END);
		lseek(fd, end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	char *line = NULL, *save;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (l[strspn(l, " \t\r")])
			line = l;
	return dc_xstrdup(line ? line : "(nothing logged)");
}

static char *start_failure(struct sv_fn *f)
{
	if (!f->proc)
		return dc_xasprintf("function '%s' did not start: the supervisor is stopping",
				    f->name);
	if (f->init_error)
		return dc_xasprintf("function '%s' did not start: %s", f->name, f->init_error);
	char *tail = sv_log_tail(f->proc->log);
	char *why = dc_xasprintf("function '%s' did not start: its process exited (%s); see %s",
				 f->name, tail, f->proc->log);
	free(tail);
	return why;
}

/* With the lock held: until the process polls (0) or fails (-1). */
static int await_start(struct sv_fn *f, char **why)
{
	double until = sv_now() + START_LIMIT_S;
	while (!f->polled) {
		if (sv.stopping || !f->proc || f->init_error || f->proc->restarts > 0) {
			*why = start_failure(f);
			return -1;
		}
		if (sv_now() > until) {
			*why = dc_xasprintf("function '%s' did not ask for an event within %.0f s; "
					    "see %s", f->name, START_LIMIT_S, f->proc->log);
			return -1;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sv.cond, &sv.mu, &ts);
	}
	return 0;
}

/* The AWS settings every local process gets: the emulator, its region and
 * fixed credentials (the user's own never reach a local process). */
static void add_aws_env(json_t *env)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", sv.emulator_port);
	json_object_set_new(env, "AWS_ENDPOINT_URL", json_string(url));
	json_object_set_new(env, "AWS_REGION", json_string(DC_LOCAL_EMULATOR_REGION));
	json_object_set_new(env, "AWS_DEFAULT_REGION", json_string(DC_LOCAL_EMULATOR_REGION));
	json_object_set_new(env, "AWS_ACCESS_KEY_ID", json_string(DC_LOCAL_ACCESS_KEY));
	json_object_set_new(env, "AWS_SECRET_ACCESS_KEY", json_string(DC_LOCAL_SECRET_KEY));
}

/* argv from the spec, argv[0] resolved on PATH; NULL when it is not found. */
char **sv_argv(const json_t *spec, char **why)
{
	json_t *a = json_object_get(spec, "argv");
	size_t n = json_array_size(a);
	const char *prog = json_string_value(json_array_get(a, 0));
	char *path = prog ? dc_local_which(prog) : NULL;
	if (!path) {
		*why = dc_xasprintf("cannot find '%s' on PATH", prog ? prog : "");
		return NULL;
	}
	char **argv = dc_xcalloc(n + 1, sizeof(*argv));
	argv[0] = path;
	for (size_t i = 1; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		argv[i] = dc_xstrdup(s ? s : "");
	}
	return argv;
}

char **sv_child_env(const json_t *spec, const json_t *reserved)
{
	json_t *env = json_object();
	json_t *given = json_object_get(spec, "env");
	if (json_is_object(given))
		json_object_update(env, given);
	add_aws_env(env);
	if (reserved)
		json_object_update(env, (json_t *)reserved);
	char **out = sv_env(env);
	json_decref(env);
	return out;
}

static struct sv_fn *fn_new(const char *name, char **why)
{
	struct sv_fn *f = dc_xcalloc(1, sizeof(*f));
	f->name = dc_xstrdup(name);
	if (dc_server_start(&f->runtime, 0, sv_runtime_handler, f) < 0) {
		*why = dc_xstrdup(dc_error_last()->message);
		free(f->name);
		free(f);
		return NULL;
	}
	f->next = sv.fns;
	sv.fns = f;
	return f;
}

static json_t *reserved_env(const struct sv_fn *f)
{
	char api[32], mem[32];
	snprintf(api, sizeof(api), "127.0.0.1:%d", dc_server_port(f->runtime));
	snprintf(mem, sizeof(mem), "%ld", f->memory_mb);
	return json_pack("{s:s, s:s, s:s, s:s}", "AWS_LAMBDA_RUNTIME_API", api,
			 "AWS_LAMBDA_FUNCTION_NAME", f->name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem,
			 "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
}

static void configure(struct sv_fn *f, const json_t *spec)
{
	const char *arn = json_string_value(json_object_get(spec, "arn"));
	free(f->arn);
	f->arn = dc_xstrdup(arn ? arn : f->name);
	json_int_t t = json_integer_value(json_object_get(spec, "timeout_s"));
	json_int_t m = json_integer_value(json_object_get(spec, "memory_mb"));
	f->timeout_ms = (t > 0 ? t : 3) * 1000;
	f->memory_mb = m > 0 ? (long)m : 128;
}

int sv_fn_put(const char *name, const json_t *spec, char **why)
{
	if (sv.stopping) {
		*why = dc_xstrdup("the supervisor is stopping");
		return 503;
	}
	char **argv = sv_argv(spec, why);
	if (!argv)
		return 422;
	struct sv_fn *f = sv_fn_find(name);
	if (!f && !(f = fn_new(name, why))) {
		sv_strv_free(argv);
		return 500;
	}
	if (f->proc) {
		sv_child_remove(f->proc);
		f->gen++;
		fail_list(&f->running, "the function was replaced");
	}
	configure(f, spec);
	json_t *reserved = reserved_env(f);
	char *cname = dc_xasprintf("fn:%s", name);
	f->polled = 0;
	free(f->init_error);
	f->init_error = NULL;
	f->proc = sv_child_add(cname, argv, sv_child_env(spec, reserved),
			       json_string_value(json_object_get(spec, "cwd")));
	f->proc->owner = f;
	f->proc->on_exit = fn_proc_exited;
	free(cname);
	json_decref(reserved);
	if (await_start(f, why) < 0) {
		sv_log("%s", *why);
		sv_fn_delete(name);
		return 422;
	}
	sv.dirty = 1;
	return 0;
}

void sv_fn_delete(const char *name)
{
	struct sv_fn *f = sv_fn_find(name);
	if (!f)
		return;
	f->deleting = 1;
	fail_list(&f->queue, "the function was deleted");
	fail_list(&f->running, "the function was deleted");
	if (f->proc)
		sv_child_remove(f->proc);
	f->proc = NULL;
	for (struct sv_fn **p = &sv.fns; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	/* Its pollers need the lock to see `deleting` and return. */
	pthread_mutex_unlock(&sv.mu);
	dc_server_stop(f->runtime);
	pthread_mutex_lock(&sv.mu);
	free(f->name);
	free(f->arn);
	free(f->init_error);
	free(f);
	sv.dirty = 1;
}

static void wait_a_little(double seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long ns = ts.tv_nsec + (long)(seconds * 1e9);
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	pthread_cond_timedwait(&sv.cond, &sv.mu, &ts);
}

/* With the lock held: fail inv if it waited or ran too long. */
static void enforce_limits(struct sv_fn *f, struct sv_inv *inv, double now)
{
	if (inv->state == QUEUED && now - inv->queued > QUEUE_LIMIT_S) {
		unlink_inv(&f->queue, inv);
		finish(inv, NULL, "no process of the function took the event in time");
	} else if (inv->state == RUNNING && now - inv->started > (double)f->timeout_ms / 1000) {
		unlink_inv(&f->running, inv);
		char why[96];
		snprintf(why, sizeof(why), "Task timed out after %.2f seconds",
			 (double)f->timeout_ms / 1000);
		finish(inv, NULL, why);
		if (f->proc && f->proc->pid > 0) {
			f->proc->kill_now = 1;
			sv_wake();
		}
	}
}

int sv_fn_invoke(const char *name, const char *event, char **result, char **why)
{
	pthread_mutex_lock(&sv.mu);
	struct sv_fn *f = sv_fn_find(name);
	if (!f) {
		pthread_mutex_unlock(&sv.mu);
		*why = dc_xasprintf("no function '%s'", name);
		return -1;
	}
	struct sv_inv *inv = dc_xcalloc(1, sizeof(*inv));
	uuid(inv->id);
	inv->event = dc_xstrdup(event);
	inv->queued = sv_now();
	struct sv_inv **tail = &f->queue;
	while (*tail)
		tail = &(*tail)->next;
	*tail = inv;
	pthread_cond_broadcast(&sv.cond);
	/* f stays valid while inv is not DONE: deleting it finishes inv first. */
	while (inv->state != DONE) {
		if (sv.stopping) {
			unlink_inv(inv->state == QUEUED ? &f->queue : &f->running, inv);
			finish(inv, NULL, "the supervisor is stopping");
			break;
		}
		enforce_limits(f, inv, sv_now());
		if (inv->state != DONE)
			wait_a_little(0.1);
	}
	pthread_mutex_unlock(&sv.mu);
	*result = inv->result;
	*why = inv->why;
	int rc = inv->failed ? -1 : 0;
	free(inv->event);
	free(inv);
	return rc;
}

/* ---- the Runtime API itself ---- */

static void error_reply(struct dc_server_response *res, int status, const char *type,
			const char *msg)
{
	json_t *o = json_pack("{s:s, s:s}", "errorType", type, "errorMessage", msg);
	char *text = json_dumps(o, JSON_COMPACT);
	dc_server_reply(res, status, "application/json", text);
	free(text);
	json_decref(o);
}

static void next(struct sv_fn *f, struct dc_server_request *req, struct dc_server_response *res)
{
	pthread_mutex_lock(&sv.mu);
	f->polled = 1;
	/* A poll made before the last exit came from the dead process: it
	 * must not take an event that nobody would then run. */
	unsigned gen = f->gen;
	pthread_cond_broadcast(&sv.cond);
	while (!f->queue && !f->deleting && !sv.stopping && f->gen == gen) {
		wait_a_little(0.5);
		if (!f->queue && dc_server_peer_gone(req))
			break;
	}
	int stale = f->gen != gen || dc_server_peer_gone(req);
	struct sv_inv *inv = f->deleting || sv.stopping || stale ? NULL : f->queue;
	if (!inv) {
		pthread_mutex_unlock(&sv.mu);
		error_reply(res, 503, "ServiceUnavailable", "no event: the function is stopping");
		return;
	}
	f->queue = inv->next;
	inv->next = f->running;
	f->running = inv;
	inv->state = RUNNING;
	inv->started = sv_now();
	struct timeval tv;
	gettimeofday(&tv, NULL);
	long long deadline = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000 + f->timeout_ms;
	char deadline_s[32];
	snprintf(deadline_s, sizeof(deadline_s), "%lld", deadline);
	dc_headers_set(&res->headers, "Lambda-Runtime-Aws-Request-Id", inv->id);
	dc_headers_set(&res->headers, "Lambda-Runtime-Deadline-Ms", deadline_s);
	dc_headers_set(&res->headers, "Lambda-Runtime-Invoked-Function-Arn", f->arn);
	dc_headers_set(&res->headers, "Lambda-Runtime-Trace-Id",
		       "Root=1-00000000-000000000000000000000000;Sampled=0");
	dc_server_reply(res, 200, "application/json", inv->event);
	pthread_mutex_unlock(&sv.mu);
}

static struct sv_inv *running(struct sv_fn *f, const char *id, size_t n)
{
	for (struct sv_inv *i = f->running; i; i = i->next)
		if (strlen(i->id) == n && strncmp(i->id, id, n) == 0)
			return i;
	return NULL;
}

/* "errorType: errorMessage" from an error body (malloc'ed). */
static char *error_text(const struct dc_buf *body)
{
	json_t *o = json_loadb(body->ptr ? body->ptr : "", body->len, 0, NULL);
	const char *type = json_string_value(json_object_get(o, "errorType"));
	const char *msg = json_string_value(json_object_get(o, "errorMessage"));
	char *out = msg ? dc_xasprintf("%s: %s", type ? type : "Error", msg)
			: dc_xstrndup(dc_buf_cstr(body), 500);
	json_decref(o);
	return out;
}

static void settle(struct sv_fn *f, const char *id, size_t n, struct dc_server_request *req,
		   struct dc_server_response *res, int failed)
{
	pthread_mutex_lock(&sv.mu);
	struct sv_inv *inv = running(f, id, n);
	if (!inv) {
		pthread_mutex_unlock(&sv.mu);
		error_reply(res, 400, "InvalidRequestID", "no invocation of that id is running");
		return;
	}
	unlink_inv(&f->running, inv);
	char *why = failed ? error_text(&req->body) : NULL;
	if (why)
		sv_log("function %s failed: %s", f->name, why);
	finish(inv, failed ? NULL : dc_buf_cstr(&req->body), why);
	free(why);
	pthread_mutex_unlock(&sv.mu);
	dc_server_reply(res, 202, "application/json", "{\"status\":\"OK\"}");
}

static void init_error(struct sv_fn *f, struct dc_server_request *req,
		       struct dc_server_response *res)
{
	char *why = error_text(&req->body);
	sv_log("function %s failed to initialise: %s", f->name, why);
	pthread_mutex_lock(&sv.mu);
	free(f->init_error);
	f->init_error = why;
	pthread_cond_broadcast(&sv.cond);
	pthread_mutex_unlock(&sv.mu);
	dc_server_reply(res, 202, "application/json", "{\"status\":\"OK\"}");
}

void sv_runtime_handler(void *arg, struct dc_server_request *req, struct dc_server_response *res)
{
	struct sv_fn *f = arg;
	const char *p = req->path;
	int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
	if (strncmp(p, PREFIX, strlen(PREFIX)) != 0) {
		error_reply(res, 404, "NotFound", "not a Runtime API path");
		return;
	}
	p += strlen(PREFIX);
	const char *slash = strncmp(p, "invocation/", 11) == 0 ? strchr(p + 11, '/') : NULL;
	if (get && strcmp(p, "invocation/next") == 0)
		next(f, req, res);
	else if (post && strcmp(p, "init/error") == 0)
		init_error(f, req, res);
	else if (post && slash && strcmp(slash, "/response") == 0)
		settle(f, p + 11, (size_t)(slash - p - 11), req, res, 0);
	else if (post && slash && strcmp(slash, "/error") == 0)
		settle(f, p + 11, (size_t)(slash - p - 11), req, res, 1);
	else
		error_reply(res, 404, "NotFound", "not a Runtime API path");
}
