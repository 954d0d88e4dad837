/* One struct dc_error from the error answer of any protocol. */
#include <ctype.h>
#include <strings.h>

#include "aws/protocol.h"
#include "util/error.h"
#include "util/xalloc.h"

struct parsed_error {
	char *code;
	char *message;
	char *request_id;
};

static void parsed_error_dispose(struct parsed_error *e)
{
	free(e->code);
	free(e->message);
	free(e->request_id);
}

/* The first of several XML paths that is present. */
static char *xml_first(xmlDocPtr doc, const char *const *paths)
{
	for (; *paths; paths++) {
		char *v = dc_xml_text(doc, *paths);
		if (v)
			return v;
	}
	return NULL;
}

/* query: <ErrorResponse><Error><Code>; ec2: <Response><Errors><Error><Code>;
 * S3: <Error><Code>. */
static void parse_xml_error(struct parsed_error *e, const struct dc_buf *body)
{
	static const char *const codes[] = { "Error/Code", "Errors/Error/Code", "Code", NULL };
	static const char *const msgs[] = { "Error/Message", "Errors/Error/Message", "Message",
					    NULL };
	static const char *const ids[] = { "RequestId", "RequestID", NULL };
	xmlDocPtr doc;
	if (body->len == 0 || dc_xml_parse(&doc, body->ptr, body->len) < 0)
		return;
	e->code = xml_first(doc, codes);
	e->message = xml_first(doc, msgs);
	e->request_id = xml_first(doc, ids);
	xmlFreeDoc(doc);
}

static const char *first_string(json_t *obj, const char *a, const char *b)
{
	const char *v = json_string_value(json_object_get(obj, a));
	return v ? v : json_string_value(json_object_get(obj, b));
}

/* JSON and REST-JSON: {"__type": "ns#Code", "message": ...}, or the code in
 * the X-Amzn-ErrorType header ("Code:http://..."). */
static void parse_json_error(struct parsed_error *e, const struct dc_http_response *res)
{
	json_t *root = json_loadb(dc_buf_cstr(&res->body), res->body.len, 0, NULL);
	const char *type = dc_headers_get(&res->headers, "x-amzn-errortype");
	if (root && !type)
		type = first_string(root, "__type", "code");
	if (root && !type)
		type = json_string_value(json_object_get(root, "Code"));
	if (type) {
		const char *hash = strrchr(type, '#');
		const char *start = hash ? hash + 1 : type;
		e->code = dc_xstrndup(start, strcspn(start, ":"));
	}
	const char *msg = root ? first_string(root, "message", "Message") : NULL;
	if (msg)
		e->message = dc_xstrdup(msg);
	json_decref(root);
}

static int looks_like_not_found(long status, const char *code)
{
	static const char *const suffixes[] = { "NotFound", "NotFoundException", "NoSuchEntity",
						"NoSuchBucket", "NoSuchKey", NULL };
	if (status == 404)
		return 1;
	if (!code)
		return 0;
	size_t n = strlen(code);
	for (const char *const *s = suffixes; *s; s++) {
		size_t m = strlen(*s);
		if (n >= m && strcmp(code + n - m, *s) == 0)
			return 1;
	}
	return 0;
}

static const char *request_id_header(const struct dc_http_response *res)
{
	static const char *const names[] = { "x-amzn-requestid", "x-amz-request-id",
					     "x-amzn-request-id", NULL };
	for (const char *const *n = names; *n; n++) {
		const char *v = dc_headers_get(&res->headers, *n);
		if (v)
			return v;
	}
	return NULL;
}

/* strcasestr is a GNU extension; the build is POSIX. */
static const char *find_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* A proxy's or captive portal's HTML page: its title says more than its
 * first bytes of markup. */
static char *describe_html(const struct dc_http_response *res)
{
	const char *type = dc_headers_get(&res->headers, "content-type");
	const char *body = dc_buf_cstr(&res->body);
	if (!(type && strncasecmp(type, "text/html", 9) == 0) && !find_nocase(body, "<html"))
		return NULL;
	const char *t = find_nocase(body, "<title>");
	const char *end = t ? find_nocase(t, "</title>") : NULL;
	if (!end || end - t - 7 > 80)
		return dc_xstrdup("an HTML page, not an AWS error: check the endpoint or proxy");
	char *title = dc_xstrndup(t + 7, (size_t)(end - t - 7));
	for (char *p = title; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = ' ';
	char *msg = dc_xasprintf("an HTML page ('%s'), not an AWS error: check the endpoint or "
				 "proxy", title);
	free(title);
	return msg;
}

/* A body that is no AWS error at all (a proxy's HTML page, say) still gets
 * a useful line: its status and the start of its text. */
static char *describe_foreign_body(const struct dc_http_response *res)
{
	if (res->body.len == 0)
		return NULL;
	char *html = describe_html(res);
	if (html)
		return html;
	size_t n = res->body.len < 120 ? res->body.len : 120;
	char *s = dc_xstrndup(res->body.ptr, n);
	for (char *p = s; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = ' ';
	char *msg = dc_xasprintf("unexpected answer, not an AWS error: \"%s%s\"", s,
				 res->body.len > n ? "..." : "");
	free(s);
	return msg;
}

int dc_protocol_error(const struct dc_service *svc, const struct dc_http_response *res,
		      char *code, size_t code_size)
{
	struct parsed_error e = { 0 };
	if (svc->protocol == DC_PROTO_JSON || svc->protocol == DC_PROTO_REST_JSON)
		parse_json_error(&e, res);
	else
		parse_xml_error(&e, &res->body);

	if (!e.code && res->status == 404)
		e.code = dc_xstrdup("NotFound");
	if (!e.code && !e.message)
		e.message = describe_foreign_body(res);
	const char *rid = e.request_id ? e.request_id : request_id_header(res);

	dc_error_set_aws(res->status, e.code, rid, e.message);
	if (code)
		snprintf(code, code_size, "%s", e.code ? e.code : "");
	int rc = looks_like_not_found(res->status, e.code) ? DC_ENOTFOUND : -1;
	parsed_error_dispose(&e);
	return rc;
}
