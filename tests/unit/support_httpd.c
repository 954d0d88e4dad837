#include "support_httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_CONNS 32
#define NO_CAP (SIZE_MAX / 2)

struct conn {
	int fd;
	int id;
	int continued; /* "100 Continue" already sent for the pending request */
	struct dc_buf in;
};

struct dc_httpd {
	int lfd;
	int wake[2];
	char authority[32];
	pthread_t thread;
	pthread_mutex_t lock;
	/* Everything below is shared with the test thread, under lock. */
	struct dc_httpd_action *script;
	size_t script_head, script_n, script_cap;
	struct dc_httpd_request **reqs;
	size_t nreqs, reqs_cap;
	int accepted;
	int stopping;
	/* Only the server thread touches these. */
	struct conn conns[MAX_CONNS];
	size_t nconns;
};

static void die(const char *what)
{
	perror(what);
	abort();
}

/* n bytes, NULs and all (a body may hold any), then a terminating NUL. */
static char *copy_bytes(const char *s, size_t n)
{
	char *p = dc_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *copy_or_null(const char *s, size_t n)
{
	return s ? copy_bytes(s, n) : NULL;
}

void dc_httpd_push(struct dc_httpd *d, const struct dc_httpd_action *a)
{
	struct dc_httpd_action c = *a;
	size_t body_len = a->body && !a->body_len ? strlen(a->body) : a->body_len;
	c.headers = copy_or_null(a->headers, a->headers ? strlen(a->headers) : 0);
	c.body = copy_or_null(a->body, body_len);
	c.body_len = body_len;
	pthread_mutex_lock(&d->lock);
	dc_xgrow((void **)&d->script, &d->script_cap, d->script_n + 1, sizeof(*d->script));
	d->script[d->script_n++] = c;
	pthread_mutex_unlock(&d->lock);
}

void dc_httpd_respond(struct dc_httpd *d, int status, const char *headers, const char *body)
{
	struct dc_httpd_action a = { .kind = DC_HTTPD_RESPOND, .status = status,
				     .headers = headers, .body = body };
	dc_httpd_push(d, &a);
}

char *dc_httpd_url(struct dc_httpd *d, const char *path)
{
	return dc_xasprintf("http://%s%s", d->authority, path);
}

const char *dc_httpd_authority(struct dc_httpd *d)
{
	return d->authority;
}

size_t dc_httpd_requests(struct dc_httpd *d)
{
	pthread_mutex_lock(&d->lock);
	size_t n = d->nreqs;
	pthread_mutex_unlock(&d->lock);
	return n;
}

const struct dc_httpd_request *dc_httpd_request(struct dc_httpd *d, size_t i)
{
	pthread_mutex_lock(&d->lock);
	const struct dc_httpd_request *r = i < d->nreqs ? d->reqs[i] : NULL;
	pthread_mutex_unlock(&d->lock);
	return r;
}

int dc_httpd_connections(struct dc_httpd *d)
{
	pthread_mutex_lock(&d->lock);
	int n = d->accepted;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the client went away; that is its business */
		p += w;
		n -= (size_t)w;
	}
}

static void close_conn(struct dc_httpd *d, size_t i, int reset)
{
	if (reset) {
		struct linger lg = { 1, 0 };
		setsockopt(d->conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(d->conns[i].fd);
	dc_buf_dispose(&d->conns[i].in);
	d->conns[i] = d->conns[--d->nconns];
}

/* 1 when the wait ran out, 0 when dc_httpd_stop interrupted it. */
static int wait_ms(struct dc_httpd *d, int ms)
{
	struct pollfd p = { d->wake[0], POLLIN, 0 };
	return poll(&p, 1, ms) == 0;
}

static struct dc_httpd_action next_action(struct dc_httpd *d)
{
	static const struct dc_httpd_action none = {
		.kind = DC_HTTPD_RESPOND, .status = 599,
		.body = "dc_httpd: no action scripted", .body_len = 28
	};
	struct dc_httpd_action a = none;
	pthread_mutex_lock(&d->lock);
	if (d->script_head < d->script_n)
		a = d->script[d->script_head++];
	pthread_mutex_unlock(&d->lock);
	return a;
}

static int has_header_line(const char *headers, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = headers; p; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return 1;
	return 0;
}

/* Answer per a; 1 when the connection must then be closed (or was reset). */
static int respond(struct dc_httpd *d, int fd, const struct dc_httpd_action *a, int head_only)
{
	const char *headers = a->headers ? a->headers : "";
	int truncate = a->kind == DC_HTTPD_TRUNCATE;
	struct dc_buf out = DC_BUF_INIT(NO_CAP);
	dc_buf_printf(&out, "HTTP/1.1 %d Scripted\r\n%s", a->status ? a->status : 200, headers);
	if (!has_header_line(headers, "Content-Length") &&
	    !has_header_line(headers, "Transfer-Encoding"))
		dc_buf_printf(&out, "Content-Length: %zu\r\n", a->body_len + (truncate ? 100 : 0));
	if (a->close)
		dc_buf_puts(&out, "Connection: close\r\n");
	dc_buf_puts(&out, "\r\n");
	if (a->body_delay_ms) {
		send_all(fd, out.ptr, out.len);
		dc_buf_reset(&out);
		if (!wait_ms(d, a->body_delay_ms))
			head_only = 1;
	}
	if (!head_only && a->body)
		dc_buf_put(&out, a->body, a->body_len);
	send_all(fd, out.ptr, out.len);
	dc_buf_dispose(&out);
	return a->close || truncate;
}

static void parse_head(struct dc_httpd_request *r)
{
	char *line_end = strstr(r->raw, "\r\n");
	char *sp1 = memchr(r->raw, ' ', (size_t)(line_end - r->raw));
	char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
	r->method = dc_xstrndup(r->raw, sp1 ? (size_t)(sp1 - r->raw) : 0);
	r->path = sp2 ? dc_xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1)) : dc_xstrdup("");
	for (char *p = line_end + 2; strncmp(p, "\r\n", 2) != 0;) {
		char *end = strstr(p, "\r\n");
		char *colon = memchr(p, ':', (size_t)(end - p));
		if (colon) {
			char *name = dc_xstrndup(p, (size_t)(colon - p));
			const char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			char *value = dc_xstrndup(v, (size_t)(end - v));
			dc_headers_add(&r->headers, name, value);
			free(name);
			free(value);
		}
		p = end + 2;
	}
}

/* Length of the complete request at the front of in, or 0 if more is
 * needed. */
static size_t complete_request(struct conn *c, size_t *head_len)
{
	char *end = strstr(dc_buf_cstr(&c->in), "\r\n\r\n");
	if (!end)
		return 0;
	*head_len = (size_t)(end - c->in.ptr) + 4;
	size_t body = 0;
	for (char *p = c->in.ptr; p < end; p++) {
		if (strncasecmp(p, "\r\nContent-Length:", 17) == 0)
			body = (size_t)strtoul(p + 17, NULL, 10);
		if (strncasecmp(p, "\r\nExpect: 100-continue", 22) == 0 && !c->continued) {
			send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
			c->continued = 1;
		}
	}
	return c->in.len >= *head_len + body ? *head_len + body : 0;
}

static void record(struct dc_httpd *d, struct conn *c, size_t len, size_t head_len,
		   char **method)
{
	struct dc_httpd_request *r = dc_xcalloc(1, sizeof(*r));
	r->raw = copy_bytes(c->in.ptr, len);
	r->raw_len = len;
	r->body_len = len - head_len;
	r->body = copy_bytes(c->in.ptr + head_len, r->body_len);
	r->connection = c->id;
	parse_head(r);
	*method = r->method;
	pthread_mutex_lock(&d->lock);
	dc_xgrow((void **)&d->reqs, &d->reqs_cap, d->nreqs + 1, sizeof(*d->reqs));
	d->reqs[d->nreqs++] = r;
	pthread_mutex_unlock(&d->lock);
}

/* Serve every complete request waiting on connection i. 1 when it is gone
 * (closed here), 0 when it stays open. */
static int serve(struct dc_httpd *d, size_t i)
{
	struct conn *c = &d->conns[i];
	size_t head_len, len;
	while ((len = complete_request(c, &head_len))) {
		char *method;
		record(d, c, len, head_len, &method);
		memmove(c->in.ptr, c->in.ptr + len, c->in.len - len);
		dc_buf_truncate(&c->in, c->in.len - len);
		c->continued = 0;
		struct dc_httpd_action a = next_action(d);
		if (a.delay_ms && !wait_ms(d, a.delay_ms))
			return 0;
		if (a.kind == DC_HTTPD_CLOSE || a.kind == DC_HTTPD_RESET) {
			close_conn(d, i, a.kind == DC_HTTPD_RESET);
			return 1;
		}
		if (respond(d, c->fd, &a, strcmp(method, "HEAD") == 0)) {
			close_conn(d, i, 0);
			return 1;
		}
	}
	return 0;
}

static void read_conn(struct dc_httpd *d, size_t i)
{
	char chunk[65536];
	ssize_t n = recv(d->conns[i].fd, chunk, sizeof(chunk), 0);
	if (n <= 0) {
		close_conn(d, i, 0);
		return;
	}
	dc_buf_put(&d->conns[i].in, chunk, (size_t)n);
	serve(d, i);
}

static void accept_conn(struct dc_httpd *d)
{
	int fd = accept(d->lfd, NULL, NULL);
	if (fd < 0)
		return;
	if (d->nconns == MAX_CONNS) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&d->lock);
	int id = ++d->accepted;
	pthread_mutex_unlock(&d->lock);
	struct conn *c = &d->conns[d->nconns++];
	c->fd = fd;
	c->id = id;
	c->continued = 0;
	dc_buf_init(&c->in, NO_CAP);
}

static int stopping(struct dc_httpd *d)
{
	pthread_mutex_lock(&d->lock);
	int s = d->stopping;
	pthread_mutex_unlock(&d->lock);
	return s;
}

static void *run(void *arg)
{
	struct dc_httpd *d = arg;
	while (!stopping(d)) {
		struct pollfd p[MAX_CONNS + 2] = { { d->wake[0], POLLIN, 0 }, { d->lfd, POLLIN, 0 } };
		size_t n = d->nconns;
		for (size_t i = 0; i < n; i++)
			p[i + 2] = (struct pollfd){ d->conns[i].fd, POLLIN, 0 };
		if (poll(p, n + 2, -1) < 0)
			continue;
		if (p[0].revents)
			break;
		/* Newest first, so that closing one (which moves the last
		 * into its slot) never skips another. */
		for (size_t i = n; i-- > 0;)
			if (p[i + 2].revents)
				read_conn(d, i);
		if (p[1].revents)
			accept_conn(d);
	}
	return NULL;
}

struct dc_httpd *dc_httpd_start(void)
{
	struct dc_httpd *d = dc_xcalloc(1, sizeof(*d));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	d->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->lfd < 0 || bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(d->lfd, 64) < 0 || getsockname(d->lfd, (struct sockaddr *)&sa, &salen) < 0)
		die("dc_httpd: listen");
	if (pipe(d->wake) < 0)
		die("dc_httpd: pipe");
	snprintf(d->authority, sizeof(d->authority), "127.0.0.1:%d", ntohs(sa.sin_port));
	pthread_mutex_init(&d->lock, NULL);
	if (pthread_create(&d->thread, NULL, run, d) != 0)
		die("dc_httpd: pthread_create");
	return d;
}

static void free_request(struct dc_httpd_request *r)
{
	free(r->method);
	free(r->path);
	dc_headers_dispose(&r->headers);
	free(r->body);
	free(r->raw);
	free(r);
}

void dc_httpd_stop(struct dc_httpd *d)
{
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_mutex_unlock(&d->lock);
	if (write(d->wake[1], "x", 1) < 0)
		die("dc_httpd: wake");
	pthread_join(d->thread, NULL);
	while (d->nconns)
		close_conn(d, 0, 0);
	close(d->lfd);
	close(d->wake[0]);
	close(d->wake[1]);
	for (size_t i = 0; i < d->script_n; i++) {
		free((char *)d->script[i].headers);
		free((char *)d->script[i].body);
	}
	free(d->script);
	for (size_t i = 0; i < d->nreqs; i++)
		free_request(d->reqs[i]);
	free(d->reqs);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
