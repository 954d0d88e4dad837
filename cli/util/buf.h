/* dc_buf: the one growable byte buffer of deployctl (curl's dynbuf with a
 * hard cap, git's strbuf). The content is always NUL-terminated, so
 * dc_buf_cstr() can be handed to C string functions. A write that would pass
 * the cap fails with -1 and a dc_error, and leaves the buffer as it was. */
#ifndef DC_BUF_H
#define DC_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Named caps, so that a limit is a decision and not an accident. */
#define DC_MAX_RESPONSE ((size_t)64 << 20) /* an AWS API response body */
#define DC_MAX_FILE ((size_t)16 << 20)     /* a config, state or template file */
#define DC_MAX_SMALL ((size_t)64 << 10)    /* a header, a URL, a line */

struct dc_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
};

#define DC_BUF_INIT(limit) { NULL, 0, 0, (limit) }

void dc_buf_init(struct dc_buf *b, size_t max);
/* Free the memory; the buffer can be used again afterwards. */
void dc_buf_dispose(struct dc_buf *b);
/* Empty the buffer but keep its memory. */
void dc_buf_reset(struct dc_buf *b);

int dc_buf_put(struct dc_buf *b, const void *data, size_t n);
int dc_buf_puts(struct dc_buf *b, const char *s);
int dc_buf_putc(struct dc_buf *b, char c);
int dc_buf_printf(struct dc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dc_buf_vprintf(struct dc_buf *b, const char *fmt, va_list ap);
/* Shorten to n bytes (n <= len). */
void dc_buf_truncate(struct dc_buf *b, size_t n);

/* The content as a C string; "" for an empty buffer, never NULL. */
const char *dc_buf_cstr(const struct dc_buf *b);
/* Hand the content over to the caller (free() it) and empty the buffer. */
char *dc_buf_take(struct dc_buf *b);

/* Read a whole file into b (appending). -1 with a dc_error naming the path. */
int dc_buf_read_file(struct dc_buf *b, const char *path);

#endif
