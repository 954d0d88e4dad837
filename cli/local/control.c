/* The supervisor's control channel: what the local resource types ask of it,
 * over HTTP on loopback, each request carrying the token of supervisor.json
 * (a 0600 file), so only its owner may drive it.
 *   GET    /status
 *   PUT    /functions/NAME   {"arn", "argv", "env", "cwd", "timeout_s", "memory_mb"}
 *   PUT    /processes/NAME   {"argv", "env", "cwd", "port"}
 *   PUT    /apis/ID                         -> {"port"}
 *   PUT    /apis/ID/integrations/IID        {"uri"}
 *   PUT    /apis/ID/routes/RID              {"route_key", "target"}
 *   DELETE any of these (gone already is success)
 * A PUT of something that exists replaces it, so a retried call is safe. */
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <unistd.h>

#include "local/supervisor.h"
#include "util/xalloc.h"

#define TOKEN_HEADER "X-Deployctl-Token"
#define PROCESS_START_LIMIT_S 30.0

static void reply_json(struct dc_server_response *res, int status, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	dc_server_reply(res, status, "application/json", text);
	free(text);
	json_decref(o);
}

static void reply_message(struct dc_server_response *res, int status, const char *msg)
{
	reply_json(res, status, json_pack("{s:s}", "message", msg));
}

static int authorised(const struct dc_server_request *req)
{
	const char *t = dc_headers_get(&req->headers, TOKEN_HEADER);
	size_t n = strlen(sv.token);
	return t && strlen(t) == n && CRYPTO_memcmp(t, sv.token, n) == 0;
}

/* Split "/a/b/c/d" into at most 4 segments (pointers into a copy). */
static int split(char *copy, char **seg, int max)
{
	int n = 0;
	char *save;
	for (char *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		seg[n++] = s;
	}
	return n;
}

static void functions(const char *method, const char *name, json_t *body,
		      struct dc_server_response *res)
{
	char *why = NULL;
	int status = 0;
	pthread_mutex_lock(&sv.mu);
	if (strcmp(method, "DELETE") == 0)
		sv_fn_delete(name);
	else if ((status = sv_fn_put(name, body, &why)) == 0)
		reply_json(res, 200, sv_fn_describe(sv_fn_find(name)));
	pthread_mutex_unlock(&sv.mu);
	if (status)
		reply_message(res, status, why);
	else if (strcmp(method, "DELETE") == 0)
		reply_message(res, 200, "deleted");
	free(why);
}

static struct sv_child *process_find(const char *cname)
{
	for (struct sv_child *c = sv.children; c; c = c->next)
		if (c->wanted && strcmp(c->name, cname) == 0)
			return c;
	return NULL;
}

static int port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* With the lock held: until the process listens on port (0: until it has
 * been started), or fails. */
static int await_process(struct sv_child *c, int port, char **why)
{
	double until = sv_now() + PROCESS_START_LIMIT_S;
	for (;;) {
		/* Once stopping, c may be freed: touch it no more. */
		if (sv.stopping) {
			*why = dc_xstrdup("the supervisor is stopping");
			return -1;
		}
		if (c->restarts > 0) {
			char *tail = sv_log_tail(c->log);
			*why = dc_xasprintf("process '%s' did not start: it exited (%s); see %s",
					    c->name, tail, c->log);
			free(tail);
			return -1;
		}
		if (c->pid > 0 && port == 0)
			return 0;
		pthread_mutex_unlock(&sv.mu);
		int up = port > 0 && port_open(port);
		usleep(up ? 0 : 50000);
		pthread_mutex_lock(&sv.mu);
		if (sv.stopping)
			continue;
		if (up && c->pid > 0)
			return 0;
		if (sv_now() > until) {
			*why = dc_xasprintf("process '%s' did not listen on port %d within %.0f s; "
					    "see %s", c->name, port, PROCESS_START_LIMIT_S, c->log);
			return -1;
		}
	}
}

static int process_put(const char *cname, json_t *body, char **why)
{
	if (sv.stopping) {
		*why = dc_xstrdup("the supervisor is stopping");
		return 503;
	}
	char **argv = sv_argv(body, why);
	if (!argv)
		return 422;
	struct sv_child *old = process_find(cname);
	if (old)
		sv_child_remove(old);
	struct sv_child *c = sv_child_add(cname, argv, sv_child_env(body, NULL),
					  json_string_value(json_object_get(body, "cwd")));
	int port = (int)json_integer_value(json_object_get(body, "port"));
	if (await_process(c, port, why) < 0) {
		if (!sv.stopping)
			sv_child_remove(c);
		return 422;
	}
	return 0;
}

static void processes(const char *method, const char *name, json_t *body,
		      struct dc_server_response *res)
{
	char *cname = dc_xasprintf("proc:%s", name), *why = NULL;
	int status = 0;
	pthread_mutex_lock(&sv.mu);
	if (strcmp(method, "DELETE") == 0) {
		struct sv_child *c = process_find(cname);
		if (c)
			sv_child_remove(c);
	} else {
		status = process_put(cname, body, &why);
	}
	pthread_mutex_unlock(&sv.mu);
	reply_message(res, status ? status : 200, status ? why : "ok");
	free(why);
	free(cname);
}

/* PUT or DELETE of an entry of an API's integrations or routes. */
static void api_member(const char *method, struct sv_api *a, const char *kind, const char *id,
		       json_t *body, struct dc_server_response *res)
{
	json_t *set = strcmp(kind, "integrations") == 0 ? a->integrations : a->routes;
	if (strcmp(method, "DELETE") == 0)
		json_object_del(set, id);
	else
		json_object_set(set, id, body);
	reply_message(res, 200, "ok");
}

static void apis(const char *method, char **seg, int n, json_t *body,
		 struct dc_server_response *res)
{
	int port = 0, del = strcmp(method, "DELETE") == 0;
	pthread_mutex_lock(&sv.mu);
	struct sv_api *a = sv_api_find(seg[1]);
	if (n == 2 && del) {
		sv_api_delete(seg[1]);
		reply_message(res, 200, "deleted");
	} else if (n == 2 && sv.stopping) {
		reply_message(res, 503, "the supervisor is stopping");
	} else if (n == 2 && sv_api_put(seg[1], &port) == 0) {
		reply_json(res, 200, json_pack("{s:s, s:i}", "id", seg[1], "port", port));
	} else if (n == 2) {
		reply_message(res, 500, "cannot open a port for the api");
	} else if (!a) {
		reply_message(res, del ? 200 : 404, del ? "deleted" : "no such api");
	} else if (strcmp(seg[2], "integrations") == 0 || strcmp(seg[2], "routes") == 0) {
		api_member(method, a, seg[2], seg[3], body, res);
	} else {
		reply_message(res, 404, "no such path");
	}
	pthread_mutex_unlock(&sv.mu);
}

static void status(struct dc_server_response *res)
{
	pthread_mutex_lock(&sv.mu);
	json_t *doc = sv_runtime_doc();
	pthread_mutex_unlock(&sv.mu);
	json_object_del(doc, "token");
	reply_json(res, 200, doc);
}

void sv_control(void *arg, struct dc_server_request *req, struct dc_server_response *res)
{
	if (!authorised(req)) {
		reply_message(res, 403, "a valid control token is required");
		return;
	}
	char *copy = dc_xstrdup(req->path), *seg[4];
	int n = split(copy, seg, 4);
	const char *m = req->method;
	int put = strcmp(m, "PUT") == 0, change = put || strcmp(m, "DELETE") == 0;
	json_t *body = !put ? NULL
		       : req->body.len ? json_loadb(req->body.ptr, req->body.len, 0, NULL)
				       : json_object();
	if (n == 1 && strcmp(seg[0], "status") == 0 && strcmp(m, "GET") == 0)
		status(res);
	else if (put && !json_is_object(body))
		reply_message(res, 400, "the body must be a JSON object");
	else if (change && n == 2 && strcmp(seg[0], "functions") == 0)
		functions(m, seg[1], body, res);
	else if (change && n == 2 && strcmp(seg[0], "processes") == 0)
		processes(m, seg[1], body, res);
	else if (change && (n == 2 || n == 4) && strcmp(seg[0], "apis") == 0)
		apis(m, seg, n, body, res);
	else
		reply_message(res, 404, "no such control path");
	json_decref(body);
	free(copy);
}
