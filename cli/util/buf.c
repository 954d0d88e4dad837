#include "util/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/xalloc.h"

void dc_buf_init(struct dc_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void dc_buf_dispose(struct dc_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}

void dc_buf_reset(struct dc_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static int reserve(struct dc_buf *b, size_t extra)
{
	if (extra > b->max || b->len > b->max - extra)
		return dc_error_set("data larger than the %zu-byte limit", b->max);
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t n = b->cap ? b->cap : 64;
	while (n < need)
		n *= 2;
	b->ptr = dc_xrealloc(b->ptr, n);
	b->cap = n;
	return 0;
}

int dc_buf_put(struct dc_buf *b, const void *data, size_t n)
{
	if (reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int dc_buf_puts(struct dc_buf *b, const char *s)
{
	return dc_buf_put(b, s, strlen(s));
}

int dc_buf_putc(struct dc_buf *b, char c)
{
	return dc_buf_put(b, &c, 1);
}

int dc_buf_vprintf(struct dc_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return dc_error_set("cannot format '%s'", fmt);
	if (reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int dc_buf_printf(struct dc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = dc_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void dc_buf_truncate(struct dc_buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->ptr[n] = '\0';
	}
}

const char *dc_buf_cstr(const struct dc_buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *dc_buf_take(struct dc_buf *b)
{
	char *p = b->ptr ? b->ptr : dc_xstrdup("");
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int dc_buf_read_file(struct dc_buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return dc_error_set("cannot read '%s': %s", path, strerror(errno));
	char chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (dc_buf_put(b, chunk, n) < 0) {
			rc = dc_error_set("'%s' is larger than the %zu-byte limit", path, b->max);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = dc_error_set("cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	return rc;
}
