/* http.wait: no AWS resource, a readiness gate. Create polls a URL until it
 * answers 2xx (the app on a new instance: cloud-init installing it, k3s
 * pulling an image), bounded, with progress; `up` finishes only when the
 * app answers. "via" (host:port) connects there instead of to the URL's
 * host, sending the URL's Host header, as curl's --connect-to does: for a
 * load balancer or tunnel in front, and for tests, where the instance is
 * moto's and the app runs on loopback. */
#include "aws/http.h"
#include "resources/resource.h"
#include "util/error.h"
#include "util/xalloc.h"

#define WAIT_DEFAULT_S 600
#define ATTEMPT_TIMEOUT_MS 10000

struct probe {
	struct dc_http *http;
	char *target;   /* the URL requested: url, or url with via's address */
	char *host;     /* the Host header when via is used, else NULL */
	long status;    /* of the last answer; 0: none */
};

/* "http://host[:port]/path" -> its host[:port] part (*len) and path. */
static int split_url(const char *url, const char **host, size_t *len, const char **path)
{
	const char *p = strstr(url, "://");
	if (!p || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return dc_error_set("http.wait: '%s' is not an http(s) URL", url);
	*host = p + 3;
	*len = strcspn(*host, "/?#");
	*path = *host + *len;
	return *len ? 0 : dc_error_set("http.wait: '%s' has no host", url);
}

static int probe_init(struct probe *pr, const char *url, const char *via)
{
	const char *host = NULL, *path = NULL;
	size_t len = 0;
	struct dc_http_options opt = { .connect_timeout_ms = 5000,
				       .timeout_ms = ATTEMPT_TIMEOUT_MS,
				       .max_response = DC_MAX_SMALL };
	*pr = (struct probe){ 0 };
	if (split_url(url, &host, &len, &path) < 0)
		return -1;
	if (via && *via) {
		pr->target = dc_xasprintf("%.*s%s%s", (int)(host - url), url, via, path);
		pr->host = dc_xstrndup(host, len);
	} else {
		pr->target = dc_xstrdup(url);
	}
	pr->http = dc_http_new(&opt);
	return 0;
}

static void probe_dispose(struct probe *pr)
{
	dc_http_free(pr->http);
	free(pr->target);
	free(pr->host);
}

/* 1 on a 2xx answer; 0 for anything else: refused, timed out, 502 from a
 * proxy, 404 from a default page, all mean "not yet". */
static int answers(struct dc_res_ctx *ctx, void *arg)
{
	struct probe *pr = arg;
	struct dc_http_request req;
	struct dc_http_response res;
	dc_http_request_init(&req, "GET", pr->target);
	dc_http_response_init(&res);
	if (pr->host)
		dc_headers_add(&req.headers, "Host", pr->host);
	int rc = dc_http_send(pr->http, &req, &res);
	pr->status = rc == 0 ? res.status : 0;
	dc_http_request_dispose(&req);
	dc_http_response_dispose(&res);
	return pr->status >= 200 && pr->status < 300;
}

static int wait_ready(struct dc_res_ctx *ctx, const json_t *props, json_t **attrs)
{
	const char *url = json_string_value(json_object_get(props, "url"));
	const char *via = json_string_value(json_object_get(props, "via"));
	const json_t *limit = json_object_get(props, "timeout_s");
	struct probe pr;
	*attrs = NULL;
	if (!url)
		return dc_error_set("http.wait '%s': \"url\" is missing", ctx->logical_id);
	if (limit && (!json_is_integer(limit) || json_integer_value(limit) < 1))
		return dc_error_set("http.wait '%s': \"timeout_s\" must be a whole number of "
				    "seconds", ctx->logical_id);
	int limit_s = limit ? (int)json_integer_value(limit) : WAIT_DEFAULT_S;
	if (probe_init(&pr, url, via) < 0)
		return -1;
	char *what = dc_xasprintf("'%s' to answer", url);
	int rc = dc_resource_wait(ctx, what, limit_s, answers, &pr);
	if (rc < 0 && pr.status)
		dc_error_prefix("'%s' last answered HTTP %ld", url, pr.status);
	if (rc == 0)
		*attrs = json_pack("{s:s, s:I}", "id", url, "status", (json_int_t)pr.status);
	free(what);
	probe_dispose(&pr);
	return rc;
}

/* A new URL (a replaced instance) is waited for again. */
static int wait_update(struct dc_res_ctx *ctx, const json_t *old_props, const json_t *new_props,
		       json_t *attrs)
{
	json_t *now = NULL;
	int rc = wait_ready(ctx, new_props, &now);
	if (rc == 0)
		json_object_update(attrs, now);
	json_decref(now);
	return rc;
}

static int wait_forget(struct dc_res_ctx *ctx, const json_t *attrs)
{
	return 0;
}

const struct dc_resource_type dc_type_http_wait = {
	.name = "http.wait",
	.create = wait_ready,
	.update = wait_update,
	.delete = wait_forget,
};
