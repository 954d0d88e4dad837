#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "util/error.h"
#include "util/xalloc.h"

/* ---- Requests (http.c belongs to another module; these stand in) ------ */

static void request_init(struct dc_http_request *r, const char *method, const char *url)
{
	r->method = dc_xstrdup(method);
	r->url = dc_xstrdup(url);
	r->headers = (struct dc_headers)DC_HEADERS_INIT;
	dc_buf_init(&r->body, DC_MAX_FILE);
}

static void request_dispose(struct dc_http_request *r)
{
	free(r->method);
	free(r->url);
	dc_headers_dispose(&r->headers);
	dc_buf_dispose(&r->body);
}

/* ---- The aws-c-auth test suite ---------------------------------------- */

struct suite_case {
	char name[128];
	char dir[1024];
	struct dc_credentials creds;
	struct dc_sigv4_params params;
	struct dc_http_request req;
	char *target; /* request target of request.txt */
};

static char *read_text(const char *dir, const char *file)
{
	char path[1200];
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (dc_buf_read_file(&b, path) < 0) {
		dc_test_fail(__FILE__, __LINE__, "%s", dc_error_last()->message);
		dc_buf_dispose(&b);
		return NULL;
	}
	return dc_buf_take(&b);
}

/* The expected files end with or without a newline; compare without it. */
static char *read_expected(const char *dir, const char *file)
{
	char *s = read_text(dir, file);
	size_t n = s ? strlen(s) : 0;
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* One header line; a line that starts with white space continues the value
 * before it (obs-fold), which is kept with its line break. */
static void parse_header_line(struct dc_headers *h, const char *line)
{
	if ((line[0] == ' ' || line[0] == '\t') && h->n > 0) {
		char *joined = dc_xasprintf("%s\n%s", h->v[h->n - 1].value, line);
		free(h->v[h->n - 1].value);
		h->v[h->n - 1].value = joined;
		return;
	}
	const char *colon = strchr(line, ':');
	if (!colon) {
		dc_test_fail(__FILE__, __LINE__, "header line '%s' has no colon", line);
		return;
	}
	char *name = dc_xstrndup(line, (size_t)(colon - line));
	dc_headers_add(h, name, colon + 1);
	free(name);
}

/* "METHOD target HTTP/1.1", headers, then a blank line and the body. The
 * target may hold spaces ("/example space/"), so the version is the last
 * word. Returns the method and target through the out parameters. */
static int parse_http_text(char **method, char **target, struct dc_headers *h,
			   struct dc_buf *body, const char *text)
{
	const char *eol = strchr(text, '\n');
	size_t first_len = eol ? (size_t)(eol - text) : strlen(text);
	char *first = dc_xstrndup(text, first_len);
	char *sp1 = strchr(first, ' '), *sp2 = strrchr(first, ' ');
	if (!sp1 || sp1 == sp2) {
		free(first);
		return -1;
	}
	*method = dc_xstrndup(first, (size_t)(sp1 - first));
	*target = dc_xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	free(first);
	const char *p = eol ? eol + 1 : text + first_len;
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0)
			return body ? dc_buf_puts(body, end + 1) : 0;
		char *line = dc_xstrndup(p, len);
		parse_header_line(h, line);
		free(line);
		p = end ? end + 1 : p + len;
	}
	return 0;
}

static time_t parse_timestamp(const char *s)
{
	struct tm tm = { 0 };
	if (sscanf(s, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return (time_t)-1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static char *json_dup(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? dc_xstrdup(s) : NULL;
}

static int load_context(struct suite_case *c)
{
	char path[1200];
	json_error_t err;
	snprintf(path, sizeof(path), "%s/context.json", c->dir);
	json_t *ctx = json_load_file(path, 0, &err);
	if (!ctx) {
		dc_test_fail(__FILE__, __LINE__, "%s: %s", path, err.text);
		return -1;
	}
	json_t *cr = json_object_get(ctx, "credentials");
	c->creds.access_key_id = json_dup(cr, "access_key_id");
	c->creds.secret_access_key = json_dup(cr, "secret_access_key");
	c->creds.session_token = json_dup(cr, "token");
	struct dc_sigv4_params *p = &c->params;
	p->creds = &c->creds;
	p->region = dc_xstrdup(json_string_value(json_object_get(ctx, "region")));
	p->service = dc_xstrdup(json_string_value(json_object_get(ctx, "service")));
	p->now = parse_timestamp(json_string_value(json_object_get(ctx, "timestamp")));
	p->no_normalize = !json_is_true(json_object_get(ctx, "normalize"));
	p->sign_body = json_is_true(json_object_get(ctx, "sign_body"));
	p->omit_session_token = json_is_true(json_object_get(ctx, "omit_session_token"));
	p->expires = (long)json_integer_value(json_object_get(ctx, "expiration_in_seconds"));
	json_decref(ctx);
	return 0;
}

static int load_case(struct suite_case *c, const char *root, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->dir, sizeof(c->dir), "%s/%s", root, name);
	if (load_context(c) < 0)
		return -1;
	char *text = read_text(c->dir, "request.txt");
	char *method = NULL;
	request_init(&c->req, "GET", "https://unset");
	int rc = text ? parse_http_text(&method, &c->target, &c->req.headers, &c->req.body, text)
		      : -1;
	free(text);
	if (rc < 0) {
		dc_test_fail(__FILE__, __LINE__, "case '%s': cannot parse request.txt", name);
		free(method);
		return -1;
	}
	const char *host = dc_headers_get(&c->req.headers, "host");
	free(c->req.method);
	free(c->req.url);
	c->req.method = method;
	c->req.url = dc_xasprintf("https://%s%s", host ? host : "example.amazonaws.com", c->target);
	return 0;
}

static void case_dispose(struct suite_case *c)
{
	request_dispose(&c->req);
	/* credentials.c is another module's; these strings are ours. */
	free(c->creds.access_key_id);
	free(c->creds.secret_access_key);
	free(c->creds.session_token);
	free((char *)c->params.region);
	free((char *)c->params.service);
	free(c->target);
}

/* The case folders, sorted so that failures come out in a stable order. */
static char **list_cases(const char *root, size_t *count)
{
	DIR *d = opendir(root);
	char **v = NULL;
	size_t n = 0, cap = 0;
	*count = 0;
	if (!d)
		return NULL;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		dc_xgrow((void **)&v, &cap, n + 1, sizeof(*v));
		v[n++] = dc_xstrdup(e->d_name);
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*count = n;
	return v;
}

#define expect_step(c, variant, step, got, want) \
	step_equal(__LINE__, (c)->name, variant, step, got, want)

static int step_equal(int line, const char *name, const char *variant, const char *step,
		      const char *got, const char *want)
{
	if (got && want && strcmp(got, want) == 0)
		return 1;
	dc_test_fail(__FILE__, line, "case '%s' (%s): %s differs\n--- got\n%s\n--- want\n%s", name,
		     variant, step, got ? got : "(none)", want ? want : "(none)");
	return 0;
}

/* Canonical request, string to sign and signature, each against its file. */
static int check_steps(struct suite_case *c, const char *variant, char sig[65])
{
	int presign = strcmp(variant, "query") == 0;
	char file[64];
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_FILE), sts = DC_BUF_INIT(DC_MAX_FILE);
	int ok = 0;
	if (dc_sigv4_canonical_request(&canon, &c->req, &c->params, presign) < 0 ||
	    dc_sigv4_string_to_sign(&sts, dc_buf_cstr(&canon), &c->params) < 0 ||
	    dc_sigv4_signature(sig, dc_buf_cstr(&sts), &c->params) < 0) {
		dc_test_fail(__FILE__, __LINE__, "case '%s' (%s): %s", c->name, variant,
			     dc_error_last()->message);
		goto done;
	}
	const char *steps[][2] = { { "canonical request", "canonical-request.txt" },
				   { "string to sign", "string-to-sign.txt" },
				   { "signature", "signature.txt" } };
	const char *got[] = { dc_buf_cstr(&canon), dc_buf_cstr(&sts), sig };
	ok = 1;
	for (int i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s-%s", variant, steps[i][1]);
		char *want = read_expected(c->dir, file);
		ok &= expect_step(c, variant, steps[i][0], got[i], want);
		free(want);
	}
done:
	dc_buf_dispose(&canon);
	dc_buf_dispose(&sts);
	return ok;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Headers as sorted "name:value" lines (lower-case names; the sort is on
 * the whole line, so repeated names compare by value as well). */
static char *header_lines(const struct dc_headers *h)
{
	char **v = dc_xmalloc((h->n + 1) * sizeof(*v));
	struct dc_buf out = DC_BUF_INIT(DC_MAX_FILE);
	for (size_t i = 0; i < h->n; i++) {
		v[i] = dc_xasprintf("%s:%s", h->v[i].name, h->v[i].value);
		for (char *p = v[i]; *p != ':'; p++)
			*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	}
	qsort(v, h->n, sizeof(*v), cmp_line);
	for (size_t i = 0; i < h->n; i++) {
		dc_buf_printf(&out, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
	return dc_buf_take(&out);
}

/* dc_sigv4_sign on the request, then every header against the signed
 * request of the suite, the Authorization header on its own first. */
static void check_signed_headers(struct suite_case *c)
{
	char *text = read_text(c->dir, "header-signed-request.txt");
	char *method = NULL, *target = NULL;
	struct dc_headers want = DC_HEADERS_INIT;
	if (!text || parse_http_text(&method, &target, &want, NULL, text) < 0) {
		dc_test_fail(__FILE__, __LINE__, "case '%s': cannot parse header-signed-request.txt",
			     c->name);
		goto done;
	}
	if (dc_sigv4_sign(&c->req, &c->params) < 0) {
		dc_test_fail(__FILE__, __LINE__, "case '%s': %s", c->name, dc_error_last()->message);
		goto done;
	}
	expect_step(c, "header", "Authorization header", dc_headers_get(&c->req.headers, "authorization"),
		    dc_headers_get(&want, "authorization"));
	char *got_lines = header_lines(&c->req.headers), *want_lines = header_lines(&want);
	expect_step(c, "header", "signed request headers", got_lines, want_lines);
	free(got_lines);
	free(want_lines);
done:
	free(text);
	free(method);
	free(target);
	dc_headers_dispose(&want);
}

/* dc_sigv4_presign, its path and query against the suite's request line. */
static void check_presigned_url(struct suite_case *c)
{
	char *text = read_text(c->dir, "query-signed-request.txt");
	char *method = NULL, *target = NULL, *url = NULL;
	struct dc_headers ignored = DC_HEADERS_INIT;
	if (!text || parse_http_text(&method, &target, &ignored, NULL, text) < 0) {
		dc_test_fail(__FILE__, __LINE__, "case '%s': cannot parse query-signed-request.txt",
			     c->name);
		goto done;
	}
	if (dc_sigv4_presign(&url, &c->req, &c->params) < 0) {
		dc_test_fail(__FILE__, __LINE__, "case '%s': %s", c->name, dc_error_last()->message);
		goto done;
	}
	const char *path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	expect_step(c, "query", "presigned url", path, target);
done:
	free(text);
	free(method);
	free(target);
	free(url);
	dc_headers_dispose(&ignored);
}

static void run_suite(const char *variant)
{
	char root[1024];
	size_t n = 0, passed = 0;
	snprintf(root, sizeof(root), "%s/sigv4-testsuite/v4", dc_test_shared_dir());
	char **names = list_cases(root, &n);
	if (n < 38)
		dc_test_fail(__FILE__, __LINE__, "%zu cases found in '%s', want the 38 of the suite", n,
			     root);
	for (size_t i = 0; i < n; i++) {
		struct suite_case c;
		char sig[65];
		if (load_case(&c, root, names[i]) == 0 && check_steps(&c, variant, sig)) {
			passed++;
			if (strcmp(variant, "header") == 0)
				check_signed_headers(&c);
			else
				check_presigned_url(&c);
		}
		case_dispose(&c);
		free(names[i]);
	}
	free(names);
	check_int(passed, n);
}

void test_sigv4__suite_header_variant(void)
{
	run_suite("header");
}

void test_sigv4__suite_query_variant(void)
{
	run_suite("query");
}

/* ---- S3 --------------------------------------------------------------- */

/* The first n lines of s (method, path, query...), for check_str. */
static char *head_lines(const char *s, int n)
{
	const char *p = s;
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return p ? dc_xstrndup(s, (size_t)(p - s)) : dc_xstrdup(s);
}

#define check_head(s, n, want)                   \
	do {                                     \
		char *h_ = head_lines((s), (n)); \
		check_str(h_, (want));           \
		free(h_);                        \
	} while (0)

/* The examples of the AWS S3 documentation ("Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk" and "Query
 * String Authentication"), whose keys and results it prints. */
static struct dc_credentials s3_creds = {
	.access_key_id = "AKIAIOSFODNN7EXAMPLE",
	.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

static struct dc_sigv4_params s3_params(void)
{
	struct dc_sigv4_params p = { .creds = &s3_creds, .region = "us-east-1", .service = "s3",
				     .now = 1369353600 /* 2013-05-24T00:00:00Z */, .s3 = 1 };
	return p;
}

static void check_s3_auth(const char *method, const char *url, const char *header,
			  const char *body, const char *want_signed, const char *want_sig)
{
	struct dc_http_request r;
	struct dc_sigv4_params p = s3_params();
	request_init(&r, method, url);
	if (header)
		dc_headers_add_line(&r.headers, header);
	dc_buf_puts(&r.body, body);
	check_int(dc_sigv4_sign(&r, &p), 0);
	char *want = dc_xasprintf("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
				  "us-east-1/s3/aws4_request, SignedHeaders=%s, Signature=%s",
				  want_signed, want_sig);
	check_str(dc_headers_get(&r.headers, "authorization"), want);
	char hash[65];
	dc_sha256_hex(hash, body, strlen(body));
	check_str(dc_headers_get(&r.headers, "x-amz-content-sha256"), hash);
	free(want);
	request_dispose(&r);
}

void test_sigv4__s3_documentation_examples(void)
{
	check_s3_auth("GET", "https://examplebucket.s3.amazonaws.com/test.txt", "Range: bytes=0-9",
		      "", "host;range;x-amz-content-sha256;x-amz-date",
		      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	check_s3_auth("GET", "https://examplebucket.s3.amazonaws.com/?lifecycle", NULL, "",
		      "host;x-amz-content-sha256;x-amz-date",
		      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	check_s3_auth("GET", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", NULL, "",
		      "host;x-amz-content-sha256;x-amz-date",
		      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

void test_sigv4__s3_path_is_not_encoded_again(void)
{
	struct dc_http_request r;
	struct dc_sigv4_params p = s3_params();
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_SMALL);
	request_init(&r, "PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text");
	dc_headers_add(&r.headers, "Date", "Fri, 24 May 2013 00:00:00 GMT");
	dc_headers_add(&r.headers, "x-amz-storage-class", "REDUCED_REDUNDANCY");
	dc_buf_puts(&r.body, "Welcome to Amazon S3.");
	check_int(dc_sigv4_canonical_request(&canon, &r, &p, 0), 0);
	/* The canonical request printed in the PUT example of the documentation. */
	check_str(dc_buf_cstr(&canon),
		  "PUT\n/test%24file.text\n\n"
		  "date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
		  "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
		  "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
		  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
		  "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	check_int(dc_sigv4_sign(&r, &p), 0);
	check(strstr(dc_headers_get(&r.headers, "authorization"),
		     "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") != NULL);
	/* The same path outside S3 is encoded a second time. */
	dc_buf_reset(&canon);
	p.s3 = 0;
	check_int(dc_sigv4_canonical_request(&canon, &r, &p, 0), 0);
	check_head(dc_buf_cstr(&canon), 2, "PUT\n/test%2524file.text\n");
	dc_buf_dispose(&canon);
	request_dispose(&r);
}

void test_sigv4__s3_keeps_dot_segments_and_double_slashes(void)
{
	struct dc_http_request r;
	struct dc_sigv4_params p = s3_params();
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_SMALL);
	request_init(&r, "GET", "https://b.s3.amazonaws.com//a/./b/../c%2Fd%20e");
	check_int(dc_sigv4_canonical_request(&canon, &r, &p, 0), 0);
	check_head(dc_buf_cstr(&canon), 3, "GET\n//a/./b/../c%2Fd%20e\n\n");
	dc_buf_reset(&canon);
	p.s3 = 0;
	check_int(dc_sigv4_canonical_request(&canon, &r, &p, 0), 0);
	check_head(dc_buf_cstr(&canon), 3, "GET\n/a/c%252Fd%2520e\n\n");
	dc_buf_dispose(&canon);
	request_dispose(&r);
}

void test_sigv4__s3_presigned_url_documentation_example(void)
{
	struct dc_http_request r;
	struct dc_sigv4_params p = s3_params();
	char *url = NULL;
	p.expires = 86400;
	request_init(&r, "GET", "https://examplebucket.s3.amazonaws.com/test.txt");
	check_int(dc_sigv4_presign(&url, &r, &p), 0);
	check_str(url, "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		       "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		       "&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86400"
		       "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	check(dc_headers_get(&r.headers, "x-amz-date") == NULL);
	free(url);
	request_dispose(&r);
}

/* ---- Signing-key cache ------------------------------------------------ */

/* The derivation example of the AWS documentation ("Derive a signing key"),
 * and the same chain through OpenSSL's HMAC() as a second opinion. */
static void reference_key(unsigned char out[32], const char *secret, const char *day,
			  const char *region, const char *service)
{
	char *k = dc_xasprintf("AWS4%s", secret);
	unsigned char a[32], b[32];
	unsigned int n = 0;
	HMAC(EVP_sha256(), k, (int)strlen(k), (const unsigned char *)day, strlen(day), a, &n);
	HMAC(EVP_sha256(), a, 32, (const unsigned char *)region, strlen(region), b, &n);
	HMAC(EVP_sha256(), b, 32, (const unsigned char *)service, strlen(service), a, &n);
	HMAC(EVP_sha256(), a, 32, (const unsigned char *)"aws4_request", 12, out, &n);
	free(k);
}

static void hex32(char out[65], const unsigned char *k)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", k[i]);
}

void test_sigv4__signing_key_cache(void)
{
	struct dc_credentials cr = { .access_key_id = "AKIDEXAMPLE",
				     .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
	/* 2012-02-15 12:00:00 UTC, an hour unlikely to be cached by another test */
	struct dc_sigv4_params p = { .creds = &cr, .region = "us-east-1", .service = "iam",
				     .now = 1329307200 };
	unsigned char k1[32], k2[32], k3[32], ref[32];
	char hex[65];
	check_int(dc_sigv4_signing_key(k1, &p), 1);
	hex32(hex, k1);
	check_str(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
	check_int(dc_sigv4_signing_key(k2, &p), 0);
	check(memcmp(k1, k2, 32) == 0);
	p.now += 86400;
	check_int(dc_sigv4_signing_key(k3, &p), 1);
	check(memcmp(k1, k3, 32) != 0);
	reference_key(ref, cr.secret_access_key, "20120216", "us-east-1", "iam");
	check(memcmp(k3, ref, 32) == 0);
	/* Another secret on the same day must not be served the cached key. */
	cr.secret_access_key = "another-secret";
	check_int(dc_sigv4_signing_key(k2, &p), 1);
	reference_key(ref, "another-secret", "20120216", "us-east-1", "iam");
	check(memcmp(k2, ref, 32) == 0);
}

struct thread_job {
	int index;
	int mismatches;
	char want[40][65];
};

static void sign_nth(char out[65], int i)
{
	static struct dc_credentials cr = { .access_key_id = "AKIDEXAMPLE",
					    .secret_access_key = "thread-secret" };
	const char *regions[] = { "us-east-1", "eu-west-1", "ap-south-1" };
	struct dc_sigv4_params p = { .creds = &cr, .region = regions[i % 3], .service = "sts",
				     .now = 1440938160 + (time_t)(i % 13) * 86400 };
	char *sts = dc_xasprintf("AWS4-HMAC-SHA256\nstring %d", i);
	if (dc_sigv4_signature(out, sts, &p) < 0)
		out[0] = '\0';
	free(sts);
}

static void *thread_main(void *arg)
{
	struct thread_job *job = arg;
	char sig[65];
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 40; i++) {
			sign_nth(sig, (i + job->index * 7) % 40);
			job->mismatches += strcmp(sig, job->want[(i + job->index * 7) % 40]) != 0;
		}
	}
	return NULL;
}

/* Eight threads over 39 (day, region) pairs and a 32-slot cache: keys are
 * evicted and derived concurrently all the time. */
void test_sigv4__signing_key_cache_is_thread_safe(void)
{
	struct thread_job jobs[8];
	pthread_t t[8];
	char want[40][65];
	for (int i = 0; i < 40; i++)
		sign_nth(want[i], i);
	for (int i = 0; i < 8; i++) {
		jobs[i].index = i;
		jobs[i].mismatches = 0;
		memcpy(jobs[i].want, want, sizeof(want));
		check_int(pthread_create(&t[i], NULL, thread_main, &jobs[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		check_int(jobs[i].mismatches, 0);
	}
}

/* ---- Details ---------------------------------------------------------- */

static struct dc_credentials vanilla_creds = {
	.access_key_id = "AKIDEXAMPLE",
	.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

static struct dc_sigv4_params vanilla_params(void)
{
	struct dc_sigv4_params p = { .creds = &vanilla_creds, .region = "us-east-1",
				     .service = "service", .now = 1440938160 };
	return p;
}

/* The host line of the canonical request for a URL without a Host header:
 * lower case, and the port only when it is not the scheme's default. */
static void check_host_line(const char *url, const char *want)
{
	struct dc_http_request r;
	struct dc_sigv4_params p = vanilla_params();
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_SMALL);
	request_init(&r, "GET", url);
	check_int(dc_sigv4_canonical_request(&canon, &r, &p, 0), 0);
	if (!strstr(dc_buf_cstr(&canon), want))
		dc_test_fail(__FILE__, __LINE__, "url '%s': no '%s' in\n%s", url, want,
			     dc_buf_cstr(&canon));
	dc_buf_dispose(&canon);
	request_dispose(&r);
}

void test_sigv4__host_comes_from_the_url(void)
{
	check_host_line("https://Example.AmazonAWS.com/", "\nhost:example.amazonaws.com\n");
	check_host_line("https://example.com:443/x", "\nhost:example.com\n");
	check_host_line("http://example.com:80", "\nhost:example.com\n");
	check_host_line("https://example.com:80/", "\nhost:example.com:80\n");
	check_host_line("http://localhost:4566/?a=b", "\nhost:localhost:4566\n");
	check_host_line("https://user:pw@example.com:8443/", "\nhost:example.com:8443\n");
	check_host_line("https://[::1]:8443/", "\nhost:[::1]:8443\n");
}

void test_sigv4__signing_again_replaces_the_old_signature(void)
{
	struct dc_http_request r;
	struct dc_credentials cr = vanilla_creds;
	cr.session_token = "token/with+chars=";
	struct dc_sigv4_params p = vanilla_params();
	p.creds = &cr;
	request_init(&r, "POST", "https://example.amazonaws.com/");
	dc_headers_add(&r.headers, "User-Agent", "deployctl/0.1");
	check_int(dc_sigv4_sign(&r, &p), 0);
	char *first = dc_xstrdup(dc_headers_get(&r.headers, "authorization"));
	check_int(dc_sigv4_sign(&r, &p), 0);
	check_str(dc_headers_get(&r.headers, "authorization"), first);
	check_int(r.headers.n, 4); /* User-Agent, X-Amz-Date, token, Authorization */
	check(strstr(first, "SignedHeaders=host;x-amz-date;x-amz-security-token,") != NULL);
	check_str(dc_headers_get(&r.headers, "x-amz-security-token"), "token/with+chars=");
	free(first);
	request_dispose(&r);
}

void test_sigv4__unsigned_payload(void)
{
	struct dc_http_request r;
	struct dc_sigv4_params p = vanilla_params();
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_SMALL);
	p.unsigned_payload = 1;
	request_init(&r, "PUT", "https://example.amazonaws.com/");
	dc_buf_puts(&r.body, "body");
	check_int(dc_sigv4_canonical_request(&canon, &r, &p, 0), 0);
	check(strstr(dc_buf_cstr(&canon), "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n") != NULL);
	size_t len = strlen(dc_buf_cstr(&canon));
	check(len > 17 && strcmp(dc_buf_cstr(&canon) + len - 17, "\nUNSIGNED-PAYLOAD") == 0);
	check_int(dc_sigv4_sign(&r, &p), 0);
	check_str(dc_headers_get(&r.headers, "x-amz-content-sha256"), DC_UNSIGNED_PAYLOAD);
	dc_buf_dispose(&canon);
	request_dispose(&r);
}

void test_sigv4__query_is_decoded_then_encoded(void)
{
	struct dc_http_request r;
	struct dc_sigv4_params p = vanilla_params();
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_SMALL);
	request_init(&r, "GET", "https://example.amazonaws.com/?b=%7e%41!&a&b=&a=2+2&&c=%zz#frag");
	check_int(dc_sigv4_canonical_request(&canon, &r, &p, 0), 0);
	check_head(dc_buf_cstr(&canon), 3, "GET\n/\na=&a=2%2B2&b=&b=~A%21&c=%25zz\n");
	dc_buf_dispose(&canon);
	request_dispose(&r);
}

void test_sigv4__errors_never_show_the_secret(void)
{
	struct dc_http_request r;
	struct dc_credentials cr = { .access_key_id = "AKID", .secret_access_key = "SECRETSECRET",
				     .session_token = "TOKENTOKEN" };
	struct dc_sigv4_params p = vanilla_params();
	char *url = NULL;
	p.creds = &cr;
	request_init(&r, "GET", "example.com/no-scheme");
	check_int(dc_sigv4_sign(&r, &p), -1);
	check(strstr(dc_error_last()->message, "'example.com/no-scheme'") != NULL);
	free(r.url);
	r.url = dc_xstrdup("https://example.com/");
	p.expires = 604801;
	check_int(dc_sigv4_presign(&url, &r, &p), -1);
	check(strstr(dc_error_last()->message, "604801") != NULL);
	check(url == NULL);
	p.region = NULL;
	check_int(dc_sigv4_sign(&r, &p), -1);
	check(strstr(dc_error_last()->message, "region") != NULL);
	p = vanilla_params();
	p.creds = NULL;
	check_int(dc_sigv4_sign(&r, &p), -1);
	check(strstr(dc_error_last()->message, "SECRET") == NULL);
	check(strstr(dc_error_last()->message, "TOKEN") == NULL);
	check_int(r.headers.n, 0);
	request_dispose(&r);
}
