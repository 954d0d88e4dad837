#include "aws/headers.h"

#include <strings.h>

#include "util/error.h"
#include "util/xalloc.h"

void dc_headers_dispose(struct dc_headers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

void dc_headers_add(struct dc_headers *h, const char *name, const char *value)
{
	dc_xgrow((void **)&h->v, &h->cap, h->n + 1, sizeof(*h->v));
	h->v[h->n].name = dc_xstrdup(name);
	h->v[h->n].value = dc_xstrdup(value);
	h->n++;
}

void dc_headers_remove(struct dc_headers *h, const char *name)
{
	size_t keep = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) == 0) {
			free(h->v[i].name);
			free(h->v[i].value);
			continue;
		}
		h->v[keep++] = h->v[i];
	}
	h->n = keep;
}

void dc_headers_set(struct dc_headers *h, const char *name, const char *value)
{
	dc_headers_remove(h, name);
	dc_headers_add(h, name, value);
}

const char *dc_headers_get(const struct dc_headers *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return h->v[i].value;
	return NULL;
}

int dc_headers_add_line(struct dc_headers *h, const char *line)
{
	const char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return dc_error_set("header '%s' is not of the form 'Name: value'", line);
	char *name = dc_xstrndup(line, (size_t)(colon - line));
	const char *value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	dc_headers_add(h, name, value);
	free(name);
	return 0;
}
