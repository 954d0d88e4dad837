/* The supervisor's control channel: what the local resource types ask of it,
 * over HTTP on loopback, each request carrying the token of supervisor.json
 * (a 0600 file), so only its owner may drive it.
 *   GET    /status
 *   PUT    /functions/NAME   {"arn", "argv", "env", "cwd", "timeout_s", "memory_mb"}
 *   PUT    /processes/NAME   {"argv", "env", "cwd", "port"} or
 *                            {"argv", "env", "cwd", "socket", "probe"}
 *   PUT    /sockets/NAME                    -> {"port"}
 *   PUT    /apis/ID                         -> {"port"}
 *   PUT    /apis/ID/integrations/IID        {"uri"}
 *   PUT    /apis/ID/routes/RID              {"route_key", "target"}
 *   DELETE any of these (gone already is success)
 * A PUT of something that exists replaces it, so a retried call is safe. */
#include <errno.h>
#include <fcntl.h>
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

/* 1 when a server on port answers an HTTP request for path with any
 * status: it serves (whether it is healthy is the template's business). */
static int http_answers(int port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval limit = { 1, 0 };
	char req[512], got[8] = { 0 };
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", path,
			 port);
	int ok = fd >= 0 && n > 0 && (size_t)n < sizeof(req) &&
		 setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) == 0 &&
		 connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		 send(fd, req, (size_t)n, MSG_NOSIGNAL) == n &&
		 recv(fd, got, sizeof(got) - 1, MSG_WAITALL) == (ssize_t)sizeof(got) - 1 &&
		 strncmp(got, "HTTP/1.", 7) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* How a process shows it is up: it listens on port, or, given a socket,
 * answers on it. */
struct readiness {
	int port;          /* 0: started is enough */
	const char *probe; /* NULL: the port accepts a connection */
};

static int ready(const struct readiness *r)
{
	return r->port > 0 && (r->probe ? http_answers(r->port, r->probe) : port_open(r->port));
}

/* With the lock held: until the process is up (see struct readiness), or
 * fails. */
static int await_process(struct sv_child *c, const struct readiness *r, char **why)
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
		if (c->pid > 0 && r->port == 0)
			return 0;
		pthread_mutex_unlock(&sv.mu);
		int up = ready(r);
		usleep(up ? 0 : 50000);
		pthread_mutex_lock(&sv.mu);
		if (sv.stopping)
			continue;
		if (up && c->pid > 0)
			return 0;
		if (sv_now() > until) {
			*why = dc_xasprintf("process '%s' did not %s on port %d within %.0f s; "
					    "see %s", c->name, r->probe ? "answer HTTP" : "listen",
					    r->port, PROCESS_START_LIMIT_S, c->log);
			return -1;
		}
	}
}

/* A copy of the socket the body names (-1: none named) and the
 * readiness it implies; taken before anything may unlock. */
static int take_socket(const json_t *body, int *listen_fd, struct readiness *r, char **why)
{
	const char *name = json_string_value(json_object_get(body, "socket"));
	struct sv_socket *sock = name ? sv_socket_find(name) : NULL;
	*listen_fd = -1;
	if (!name)
		return 0;
	if (!sock) {
		*why = dc_xasprintf("no socket '%s'", name);
		return 404;
	}
	*listen_fd = fcntl(sock->fd, F_DUPFD_CLOEXEC, 3);
	if (*listen_fd < 0) {
		*why = dc_xasprintf("cannot pass socket '%s': %s", name, strerror(errno));
		return 500;
	}
	r->port = sock->port;
	r->probe = json_string_value(json_object_get(body, "probe"));
	r->probe = r->probe ? r->probe : "/";
	return 0;
}

static int process_put(const char *cname, json_t *body, char **why)
{
	if (sv.stopping) {
		*why = dc_xstrdup("the supervisor is stopping");
		return 503;
	}
	struct readiness r = { (int)json_integer_value(json_object_get(body, "port")), NULL };
	int listen_fd, status = take_socket(body, &listen_fd, &r, why);
	char **argv = status ? NULL : sv_argv(body, why);
	if (!argv) {
		if (listen_fd >= 0)
			close(listen_fd);
		return status ? status : 422;
	}
	struct sv_child *old = process_find(cname);
	if (old)
		sv_child_remove(old);
	struct sv_child *c = sv_child_add(cname, argv, sv_child_env(body, NULL),
					  json_string_value(json_object_get(body, "cwd")));
	c->listen_fd = listen_fd;
	if (await_process(c, &r, why) < 0) {
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

static void sockets(const char *method, const char *name, struct dc_server_response *res)
{
	char *why = NULL;
	int port = 0, rc = 0;
	pthread_mutex_lock(&sv.mu);
	if (strcmp(method, "DELETE") == 0)
		sv_socket_delete(name);
	else if (sv.stopping)
		why = dc_xstrdup("the supervisor is stopping");
	else
		rc = sv_socket_put(name, &port, &why);
	pthread_mutex_unlock(&sv.mu);
	if (why)
		reply_message(res, rc < 0 ? 500 : 503, why);
	else if (port)
		reply_json(res, 200, json_pack("{s:s, s:i}", "name", name, "port", port));
	else
		reply_message(res, 200, "deleted");
	free(why);
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
	else if (change && n == 2 && strcmp(seg[0], "sockets") == 0)
		sockets(m, seg[1], res);
	else if (change && (n == 2 || n == 4) && strcmp(seg[0], "apis") == 0)
		apis(m, seg, n, body, res);
	else
		reply_message(res, 404, "no such control path");
	json_decref(body);
	free(copy);
}
