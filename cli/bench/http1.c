/* Framing rules after RFC 9112 section 6.3: no body for 1xx, 204 and 304;
 * chunked wins over Content-Length; neither means the body runs until the
 * server closes. Lines may end in CRLF or a bare LF (RFC 9112 2.2). */
#include <ctype.h>
#include <strings.h>

#include "bench/http1.h"
#include "util/error.h"

/* Past the largest chunk size accepted: keeps the arithmetic in range. */
#define MAX_CHUNK ((uint64_t)1 << 60)

struct head {
	int minor, status;
	int close, keep_alive, chunked, other_coding, has_length;
	uint64_t length;
};

void dc_http1_init(struct dc_http1 *out)
{
	memset(out, 0, sizeof(*out));
	out->state = DC_HTTP1_HEAD;
}

static const char *malformed(const char *what)
{
	dc_error_set("%s in answer", what);
	return NULL;
}

/* Just past the LF ending the line at p, or NULL if it is not all here. */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl + 1 : NULL;
}

/* The line's length without its CRLF or LF. */
static size_t line_len(const char *p, const char *next)
{
	size_t n = (size_t)(next - p) - 1;
	return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

/* Does the comma-separated list v[0, n) hold `token` (any case)? */
static int has_token(const char *v, size_t n, const char *token)
{
	size_t tn = strlen(token), i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t j = i;
		while (j < n && v[j] != ',' && v[j] != ' ' && v[j] != '\t')
			j++;
		if (j - i == tn && strncasecmp(v + i, token, tn) == 0)
			return 1;
		i = j;
	}
	return 0;
}

static int status_line(struct head *h, const char *p, size_t n)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]) ||
	    p[8] != ' ' || (n > 12 && p[12] != ' '))
		return dc_error_set("not an HTTP/1.x answer");
	h->minor = p[7] - '0';
	h->status = 0;
	for (int i = 9; i < 12; i++) {
		if (!isdigit((unsigned char)p[i]))
			return dc_error_set("not an HTTP/1.x answer");
		h->status = h->status * 10 + (p[i] - '0');
	}
	return 0;
}

static int content_length(struct head *h, const char *v, size_t n)
{
	uint64_t len = 0;
	if (n == 0)
		return dc_error_set("bad Content-Length in answer");
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]) || len >= MAX_CHUNK)
			return dc_error_set("bad Content-Length in answer");
		len = len * 10 + (uint64_t)(v[i] - '0');
	}
	if (h->has_length && h->length != len)
		return dc_error_set("two different Content-Lengths in answer");
	h->has_length = 1;
	h->length = len;
	return 0;
}

static int header_line(struct head *h, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return dc_error_set("bad header line in answer");
	size_t name = (size_t)(colon - p);
	const char *v = colon + 1, *e = p + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	size_t vn = (size_t)(e - v);
	if (name == 14 && strncasecmp(p, "content-length", 14) == 0)
		return content_length(h, v, vn);
	if (name == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
		h->chunked = has_token(v, vn, "chunked");
		h->other_coding = !h->chunked;
	} else if (name == 10 && strncasecmp(p, "connection", 10) == 0) {
		h->close |= has_token(v, vn, "close");
		h->keep_alive |= has_token(v, vn, "keep-alive");
	}
	return 0;
}

/* What follows the head: the state and whether the connection survives. */
static void frame(struct dc_http1 *a, const struct head *h)
{
	a->status = h->status;
	a->keep_alive = !h->close && (h->minor >= 1 || h->keep_alive);
	if (h->status == 204 || h->status == 304) {
		a->state = DC_HTTP1_DONE;
	} else if (h->chunked) {
		a->state = DC_HTTP1_CHUNK_SIZE;
	} else if (h->has_length && !h->other_coding) {
		a->left = h->length;
		a->state = h->length ? DC_HTTP1_BODY : DC_HTTP1_DONE;
	} else {
		a->state = DC_HTTP1_UNTIL_CLOSE;
		a->keep_alive = 0;
	}
}

/* A whole head, or s again when it is not all here yet. */
static const char *head(struct dc_http1 *a, const char *s, const char *end)
{
	const char *line = s, *next = line_end(s, end), *stop;
	for (stop = next; stop && line_len(line, stop) > 0; stop = line_end(line, end))
		line = stop;
	if (!stop)
		return s;
	struct head h = { 0 };
	if (status_line(&h, s, line_len(s, next)) < 0)
		return NULL;
	for (line = next; line < stop; line = next) {
		next = line_end(line, end);
		size_t n = line_len(line, next);
		if (n > 0 && header_line(&h, line, n) < 0)
			return NULL;
	}
	if (h.status == 101)
		return malformed("a switch of protocols");
	if (h.status >= 200)
		frame(a, &h);
	return stop;
}

static const char *chunk_size(struct dc_http1 *a, const char *s, const char *end)
{
	const char *next = line_end(s, end);
	if (!next)
		return s;
	uint64_t size = 0;
	const char *p = s;
	for (; isxdigit((unsigned char)*p) && size < MAX_CHUNK; p++)
		size = size * 16 + (uint64_t)(isdigit((unsigned char)*p) ? *p - '0'
									   : (tolower((unsigned char)*p) - 'a' + 10));
	if (p == s || *p == '\0' || !strchr(";\t \r\n", *p))
		return malformed("bad chunk size");
	a->left = size;
	a->state = size ? DC_HTTP1_CHUNK_DATA : DC_HTTP1_TRAILER;
	return next;
}

/* The line that ends a chunk's data (must be empty) or a trailer line. */
static const char *framing_line(struct dc_http1 *a, const char *s, const char *end)
{
	const char *next = line_end(s, end);
	if (!next)
		return s;
	size_t n = line_len(s, next);
	if (a->state == DC_HTTP1_CHUNK_END) {
		if (n != 0)
			return malformed("a chunk longer than its size");
		a->state = DC_HTTP1_CHUNK_SIZE;
	} else if (n == 0) {
		a->state = DC_HTTP1_DONE;
	}
	return next;
}

static const char *body(struct dc_http1 *a, const char *s, const char *end)
{
	uint64_t take = (uint64_t)(end - s);
	if (a->state == DC_HTTP1_UNTIL_CLOSE) {
		a->body += take;
		return end;
	}
	take = take < a->left ? take : a->left;
	a->left -= take;
	a->body += take;
	if (a->left == 0)
		a->state = a->state == DC_HTTP1_BODY ? DC_HTTP1_DONE : DC_HTTP1_CHUNK_END;
	return s + take;
}

static const char *step(struct dc_http1 *a, const char *s, const char *end)
{
	switch (a->state) {
	case DC_HTTP1_HEAD:
		return head(a, s, end);
	case DC_HTTP1_CHUNK_SIZE:
		return chunk_size(a, s, end);
	case DC_HTTP1_CHUNK_END:
	case DC_HTTP1_TRAILER:
		return framing_line(a, s, end);
	case DC_HTTP1_DONE:
		return s;
	default:
		return body(a, s, end);
	}
}

long dc_http1_parse(struct dc_http1 *a, const char *p, size_t n)
{
	const char *s = p, *end = p + n;
	while (s < end && a->state != DC_HTTP1_DONE) {
		const char *next = step(a, s, end);
		if (!next)
			return -1;
		if (next == s)
			break;
		s = next;
	}
	return (long)(s - p);
}

int dc_http1_eof(struct dc_http1 *a)
{
	if (a->state == DC_HTTP1_UNTIL_CLOSE)
		a->state = DC_HTTP1_DONE;
	return a->state == DC_HTTP1_DONE ? 0 : -1;
}
