/* AWS Signature Version 4, header and query (presigned URL) variants.
 * Sources of truth: the AWS "Create a signed AWS API request" pages, the
 * aws-c-auth signing test suite, and botocore's auth.py where the pages are
 * silent (which headers to leave unsigned, how dot segments go). */
#include "aws/sigv4.h"

#include <pthread.h>
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
#define KEY_CACHE_SLOTS 8
#define KEY_CACHE_NAME 64

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

static void fetch_sha256(void)
{
	/* One explicit fetch: EVP_sha256() makes OpenSSL 3 search its providers
	 * again on every digest init, which costs more than hashing a request. */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md)
		sha256_md = EVP_sha256();
}

static EVP_MD_CTX *digest_ctx(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx) {
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
	if (EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
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
	unsigned char block[64] = { 0 }, pad[64], inner[32];
	if (key_len > sizeof(block))
		sha256_two(ctx, block, key, key_len, NULL, 0);
	else
		memcpy(block, key, key_len);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = block[i] ^ 0x36;
	sha256_two(ctx, inner, pad, sizeof(pad), msg, msg_len);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = block[i] ^ 0x5c;
	sha256_two(ctx, out, pad, sizeof(pad), inner, sizeof(inner));
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
}

static void to_hex(char *out, const unsigned char *bin, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_lower[bin[i] >> 4];
		out[2 * i + 1] = hex_lower[bin[i] & 15];
	}
	out[2 * n] = '\0';
}

void dc_sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx = digest_ctx();
	sha256_two(ctx, md, data, len, NULL, 0);
	EVP_MD_CTX_free(ctx);
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

static void w_lower(struct writer *w, const char *s)
{
	for (; *s; s++)
		w_putc(w, (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s);
}

/* ---- URI encoding ----------------------------------------------------- */

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void w_encoded_byte(struct writer *w, unsigned char c, int keep_slash)
{
	if (w->n + 3 > sizeof(w->chunk))
		w_flush(w);
	if (is_unreserved(c) || (keep_slash && c == '/')) {
		w->chunk[w->n++] = (char)c;
		return;
	}
	w->chunk[w->n++] = '%';
	w->chunk[w->n++] = hex_upper[c >> 4];
	w->chunk[w->n++] = hex_upper[c & 15];
}

/* RFC 3986 encoding: everything but the unreserved set (and '/' if kept). */
static void w_encoded(struct writer *w, const char *s, size_t n, int keep_slash)
{
	for (size_t i = 0; i < n; i++)
		w_encoded_byte(w, (unsigned char)s[i], keep_slash);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX (a '%' not followed by two hex digits stays itself; '+' stays
 * '+', as RFC 3986 has it), then encode: the canonical form AWS rebuilds
 * from the parameters it received. */
static void w_reencoded(struct writer *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n) {
			int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
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
	char *scope;       /* day/region/service/aws4_request */
	char *credential;  /* access key id/scope */
	struct extra_header extra[3];
	size_t n_extra;
	struct dc_buf signed_headers;
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

static int format_dates(char amz_date[17], char day[9], time_t now)
{
	struct tm tm;
	if (!gmtime_r(&now, &tm) || strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return dc_error_set("time %lld cannot be written as a signing date", (long long)now);
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
	if (p->unsigned_payload || (pl->presign && p->s3))
		snprintf(pl->payload, sizeof(pl->payload), "%s", DC_UNSIGNED_PAYLOAD);
	else if (given && !p->s3 && !p->sign_body && strlen(given) < sizeof(pl->payload))
		snprintf(pl->payload, sizeof(pl->payload), "%s", given);
	else
		dc_sha256_hex(pl->payload, pl->req->body.ptr ? pl->req->body.ptr : "",
			      pl->req->body.len);
}

/* Headers dc_sigv4_sign adds before signing; they replace any of the same
 * name in the request. */
static void plan_extra_headers(struct plan *pl)
{
	const struct dc_sigv4_params *p = pl->p;
	pl->n_extra = 0;
	if (pl->presign)
		return;
	pl->extra[pl->n_extra++] = (struct extra_header){ "X-Amz-Date", pl->amz_date };
	if (pl->token && !p->omit_session_token)
		pl->extra[pl->n_extra++] = (struct extra_header){ "X-Amz-Security-Token", pl->token };
	if (p->s3 || p->sign_body || p->unsigned_payload)
		pl->extra[pl->n_extra++] = (struct extra_header){ "X-Amz-Content-SHA256", pl->payload };
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
	free(pl->scope);
	free(pl->credential);
	dc_buf_dispose(&pl->signed_headers);
	pl->scope = pl->credential = NULL;
}

static int plan_init(struct plan *pl, const struct dc_http_request *req,
		     const struct dc_sigv4_params *p, int presign)
{
	memset(pl, 0, sizeof(*pl));
	dc_buf_init(&pl->signed_headers, DC_MAX_SMALL);
	pl->p = p;
	pl->req = req;
	pl->presign = presign;
	if (check_params(p) < 0 || format_dates(pl->amz_date, pl->day, p->now) < 0)
		return -1;
	if (!req->method || !req->url)
		return dc_error_set("request to sign has no method or url");
	if (split_url(&pl->url, req->url) < 0 || (presign && plan_expires(pl) < 0))
		return -1;
	const char *token = p->creds->session_token;
	pl->token = token && *token ? token : NULL;
	pl->scope = dc_xasprintf("%s/%s/%s/" TERMINATOR, pl->day, p->region, p->service);
	pl->credential = dc_xasprintf("%s/%s", p->creds->access_key_id, pl->scope);
	plan_payload(pl);
	plan_extra_headers(pl);
	return 0;
}

/* ---- Canonical headers ------------------------------------------------ */

struct sort_header {
	const char *name;
	const char *value;
	size_t order;
};

static int cmp_header(const void *a, const void *b)
{
	const struct sort_header *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int is_unsigned_header(const struct plan *pl, const char *name)
{
	for (size_t i = 0; i < sizeof(unsigned_headers) / sizeof(*unsigned_headers); i++)
		if (strcasecmp(name, unsigned_headers[i]) == 0)
			return 1;
	for (size_t i = 0; i < pl->n_extra; i++)
		if (strcasecmp(name, pl->extra[i].name) == 0)
			return 1;
	if (pl->presign)
		return 0;
	/* Signing replaces these, or (IoT style) adds the token afterwards. */
	return strcasecmp(name, "authorization") == 0 ||
	       (pl->token && pl->p->omit_session_token &&
		strcasecmp(name, "x-amz-security-token") == 0);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trim, and fold every run of white space (obs-fold line breaks included)
 * into one space. */
static void w_trimmed(struct writer *w, const char *v)
{
	int pending = 0, started = 0;
	for (; *v; v++) {
		if (is_space(*v)) {
			pending = started;
			continue;
		}
		if (pending)
			w_putc(w, ' ');
		pending = 0;
		started = 1;
		w_putc(w, *v);
	}
}

/* The headers to sign, sorted by name, request order kept among equals. */
static struct sort_header *collect_headers(const struct plan *pl, size_t *count, char **host)
{
	const struct dc_headers *h = &pl->req->headers;
	struct sort_header *v = dc_xmalloc((h->n + pl->n_extra + 1) * sizeof(*v));
	size_t n = 0;
	*host = NULL;
	for (size_t i = 0; i < h->n; i++) {
		if (!is_unsigned_header(pl, h->v[i].name)) {
			v[n] = (struct sort_header){ h->v[i].name, h->v[i].value, n };
			n++;
		}
	}
	for (size_t i = 0; i < pl->n_extra; i++, n++)
		v[n] = (struct sort_header){ pl->extra[i].name, pl->extra[i].value, n };
	if (!header_value(pl->req, "host")) {
		*host = host_from_url(&pl->url);
		v[n] = (struct sort_header){ "host", *host, n };
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_header);
	*count = n;
	return v;
}

/* Writes "name:value\n" lines into block and "a;b;c" into pl->signed_headers. */
static int canonical_headers(struct dc_buf *block, struct plan *pl)
{
	char *host;
	size_t n;
	struct sort_header *v = collect_headers(pl, &n, &host);
	struct writer w, s;
	w_init(&w, block);
	w_init(&s, &pl->signed_headers);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcasecmp(v[i].name, v[i - 1].name) == 0) {
			w_putc(&w, ',');
		} else {
			if (i > 0) {
				w_putc(&w, '\n');
				w_putc(&s, ';');
			}
			w_lower(&w, v[i].name);
			w_putc(&w, ':');
			w_lower(&s, v[i].name);
		}
		w_trimmed(&w, v[i].value);
	}
	if (n)
		w_putc(&w, '\n');
	free(v);
	free(host);
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

static int write_string_to_sign(struct dc_buf *out, const char *canonical_request,
				const char *amz_date, const char *scope)
{
	unsigned char md[32];
	char hex[65];
	EVP_MD_CTX *ctx = digest_ctx();
	sha256_two(ctx, md, canonical_request, strlen(canonical_request), NULL, 0);
	EVP_MD_CTX_free(ctx);
	to_hex(hex, md, sizeof(md));
	return dc_buf_printf(out, ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hex);
}

int dc_sigv4_string_to_sign(struct dc_buf *out, const char *canonical_request,
			    const struct dc_sigv4_params *p)
{
	char amz_date[17], day[9];
	if (check_params(p) < 0 || format_dates(amz_date, day, p->now) < 0)
		return -1;
	char *scope = dc_xasprintf("%s/%s/%s/" TERMINATOR, day, p->region, p->service);
	int rc = write_string_to_sign(out, canonical_request, amz_date, scope);
	free(scope);
	return rc;
}

/* ---- Signing-key cache ------------------------------------------------ */

/* The key changes once a day per (secret, region, service); deriving it is
 * four HMACs, more than the rest of a signature. Slots hold a digest of the
 * secret, so the secret itself is never copied here. */
struct key_slot {
	int used;
	unsigned char secret_digest[32];
	char day[9];
	char region[KEY_CACHE_NAME];
	char service[KEY_CACHE_NAME];
	unsigned char key[32];
};

static struct key_slot key_cache[KEY_CACHE_SLOTS];
static size_t key_cache_next;
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int slot_matches(const struct key_slot *s, const struct key_slot *want)
{
	return s->used && memcmp(s->secret_digest, want->secret_digest, 32) == 0 &&
	       strcmp(s->day, want->day) == 0 && strcmp(s->region, want->region) == 0 &&
	       strcmp(s->service, want->service) == 0;
}

static int cache_lookup(unsigned char out[32], const struct key_slot *want)
{
	int found = 0;
	pthread_mutex_lock(&key_cache_lock);
	for (size_t i = 0; i < KEY_CACHE_SLOTS && !found; i++) {
		if (slot_matches(&key_cache[i], want)) {
			memcpy(out, key_cache[i].key, 32);
			found = 1;
		}
	}
	pthread_mutex_unlock(&key_cache_lock);
	return found;
}

static void cache_store(const struct key_slot *slot)
{
	pthread_mutex_lock(&key_cache_lock);
	for (size_t i = 0; i < KEY_CACHE_SLOTS; i++)
		if (slot_matches(&key_cache[i], slot))
			goto done; /* another thread got there first */
	key_cache[key_cache_next] = *slot;
	key_cache_next = (key_cache_next + 1) % KEY_CACHE_SLOTS;
done:
	pthread_mutex_unlock(&key_cache_lock);
}

static void derive_key(EVP_MD_CTX *ctx, unsigned char out[32], const char *secret,
		       const char *day, const char *region, const char *service)
{
	size_t len = strlen(secret);
	char *k = dc_xmalloc(len + 5);
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, secret, len + 1);
	unsigned char a[32], b[32];
	hmac_sha256(ctx, a, k, len + 4, day, strlen(day));
	hmac_sha256(ctx, b, a, 32, region, strlen(region));
	hmac_sha256(ctx, a, b, 32, service, strlen(service));
	hmac_sha256(ctx, out, a, 32, TERMINATOR, strlen(TERMINATOR));
	OPENSSL_cleanse(k, len + 4);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	free(k);
}

static int signing_key(EVP_MD_CTX *ctx, unsigned char out[32], const struct dc_sigv4_params *p,
		       const char *day)
{
	const char *secret = p->creds->secret_access_key;
	struct key_slot want = { .used = 1 };
	int cacheable = strlen(p->region) < KEY_CACHE_NAME && strlen(p->service) < KEY_CACHE_NAME;
	if (cacheable) {
		sha256_two(ctx, want.secret_digest, secret, strlen(secret), NULL, 0);
		memcpy(want.day, day, 9);
		memcpy(want.region, p->region, strlen(p->region) + 1);
		memcpy(want.service, p->service, strlen(p->service) + 1);
		if (cache_lookup(out, &want))
			return 0;
	}
	derive_key(ctx, out, secret, day, p->region, p->service);
	if (cacheable) {
		memcpy(want.key, out, 32);
		cache_store(&want);
		OPENSSL_cleanse(&want, sizeof(want));
	}
	return 1;
}

int dc_sigv4_signing_key(unsigned char out[32], const struct dc_sigv4_params *p)
{
	char amz_date[17], day[9];
	if (check_params(p) < 0 || format_dates(amz_date, day, p->now) < 0)
		return -1;
	EVP_MD_CTX *ctx = digest_ctx();
	int rc = signing_key(ctx, out, p, day);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void sign_string(char out[65], const char *string_to_sign, const struct dc_sigv4_params *p,
			const char *day)
{
	unsigned char key[32], mac[32];
	EVP_MD_CTX *ctx = digest_ctx();
	signing_key(ctx, key, p, day);
	hmac_sha256(ctx, mac, key, sizeof(key), string_to_sign, strlen(string_to_sign));
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(key, sizeof(key));
	to_hex(out, mac, sizeof(mac));
}

int dc_sigv4_signature(char out[65], const char *string_to_sign, const struct dc_sigv4_params *p)
{
	char amz_date[17], day[9];
	if (check_params(p) < 0 || format_dates(amz_date, day, p->now) < 0)
		return -1;
	sign_string(out, string_to_sign, p, day);
	return 0;
}

/* Canonical request, string to sign and signature for an initialised plan. */
static int sign_plan(char sig[65], struct plan *pl)
{
	struct dc_buf canon = DC_BUF_INIT(DC_MAX_CANONICAL);
	struct dc_buf sts = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = build_canonical(&canon, pl);
	if (rc == 0)
		rc = write_string_to_sign(&sts, dc_buf_cstr(&canon), pl->amz_date, pl->scope);
	if (rc == 0)
		sign_string(sig, dc_buf_cstr(&sts), pl->p, pl->day);
	dc_buf_dispose(&canon);
	dc_buf_dispose(&sts);
	return rc;
}

/* ---- The two entry points --------------------------------------------- */

int dc_sigv4_sign(struct dc_http_request *req, const struct dc_sigv4_params *p)
{
	struct plan pl;
	char sig[65];
	int rc = plan_init(&pl, req, p, 0);
	if (rc == 0)
		rc = sign_plan(sig, &pl);
	if (rc < 0)
		goto done;
	dc_headers_remove(&req->headers, "Authorization");
	for (size_t i = 0; i < pl.n_extra; i++)
		dc_headers_set(&req->headers, pl.extra[i].name, pl.extra[i].value);
	if (pl.token && p->omit_session_token)
		dc_headers_set(&req->headers, "X-Amz-Security-Token", pl.token);
	char *auth = dc_xasprintf(ALGORITHM " Credential=%s, SignedHeaders=%s, Signature=%s",
				  pl.credential, dc_buf_cstr(&pl.signed_headers), sig);
	dc_headers_add(&req->headers, "Authorization", auth);
	free(auth);
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
