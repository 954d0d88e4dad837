#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t n)
{
	fprintf(stderr, "deployctl: out of memory allocating %zu bytes\n", n);
	abort();
}

void *dc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *dc_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		die_oom(count * size);
	return p;
}

void *dc_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom(n);
	return q;
}

char *dc_xstrndup(const char *s, size_t n)
{
	/* As strndup: callers cap a C string ("at most 500 bytes of it"). */
	n = strnlen(s, n);
	char *p = dc_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dc_xstrdup(const char *s)
{
	return dc_xstrndup(s, strlen(s));
}

char *dc_xvasprintf(const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		die_oom(0);
	char *p = dc_xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *dc_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = dc_xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void dc_xgrow(void **ptr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 8;
	while (n < need)
		n *= 2;
	*ptr = dc_xrealloc(*ptr, n * size);
	*cap = n;
}
