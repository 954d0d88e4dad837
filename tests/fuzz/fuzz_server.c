/* The local target's HTTP server (gateway, Runtime API and control
 * channel all sit on it): the input is what a client sends on one
 * connection, served by dc_server_serve_fd from one end of a socketpair
 * (request line, headers, Content-Length bodies, keep-alive, pipelining,
 * the 400/413/501 answers) with a handler that reads every field. */
#include "fuzz.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "local/server.h"

static void handler(void *arg, struct dc_server_request *req, struct dc_server_response *res)
{
	size_t *served = arg;
	(*served)++;
	if (!req->method || !req->target || !req->path || !req->query || !req->version ||
	    req->path[0] != '/' || strncmp(req->version, "HTTP/1.", 7) != 0)
		__builtin_trap();
	if (strlen(req->path) > strlen(req->target) || req->body.len > DC_SERVER_MAX_BODY)
		__builtin_trap();
	for (size_t i = 0; i < req->headers.n; i++)
		if (!req->headers.v[i].name[0] || strpbrk(req->headers.v[i].name, "\r\n:"))
			__builtin_trap();
	const char *type = dc_headers_get(&req->headers, "Content-Type");
	dc_server_reply(res, req->body.len ? 201 : 200, type ? type : "text/plain", req->path);
	dc_buf_put(&res->body, req->body.ptr, req->body.len);
	dc_server_peer_gone(req);
}

/* The client's side: everything the server answers is read and dropped. */
static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[16384];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	pthread_t t;
	size_t served = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* The whole request goes in first (it fits the socket's buffer at
	 * our -max_len), then the client stops sending. */
	write_all(sv[0], data, size);
	shutdown(sv[0], SHUT_WR);
	if (pthread_create(&t, NULL, drain, &sv[0]) != 0)
		abort();
	dc_server_serve_fd(sv[1], "127.0.0.1", handler, &served);
	close(sv[1]);
	pthread_join(t, NULL);
	close(sv[0]);
	return 0;
}
