/* The local target's HTTP server (cli/local/server.c), driven by libcurl
 * (through dc_http) for well-formed requests and by raw sockets for what
 * HTTP/1.1 (RFC 9112) says about pipelining, bad request lines and bodies
 * it does not take. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aws/http.h"
#include "harness.h"
#include "local/server.h"
#include "util/xalloc.h"

/* Answers "<method> <path> <query> <body>" with the request's X-Echo
 * header copied back. */
static void echo(void *arg, struct dc_server_request *req, struct dc_server_response *res)
{
	(*(int *)arg)++;
	const char *x = dc_headers_get(&req->headers, "X-Echo");
	if (x)
		dc_headers_add(&res->headers, "X-Echo", x);
	res->status = strcmp(req->path, "/missing") == 0 ? 404 : 200;
	dc_buf_printf(&res->body, "%s %s %s %s", req->method, req->path, req->query,
		      dc_buf_cstr(&req->body));
}

static char *url(struct dc_server *s, const char *path)
{
	return dc_xasprintf("http://127.0.0.1:%d%s", dc_server_port(s), path);
}

void test_local_server__curl_requests(void)
{
	int calls = 0;
	struct dc_server *s;
	check_int(dc_server_start(&s, 0, echo, &calls), 0);
	struct dc_http_options o = { 0 };
	struct dc_http *http = dc_http_new(&o);
	struct dc_http_request req;
	struct dc_http_response res;
	char *u = url(s, "/a/b?x=1&y=%20");
	dc_http_request_init(&req, "POST", u);
	dc_headers_add(&req.headers, "X-Echo", "hello");
	dc_buf_puts(&req.body, "payload");
	dc_http_response_init(&res);
	check_int(dc_http_send(http, &req, &res), 0);
	check_int(res.status, 200);
	check_str(dc_buf_cstr(&res.body), "POST /a/b x=1&y=%20 payload");
	check_str(dc_headers_get(&res.headers, "X-Echo"), "hello");
	/* The same connection again (keep-alive), then a 404. */
	dc_http_request_dispose(&req);
	free(u);
	u = url(s, "/missing");
	dc_http_request_init(&req, "GET", u);
	check_int(dc_http_send(http, &req, &res), 0);
	check_int(res.status, 404);
	check_str(dc_buf_cstr(&res.body), "GET /missing  ");
	check_int(calls, 2);
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	dc_http_free(http);
	free(u);
	dc_server_stop(s);
}

static int connect_to(struct dc_server *s)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(dc_server_port(s)) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check_int(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Send raw bytes and read until the server closes. */
static char *exchange(struct dc_server *s, const char *raw)
{
	int fd = connect_to(s);
	check(write(fd, raw, strlen(raw)) == (ssize_t)strlen(raw));
	struct dc_buf in = DC_BUF_INIT(DC_MAX_SMALL);
	char chunk[4096];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		dc_buf_put(&in, chunk, (size_t)r);
	close(fd);
	return dc_buf_take(&in);
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

void test_local_server__pipelined_requests_answered_in_order(void)
{
	int calls = 0;
	struct dc_server *s;
	check_int(dc_server_start(&s, 0, echo, &calls), 0);
	char *out = exchange(s, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
				"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
				"GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	check_int(count(out, "HTTP/1.1 200 OK\r\n"), 3);
	const char *one = strstr(out, "GET /one"), *two = strstr(out, "POST /two  abc");
	const char *three = strstr(out, "GET /three");
	check(one && two && three && one < two && two < three);
	check(strstr(out, "Connection: close\r\n") != NULL);
	check_int(calls, 3);
	free(out);
	dc_server_stop(s);
}

void test_local_server__refuses_what_it_does_not_take(void)
{
	int calls = 0;
	struct dc_server *s;
	check_int(dc_server_start(&s, 0, echo, &calls), 0);
	char *out = exchange(s, "NONSENSE\r\n\r\n");
	check(strncmp(out, "HTTP/1.1 400 ", 13) == 0);
	free(out);
	out = exchange(s, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
	check(strncmp(out, "HTTP/1.1 501 ", 13) == 0);
	free(out);
	out = exchange(s, "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n");
	check(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
	free(out);
	out = exchange(s, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n");
	check(strncmp(out, "HTTP/1.1 400 ", 13) == 0);
	free(out);
	/* HTTP/1.0 closes unless asked to keep the connection. */
	out = exchange(s, "GET /old HTTP/1.0\r\n\r\n");
	check(strstr(out, "Connection: close\r\n") != NULL && strstr(out, "GET /old") != NULL);
	free(out);
	check_int(calls, 1);
	dc_server_stop(s);
}

/* A handler blocked on something else: stop waits for it, and an idle
 * keep-alive connection does not hold stop up. */
void test_local_server__stop_with_an_idle_connection(void)
{
	int calls = 0;
	struct dc_server *s;
	check_int(dc_server_start(&s, 0, echo, &calls), 0);
	int fd = connect_to(s);
	const char *req = "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n";
	check(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	char buf[512];
	check(read(fd, buf, sizeof(buf)) > 0);
	int port = dc_server_port(s);
	dc_server_stop(s);
	/* The rest of the answer may still be in flight; then the end. */
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	check(n == 0);
	close(fd);
	/* The port is free again. */
	check_int(dc_server_start(&s, port, echo, &calls), 0);
	dc_server_stop(s);
}
