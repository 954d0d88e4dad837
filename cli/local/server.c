/* The local target's HTTP server: a thread per connection, requests parsed
 * from a buffer that holds the head, bodies by Content-Length. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "local/server.h"
#include "util/error.h"
#include "util/xalloc.h"

#define MAX_HEAD ((size_t)64 << 10)
/* An idle keep-alive connection is closed after this long. */
#define IDLE_TIMEOUT_S 300
#define THREAD_STACK ((size_t)512 << 10)

struct conn {
	struct dc_server *h;
	int fd;
	char peer[64];
	struct conn *next;
};

struct dc_server {
	int fd;
	int port;
	dc_server_handler fn;
	void *arg;
	pthread_t acceptor;
	pthread_mutex_t mu;
	pthread_cond_t idle; /* signalled when a connection thread ends */
	struct conn *conns;
	int stopping;
};

const char *dc_server_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return status < 400 ? "OK" : "Error";
	}
}

void dc_server_reply(struct dc_server_response *res, int status, const char *content_type,
		    const char *body)
{
	res->status = status;
	dc_headers_set(&res->headers, "Content-Type", content_type);
	dc_buf_reset(&res->body);
	dc_buf_puts(&res->body, body);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_response(int fd, const struct dc_server_request *req,
			 const struct dc_server_response *res, int keep)
{
	struct dc_buf head = DC_BUF_INIT(MAX_HEAD);
	dc_buf_printf(&head, "HTTP/1.1 %d %s\r\n", res->status, dc_server_reason(res->status));
	for (size_t i = 0; i < res->headers.n; i++)
		dc_buf_printf(&head, "%s: %s\r\n", res->headers.v[i].name, res->headers.v[i].value);
	dc_buf_printf(&head, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", res->body.len,
		      keep ? "keep-alive" : "close");
	int rc = write_all(fd, head.ptr, head.len);
	if (rc == 0 && strcmp(req->method, "HEAD") != 0 && res->body.len)
		rc = write_all(fd, res->body.ptr, res->body.len);
	dc_buf_dispose(&head);
	return rc;
}

/* Read more bytes into in; 0 at end of stream, -1 on error or timeout. */
static ssize_t fill(int fd, struct dc_buf *in)
{
	char chunk[16384];
	ssize_t r;
	do
		r = recv(fd, chunk, sizeof(chunk), 0);
	while (r < 0 && errno == EINTR);
	if (r > 0 && dc_buf_put(in, chunk, (size_t)r) < 0)
		return -1;
	return r;
}

static int parse_request_line(struct dc_server_request *req, char *line)
{
	char *save, *method = strtok_r(line, " ", &save);
	char *target = method ? strtok_r(NULL, " ", &save) : NULL;
	char *version = target ? strtok_r(NULL, " ", &save) : NULL;
	if (!version || strncmp(version, "HTTP/1.", 7) != 0 || target[0] != '/')
		return -1;
	req->method = method;
	req->version = version;
	req->target = target;
	char *q = strchr(target, '?');
	req->path = dc_xstrndup(target, q ? (size_t)(q - target) : strlen(target));
	req->query = q ? q + 1 : "";
	return 0;
}

/* Split the head (NUL-terminated, CRLF lines) into request line and
 * headers; the strings point into head. */
static int parse_head(struct dc_server_request *req, char *head)
{
	char *save, *line = strtok_r(head, "\r\n", &save);
	if (!line || parse_request_line(req, line) < 0)
		return -1;
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			return -1;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strlen(v);
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			v[--n] = '\0';
		dc_headers_add(&req->headers, line, v);
	}
	return 0;
}

static int wants_keep_alive(const struct dc_server_request *req)
{
	const char *c = dc_headers_get(&req->headers, "Connection");
	if (c && strcasecmp(c, "close") == 0)
		return 0;
	if (strcmp(req->version, "HTTP/1.0") == 0)
		return c && strcasecmp(c, "keep-alive") == 0;
	return 1;
}

/* The body by Content-Length, from what is already buffered and then the
 * socket. Returns an HTTP status for a bad body, 0 when read, -1 when the
 * connection failed. */
static int read_body(int fd, struct dc_server_request *req, struct dc_buf *in, size_t *used)
{
	if (dc_headers_get(&req->headers, "Transfer-Encoding"))
		return 501;
	const char *cl = dc_headers_get(&req->headers, "Content-Length");
	char *end;
	unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
	if (cl && (*end || cl[0] == '-'))
		return 400;
	if (n > DC_SERVER_MAX_BODY)
		return 413;
	while (in->len - *used < n) {
		if (fill(fd, in) <= 0)
			return -1;
	}
	dc_buf_put(&req->body, in->ptr + *used, (size_t)n);
	*used += (size_t)n;
	return 0;
}

static void request_dispose(struct dc_server_request *req)
{
	free((void *)req->path);
	dc_headers_dispose(&req->headers);
	dc_buf_dispose(&req->body);
}

static void reply_error(int fd, struct dc_server_request *req, int status)
{
	struct dc_server_response res = { status, DC_HEADERS_INIT, DC_BUF_INIT(DC_MAX_SMALL) };
	dc_server_reply(&res, status, "text/plain; charset=utf-8", dc_server_reason(status));
	if (!req->method)
		req->method = "GET";
	send_response(fd, req, &res, 0);
	dc_headers_dispose(&res.headers);
	dc_buf_dispose(&res.body);
}

/* One request from in (refilled as needed). 1: served, keep going; 0: the
 * connection is to close. */
static int serve_one(int fd, const char *peer, dc_server_handler fn, void *arg,
		     struct dc_buf *in)
{
	char *eoh;
	while (!(eoh = in->len ? strstr(in->ptr, "\r\n\r\n") : NULL)) {
		if (in->len >= MAX_HEAD || fill(fd, in) <= 0)
			return 0;
	}
	size_t head_len = (size_t)(eoh - in->ptr) + 4;
	char *head = dc_xstrndup(in->ptr, head_len - 2);
	struct dc_server_request req = { .fd = fd, .headers = DC_HEADERS_INIT,
					.body = DC_BUF_INIT(DC_SERVER_MAX_BODY) };
	snprintf(req.peer, sizeof(req.peer), "%s", peer);
	int keep = 0, bad = parse_head(&req, head) < 0 ? 400 : 0;
	if (!bad)
		bad = read_body(fd, &req, in, &head_len);
	if (bad > 0) {
		reply_error(fd, &req, bad);
	} else if (bad == 0) {
		struct dc_server_response res = { 200, DC_HEADERS_INIT, DC_BUF_INIT(DC_SERVER_MAX_BODY) };
		fn(arg, &req, &res);
		keep = wants_keep_alive(&req);
		if (send_response(fd, &req, &res, keep) < 0)
			keep = 0;
		dc_headers_dispose(&res.headers);
		dc_buf_dispose(&res.body);
		/* What followed this request in the buffer is the next one. */
		size_t rest = in->len - head_len;
		memmove(in->ptr, in->ptr + head_len, rest);
		dc_buf_truncate(in, rest);
	}
	request_dispose(&req);
	free(head);
	return keep;
}

void dc_server_serve_fd(int fd, const char *peer, dc_server_handler fn, void *arg)
{
	struct dc_buf in = DC_BUF_INIT(MAX_HEAD + DC_SERVER_MAX_BODY);
	while (serve_one(fd, peer, fn, arg, &in))
		;
	dc_buf_dispose(&in);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct dc_server *h = c->h;
	dc_server_serve_fd(c->fd, c->peer, h->fn, h->arg);
	pthread_mutex_lock(&h->mu);
	for (struct conn **p = &h->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	close(c->fd);
	pthread_cond_broadcast(&h->idle);
	pthread_mutex_unlock(&h->mu);
	free(c);
	return NULL;
}

static void start_conn(struct dc_server *h, int fd, const struct sockaddr_in *peer)
{
	struct conn *c = dc_xcalloc(1, sizeof(*c));
	c->h = h;
	c->fd = fd;
	inet_ntop(AF_INET, &peer->sin_addr, c->peer, sizeof(c->peer));
	struct timeval tv = { IDLE_TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	pthread_mutex_lock(&h->mu);
	c->next = h->conns;
	h->conns = c;
	if (pthread_create(&t, &attr, conn_main, c) != 0) {
		h->conns = c->next;
		close(fd);
		free(c);
	}
	pthread_mutex_unlock(&h->mu);
	pthread_attr_destroy(&attr);
}

static void *accept_main(void *arg)
{
	struct dc_server *h = arg;
	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd = accept(h->fd, (struct sockaddr *)&peer, &len);
		if (fd >= 0)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		pthread_mutex_lock(&h->mu);
		int stopping = h->stopping;
		pthread_mutex_unlock(&h->mu);
		if (stopping) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(10000); /* out of descriptors: do not spin */
			continue;
		}
		start_conn(h, fd, &peer);
	}
}

static int listen_on(int port, int *out_fd, int *out_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dc_error_set("cannot open a socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int e = errno;
		close(fd);
		return dc_error_set("cannot listen on 127.0.0.1:%d: %s", port, strerror(e));
	}
	*out_fd = fd;
	*out_port = ntohs(a.sin_port);
	return 0;
}

int dc_server_start(struct dc_server **out, int port, dc_server_handler fn, void *arg)
{
	struct dc_server *h = dc_xcalloc(1, sizeof(*h));
	if (listen_on(port, &h->fd, &h->port) < 0) {
		free(h);
		return -1;
	}
	h->fn = fn;
	h->arg = arg;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->idle, NULL);
	if (pthread_create(&h->acceptor, NULL, accept_main, h) != 0) {
		close(h->fd);
		free(h);
		return dc_error_set("cannot start a server thread");
	}
	*out = h;
	return 0;
}

int dc_server_port(const struct dc_server *h)
{
	return h->port;
}

void dc_server_stop(struct dc_server *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	pthread_mutex_unlock(&h->mu);
	/* shutdown() wakes the acceptor blocked in accept(). */
	shutdown(h->fd, SHUT_RDWR);
	pthread_join(h->acceptor, NULL);
	close(h->fd);
	pthread_mutex_lock(&h->mu);
	for (struct conn *c = h->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (h->conns)
		pthread_cond_wait(&h->idle, &h->mu);
	pthread_mutex_unlock(&h->mu);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->idle);
	free(h);
}

int dc_server_peer_gone(const struct dc_server_request *req)
{
	struct pollfd p = { req->fd, POLLIN, 0 };
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR))
		return 1;
	char c;
	return recv(req->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}
