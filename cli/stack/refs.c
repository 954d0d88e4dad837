#include <ctype.h>

#include "stack/refs.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* One reference found in a string: text[start..end) is "${...}". */
struct ref {
	size_t start, end;
	char id[128];   /* "" for a param or built-in */
	char name[128];
};

static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int parse_body(struct ref *r, const char *body, size_t len, const char *where)
{
	const char *dot = memchr(body, '.', len);
	size_t idlen = dot ? (size_t)(dot - body) : 0;
	const char *name = dot ? dot + 1 : body;
	size_t namelen = len - (dot ? idlen + 1 : 0);
	int ok = namelen > 0 && namelen < sizeof(r->name) && idlen < sizeof(r->id) &&
		 (!dot || idlen > 0);
	for (size_t i = 0; ok && i < len; i++)
		ok = name_char(body[i]) || body + i == dot;
	if (!ok)
		return dc_error_set("%s: bad reference '${%.*s}': use ${resource.attr} or ${param}",
				    where, (int)len, body);
	snprintf(r->id, sizeof(r->id), "%.*s", (int)idlen, body);
	snprintf(r->name, sizeof(r->name), "%.*s", (int)namelen, name);
	return 0;
}

/* Find the next reference at or after `from`: 1 found, 0 none, -1 error. */
static int next_ref(struct ref *r, const char *s, size_t from, const char *where)
{
	const char *open = strstr(s + from, "${");
	if (!open)
		return 0;
	const char *close = strchr(open + 2, '}');
	if (!close)
		return dc_error_set("%s: unterminated reference in \"%s\"", where, s);
	r->start = (size_t)(open - s);
	r->end = (size_t)(close - s) + 1;
	return parse_body(r, open + 2, (size_t)(close - open - 2), where) < 0 ? -1 : 1;
}

static int visit_string(const char *s, const char *where, dc_ref_visit fn, void *arg)
{
	struct ref r;
	size_t at = 0;
	int found;
	while ((found = next_ref(&r, s, at, where)) > 0) {
		if (fn(arg, r.id[0] ? r.id : NULL, r.name, where) < 0)
			return -1;
		at = r.end;
	}
	return found;
}

int dc_refs_visit(const json_t *v, const char *where, dc_ref_visit fn, void *arg)
{
	if (json_is_string(v))
		return visit_string(json_string_value(v), where, fn, arg);
	int rc = 0;
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach((json_t *)v, key, child) {
			char *sub = dc_xasprintf("%s.%s", where, key);
			rc = dc_refs_visit(child, sub, fn, arg);
			free(sub);
			if (rc < 0)
				return rc;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child) {
			char *sub = dc_xasprintf("%s[%zu]", where, i);
			rc = dc_refs_visit(child, sub, fn, arg);
			free(sub);
			if (rc < 0)
				return rc;
		}
	}
	return rc;
}

static int append_value(struct dc_buf *b, const json_t *v)
{
	if (json_is_string(v))
		return dc_buf_puts(b, json_string_value(v));
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc = dc_buf_puts(b, text ? text : "");
	free(text);
	return rc;
}

static int lookup(json_t **out, const struct ref *r, dc_ref_lookup fn, void *arg)
{
	int rc = fn(arg, r->id[0] ? r->id : NULL, r->name, out);
	if (rc == DC_ENOTFOUND) {
		if (r->id[0])
			return dc_error_set("'%s' has no attribute '%s'", r->id, r->name);
		return dc_error_set("unknown param '%s'", r->name);
	}
	return rc;
}

static int resolve_string(json_t **out, const char *s, dc_ref_lookup fn, void *arg)
{
	struct ref r;
	json_t *val;
	int found = next_ref(&r, s, 0, "value");
	if (found <= 0) {
		*out = found < 0 ? NULL : json_string(s);
		return found;
	}
	/* Exactly one reference: keep the referenced value's JSON type. */
	if (r.start == 0 && s[r.end] == '\0') {
		if (lookup(&val, &r, fn, arg) < 0)
			return -1;
		*out = json_deep_copy(val);
		return 0;
	}
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	size_t at = 0;
	do {
		if (lookup(&val, &r, fn, arg) < 0 || dc_buf_put(&b, s + at, r.start - at) < 0 ||
		    append_value(&b, val) < 0) {
			dc_buf_dispose(&b);
			return -1;
		}
		at = r.end;
	} while ((found = next_ref(&r, s, at, "value")) > 0);
	dc_buf_puts(&b, s + at);
	*out = found < 0 ? NULL : json_string(dc_buf_cstr(&b));
	dc_buf_dispose(&b);
	return found < 0 ? -1 : 0;
}

int dc_refs_resolve(json_t **out, const json_t *v, dc_ref_lookup fn, void *arg)
{
	if (json_is_string(v))
		return resolve_string(out, json_string_value(v), fn, arg);
	if (!json_is_object(v) && !json_is_array(v)) {
		*out = json_deep_copy(v);
		return 0;
	}
	json_t *copy = json_is_object(v) ? json_object() : json_array();
	const char *key;
	json_t *child, *res;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child) {
			if (dc_refs_resolve(&res, child, fn, arg) < 0)
				goto fail;
			json_object_set_new(copy, key, res);
		}
	} else {
		json_array_foreach(v, i, child) {
			if (dc_refs_resolve(&res, child, fn, arg) < 0)
				goto fail;
			json_array_append_new(copy, res);
		}
	}
	*out = copy;
	return 0;
fail:
	json_decref(copy);
	return -1;
}
