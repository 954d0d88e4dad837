/* What every resource type shares: names, tags, waiting and bounded retries
 * through AWS's eventual consistency. */
#include <ctype.h>
#include <errno.h>

#include "aws/sigv4.h"
#include "resources/resource.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define WAIT_FIRST_MS 200
#define WAIT_MAX_MS 5000

char *dc_resource_name(const struct dc_res_ctx *ctx, size_t max_len)
{
	char *raw = dc_xasprintf("%s-%s", ctx->stack, ctx->logical_id);
	size_t n = strlen(raw);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		raw[i] = isalnum(c) ? (char)tolower(c) : '-';
	}
	if (n <= max_len)
		return raw;
	/* Too long: keep the start and add a hash of the whole name, so two
	 * long names that share a start still differ. */
	char hash[65];
	dc_sha256_hex(hash, raw, n);
	char *cut = dc_xasprintf("%.*s-%.8s", (int)(max_len - 9), raw, hash);
	free(raw);
	return cut;
}

json_t *dc_resource_tags(const struct dc_res_ctx *ctx)
{
	return json_pack("{s:s, s:s}", "deployctl:stack", ctx->stack, "deployctl:arch", ctx->arch);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long next_delay(long ms)
{
	long next = ms * 3 / 2;
	return next > WAIT_MAX_MS ? WAIT_MAX_MS : next;
}

int dc_resource_wait(struct dc_res_ctx *ctx, const char *what, int limit_s,
		     int (*check)(struct dc_res_ctx *ctx, void *arg), void *arg)
{
	double start = now_s();
	long delay = WAIT_FIRST_MS;
	int said = 0;
	for (;;) {
		int rc = check(ctx, arg);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		double waited = now_s() - start;
		if (waited >= limit_s)
			return dc_error_set("gave up waiting for %s after %d s", what, limit_s);
		if (!said++)
			ctx->progress(ctx, "waiting for %s", what);
		sleep_ms(delay);
		delay = next_delay(delay);
	}
}

static int is_expected_error(const char *code, const char *needle)
{
	const struct dc_error *e = dc_error_last();
	if (strcmp(e->code, code) != 0)
		return 0;
	return !needle || strstr(e->message, needle) != NULL;
}

int dc_resource_retry_while(struct dc_res_ctx *ctx, const char *code, const char *needle,
			    const char *why, int limit_s,
			    int (*call)(struct dc_res_ctx *ctx, void *arg), void *arg)
{
	double start = now_s();
	long delay = WAIT_FIRST_MS * 5;
	int said = 0;
	for (;;) {
		int rc = call(ctx, arg);
		if (rc >= 0 || !is_expected_error(code, needle))
			return rc;
		if (now_s() - start >= limit_s) {
			dc_error_prefix("still failing after %d s of waiting for %s", limit_s, why);
			return rc;
		}
		if (!said++)
			ctx->progress(ctx, "waiting for %s", why);
		sleep_ms(delay);
		delay = next_delay(delay);
	}
}

int dc_resource_error_is(const char *code)
{
	return strcmp(dc_error_last()->code, code) == 0;
}

static json_t *node_text(xmlNodePtr n)
{
	xmlChar *t = xmlNodeGetContent(n);
	json_t *s = json_string(t ? (const char *)t : "");
	xmlFree(t);
	return s ? s : json_string("");
}

/* An element with children as {name: text}, a leaf as its text. Repeated
 * child names keep the last: the answers read this way have none. */
static json_t *node_value(xmlNodePtr n)
{
	json_t *obj = NULL;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!obj)
			obj = json_object();
		json_object_set_new(obj, (const char *)c->name, node_text(c));
	}
	return obj ? obj : node_text(n);
}

static int name_is(xmlNodePtr n, const char *name, size_t len)
{
	return n->type == XML_ELEMENT_NODE && strlen((const char *)n->name) == len &&
	       strncmp((const char *)n->name, name, len) == 0;
}

json_t *dc_resource_xml_list(xmlDocPtr doc, const char *path)
{
	json_t *out = json_array();
	xmlNodePtr parent = doc ? xmlDocGetRootElement(doc) : NULL;
	const char *slash;
	while (parent && (slash = strchr(path, '/'))) {
		xmlNodePtr c = parent->children;
		while (c && !name_is(c, path, (size_t)(slash - path)))
			c = c->next;
		parent = c;
		path = slash + 1;
	}
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (name_is(c, path, strlen(path)))
			json_array_append_new(out, node_value(c));
	return out;
}

int dc_resource_tagged(const struct dc_res_ctx *ctx, const json_t *tags)
{
	const char *key = "deployctl:stack";
	if (ctx->name_is_ours)
		return 1;
	if (json_is_object(tags)) {
		const char *v = json_string_value(json_object_get(tags, key));
		return v && strcmp(v, ctx->stack) == 0;
	}
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));
		if (k && v && strcmp(k, key) == 0)
			return strcmp(v, ctx->stack) == 0;
	}
	return 0;
}

int dc_resource_record_or_drop(struct dc_res_ctx *ctx, int rc, json_t **attrs)
{
	if (rc == 0)
		rc = ctx->record(ctx, *attrs);
	if (rc < 0) {
		json_decref(*attrs);
		*attrs = NULL;
	}
	return rc;
}
