/* The local API Gateway: one port per HTTP API. A request is matched to a
 * route as API Gateway does (the most specific path, then greedy
 * variables, then $default), turned into the payload format 2.0 event, run
 * by the route's function, and the function's answer turned back into HTTP
 * (a {statusCode, headers, cookies, body, isBase64Encoded} object, or any
 * other JSON as a 200 application/json body). */
#include <ctype.h>
#include <openssl/evp.h>
#include <strings.h>
#include <sys/time.h>

#include "local/local.h"
#include "local/supervisor.h"
#include "util/xalloc.h"

struct sv_api *sv_api_find(const char *id)
{
	for (struct sv_api *a = sv.apis; a; a = a->next)
		if (strcmp(a->id, id) == 0)
			return a;
	return NULL;
}


int sv_api_put(const char *id, int *port)
{
	struct sv_api *a = sv_api_find(id);
	if (!a) {
		a = dc_xcalloc(1, sizeof(*a));
		if (dc_server_start(&a->http, 0, sv_gateway_handler, a) < 0) {
			free(a);
			return -1;
		}
		a->id = dc_xstrdup(id);
		a->integrations = json_object();
		a->routes = json_object();
		a->next = sv.apis;
		sv.apis = a;
		sv.dirty = 1;
	}
	*port = dc_server_port(a->http);
	return 0;
}

void sv_api_delete(const char *id)
{
	struct sv_api *a = sv_api_find(id);
	if (!a)
		return;
	for (struct sv_api **p = &sv.apis; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
	pthread_mutex_unlock(&sv.mu);
	dc_server_stop(a->http);
	pthread_mutex_lock(&sv.mu);
	free(a->id);
	json_decref(a->integrations);
	json_decref(a->routes);
	free(a);
	sv.dirty = 1;
}

/* ---- routing ---- */

struct match {
	int score;           /* higher wins; -1: no match */
	json_t *params;      /* pathParameters, or NULL */
};

static size_t segment_len(const char *s)
{
	return strcspn(s, "/");
}

/* Match path against a route's path template; score by literal segments,
 * then by having no greedy variable. */
static int match_path(const char *tmpl, const char *path, json_t *params)
{
	int literal = 0;
	while (*tmpl == '/' && *path == '/') {
		tmpl++;
		path++;
		size_t tn = segment_len(tmpl), pn = segment_len(path);
		int var = tn >= 2 && tmpl[0] == '{' && tmpl[tn - 1] == '}';
		if (var && tmpl[tn - 2] == '+') {
			if (!*path)
				return -1;
			char *k = dc_xstrndup(tmpl + 1, tn - 3);
			json_object_set_new(params, k, json_string(path));
			free(k);
			return literal * 4;
		}
		if (var && pn > 0) {
			char *k = dc_xstrndup(tmpl + 1, tn - 2), *v = dc_xstrndup(path, pn);
			json_object_set_new(params, k, json_string(v));
			free(k);
			free(v);
		} else if (tn != pn || strncmp(tmpl, path, tn) != 0) {
			return -1;
		} else {
			literal++;
		}
		tmpl += tn;
		path += pn;
	}
	return *tmpl || *path ? -1 : literal * 4 + 2;
}

static void best_route(json_t *routes, const char *method, const char *path,
		       const char **key_out, const char **target_out, json_t **params_out)
{
	int best = -1;
	const char *rid;
	json_t *r;
	json_object_foreach(routes, rid, r) {
		const char *key = json_string_value(json_object_get(r, "route_key"));
		const char *sp = key ? strchr(key, ' ') : NULL;
		int score = -1;
		json_t *params = json_object();
		if (key && strcmp(key, "$default") == 0)
			score = 0;
		else if (sp && ((size_t)(sp - key) == strlen(method) &&
				strncmp(key, method, strlen(method)) == 0))
			score = (score = match_path(sp + 1, path, params)) < 0 ? -1 : score + 2;
		else if (sp && strncmp(key, "ANY ", 4) == 0)
			score = (score = match_path(sp + 1, path, params)) < 0 ? -1 : score + 1;
		if (score > best) {
			best = score;
			*key_out = key;
			*target_out = json_string_value(json_object_get(r, "target"));
			json_decref(*params_out);
			*params_out = json_incref(params);
		}
		json_decref(params);
	}
}

/* The function an integration calls: the name in its Lambda ARN. */
static char *function_of(const char *uri)
{
	const char *at = uri ? strstr(uri, ":function:") : NULL;
	if (!at)
		return NULL;
	at += strlen(":function:");
	return dc_xstrndup(at, strcspn(at, ":/"));
}

/* Under the lock: route key, function name and path parameters. */
static int route(struct sv_api *a, struct dc_server_request *req, char **key, char **fn,
		 json_t **params)
{
	const char *k = NULL, *target = NULL;
	*params = NULL;
	pthread_mutex_lock(&sv.mu);
	best_route(a->routes, req->method, req->path, &k, &target, params);
	const char *iid = target && strncmp(target, "integrations/", 13) == 0 ? target + 13 : NULL;
	json_t *integ = iid ? json_object_get(a->integrations, iid) : NULL;
	*key = k ? dc_xstrdup(k) : NULL;
	*fn = function_of(json_string_value(json_object_get(integ, "uri")));
	pthread_mutex_unlock(&sv.mu);
	return k ? 0 : -1;
}

/* ---- the event ---- */

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* Percent-decoding of a query component, '+' as space (malloc'ed). */
static char *query_decode(const char *s, size_t n)
{
	char *out = dc_xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
			 isxdigit((unsigned char)s[i + 2])) {
			*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 +
				      hexval((unsigned char)s[i + 2]));
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* Repeated names are joined with commas, as API Gateway does. */
static void add_joined(json_t *obj, const char *key, const char *value)
{
	const char *was = json_string_value(json_object_get(obj, key));
	if (!was) {
		json_object_set_new(obj, key, json_string(value));
		return;
	}
	char *both = dc_xasprintf("%s,%s", was, value);
	json_object_set_new(obj, key, json_string(both));
	free(both);
}

static json_t *query_params(const char *q)
{
	json_t *out = json_object();
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		size_t kn = eq ? (size_t)(eq - q) : n;
		if (kn > 0) {
			char *k = query_decode(q, kn);
			char *v = eq ? query_decode(eq + 1, n - kn - 1) : dc_xstrdup("");
			add_joined(out, k, v);
			free(k);
			free(v);
		}
		q += n + (q[n] == '&');
	}
	return out;
}

static void headers_and_cookies(const struct dc_headers *h, json_t *headers, json_t *cookies)
{
	for (size_t i = 0; i < h->n; i++) {
		char *name = dc_xstrdup(h->v[i].name);
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(name, "cookie") == 0) {
			char *copy = dc_xstrdup(h->v[i].value), *save;
			for (char *c = strtok_r(copy, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
				while (*c == ' ')
					c++;
				if (*c)
					json_array_append_new(cookies, json_string(c));
			}
			free(copy);
		} else {
			add_joined(headers, name, h->v[i].value);
		}
		free(name);
	}
}

static int is_text(const char *type)
{
	static const char *const text[] = { "text/", "application/json", "application/xml",
					    "application/javascript",
					    "application/x-www-form-urlencoded", NULL };
	if (!type)
		return 1;
	for (size_t i = 0; text[i]; i++)
		if (strncasecmp(type, text[i], strlen(text[i])) == 0)
			return 1;
	const char *semi = strchr(type, ';');
	size_t n = semi ? (size_t)(semi - type) : strlen(type);
	return (n > 5 && strncasecmp(type + n - 5, "+json", 5) == 0) ||
	       (n > 4 && strncasecmp(type + n - 4, "+xml", 4) == 0);
}

static char *base64(const char *data, size_t len)
{
	char *out = dc_xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	return out;
}

static void set_body(json_t *ev, const struct dc_server_request *req)
{
	if (req->body.len == 0) {
		json_object_set_new(ev, "isBase64Encoded", json_false());
		return;
	}
	/* json_stringn refuses what is not UTF-8: that goes as base64. */
	const char *type = dc_headers_get(&req->headers, "Content-Type");
	json_t *text = is_text(type) ? json_stringn(req->body.ptr, req->body.len) : NULL;
	int encoded = text == NULL;
	if (encoded) {
		char *b64 = base64(req->body.ptr, req->body.len);
		text = json_string(b64);
		free(b64);
	}
	json_object_set_new(ev, "isBase64Encoded", json_boolean(encoded));
	json_object_set_new(ev, "body", text);
}

static json_t *request_context(const struct sv_api *a, const struct dc_server_request *req,
			       const char *key, const char *request_id)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	time_t secs = tv.tv_sec;
	gmtime_r(&secs, &tm);
	char when[64];
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	const char *host = dc_headers_get(&req->headers, "Host");
	const char *ua = dc_headers_get(&req->headers, "User-Agent");
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%.*s", (int)strcspn(host ? host : "", ".:"),
		 host ? host : "");
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:s, "
			 "s:I}",
			 "accountId", DC_LOCAL_ACCOUNT, "apiId", a->id, "domainName",
			 host ? host : "127.0.0.1", "domainPrefix", prefix, "http", "method",
			 req->method, "path", req->path, "protocol", req->version, "sourceIp",
			 req->peer, "userAgent", ua ? ua : "", "requestId", request_id, "routeKey",
			 key, "stage", "$default", "time", when, "timeEpoch",
			 (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

static char *build_event(const struct sv_api *a, const struct dc_server_request *req,
			 const char *key, json_t *params, const char *request_id)
{
	json_t *headers = json_object(), *cookies = json_array();
	headers_and_cookies(&req->headers, headers, cookies);
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "version", "2.0", "routeKey",
			       key, "rawPath", req->path, "rawQueryString", req->query, "headers",
			       headers, "requestContext",
			       request_context(a, req, key, request_id));
	if (ev && json_array_size(cookies))
		json_object_set(ev, "cookies", cookies);
	json_decref(cookies);
	/* json_pack refuses a string that is not UTF-8 (a raw byte in the
	 * path, the query or the Host header): there is no event for that. */
	if (!ev)
		return NULL;
	if (*req->query)
		json_object_set_new(ev, "queryStringParameters", query_params(req->query));
	if (json_object_size(params))
		json_object_set(ev, "pathParameters", params);
	set_body(ev, req);
	char *text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return text;
}

/* ---- the answer ---- */

static int header_safe(const char *s)
{
	return !strpbrk(s, "\r\n");
}

static void add_header(struct dc_server_response *res, const char *name, json_t *v)
{
	char num[64];
	const char *s = json_string_value(v);
	if (json_is_integer(v))
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v)), s = num;
	else if (json_is_boolean(v))
		s = json_is_true(v) ? "true" : "false";
	if (s && header_safe(name) && header_safe(s) && *name)
		dc_headers_add(&res->headers, name, s);
}

static int decode_body(struct dc_server_response *res, const char *b64)
{
	size_t n = strlen(b64);
	unsigned char *out = dc_xmalloc(n / 4 * 3 + 3);
	int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len >= 0) {
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
			len--;
		dc_buf_put(&res->body, out, (size_t)len);
	}
	free(out);
	return len < 0 ? -1 : 0;
}

static int structured(struct dc_server_response *res, json_t *r)
{
	json_t *code = json_object_get(r, "statusCode");
	long status = json_is_integer(code) ? (long)json_integer_value(code)
		      : json_is_string(code) ? strtol(json_string_value(code), NULL, 10) : 0;
	if (status < 100 || status > 599)
		return -1;
	res->status = (int)status;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(r, "headers"), k, v)
		add_header(res, k, v);
	size_t i;
	json_array_foreach(json_object_get(r, "cookies"), i, v)
		add_header(res, "Set-Cookie", v);
	if (!dc_headers_get(&res->headers, "Content-Type"))
		dc_headers_add(&res->headers, "Content-Type", "application/json");
	const char *body = json_string_value(json_object_get(r, "body"));
	if (body && json_is_true(json_object_get(r, "isBase64Encoded")))
		return decode_body(res, body);
	if (body)
		dc_buf_put(&res->body, body, json_string_length(json_object_get(r, "body")));
	return 0;
}

static int answer(struct dc_server_response *res, const char *result)
{
	json_t *r = json_loads(result, JSON_DECODE_ANY, NULL);
	int rc = 0;
	if (!r)
		rc = -1;
	else if (json_is_object(r) && json_object_get(r, "statusCode"))
		rc = structured(res, r);
	else
		dc_server_reply(res, 200, "application/json", result);
	json_decref(r);
	return rc;
}

static void internal_error(struct dc_server_response *res)
{
	dc_headers_dispose(&res->headers);
	dc_buf_reset(&res->body);
	dc_server_reply(res, 500, "application/json", "{\"message\":\"Internal Server Error\"}");
}

void sv_gateway_handler(void *arg, struct dc_server_request *req, struct dc_server_response *res)
{
	struct sv_api *a = arg;
	char *key = NULL, *fn = NULL, *event = NULL, *result = NULL, *why = NULL, request_id[17];
	json_t *params = NULL;
	sv_random_hex(request_id, 8);
	if (route(a, req, &key, &fn, &params) < 0) {
		dc_server_reply(res, 404, "application/json", "{\"message\":\"Not Found\"}");
	} else if (!fn) {
		sv_log("api %s: route '%s' has no Lambda integration", a->id, key);
		internal_error(res);
	} else if (!(event = build_event(a, req, key, params, request_id))) {
		dc_server_reply(res, 400, "application/json", "{\"message\":\"Bad Request\"}");
	} else if (sv_fn_invoke(fn, event, &result, &why) < 0) {
		sv_log("api %s: %s %s: %s", a->id, req->method, req->path, why);
		internal_error(res);
	} else if (answer(res, result) < 0) {
		sv_log("api %s: %s %s: the function's answer is not a valid response", a->id,
		       req->method, req->path);
		internal_error(res);
	}
	dc_headers_set(&res->headers, "apigw-requestid", request_id);
	json_decref(params);
	free(key);
	free(fn);
	free(event);
	free(result);
	free(why);
}
