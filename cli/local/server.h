/* A small HTTP/1.1 server on the loopback interface, for the local target's
 * gateway, Lambda Runtime API and control channel: one thread per
 * connection (so a handler may block, as a long-polled
 * /runtime/invocation/next does), keep-alive, Content-Length bodies. It is
 * meant for one user's own processes on 127.0.0.1, not for the internet. */
#ifndef DC_SERVER_H
#define DC_SERVER_H

#include "aws/headers.h"
#include "util/buf.h"

/* The largest request body taken: API Gateway's payload limit. */
#define DC_SERVER_MAX_BODY ((size_t)10 << 20)

struct dc_server;

struct dc_server_request {
	const char *method;  /* "GET" */
	const char *target;  /* as sent: "/hits?a=1" */
	const char *path;    /* the target before '?', still percent-encoded */
	const char *query;   /* after '?', "" when none */
	const char *version; /* "HTTP/1.1" */
	struct dc_headers headers;
	struct dc_buf body;
	char peer[64];       /* "127.0.0.1" */
	int fd;              /* for dc_server_peer_gone only */
};

struct dc_server_response {
	int status;                /* 200 unless the handler says otherwise */
	struct dc_headers headers; /* Content-Length and Connection are added */
	struct dc_buf body;
};

/* Called on the connection's thread; fills res. May block. */
typedef void (*dc_server_handler)(void *arg, struct dc_server_request *req,
				 struct dc_server_response *res);

/* Listen on 127.0.0.1:port (0: a free port the kernel picks) and serve
 * each request with fn(arg, ...). */
int dc_server_start(struct dc_server **out, int port, dc_server_handler fn, void *arg);
/* The port listened on. */
int dc_server_port(const struct dc_server *h);
/* Stop: close the listener, shut down open connections and wait until
 * every connection thread has finished (handlers blocked elsewhere must be
 * woken by their owner first). NULL is a no-op. */
void dc_server_stop(struct dc_server *h);

/* Serve the requests of one connected socket with fn(arg, ...) until the
 * client closes it or the connection is to close: what each connection
 * thread does (for the fuzz target, which hands it one end of a
 * socketpair). fd is left open; peer is the client's address. */
void dc_server_serve_fd(int fd, const char *peer, dc_server_handler fn, void *arg);

/* 1 when the client has closed its side of the connection (a long poll
 * whose caller died), else 0. */
int dc_server_peer_gone(const struct dc_server_request *req);

/* A response's status line reason: "OK", "Not Found", ... */
const char *dc_server_reason(int status);

/* Set status and a plain-text or JSON body in one call. */
void dc_server_reply(struct dc_server_response *res, int status, const char *content_type,
		    const char *body);

#endif
