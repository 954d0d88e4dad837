/* The answer side of one HTTP/1.1 exchange, for bench: enough of RFC 9112
 * to know where an answer ends (Content-Length, chunked, or the server
 * closing), its status, and whether the connection can carry the next
 * request. Interim 1xx answers are skipped. Headers are not kept and the
 * body is only counted, so the state is a few words per connection.
 *
 *     struct dc_http1 a;
 *     dc_http1_init(&a);
 *     ... recv into buf (have bytes) ...
 *     long used = dc_http1_parse(&a, buf, have);  // then keep buf[used..have)
 *     if (a.state == DC_HTTP1_DONE) ...
 *
 * The parser takes whole units only: a head, a chunk-size line or a trailer
 * line is consumed once it is complete in the buffer; body bytes as they
 * come. So the caller's buffer must hold the largest head it accepts. */
#ifndef DC_BENCH_HTTP1_H
#define DC_BENCH_HTTP1_H

#include <stddef.h>
#include <stdint.h>

enum dc_http1_state {
	DC_HTTP1_HEAD,        /* waiting for the status line and headers */
	DC_HTTP1_BODY,        /* Content-Length bytes still to come */
	DC_HTTP1_CHUNK_SIZE,  /* a chunk-size line */
	DC_HTTP1_CHUNK_DATA,  /* chunk bytes */
	DC_HTTP1_CHUNK_END,   /* the CRLF after a chunk */
	DC_HTTP1_TRAILER,     /* trailer lines after the last chunk */
	DC_HTTP1_UNTIL_CLOSE, /* a body that ends when the server closes */
	DC_HTTP1_DONE
};

struct dc_http1 {
	enum dc_http1_state state;
	int status;     /* of the final (non-1xx) answer; 0 until its head is read */
	int keep_alive; /* the connection may carry another request after this */
	uint64_t left;  /* body or chunk bytes still to come */
	uint64_t body;  /* body bytes seen (chunk framing excluded) */
};

void dc_http1_init(struct dc_http1 *out);

/* Consume what can be consumed of p[0, n): returns the number of bytes
 * used (the caller keeps the rest and appends what it reads next), or -1
 * with a message when the answer is not HTTP/1.x. Stops at the end of the
 * answer (state DONE). */
long dc_http1_parse(struct dc_http1 *a, const char *p, size_t n);

/* The server closed the connection: 0 if that completes the answer (a body
 * that runs until close; state becomes DONE), else -1. */
int dc_http1_eof(struct dc_http1 *a);

#endif
