/* A tiny scripted HTTP/1.1 server for unit tests: a thread serving
 * http://127.0.0.1:<ephemeral port>. Each request it reads takes the next
 * action from a FIFO script (respond, hang up, reset, stall, truncate); it
 * records every request exactly as received and counts the TCP connections
 * it accepted. Connections are kept alive unless an action says otherwise.
 *
 *     struct dc_httpd *d = dc_httpd_start();
 *     dc_httpd_respond(d, 200, "Content-Type: application/json\r\n", "{}");
 *     dc_httpd_push(d, &(struct dc_httpd_action){ .kind = DC_HTTPD_RESET });
 *     char *url = dc_httpd_url(d, "/latest/api/token");   // free() it
 *     ... send requests ...
 *     check_int(dc_httpd_requests(d), 2);
 *     check_str(dc_httpd_request(d, 0)->path, "/latest/api/token");
 *     check_int(dc_httpd_connections(d), 1);
 *     dc_httpd_stop(d);
 *
 * A request that finds the script empty is answered 599 with the body
 * "dc_httpd: no action scripted", so a test that forgot one fails loudly.
 * Requests are read by Content-Length (chunked bodies are not understood);
 * "Expect: 100-continue" is answered. Every function is safe to call while
 * the server thread runs. Note that libcurl retries a request once by
 * itself when a REUSED connection is closed or reset before any answer
 * byte: script faults on a fresh connection (or on both tries). */
#ifndef DC_TEST_HTTPD_H
#define DC_TEST_HTTPD_H

#include <stddef.h>

#include "aws/headers.h"

enum dc_httpd_kind {
	DC_HTTPD_RESPOND,  /* status, headers, body; then keep alive unless close */
	DC_HTTPD_CLOSE,    /* close the connection without answering */
	DC_HTTPD_RESET,    /* abort the connection with a TCP RST (SO_LINGER 0) */
	DC_HTTPD_TRUNCATE  /* status and headers with a Content-Length 100 bytes
			    * larger than the body sent, then close */
};

struct dc_httpd_action {
	enum dc_httpd_kind kind;
	int status;          /* RESPOND, TRUNCATE; 0 means 200 */
	const char *headers; /* raw header lines, each ending in "\r\n", or NULL;
			      * Content-Length is added unless given here */
	const char *body;    /* or NULL */
	size_t body_len;     /* 0: strlen(body) */
	int delay_ms;        /* wait this long before acting (a stall) */
	int body_delay_ms;   /* RESPOND, TRUNCATE: send the head, wait this
			      * long, then the body (a stall mid-transfer) */
	int close;           /* RESPOND: add "Connection: close" and close */
};

struct dc_httpd_request {
	char *method;
	char *path;                /* the request target, byte for byte */
	struct dc_headers headers; /* in order, names as sent */
	char *body;                /* NUL-terminated; body_len bytes */
	size_t body_len;
	char *raw;                 /* the whole request as read: head and body */
	size_t raw_len;
	int connection;            /* which accepted connection it came on, from 1 */
};

struct dc_httpd;

/* Start a server; aborts the test run if it cannot listen. */
struct dc_httpd *dc_httpd_start(void);
/* Stop it (interrupting any stall), close every connection, free it all. */
void dc_httpd_stop(struct dc_httpd *d);

/* Append an action to the script; strings are copied. */
void dc_httpd_push(struct dc_httpd *d, const struct dc_httpd_action *a);
/* Shorthand for a RESPOND action. */
void dc_httpd_respond(struct dc_httpd *d, int status, const char *headers, const char *body);

/* "http://127.0.0.1:<port>" followed by path (may be ""); free() it. */
char *dc_httpd_url(struct dc_httpd *d, const char *path);
/* "127.0.0.1:<port>". Points into d. */
const char *dc_httpd_authority(struct dc_httpd *d);

/* How many requests arrived so far, and the i-th of them (valid until
 * dc_httpd_stop). */
size_t dc_httpd_requests(struct dc_httpd *d);
const struct dc_httpd_request *dc_httpd_request(struct dc_httpd *d, size_t i);
/* How many TCP connections were accepted so far. */
int dc_httpd_connections(struct dc_httpd *d);

#endif
