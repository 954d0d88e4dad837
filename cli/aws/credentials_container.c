/* Container credentials (ECS task roles, EKS Pod Identity), as botocore's
 * ContainerProvider and ContainerMetadataFetcher get them: GET a URL named
 * by the environment, with an optional Authorization token, and read
 * {AccessKeyId, SecretAccessKey, Token, Expiration}. Short timeouts and a
 * few tries, as botocore: the endpoint is local to the host. The answer
 * holds the secret, so no message ever quotes it. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <strings.h>

#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "aws/http.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define RELATIVE_HOST "http://169.254.170.2"
#define TIMEOUT_MS 2000L  /* botocore's TIMEOUT_SECONDS */
#define ATTEMPTS 3        /* botocore's RETRY_ATTEMPTS ... */
#define RETRY_SLEEP_MS 1000L /* ... and SLEEP_TIME */
#define MAX_ANSWER DC_MAX_SMALL
#define MAX_AUTH_TOKEN DC_MAX_SMALL
/* An answer that is JSON but not credentials: botocore does not try again. */
#define FINAL (-5)

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* The host of url, lowercased, without brackets, userinfo or port. */
static char *host_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "/?#");
	for (const char *at = memchr(p, '@', n); at; at = memchr(p, '@', n)) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', n);
		n = close ? (size_t)(close - p - 1) : n - 1;
		p++;
	} else {
		const char *colon = memchr(p, ':', n);
		if (colon)
			n = (size_t)(colon - p);
	}
	char *host = dc_xstrndup(p, n);
	for (char *c = host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return host;
}

static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int dc_credentials_container_url_allowed(const char *url)
{
	static const char *const hosts[] = { "169.254.170.2", "169.254.170.23", "fd00:ec2::23",
					     "localhost" };
	if (!strncasecmp(url, "https://", 8))
		return 1;
	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	char *host = host_of(url);
	int ok = is_loopback(host);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		ok |= !strcmp(host, hosts[i]);
	free(host);
	return ok;
}

static void wipe(struct dc_buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->cap);
	dc_buf_dispose(b);
}

/* botocore's _build_headers: the file wins over the variable, and is read
 * on every call because the agent rotates it. */
static int auth_token(struct dc_buf *out)
{
	const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *from = file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
				: "AWS_CONTAINER_AUTHORIZATION_TOKEN";
	if (file && dc_buf_read_file(out, file) < 0) {
		dc_error_prefix("container authorization token");
		return -1;
	}
	if (!file && token && dc_buf_puts(out, token) < 0)
		return -1;
	if (strpbrk(dc_buf_cstr(out), "\r\n") || strlen(dc_buf_cstr(out)) != out->len)
		return dc_error_set("the container authorization token from %s is not a valid "
				    "header value: it holds a line break or a NUL byte", from);
	return 0;
}

static const char *string_field(json_t *root, const char *name)
{
	const char *s = json_string_value(json_object_get(root, name));
	return s && *s ? s : NULL;
}

static int take_answer(struct dc_credentials *out, json_t *root, const char *host)
{
	static const char *const names[] = { "AccessKeyId", "SecretAccessKey", "Token",
					     "Expiration" };
	const char *v[4];
	time_t expiration;
	for (size_t i = 0; i < 4; i++)
		if (!(v[i] = string_field(root, names[i])))
			return dc_error_set("container credentials from '%s' have no %s", host,
					    names[i]);
	if (dc_credentials_parse_time(&expiration, v[3]) < 0)
		return dc_error_set("container credentials from '%s' have an Expiration that is "
				    "not a time like '2024-05-01T12:00:00Z'",
				    host);
	dc_credentials_set(out, v[0], v[1], v[2]);
	out->expiration = expiration;
	snprintf(out->source, sizeof(out->source), "container credentials (%s)", host);
	return 0;
}

static int parse_answer(struct dc_credentials *out, const char *body, size_t len,
			const char *host)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	int rc;
	/* jerr.text quotes the text near the error, which may be the secret. */
	if (!root)
		rc = dc_error_set("container credentials from '%s' are not JSON (line %d, "
				  "column %d)", host, jerr.line, jerr.column);
	else if (!json_is_object(root))
		rc = dc_error_set("container credentials from '%s' are not a JSON object", host);
	else
		rc = take_answer(out, root, host) < 0 ? FINAL : 0;
	json_decref(root);
	return rc;
}

int dc_credentials_container_parse(struct dc_credentials *out, const char *body, size_t len,
				   const char *host)
{
	return parse_answer(out, body, len, host) < 0 ? -1 : 0;
}

static int attempt(struct dc_credentials *out, struct dc_http *http,
		   const struct dc_http_request *req, const char *host)
{
	struct dc_http_response res;
	dc_http_response_init(&res);
	int rc = dc_http_send(http, req, &res);
	if (rc == 0 && res.status != 200)
		rc = dc_error_set("container credentials endpoint '%s' answered HTTP %ld", host,
				  res.status);
	if (rc == 0)
		rc = parse_answer(out, dc_buf_cstr(&res.body), res.body.len, host);
	wipe(&res.body);
	dc_http_response_dispose(&res);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int fetch(struct dc_credentials *out, const struct dc_config *cfg, const char *url)
{
	struct dc_http_options opt = { .connect_timeout_ms = TIMEOUT_MS,
				       .timeout_ms = 2 * TIMEOUT_MS,
				       .stall_timeout_ms = TIMEOUT_MS,
				       .ca_bundle = cfg->ca_bundle,
				       .max_response = MAX_ANSWER };
	struct dc_http_request req;
	struct dc_buf token = DC_BUF_INIT(MAX_AUTH_TOKEN);
	char *host = host_of(url);
	int rc = -1;
	dc_http_request_init(&req, "GET", url);
	dc_headers_add(&req.headers, "Accept", "application/json");
	if (auth_token(&token) < 0)
		goto done;
	if (token.len)
		dc_headers_add(&req.headers, "Authorization", dc_buf_cstr(&token));
	struct dc_http *http = dc_http_new(&opt);
	/* botocore tries again after any failure, invalid JSON too. */
	for (int n = 1; n <= ATTEMPTS && rc < 0 && rc != FINAL; n++) {
		if (n > 1)
			sleep_ms(RETRY_SLEEP_MS);
		rc = attempt(out, http, &req, host);
	}
	dc_http_free(http);
	rc = rc < 0 ? -1 : 0;
done:
	wipe(&token);
	for (size_t i = 0; i < req.headers.n; i++)
		explicit_bzero(req.headers.v[i].value, strlen(req.headers.v[i].value));
	dc_http_request_dispose(&req);
	free(host);
	return rc;
}

int dc_credentials_from_container(struct dc_credentials *out, const struct dc_config *cfg,
				  struct dc_aws *aws)
{
	const char *relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (!relative && !full)
		return 0;
	if (!relative && !dc_credentials_container_url_allowed(full)) {
		char *host = host_of(full);
		dc_error_set("AWS_CONTAINER_CREDENTIALS_FULL_URI names host '%s': only https, or "
			     "http to a loopback address, 169.254.170.2, 169.254.170.23, "
			     "fd00:ec2::23 or localhost, is allowed",
			     host);
		free(host);
		return -1;
	}
	char *url = relative ? dc_xasprintf("%s%s", RELATIVE_HOST, relative) : dc_xstrdup(full);
	int rc = fetch(out, cfg, url);
	free(url);
	return rc < 0 ? -1 : 1;
}
