/* An ordered list of HTTP header fields. Names keep the case they were
 * given; lookups ignore case. Duplicate names are allowed (HTTP allows them,
 * and SigV4 joins them). */
#ifndef DC_HEADERS_H
#define DC_HEADERS_H

#include <stddef.h>

struct dc_header {
	char *name;
	char *value;
};

struct dc_headers {
	struct dc_header *v;
	size_t n;
	size_t cap;
};

#define DC_HEADERS_INIT { NULL, 0, 0 }

void dc_headers_dispose(struct dc_headers *h);
/* Append a field (copies both strings). */
void dc_headers_add(struct dc_headers *h, const char *name, const char *value);
/* Replace every field of that name with one, or append it. */
void dc_headers_set(struct dc_headers *h, const char *name, const char *value);
/* Remove every field of that name. */
void dc_headers_remove(struct dc_headers *h, const char *name);
/* The value of the first field of that name, or NULL. */
const char *dc_headers_get(const struct dc_headers *h, const char *name);
/* Parse one "Name: value" line (as given to `api -H`). -1 if it has no colon
 * or an empty name. */
int dc_headers_add_line(struct dc_headers *h, const char *line);

#endif
