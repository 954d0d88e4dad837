/* AWS Signature Version 4, header and query (presigned URL) variants.
 * Sources of truth: the AWS "Create a signed AWS API request" pages, the
 * aws-c-auth signing test suite, and botocore's auth.py where the pages are
 * silent (which headers to leave unsigned, how dot segments go). */
#include "aws/sigv4.h"
#include "aws/uri.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws/credentials.h"
#include "util/error.h"
#include "util/xalloc.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
/* A canonical request carries every signed header and the whole query; AWS
 * itself refuses requests far smaller than this. */
#define DC_MAX_CANONICAL ((size_t)4 << 20)
#define DEFAULT_EXPIRES 3600
#define MAX_EXPIRES 604800 /* seven days, the longest AWS accepts */
#define KEY_CACHE_SLOTS 32 /* a run talks to a dozen services, in one or two regions */

/* Headers that proxies and libcurl may add, drop or rewrite on the way, so
 * signing them would break the signature (botocore's list). */
static const char *const unsigned_headers[] = {
	"connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
	"te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
};

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* ---- SHA-256 and HMAC ------------------------------------------------- */

static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;

static void free_ctx(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void init_sha256(void)
{
	/* One explicit fetch: EVP_sha256() makes OpenSSL 3 search its providers
	 * again on every digest init, which costs more than hashing a request. */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md)
		sha256_md = EVP_sha256();
	if (pthread_key_create(&ctx_key, free_ctx) != 0) {
		fputs("deployctl: cannot create a thread key\n", stderr);
		abort();
	}
}

/* This thread's digest context, made on first use and freed when the
 * thread ends: a new context (and OpenSSL's state behind it) per signature
 * costs as much as hashing the canonical request. It is set up for SHA-256
 * here, so that every later init passes no digest: OpenSSL 3 then skips its
 * ENGINE lookup (a lock) and keeps its state, which halves a short hash. */
static EVP_MD_CTX *digest_ctx(void)
{
	pthread_once(&sha256_once, init_sha256);
	EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
	if (ctx)
		return ctx;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 ||
	    pthread_setspecific(ctx_key, ctx) != 0) {
		fputs("deployctl: out of memory\n", stderr);
		abort();
	}
	return ctx;
}

/* SHA-256 of a followed by b. OpenSSL fails here only when memory runs out,
 * which deployctl treats as fatal everywhere. */
static void sha256_two(EVP_MD_CTX *ctx, unsigned char out[32], const void *a, size_t alen,
		       const void *b, size_t blen)
{
	unsigned int n = 0;
	if (EVP_DigestInit_ex2(ctx, NULL, NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(ctx, b, blen) != 1) || EVP_DigestFinal_ex(ctx, out, &n) != 1) {
		fputs("deployctl: sha-256 failed in openssl\n", stderr);
		abort();
	}
}

/* HMAC-SHA256 (RFC 2104) on the shared digest context: the one-shot HMAC()
 * of OpenSSL 3 fetches and frees a MAC object per call. */
static void hmac_sha256(EVP_MD_CTX *ctx, unsigned char out[32], const void *key, size_t key_len,
			const void *msg, size_t msg_len)
{
	unsigned char keyed[128] = { 0 }, inner[32]; /* the key block, then a pad */
	unsigned char *block = keyed, *pad = keyed + 64;
	if (key_len > 64)
		sha256_two(ctx, block, key, key_len, NULL, 0);
	else
		memcpy(block, key, key_len);
	for (size_t i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	sha256_two(ctx, inner, pad, 64, msg, msg_len);
	for (size_t i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	sha256_two(ctx, out, pad, 64, inner, sizeof(inner));
	OPENSSL_cleanse(keyed, sizeof(keyed));
}

static void to_hex(char *out, const unsigned char *bin, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_lower[bin[i] >> 4];
		out[2 * i + 1] = hex_lower[bin[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The strings of a NULL-terminated list, joined into one new string
 * (printf costs more than the rest of building a signature). */
static char *concat(const char *first, ...)
{
	va_list ap;
	size_t len = 0;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	char *out = dc_xmalloc(len + 1), *p = out;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);
		memcpy(p, s, n);
		p += n;
	}
	va_end(ap);
	*p = '\0';
	return out;
}

void dc_sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx = digest_ctx();
	sha256_two(ctx, md, data, len, NULL, 0);
	to_hex(out, md, sizeof(md));
}

/* ---- A buffered writer ------------------------------------------------ */

/* Canonical requests are built a byte at a time; a stack chunk in front of
 * the dc_buf keeps that cheap. A failed write (cap reached) sets `bad` and
 * the dc_error; the caller checks once at the end. */
struct writer {
	struct dc_buf *b;
	size_t n;
	int bad;
	char chunk[512];
};

static void w_init(struct writer *w, struct dc_buf *b)
{
	w->b = b;
	w->n = 0;
	w->bad = 0;
}

static int w_flush(struct writer *w)
{
	if (w->n && dc_buf_put(w->b, w->chunk, w->n) < 0)
		w->bad = -1;
	w->n = 0;
	return w->bad;
}

/* Where the next byte will land in the dc_buf once flushed. */
static size_t w_offset(const struct writer *w)
{
	return w->b->len + w->n;
}

static void w_putc(struct writer *w, char c)
{
	if (w->n == sizeof(w->chunk))
		w_flush(w);
	w->chunk[w->n++] = c;
}

static void w_put(struct writer *w, const char *s, size_t n)
{
	if (n > sizeof(w->chunk) - w->n) {
		w_flush(w);
		if (n >= sizeof(w->chunk)) {
			if (dc_buf_put(w->b, s, n) < 0)
				w->bad = -1;
			return;
		}
	}
	memcpy(w->chunk + w->n, s, n);
	w->n += n;
}

static void w_puts(struct writer *w, const char *s)
{
	w_put(w, s, strlen(s));
}

/* ---- URI encoding ----------------------------------------------------- */

/* Bytes written as they are: RFC 3986's unreserved set A-Z a-z 0-9 - . _ ~,
 * and the same with '/', as bitmaps indexed by byte value. */
static const uint64_t plain_bytes[2][4] = {
	{ 0x03ff600000000000, 0x47fffffe87fffffe, 0, 0 },
	{ 0x03ffe00000000000, 0x47fffffe87fffffe, 0, 0 },
};

static int is_plain(unsigned char c, int keep_slash)
{
	return (int)((plain_bytes[keep_slash][c >> 6] >> (c & 63)) & 1);
}

static void w_encoded_byte(struct writer *w, unsigned char c, int keep_slash)
{
	if (w->n + 3 > sizeof(w->chunk))
		w_flush(w);
	if (is_plain(c, keep_slash)) {
		w->chunk[w->n++] = (char)c;
		return;
	}
	w->chunk[w->n++] = '%';
	w->chunk[w->n++] = hex_upper[c >> 4];
	w->chunk[w->n++] = hex_upper[c & 15];
}

/* RFC 3986 encoding: everything but the unreserved set (and '/' if kept).
 * keep_slash is 0 or 1. */
static void w_encoded(struct writer *w, const char *s, size_t n, int keep_slash)
{
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && is_plain((unsigned char)s[run], keep_slash))
			run++;
		w_put(w, s + i, run - i);
		if (run < n)
			w_encoded_byte(w, (unsigned char)s[run], keep_slash);
		i = run + 1;
	}
}

/* Decode %XX (a '%' not followed by two hex digits stays itself; '+' stays
 * '+', as RFC 3986 has it), then encode: the canonical form AWS rebuilds
 * from the parameters it received. */
static void w_reencoded(struct writer *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n) {
			int hi = dc_uri_hex_value(s[i + 1]), lo = dc_uri_hex_value(s[i + 2]);
			if (hi >= 0 && lo >= 0) {
				c = (unsigned char)(hi << 4 | lo);
				i += 2;
			}
		}
		w_encoded_byte(w, c, 0);
	}
}

/* ---- URL parts -------------------------------------------------------- */

struct url {
	const char *scheme;
	size_t scheme_len;
	const char *host; /* authority without userinfo, port included */
	size_t host_len;
	const char *path;
	size_t path_len;
	const char *query; /* NULL when the URL has no '?' */
	size_t query_len;
	size_t end; /* offset of '#' or of the final NUL */
};

static int split_url(struct url *u, const char *url)
{
	const char *sep = strstr(url, "://");
	if (!sep || sep == url)
		return dc_error_set("url '%s' has no scheme", url);
	memset(u, 0, sizeof(*u));
	u->scheme = url;
	u->scheme_len = (size_t)(sep - url);
	const char *auth = sep + 3;
	size_t auth_len = strcspn(auth, "/?#");
	u->host = auth;
	for (size_t i = 0; i < auth_len; i++)
		if (auth[i] == '@')
			u->host = auth + i + 1;
	u->host_len = (size_t)(auth + auth_len - u->host);
	if (u->host_len == 0)
		return dc_error_set("url '%s' has no host", url);
	u->path = auth + auth_len;
	u->path_len = strcspn(u->path, "?#");
	const char *rest = u->path + u->path_len;
	if (*rest == '?') {
		u->query = rest + 1;
		u->query_len = strcspn(u->query, "#");
		rest = u->query + u->query_len;
	}
	u->end = (size_t)(rest - url);
	return 0;
}

static int is_default_port(const struct url *u, long port)
{
	if (u->scheme_len == 4 && strncasecmp(u->scheme, "http", 4) == 0)
		return port == 80;
	if (u->scheme_len == 5 && strncasecmp(u->scheme, "https", 5) == 0)
		return port == 443;
	return 0;
}

/* The Host header curl will send: host lower-cased, port only when it is
 * not the scheme's default. */
static char *host_from_url(const struct url *u)
{
	const char *h = u->host, *end = u->host + u->host_len, *colon = NULL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', u->host_len);
		if (rb && rb + 1 < end && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(h, ':', u->host_len);
	}
	size_t name_len = colon ? (size_t)(colon - h) : u->host_len;
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	struct writer w;
	w_init(&w, &b);
	for (size_t i = 0; i < name_len; i++)
		w_putc(&w, (h[i] >= 'A' && h[i] <= 'Z') ? (char)(h[i] + 32) : h[i]);
	size_t port_len = colon ? (size_t)(end - colon - 1) : 0;
	if (port_len > 0 && port_len < 6 && strspn(colon + 1, "0123456789") >= port_len) {
		long port = strtol(colon + 1, NULL, 10);
		char digits[8];
		snprintf(digits, sizeof(digits), ":%ld", port);
		if (!is_default_port(u, port))
			w_puts(&w, digits);
	} else if (port_len > 0) {
		w_put(&w, colon, port_len + 1); /* not a port number: keep what the URL says */
	}
	w_flush(&w);
	return dc_buf_take(&b);
}

/* ---- The signing plan ------------------------------------------------- */

struct extra_header {
	const char *name;
	const char *value;
};

struct added_header {
	const char *name;
	const char *key; /* the name in lower case */
	const char *value;
};

/* Everything derived from the request and the parameters before the
 * canonical request is written. */
struct plan {
	const struct dc_sigv4_params *p;
	const struct dc_http_request *req;
	int presign;
	struct url url;
	char amz_date[17]; /* 20150830T123600Z */
	char day[9];       /* 20150830 */
	char payload[65];
	char expires[24];
	const char *token; /* NULL when there is none */
	char *credential;  /* access key id/scope */
	const char *scope; /* day/region/service/aws4_request, inside credential */
	struct added_header extra[3];
	size_t n_extra;
	struct dc_buf signed_headers;
	EVP_MD_CTX *ctx; /* one digest context for every hash of this signature */
};

static int check_params(const struct dc_sigv4_params *p)
{
	const struct dc_credentials *c = p->creds;
	if (!c || !c->access_key_id || !*c->access_key_id || !c->secret_access_key)
		return dc_error_set("no credentials to sign the request with");
	if (!p->region || !*p->region)
		return dc_error_set("no region to sign the request for");
	if (!p->service || !*p->service)
		return dc_error_set("no service name to sign the request for");
	return 0;
}

static void put_digits(char *out, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
}

/* 20150830T123600Z and 20150830, written by hand: strftime is slow. */
static int format_dates(char amz_date[17], char day[9], time_t now)
{
	struct tm tm;
	if (!gmtime_r(&now, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return dc_error_set("time %lld cannot be written as a signing date", (long long)now);
	put_digits(amz_date, tm.tm_year + 1900, 4);
	put_digits(amz_date + 4, tm.tm_mon + 1, 2);
	put_digits(amz_date + 6, tm.tm_mday, 2);
	amz_date[8] = 'T';
	put_digits(amz_date + 9, tm.tm_hour, 2);
	put_digits(amz_date + 11, tm.tm_min, 2);
	put_digits(amz_date + 13, tm.tm_sec, 2);
	amz_date[15] = 'Z';
	amz_date[16] = '\0';
	memcpy(day, amz_date, 8);
	day[8] = '\0';
	return 0;
}

static const char *header_value(const struct dc_http_request *req, const char *name)
{
	return dc_headers_get(&req->headers, name);
}

/* The payload hash, as botocore decides it: a caller's own
 * x-amz-content-sha256 (a streaming marker, say) wins unless S3 or
 * sign_body asks us to hash the body. */
static void plan_payload(struct plan *pl)
{
	const struct dc_sigv4_params *p = pl->p;
	const char *given = header_value(pl->req, "x-amz-content-sha256");
	const char *fixed = NULL;
	if (p->unsigned_payload || (pl->presign && p->s3))
		fixed = DC_UNSIGNED_PAYLOAD;
	else if (given && !p->s3 && !p->sign_body && strlen(given) < sizeof(pl->payload))
		fixed = given;
	if (fixed) {
		memcpy(pl->payload, fixed, strlen(fixed) + 1);
		return;
	}
	unsigned char md[32];
	sha256_two(pl->ctx, md, dc_buf_cstr(&pl->req->body), pl->req->body.len, NULL, 0);
	to_hex(pl->payload, md, sizeof(md));
}

/* Headers dc_sigv4_sign adds before signing; they replace any of the same
 * name in the request. */
static void plan_extra_headers(struct plan *pl)
{
	const struct dc_sigv4_params *p = pl->p;
	pl->n_extra = 0;
	if (pl->presign)
		return;
	pl->extra[pl->n_extra++] = (struct added_header){ "X-Amz-Date", "x-amz-date", pl->amz_date };
	if (pl->token && !p->omit_session_token)
		pl->extra[pl->n_extra++] = (struct added_header){ "X-Amz-Security-Token",
								  "x-amz-security-token", pl->token };
	if (p->s3 || p->sign_body || p->unsigned_payload)
		pl->extra[pl->n_extra++] = (struct added_header){ "X-Amz-Content-SHA256",
								  "x-amz-content-sha256", pl->payload };
}

static int plan_expires(struct plan *pl)
{
	long e = pl->p->expires ? pl->p->expires : DEFAULT_EXPIRES;
	if (e < 1 || e > MAX_EXPIRES)
		return dc_error_set("presigned url lifetime %ld s is outside 1..%d s", e, MAX_EXPIRES);
	snprintf(pl->expires, sizeof(pl->expires), "%ld", e);
	return 0;
}

static void plan_dispose(struct plan *pl)
{
	free(pl->credential);
	dc_buf_dispose(&pl->signed_headers);
	pl->credential = NULL;
	pl->scope = NULL;
	pl->ctx = NULL;
}

static int plan_init(struct plan *pl, const struct dc_http_request *req,
		     const struct dc_sigv4_params *p, int presign)
{
	memset(pl, 0, sizeof(*pl));
	dc_buf_init(&pl->signed_headers, DC_MAX_SMALL);
	pl->p = p;
	pl->req = req;
	pl->presign = presign;
	pl->ctx = digest_ctx();
	if (check_params(p) < 0 || format_dates(pl->amz_date, pl->day, p->now) < 0)
		return -1;
	if (!req->method || !req->url)
		return dc_error_set("request to sign has no method or url");
	if (split_url(&pl->url, req->url) < 0 || (presign && plan_expires(pl) < 0))
		return -1;
	const char *token = p->creds->session_token;
	pl->token = token && *token ? token : NULL;
	pl->credential = concat(p->creds->access_key_id, "/", pl->day, "/", p->region, "/",
				p->service, "/" TERMINATOR, NULL);
	pl->scope = pl->credential + strlen(p->creds->access_key_id) + 1;
	plan_payload(pl);
	plan_extra_headers(pl);
	return 0;
}

/* ---- Canonical headers ------------------------------------------------ */

struct sort_header {
	const char *name; /* lower case */
	const char *value;
	size_t order;
};

/* The headers to sign, with lower-case copies of their names. */
struct header_set {
	struct sort_header *v; /* followed by the lower-case names */
	size_t n;
	char *host;  /* the Host value made from the URL, when the request has none */
};

static int cmp_header(const void *a, const void *b)
{
	const struct sort_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Most names start with a letter none of the unsigned headers starts with,
 * which settles them without a string compare. */
static int is_hop_header(const char *lname)
{
	char c = lname[0];
	if (c != 'c' && c != 'e' && c != 'k' && c != 'p' && c != 't' && c != 'u' && c != 'x')
		return 0;
	for (size_t i = 0; i < sizeof(unsigned_headers) / sizeof(*unsigned_headers); i++)
		if (unsigned_headers[i][0] == c && strcmp(lname, unsigned_headers[i]) == 0)
			return 1;
	return 0;
}

static int is_unsigned_header(const struct plan *pl, const char *lname)
{
	if (is_hop_header(lname))
		return 1;
	for (size_t i = 0; i < pl->n_extra; i++)
		if (strcmp(lname, pl->extra[i].key) == 0)
			return 1;
	if (pl->presign)
		return 0;
	/* Signing replaces these, or (IoT style) adds the token afterwards. */
	return strcmp(lname, "authorization") == 0 ||
	       (pl->token && pl->p->omit_session_token && strcmp(lname, "x-amz-security-token") == 0);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trim, and fold every run of white space (obs-fold line breaks included)
 * into one space. */
static void w_trimmed(struct writer *w, const char *v)
{
	for (int first = 1;; first = 0) {
		while (is_space(*v))
			v++;
		size_t run = 0;
		while (v[run] && !is_space(v[run]))
			run++;
		if (run == 0)
			return;
		if (!first)
			w_putc(w, ' ');
		w_put(w, v, run);
		v += run;
	}
}

/* Copies s in lower case to dst; returns the byte after its NUL. */
static char *lower_copy(char *dst, const char *s)
{
	for (; *s; s++)
		*dst++ = (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
	*dst = '\0';
	return dst + 1;
}

static void add_sort_header(struct header_set *hs, const char *lname, const char *value)
{
	hs->v[hs->n] = (struct sort_header){ lname, value, hs->n };
	hs->n++;
}

/* The headers to sign, sorted by name, request order kept among equals. */
static void collect_headers(struct header_set *hs, const struct plan *pl)
{
	const struct dc_headers *h = &pl->req->headers;
	size_t total = sizeof("host");
	int has_host = 0;
	for (size_t i = 0; i < h->n; i++)
		total += strlen(h->v[i].name) + 1;
	size_t count = h->n + pl->n_extra + 1;
	hs->v = dc_xmalloc(count * sizeof(*hs->v) + total); /* the names follow the array */
	hs->n = 0;
	hs->host = NULL;
	char *next = (char *)(hs->v + count);
	for (size_t i = 0; i < h->n; i++) {
		char *lname = next;
		next = lower_copy(next, h->v[i].name);
		has_host |= strcmp(lname, "host") == 0;
		if (!is_unsigned_header(pl, lname))
			add_sort_header(hs, lname, h->v[i].value);
	}
	for (size_t i = 0; i < pl->n_extra; i++)
		add_sort_header(hs, pl->extra[i].key, pl->extra[i].value);
	if (!has_host) {
		hs->host = host_from_url(&pl->url);
		add_sort_header(hs, "host", hs->host);
	}
	qsort(hs->v, hs->n, sizeof(*hs->v), cmp_header);
}

/* Writes "name:value\n" lines into block and "a;b;c" into pl->signed_headers. */
static int canonical_headers(struct dc_buf *block, struct plan *pl)
{
	struct header_set hs;
	struct writer w, s;
	collect_headers(&hs, pl);
	w_init(&w, block);
	w_init(&s, &pl->signed_headers);
	for (size_t i = 0; i < hs.n; i++) {
		const char *name = hs.v[i].name;
		if (i > 0 && strcmp(name, hs.v[i - 1].name) == 0) {
			w_putc(&w, ',');
		} else {
			if (i > 0) {
				w_putc(&w, '\n');
				w_putc(&s, ';');
			}
			w_puts(&w, name);
			w_putc(&w, ':');
			w_puts(&s, name);
		}
		w_trimmed(&w, hs.v[i].value);
	}
	if (hs.n)
		w_putc(&w, '\n');
	free(hs.v);
	free(hs.host);
	return w_flush(&w) | w_flush(&s);
}

/* ---- Canonical query -------------------------------------------------- */

struct param {
	size_t key, key_len, value, value_len; /* offsets into the scratch buffer */
	const char *k, *v;
};

struct params {
	struct dc_buf scratch;
	struct writer w;
	struct param *v;
	size_t n, cap;
};

/* Adds one parameter; `raw` values get encoded, wire values re-encoded. */
static void add_param(struct params *ps, const char *k, size_t kl, const char *v, size_t vl,
		      int raw)
{
	dc_xgrow((void **)&ps->v, &ps->cap, ps->n + 1, sizeof(*ps->v));
	struct param *p = &ps->v[ps->n++];
	p->key = w_offset(&ps->w);
	if (raw)
		w_encoded(&ps->w, k, kl, 0);
	else
		w_reencoded(&ps->w, k, kl);
	p->key_len = w_offset(&ps->w) - p->key;
	p->value = w_offset(&ps->w);
	if (raw)
		w_encoded(&ps->w, v, vl, 0);
	else
		w_reencoded(&ps->w, v, vl);
	p->value_len = w_offset(&ps->w) - p->value;
}

static void add_wire_query(struct params *ps, const char *q, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(q + i, '&', len - i);
		size_t seg = amp ? (size_t)(amp - (q + i)) : len - i;
		const char *s = q + i;
		const char *eq = memchr(s, '=', seg);
		if (seg > 0) /* "a&&b" has no empty parameter in it */
			add_param(ps, s, eq ? (size_t)(eq - s) : seg, eq ? eq + 1 : s + seg,
				  eq ? seg - (size_t)(eq - s) - 1 : 0, 0);
		i += seg + 1;
	}
}

/* The X-Amz-* parameters of a presigned URL, in aws-c-auth's order. The
 * token is left out when it is to be added after signing. */
static size_t auth_params(const struct plan *pl, struct extra_header out[6], int with_token)
{
	size_t n = 0;
	out[n++] = (struct extra_header){ "X-Amz-Algorithm", ALGORITHM };
	out[n++] = (struct extra_header){ "X-Amz-Credential", pl->credential };
	out[n++] = (struct extra_header){ "X-Amz-Date", pl->amz_date };
	out[n++] = (struct extra_header){ "X-Amz-SignedHeaders", dc_buf_cstr(&pl->signed_headers) };
	out[n++] = (struct extra_header){ "X-Amz-Expires", pl->expires };
	if (pl->token && with_token)
		out[n++] = (struct extra_header){ "X-Amz-Security-Token", pl->token };
	return n;
}

static int cmp_param(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->k, y->k, n);
	if (c || x->key_len != y->key_len)
		return c ? c : (x->key_len < y->key_len ? -1 : 1);
	n = x->value_len < y->value_len ? x->value_len : y->value_len;
	c = memcmp(x->v, y->v, n);
	if (c || x->value_len != y->value_len)
		return c ? c : (x->value_len < y->value_len ? -1 : 1);
	return 0;
}

static int canonical_query(struct writer *out, const struct plan *pl)
{
	struct params ps = { .v = NULL, .n = 0, .cap = 0 };
	dc_buf_init(&ps.scratch, DC_MAX_CANONICAL);
	w_init(&ps.w, &ps.scratch);
	if (pl->url.query)
		add_wire_query(&ps, pl->url.query, pl->url.query_len);
	if (pl->presign) {
		struct extra_header a[6];
		size_t n = auth_params(pl, a, !pl->p->omit_session_token);
		for (size_t i = 0; i < n; i++)
			add_param(&ps, a[i].name, strlen(a[i].name), a[i].value, strlen(a[i].value), 1);
	}
	int rc = w_flush(&ps.w);
	for (size_t i = 0; i < ps.n; i++) {
		ps.v[i].k = dc_buf_cstr(&ps.scratch) + ps.v[i].key;
		ps.v[i].v = dc_buf_cstr(&ps.scratch) + ps.v[i].value;
	}
	if (ps.n > 1)
		qsort(ps.v, ps.n, sizeof(*ps.v), cmp_param);
	for (size_t i = 0; i < ps.n && rc == 0; i++) {
		if (i)
			w_putc(out, '&');
		w_put(out, ps.v[i].k, ps.v[i].key_len);
		w_putc(out, '=');
		w_put(out, ps.v[i].v, ps.v[i].value_len);
	}
	free(ps.v);
	dc_buf_dispose(&ps.scratch);
	return rc;
}

/* ---- Canonical URI ---------------------------------------------------- */

/* dst[0..n) is "/" followed by "segment/"s: drop the last segment. */
static size_t pop_segment(const char *dst, size_t n)
{
	n--;
	while (dst[n - 1] != '/')
		n--;
	return n;
}

/* botocore's remove_dot_segments (aws-c-auth does the same): drop empty and
 * "." segments, let ".." remove the one before, keep a final slash. dst has
 * room for len + 2 bytes. */
static size_t normalize_path(char *dst, const char *path, size_t len)
{
	size_t n = 0, segments = 0;
	dst[n++] = '/';
	for (size_t i = 0; i < len;) {
		const char *slash = memchr(path + i, '/', len - i);
		size_t sl = slash ? (size_t)(slash - (path + i)) : len - i;
		const char *s = path + i;
		i += sl + 1;
		if (sl == 0 || (sl == 1 && s[0] == '.'))
			continue;
		if (sl == 2 && s[0] == '.' && s[1] == '.') {
			if (segments) {
				n = pop_segment(dst, n);
				segments--;
			}
			continue;
		}
		memcpy(dst + n, s, sl);
		n += sl;
		dst[n++] = '/';
		segments++;
	}
	if (segments && path[len - 1] != '/')
		n--;
	return n;
}

static void canonical_uri(struct writer *w, const struct plan *pl)
{
	const char *path = pl->url.path;
	size_t len = pl->url.path_len;
	const struct dc_sigv4_params *p = pl->p;
	if (len == 0) {
		w_putc(w, '/');
	} else if (p->s3) {
		w_put(w, path, len); /* already encoded once, and S3 wants it so */
	} else if (p->no_normalize) {
		w_encoded(w, path, len, 1);
	} else {
		char small[512];
		char *tmp = len + 2 <= sizeof(small) ? small : dc_xmalloc(len + 2);
		size_t n = normalize_path(tmp, path, len);
		w_encoded(w, tmp, n, 1);
		if (tmp != small)
			free(tmp);
	}
}

/* ---- Canonical request, string to sign, signature ---------------------- */

static int build_canonical(struct dc_buf *out, struct plan *pl)
{
	struct dc_buf block = DC_BUF_INIT(DC_MAX_CANONICAL);
	struct writer w;
	int rc = -1;
	if (canonical_headers(&block, pl) < 0)
		goto done;
	w_init(&w, out);
	w_puts(&w, pl->req->method);
	w_putc(&w, '\n');
	canonical_uri(&w, pl);
	w_putc(&w, '\n');
	if (canonical_query(&w, pl) < 0)
		goto done;
	w_putc(&w, '\n');
	w_put(&w, dc_buf_cstr(&block), block.len);
	w_putc(&w, '\n');
	w_put(&w, dc_buf_cstr(&pl->signed_headers), pl->signed_headers.len);
	w_putc(&w, '\n');
	w_puts(&w, pl->payload);
	rc = w_flush(&w);
done:
	dc_buf_dispose(&block);
	return rc;
}

int dc_sigv4_canonical_request(struct dc_buf *out, const struct dc_http_request *req,
			       const struct dc_sigv4_params *p, int presign)
{
	struct plan pl;
	int rc = plan_init(&pl, req, p, presign);
	if (rc == 0)
		rc = build_canonical(out, &pl);
	plan_dispose(&pl);
	return rc;
}

static int write_string_to_sign(EVP_MD_CTX *ctx, struct dc_buf *out, const char *canonical,
				size_t canonical_len, const char *amz_date, const char *scope)
{
	unsigned char md[32];
	char hex[65];
	struct writer w;
	sha256_two(ctx, md, canonical, canonical_len, NULL, 0);
	to_hex(hex, md, sizeof(md));
	w_init(&w, out);
	w_puts(&w, ALGORITHM "\n");
	w_puts(&w, amz_date);
	w_putc(&w, '\n');
	w_puts(&w, scope);
	w_putc(&w, '\n');
	w_put(&w, hex, 64);
	return w_flush(&w);
}

int dc_sigv4_string_to_sign(struct dc_buf *out, const char *canonical_request,
			    const struct dc_sigv4_params *p)
{
	char amz_date[17], day[9];
	if (check_params(p) < 0 || format_dates(amz_date, day, p->now) < 0)
		return -1;
	char *scope = concat(day, "/", p->region, "/", p->service, "/" TERMINATOR, NULL);
	EVP_MD_CTX *ctx = digest_ctx();
	int rc = write_string_to_sign(ctx, out, canonical_request, strlen(canonical_request),
				      amz_date, scope);
	free(scope);
	return rc;
}

/* ---- Signing-key cache ------------------------------------------------ */

/* The key changes once a day per (secret, region, service); deriving it is
 * four HMACs, more than the rest of a signature. A slot is found by a
 * digest of those four, so the secret itself is never copied here and one
 * compare settles a slot. */
struct key_slot {
	int used;
	unsigned char id[32];
	unsigned char key[32];
};

static struct key_slot key_cache[KEY_CACHE_SLOTS];
static size_t key_cache_next;
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* SHA-256 of secret, day, region and service, each with its NUL so that
 * no two different tuples run together into the same bytes. */
static void key_id(EVP_MD_CTX *ctx, unsigned char out[32], const char *secret, const char *day,
		   const char *region, const char *service)
{
	const char *parts[] = { secret, day, region, service };
	unsigned int n = 0;
	int ok = EVP_DigestInit_ex2(ctx, NULL, NULL) == 1;
	for (size_t i = 0; i < 4 && ok; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) == 1;
	if (!ok || EVP_DigestFinal_ex(ctx, out, &n) != 1) {
		fputs("deployctl: sha-256 failed in openssl\n", stderr);
		abort();
	}
}

static struct key_slot *find_slot(const unsigned char id[32])
{
	for (size_t i = 0; i < KEY_CACHE_SLOTS; i++)
		if (key_cache[i].used && memcmp(key_cache[i].id, id, 32) == 0)
			return &key_cache[i];
	return NULL;
}

static int cache_lookup(unsigned char out[32], const unsigned char id[32])
{
	pthread_mutex_lock(&key_cache_lock);
	struct key_slot *s = find_slot(id);
	if (s)
		memcpy(out, s->key, 32);
	pthread_mutex_unlock(&key_cache_lock);
	return s != NULL;
}

static void cache_store(const unsigned char id[32], const unsigned char key[32])
{
	pthread_mutex_lock(&key_cache_lock);
	if (!find_slot(id)) { /* else another thread got there first */
		struct key_slot *s = &key_cache[key_cache_next];
		s->used = 1;
		memcpy(s->id, id, 32);
		memcpy(s->key, key, 32);
		key_cache_next = (key_cache_next + 1) % KEY_CACHE_SLOTS;
	}
	pthread_mutex_unlock(&key_cache_lock);
}

static void derive_key(EVP_MD_CTX *ctx, unsigned char out[32], const char *secret,
		       const char *day, const char *region, const char *service)
{
	size_t len = strlen(secret);
	char small[128];
	char *k = len + 5 <= sizeof(small) ? small : dc_xmalloc(len + 5);
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, secret, len + 1);
	unsigned char ab[64], *a = ab, *b = ab + 32;
	hmac_sha256(ctx, a, k, len + 4, day, strlen(day));
	hmac_sha256(ctx, b, a, 32, region, strlen(region));
	hmac_sha256(ctx, a, b, 32, service, strlen(service));
	hmac_sha256(ctx, out, a, 32, TERMINATOR, strlen(TERMINATOR));
	OPENSSL_cleanse(k, len + 4);
	OPENSSL_cleanse(ab, sizeof(ab));
	if (k != small)
		free(k);
}

static int signing_key(EVP_MD_CTX *ctx, unsigned char out[32], const struct dc_sigv4_params *p,
		       const char *day)
{
	const char *secret = p->creds->secret_access_key;
	unsigned char id[32];
	key_id(ctx, id, secret, day, p->region, p->service);
	if (cache_lookup(out, id))
		return 0;
	derive_key(ctx, out, secret, day, p->region, p->service);
	cache_store(id, out);
	return 1;
}

int dc_sigv4_signing_key(unsigned char out[32], const struct dc_sigv4_params *p)
{
	char amz_date[17], day[9];
	if (check_params(p) < 0 || format_dates(amz_date, day, p->now) < 0)
		return -1;
	EVP_MD_CTX *ctx = digest_ctx();
	int rc = signing_key(ctx, out, p, day);
	return rc;
}

static void sign_string(EVP_MD_CTX *ctx, char out[65], const char *string_to_sign, size_t len,
			const struct dc_sigv4_params *p, const char *day)
{
	unsigned char key[32], mac[32];
	signing_key(ctx, key, p, day);
	hmac_sha256(ctx, mac, key, sizeof(key), string_to_sign, len);
	OPENSSL_cleanse(key, sizeof(key));
	to_hex(out, mac, sizeof(mac));
}

int dc_sigv4_signature(char out[65], const char *string_to_sign, const struct dc_sigv4_params *p)
{
	char amz_date[17], day[9];
	if (check_params(p) < 0 || format_dates(amz_date, day, p->now) < 0)
		return -1;
	EVP_MD_CTX *ctx = digest_ctx();
	sign_string(ctx, out, string_to_sign, strlen(string_to_sign), p, day);
	return 0;
}

/* Canonical request, string to sign and signature for an initialised plan. */
static int sign_plan(char sig[65], struct plan *pl)
{
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_CANONICAL);
	struct dc_buf sts = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = build_canonical(&canon, pl);
	if (rc == 0)
		rc = write_string_to_sign(pl->ctx, &sts, dc_buf_cstr(&canon), canon.len, pl->amz_date,
					  pl->scope);
	if (rc == 0)
		sign_string(pl->ctx, sig, dc_buf_cstr(&sts), sts.len, pl->p, pl->day);
	dc_buf_dispose(&canon);
	dc_buf_dispose(&sts);
	return rc;
}

/* ---- The two entry points --------------------------------------------- */

/* dc_headers_set, taking over `value`, and in place when the field is there
 * once already (a retry signs the same request again). */
static void put_header(struct dc_headers *h, const char *name, char *value)
{
	size_t at = h->n, count = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) == 0) {
			at = count++ ? at : i;
		}
	}
	if (count == 1) {
		free(h->v[at].value);
		h->v[at].value = value;
		return;
	}
	dc_headers_set(h, name, value);
	free(value);
}

int dc_sigv4_sign(struct dc_http_request *req, const struct dc_sigv4_params *p)
{
	struct plan pl;
	char sig[65];
	int rc = plan_init(&pl, req, p, 0);
	if (rc == 0)
		rc = sign_plan(sig, &pl);
	if (rc < 0)
		goto done;
	for (size_t i = 0; i < pl.n_extra; i++)
		put_header(&req->headers, pl.extra[i].name, dc_xstrdup(pl.extra[i].value));
	if (pl.token && p->omit_session_token)
		put_header(&req->headers, "X-Amz-Security-Token", dc_xstrdup(pl.token));
	put_header(&req->headers, "Authorization",
		   concat(ALGORITHM " Credential=", pl.credential, ", SignedHeaders=",
			  dc_buf_cstr(&pl.signed_headers), ", Signature=", sig, NULL));
done:
	plan_dispose(&pl);
	return rc;
}

static void w_query_param(struct writer *w, const char *name, const char *value, int first)
{
	if (!first)
		w_putc(w, '&');
	w_puts(w, name);
	w_putc(w, '=');
	w_encoded(w, value, strlen(value), 0);
}

int dc_sigv4_presign(char **out, const struct dc_http_request *req,
		     const struct dc_sigv4_params *p)
{
	struct plan pl;
	struct dc_buf url = DC_BUF_INIT(DC_MAX_CANONICAL);
	struct extra_header a[6];
	struct writer w;
	char sig[65];
	int rc = plan_init(&pl, req, p, 1);
	if (rc == 0)
		rc = sign_plan(sig, &pl);
	if (rc < 0)
		goto done;
	w_init(&w, &url);
	w_put(&w, req->url, pl.url.end);
	if (!pl.url.query)
		w_putc(&w, '?');
	int first = !pl.url.query || pl.url.query_len == 0;
	size_t n = auth_params(&pl, a, 1);
	for (size_t i = 0; i < n; i++)
		w_query_param(&w, a[i].name, a[i].value, first && i == 0);
	w_query_param(&w, "X-Amz-Signature", sig, 0);
	w_puts(&w, req->url + pl.url.end);
	rc = w_flush(&w);
	if (rc == 0)
		*out = dc_buf_take(&url);
done:
	plan_dispose(&pl);
	dc_buf_dispose(&url);
	return rc;
}
