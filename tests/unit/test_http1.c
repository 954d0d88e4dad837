/* The bench's HTTP/1.1 answer parser on canned answers (the chunked one is
 * RFC 9112's and Wikipedia's example), each fed whole and then a byte at a
 * time as a caller keeping the unconsumed rest would, since servers split
 * answers anywhere. */
#include <string.h>

#include "bench/http1.h"
#include "harness.h"

struct outcome {
	long used; /* bytes consumed in all; -1 on a parse error */
	struct dc_http1 a;
};

/* Feed `text` in pieces of `step` bytes through a buffer, as bench does. */
static struct outcome feed(const char *text, size_t step)
{
	struct outcome o = { 0 };
	char buf[4096];
	size_t have = 0, n = strlen(text), off = 0;
	dc_http1_init(&o.a);
	while (off < n && o.a.state != DC_HTTP1_DONE) {
		size_t take = n - off < step ? n - off : step;
		memcpy(buf + have, text + off, take);
		have += take;
		off += take;
		long used = dc_http1_parse(&o.a, buf, have);
		if (used < 0) {
			o.used = -1;
			return o;
		}
		memmove(buf, buf + used, have - (size_t)used);
		have -= (size_t)used;
		o.used += used;
	}
	return o;
}

/* Whole and byte by byte must agree. */
static struct outcome both(const char *text)
{
	struct outcome whole = feed(text, strlen(text)), bytes = feed(text, 1);
	check_int(bytes.used, whole.used);
	check_int(bytes.a.state, whole.a.state);
	check_int(bytes.a.status, whole.a.status);
	check_int(bytes.a.body, whole.a.body);
	check_int(bytes.a.keep_alive, whole.a.keep_alive);
	return whole;
}

void test_http1__content_length(void)
{
	const char *t = "HTTP/1.1 200 OK\r\ncontent-LENGTH: 2\r\nServer: x\r\n\r\n42";
	struct outcome o = both(t);
	check_int(o.used, strlen(t));
	check_int(o.a.state, DC_HTTP1_DONE);
	check_int(o.a.status, 200);
	check_int(o.a.body, 2);
	check_int(o.a.keep_alive, 1);
}

void test_http1__stops_at_the_end_of_the_answer(void)
{
	const char *first = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnot";
	char two[256];
	snprintf(two, sizeof(two), "%sHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", first);
	struct outcome o = both(two);
	check_int(o.used, strlen(first));
	check_int(o.a.status, 404);
	check_int(o.a.state, DC_HTTP1_DONE);
}

void test_http1__chunked_with_extensions_and_trailers(void)
{
	const char *t = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n"
			"4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
			"0\r\nExpires: never\r\n\r\n";
	struct outcome o = both(t);
	check_int(o.used, strlen(t));
	check_int(o.a.state, DC_HTTP1_DONE);
	check_int(o.a.body, 23);
	check_int(o.a.keep_alive, 1);
}

void test_http1__connection_close_and_http_1_0(void)
{
	check_int(both("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			  .a.keep_alive, 0);
	check_int(both("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx").a.keep_alive, 0);
	struct outcome ka = both("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
				 "Content-Length: 1\r\n\r\nx");
	check_int(ka.a.keep_alive, 1);
	check_int(ka.a.state, DC_HTTP1_DONE);
}

void test_http1__body_until_close(void)
{
	struct outcome o = both("HTTP/1.0 200 OK\r\nServer: SimpleHTTP\r\n\r\nabc");
	check_int(o.a.state, DC_HTTP1_UNTIL_CLOSE);
	check_int(o.a.body, 3);
	check_int(o.a.keep_alive, 0);
	check_int(dc_http1_eof(&o.a), 0);
	check_int(o.a.state, DC_HTTP1_DONE);
}

void test_http1__truncated_answers_are_not_complete(void)
{
	struct outcome o = both("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	check_int(o.a.state, DC_HTTP1_BODY);
	check_int(dc_http1_eof(&o.a), -1);
	o = both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi");
	check_int(dc_http1_eof(&o.a), -1);
	o = both("HTTP/1.1 200 OK\r\nContent-Le");
	check_int(o.used, 0);
	check_int(dc_http1_eof(&o.a), -1);
}

void test_http1__interim_and_bodiless_answers(void)
{
	struct outcome o = both("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
				"Content-Length: 2\r\n\r\nok");
	check_int(o.a.status, 201);
	check_int(o.a.body, 2);
	check_int(o.a.state, DC_HTTP1_DONE);
	o = both("HTTP/1.1 204 No Content\r\n\r\n");
	check_int(o.a.state, DC_HTTP1_DONE);
	check_int(o.a.keep_alive, 1);
	o = both("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n");
	check_int(o.a.state, DC_HTTP1_DONE);
	check_int(o.a.body, 0);
}

void test_http1__bare_lf_lines(void)
{
	struct outcome o = both("HTTP/1.1 503 Busy\nContent-Length: 1\n\nx");
	check_int(o.a.status, 503);
	check_int(o.a.state, DC_HTTP1_DONE);
}

void test_http1__malformed_answers(void)
{
	check_int(both("HTTP/2 200\r\n\r\n").used, -1);
	check_int(both("SSH-2.0-OpenSSH_9.2\r\n\r\n").used, -1);
	check_int(both("HTTP/1.1 2x0 OK\r\n\r\n").used, -1);
	check_int(both("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n").used, -1);
	check_int(both("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").used,
		  -1);
	check_int(both("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").used, -1);
	check_int(both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").used, -1);
	check_int(both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n").used,
		  -1);
}
