#include "aws/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <strings.h>

#include "aws/redact.h"
#include "util/error.h"
#include "util/xalloc.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 120000L
/* Less than 1 byte/s for this long is a stall, not a slow link. */
#define DEFAULT_STALL_TIMEOUT_MS 60000L
#define DEBUG_BODY_MAX 2048
#define NO_CAP (SIZE_MAX / 2)

struct dc_http {
	CURL *curl;
	size_t max_response;
	char *ca_bundle;
	FILE *debug;
	long connect_s, stall_s, total_s; /* the timeouts, for messages */
	char errbuf[CURL_ERROR_SIZE];
};

/* State of one dc_http_send, seen by the libcurl callbacks. */
struct transfer {
	struct dc_http *http;
	struct dc_http_response *res;
	int over_cap;
	struct dc_buf wire_out; /* request heads as curl sent them (debug only) */
	struct dc_buf wire_in;  /* response heads as received (debug only) */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Give OpenSSL's global state back at exit, so leak checkers see
	 * only real leaks. */
	if (global_rc == CURLE_OK)
		atexit(curl_global_cleanup);
}

void dc_http_request_init(struct dc_http_request *req, const char *method, const char *url)
{
	req->method = dc_xstrdup(method);
	req->url = dc_xstrdup(url);
	req->headers = (struct dc_headers)DC_HEADERS_INIT;
	/* No request cap is named; a request is at most as big as a response
	 * we would accept. */
	dc_buf_init(&req->body, DC_MAX_RESPONSE);
}

void dc_http_request_dispose(struct dc_http_request *req)
{
	free(req->method);
	free(req->url);
	req->method = req->url = NULL;
	dc_headers_dispose(&req->headers);
	dc_buf_dispose(&req->body);
}

void dc_http_response_init(struct dc_http_response *res)
{
	res->status = 0;
	res->headers = (struct dc_headers)DC_HEADERS_INIT;
	dc_buf_init(&res->body, DC_MAX_RESPONSE);
	res->timed_out = 0;
}

void dc_http_response_dispose(struct dc_http_response *res)
{
	dc_headers_dispose(&res->headers);
	dc_buf_dispose(&res->body);
	res->status = 0;
	res->timed_out = 0;
}

static void die(const char *what)
{
	fprintf(stderr, "deployctl: %s\n", what);
	abort();
}

/* Settings that hold for every request of this transport. */
static void setup_handle(struct dc_http *http, const struct dc_http_options *opt)
{
	CURL *c = http->curl;
	long connect_ms = opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms
						      : DEFAULT_CONNECT_TIMEOUT_MS;
	long total_ms = opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
	long stall_ms = opt->stall_timeout_ms > 0 ? opt->stall_timeout_ms
						  : DEFAULT_STALL_TIMEOUT_MS;
	http->connect_s = (connect_ms + 999) / 1000;
	http->stall_s = (stall_ms + 999) / 1000;
	http->total_s = (total_ms + 999) / 1000;
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, http->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	/* HTTP/1.1 as the SDKs speak it: the log shows what was signed. */
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (http->ca_bundle)
		curl_easy_setopt(c, CURLOPT_CAINFO, http->ca_bundle);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (stall_ms + 999) / 1000);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)http->max_response);
}

struct dc_http *dc_http_new(const struct dc_http_options *opt)
{
	static const struct dc_http_options defaults;
	if (!opt)
		opt = &defaults;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		die("cannot initialise libcurl");
	struct dc_http *http = dc_xcalloc(1, sizeof(*http));
	http->curl = curl_easy_init();
	if (!http->curl)
		die("cannot create a libcurl handle");
	http->max_response = opt->max_response ? opt->max_response : DC_MAX_RESPONSE;
	http->ca_bundle = opt->ca_bundle ? dc_xstrdup(opt->ca_bundle) : NULL;
	http->debug = opt->debug;
	setup_handle(http, opt);
	return http;
}

void dc_http_free(struct dc_http *http)
{
	if (!http)
		return;
	curl_easy_cleanup(http->curl);
	free(http->ca_bundle);
	free(http);
}

/* ---- response callbacks ---- */

static void trim_end(const char *s, size_t *n)
{
	while (*n && (s[*n - 1] == '\r' || s[*n - 1] == '\n' || s[*n - 1] == ' ' ||
		      s[*n - 1] == '\t'))
		(*n)--;
}

/* An obsolete folded line continues the previous field's value. */
static void fold_into_last(struct dc_headers *h, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (!h->n)
		return;
	struct dc_header *last = &h->v[h->n - 1];
	char *joined = dc_xasprintf("%s %.*s", last->value, (int)n, s);
	free(last->value);
	last->value = joined;
}

static void add_field(struct dc_headers *h, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	if (!colon || colon == s)
		return;
	char *name = dc_xstrndup(s, (size_t)(colon - s));
	const char *v = colon + 1;
	size_t vn = n - (size_t)(v - s);
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	char *value = dc_xstrndup(v, vn);
	dc_headers_add(h, name, value);
	free(name);
	free(value);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb, len = n;
	trim_end(data, &len);
	/* A new status line starts a new response (after a 1xx): only the
	 * last one's fields belong to the answer. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
		dc_headers_dispose(&t->res->headers);
	else if (len && (data[0] == ' ' || data[0] == '\t'))
		fold_into_last(&t->res->headers, data, len);
	else if (len)
		add_field(&t->res->headers, data, len);
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	if (n > t->http->max_response - t->res->body.len || dc_buf_put(&t->res->body, data, n) < 0) {
		t->over_cap = 1;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return n;
}

static int on_debug(CURL *c, curl_infotype type, char *data, size_t n, void *arg)
{
	struct transfer *t = arg;
	if (type == CURLINFO_HEADER_OUT)
		dc_buf_put(&t->wire_out, data, n);
	else if (type == CURLINFO_HEADER_IN)
		dc_buf_put(&t->wire_in, data, n);
	return 0;
}

/* ---- request ---- */

static int has_line_break(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* curl adds Expect, Accept and a form Content-Type on its own; "Name:"
 * with nothing after it tells curl to leave the field out, so only what the
 * caller set (and signed) goes out. */
static int build_headers(struct curl_slist **out, const struct dc_headers *h)
{
	static const char *const suppressed[] = { "Expect", "Accept", "Content-Type" };
	struct curl_slist *list = NULL;
	for (size_t i = 0; i < h->n; i++) {
		const struct dc_header *f = &h->v[i];
		if (!f->name[0] || strchr(f->name, ':') || has_line_break(f->name) ||
		    has_line_break(f->value)) {
			curl_slist_free_all(list);
			return dc_error_set("header '%s' is not a valid HTTP field", f->name);
		}
		/* "Name;" is curl's spelling of a field with an empty value. */
		char *line = f->value[0] ? dc_xasprintf("%s: %s", f->name, f->value)
					 : dc_xasprintf("%s;", f->name);
		list = curl_slist_append(list, line);
		free(line);
	}
	for (size_t i = 0; i < sizeof(suppressed) / sizeof(*suppressed); i++) {
		if (dc_headers_get(h, suppressed[i]))
			continue;
		char *line = dc_xasprintf("%s:", suppressed[i]);
		list = curl_slist_append(list, line);
		free(line);
	}
	*out = list;
	return 0;
}

static int method_has_body(const char *method)
{
	return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
}

/* The method goes out verbatim; a body goes out for any method that has
 * one (a GET or DELETE too), and POST/PUT/PATCH always say Content-Length. */
static void set_method(CURL *c, const struct dc_http_request *req)
{
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		return;
	}
	if (req->body.len || method_has_body(req->method)) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, dc_buf_cstr(&req->body));
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		return;
	}
	if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

/* ---- errors ---- */

/* "host[:port]" of url, without any userinfo, for messages. */
static char *authority_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "/?#");
	const char *at = memchr(p, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	return dc_xstrndup(p, n);
}

/* The most telling reason curl has: the system's ("Connection refused")
 * when a system call failed, else curl's own text. */
static void reason(struct dc_http *http, CURLcode rc, char *out, size_t size)
{
	long os_errno = 0;
	curl_easy_getinfo(http->curl, CURLINFO_OS_ERRNO, &os_errno);
	if (os_errno && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
			 rc == CURLE_SEND_ERROR)) {
		if (strerror_r((int)os_errno, out, size) == 0)
			return;
	}
	snprintf(out, size, "%s", http->errbuf[0] ? http->errbuf : curl_easy_strerror(rc));
}

static int network_failure(CURLcode rc, const char *host, const char *why)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		dc_error_set("cannot resolve host '%s': %s", host, why);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		dc_error_set("cannot resolve the proxy for '%s': %s", host, why);
		break;
	case CURLE_COULDNT_CONNECT:
		dc_error_set("cannot connect to '%s': %s", host, why);
		break;
	case CURLE_PARTIAL_FILE:
		dc_error_set("response from '%s' was cut short: %s", host, why);
		break;
	case CURLE_GOT_NOTHING:
		dc_error_set("'%s' closed the connection without answering", host);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		dc_error_set("TLS handshake with '%s' failed: %s", host, why);
		break;
	default:
		dc_error_set("connection to '%s' failed: %s", host, why);
		break;
	}
	return DC_ENETWORK;
}

/* In our words, not curl's: which limit ran out, and the option for it. */
static int timed_out(struct dc_http *http, const char *host)
{
	curl_off_t connected = 0;
	curl_easy_getinfo(http->curl, CURLINFO_CONNECT_TIME_T, &connected);
	if (!connected)
		dc_error_set("cannot connect to '%s': no answer in %ld s (--cli-connect-timeout)",
			     host, http->connect_s);
	else if (strstr(http->errbuf, "too slow"))
		dc_error_set("request to '%s' timed out: no answer in %ld s (--cli-read-timeout)",
			     host, http->stall_s);
	else
		dc_error_set("request to '%s' timed out: not done in %ld s", host, http->total_s);
	return DC_ENETWORK;
}

static int is_network_failure(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* curl says "unsupported protocol" both for a URL it cannot use and for
 * an answer that is not HTTP (HTTP/0.9); only the latter has a peer. */
static int answered_not_http(struct dc_http *http, CURLcode rc)
{
	char *ip = NULL;
	if (rc == CURLE_WEIRD_SERVER_REPLY)
		return 1;
	curl_easy_getinfo(http->curl, CURLINFO_PRIMARY_IP, &ip);
	return rc == CURLE_UNSUPPORTED_PROTOCOL && ip && *ip;
}

static int failure(struct dc_http *http, CURLcode rc, const struct dc_http_request *req,
		   const struct transfer *t)
{
	char why[CURL_ERROR_SIZE + 64];
	char *host = authority_of(req->url);
	int ret = -1;
	reason(http, rc, why, sizeof(why));
	if (t->over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
		dc_error_set("response from '%s' is larger than the %zu-byte limit", host,
			     http->max_response);
	} else if (rc == CURLE_SSL_CACERT_BADFILE) {
		dc_error_set("cannot use the CA bundle '%s' for '%s': %s",
			     http->ca_bundle ? http->ca_bundle : "(system)", host, why);
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM) {
		dc_error_set("TLS verification of '%s' failed: %s; set AWS_CA_BUNDLE if you "
			     "use a private CA", host, why);
	} else if (is_network_failure(rc)) {
		t->res->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		ret = t->res->timed_out ? timed_out(http, host) : network_failure(rc, host, why);
	} else if (answered_not_http(http, rc)) {
		dc_error_set("'%s' answered with something that is not HTTP; check the endpoint",
			     host);
	} else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
		char *shown = dc_redact_url(req->url);
		dc_error_set("bad URL '%s': %s", shown, why);
		free(shown);
	} else {
		dc_error_set("request to '%s' failed: %s", host, why);
	}
	free(host);
	return ret;
}

/* ---- wire log ---- */

static int is_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static void log_body(FILE *f, const char *prefix, const char *body, size_t len, int secret)
{
	size_t shown = len < DEBUG_BODY_MAX ? len : DEBUG_BODY_MAX;
	if (!len)
		return;
	if (secret) {
		fprintf(f, "%s[redacted: %zu bytes]\n", prefix, len);
		return;
	}
	if (!is_text(body, shown)) {
		fprintf(f, "%s[%zu bytes of binary data]\n", prefix, len);
		return;
	}
	/* Redacting the cut piece is safe: a secret cut off at the end has
	 * no closing quote or tag, and is redacted to the end. */
	char *clean = dc_redact_body(body, shown);
	fprintf(f, "%s%s\n", prefix, clean);
	if (shown < len)
		fprintf(f, "%s[... %zu more bytes]\n", prefix, len - shown);
	free(clean);
}

/* One line of a head: the request line (its target redacted like a URL),
 * the status line, or a field (its value redacted by name). */
static void log_head_line(FILE *f, const char *prefix, const char *line, size_t n)
{
	char *s = dc_xstrndup(line, n);
	const char *colon = strchr(s, ':');
	const char *sp = strchr(s, ' ');
	if (colon && (!sp || colon < sp)) {
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		char *name = dc_xstrndup(s, (size_t)(colon - s));
		char *value = dc_redact_header_value(name, v);
		fprintf(f, "%s%s: %s\n", prefix, name, value);
		free(name);
		free(value);
	} else if (sp) {
		const char *target = sp + 1;
		size_t tn = strcspn(target, " ");
		char *t = dc_xstrndup(target, tn);
		char *shown = dc_redact_url(t);
		fprintf(f, "%s%.*s %s%s\n", prefix, (int)(sp - s), s, shown, target + tn);
		free(t);
		free(shown);
	} else {
		fprintf(f, "%s%s\n", prefix, s);
	}
	free(s);
}

static void log_head(FILE *f, const char *prefix, const struct dc_buf *head)
{
	const char *p = dc_buf_cstr(head);
	while (*p) {
		size_t n = strcspn(p, "\r\n");
		if (n)
			log_head_line(f, prefix, p, n);
		p += n;
		p += strspn(p, "\r\n");
	}
}

static void log_exchange(struct dc_http *http, const struct dc_http_request *req,
			 const struct transfer *t, int rc)
{
	FILE *f = http->debug;
	char *url = dc_redact_url(req->url);
	/* The IMDS hands out its session token as a bare body. */
	int secret_reply = dc_headers_get(&req->headers, "X-aws-ec2-metadata-token-ttl-seconds") != NULL;
	fprintf(f, "* %s %s\n", req->method, url);
	log_head(f, "> ", &t->wire_out);
	log_body(f, "> ", req->body.ptr, req->body.len, 0);
	log_head(f, "< ", &t->wire_in);
	log_body(f, "< ", t->res->body.ptr, t->res->body.len, secret_reply);
	if (rc != 0)
		fprintf(f, "* error: %s\n", dc_error_last()->message);
	fflush(f);
	free(url);
}

/* ---- send ---- */

static void bind_transfer(struct dc_http *http, struct transfer *t)
{
	CURL *c = http->curl;
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_VERBOSE, http->debug ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, http->debug ? on_debug : NULL);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, t);
}

int dc_http_send(struct dc_http *http, const struct dc_http_request *req,
		 struct dc_http_response *res)
{
	struct transfer t = { http, res, 0, DC_BUF_INIT(NO_CAP), DC_BUF_INIT(NO_CAP) };
	struct curl_slist *headers = NULL;
	int ret = -1;
	res->status = 0;
	res->timed_out = 0;
	dc_headers_dispose(&res->headers);
	dc_buf_reset(&res->body);
	if (build_headers(&headers, &req->headers) < 0)
		goto done;
	http->errbuf[0] = '\0';
	curl_easy_setopt(http->curl, CURLOPT_URL, req->url);
	curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, headers);
	set_method(http->curl, req);
	bind_transfer(http, &t);
	CURLcode rc = curl_easy_perform(http->curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(http->curl, CURLINFO_RESPONSE_CODE, &res->status);
		ret = 0;
	} else {
		ret = failure(http, rc, req, &t);
	}
	if (http->debug)
		log_exchange(http, req, &t, ret);
	/* Leave no pointer into this call's memory in the handle. */
	curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, NULL);
done:
	curl_slist_free_all(headers);
	dc_buf_dispose(&t.wire_out);
	dc_buf_dispose(&t.wire_in);
	return ret;
}
