/* Allocation that cannot fail: on exhaustion the process prints one line and
 * aborts. A command-line tool has nothing better to do, and every caller
 * stays free of out-of-memory branches (git's xmalloc, redis's zmalloc). */
#ifndef DC_XALLOC_H
#define DC_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *dc_xmalloc(size_t n);
void *dc_xcalloc(size_t count, size_t size);
void *dc_xrealloc(void *p, size_t n);
char *dc_xstrdup(const char *s);
/* The first n bytes of s, or all of it when it is shorter (as strndup). */
char *dc_xstrndup(const char *s, size_t n);
/* A new string formatted like printf; the caller frees it. */
char *dc_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *dc_xvasprintf(const char *fmt, va_list ap);

/* Grow *ptr so that it holds at least `need` elements of `size` bytes. */
void dc_xgrow(void **ptr, size_t *cap, size_t need, size_t size);

#endif
