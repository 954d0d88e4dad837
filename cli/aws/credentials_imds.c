/* EC2 instance metadata credentials, as botocore's InstanceMetadataProvider
 * and InstanceMetadataFetcher get them, IMDSv2 only: PUT /latest/api/token,
 * then with that token GET the role name and the role's credentials.
 *
 * There is deliberately no IMDSv1 fallback (botocore falls back to plain
 * GETs when the token PUT is refused): the project requires IMDSv2, which
 * keeps a server-side request forgery from reading the instance's
 * credentials. An instance that refuses the PUT gets no credentials here.
 *
 * It is the last provider, and runs on laptops too, so it must cost little
 * where there is no IMDS: 1 s timeouts and 1 attempt by default, and when
 * the token cannot be had it finds nothing (the chain then says that no
 * credentials were found) instead of failing with a network error. Once a
 * token came back, the service exists, and a bad answer is an error. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <strings.h>

#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "aws/http.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define DEFAULT_ENDPOINT "http://169.254.169.254"
#define IPV6_ENDPOINT "http://[fd00:ec2::254]"
#define TOKEN_PATH "latest/api/token"
#define TOKEN_TTL "21600"   /* seconds, botocore's _TOKEN_TTL */
#define ROLE_PATH "latest/meta-data/iam/security-credentials/"
#define DEFAULT_TIMEOUT_S 1 /* AWS_METADATA_SERVICE_TIMEOUT */
#define DEFAULT_ATTEMPTS 1  /* AWS_METADATA_SERVICE_NUM_ATTEMPTS */
#define MAX_SETTING 3600
#define MAX_ANSWER DC_MAX_SMALL
#define HINT "set AWS_EC2_METADATA_DISABLED=true if this is not an EC2 instance"

struct imds {
	struct dc_http *http;
	const char *base;       /* endpoint as configured */
	char *host;             /* for messages */
	long attempts;
	struct dc_buf token;
};

int dc_credentials_imds_enabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");
	return !(v && !strcasecmp(v, "true"));
}

/* A setting as botocore's config chain finds it: the variable, else the
 * profile's key. *from names where it came from, for messages. */
static const char *setting(const struct dc_config *cfg, const char *key, const char *var,
			   const char **from)
{
	const char *v = getenv(var);
	*from = var;
	if (v && *v)
		return v;
	*from = key;
	return dc_config_get(cfg, key);
}

static int whole_setting(long *out, const struct dc_config *cfg, const char *key,
			 const char *var, long def)
{
	const char *from;
	const char *v = setting(cfg, key, var, &from);
	char *end;
	*out = def;
	if (!v)
		return 0;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (end == v || *end || errno || *out < 1 || *out > MAX_SETTING)
		return dc_error_set("%s '%.32s' is not a whole number from 1 to %d", from, v,
				    MAX_SETTING);
	return 0;
}

/* botocore's _select_base_url and resolve_imds_endpoint_mode. */
static int endpoint(const char **out, const struct dc_config *cfg)
{
	const char *from;
	const char *url = setting(cfg, "ec2_metadata_service_endpoint",
				  "AWS_EC2_METADATA_SERVICE_ENDPOINT", &from);
	if (url) {
		*out = url;
		if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
			return dc_error_set("%s '%.64s' is not an http:// or https:// URL", from, url);
		return 0;
	}
	const char *mode = setting(cfg, "ec2_metadata_service_endpoint_mode",
				   "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", &from);
	*out = DEFAULT_ENDPOINT;
	if (mode && !strcasecmp(mode, "ipv6"))
		*out = IPV6_ENDPOINT;
	else if (mode && strcasecmp(mode, "ipv4"))
		return dc_error_set("%s '%.32s' is neither IPv4 nor IPv6", from, mode);
	return 0;
}

static char *host_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	return dc_xstrndup(p, strcspn(p, "/?#"));
}

static int imds_init(struct imds *im, const struct dc_config *cfg)
{
	long timeout_s;
	memset(im, 0, sizeof(*im));
	dc_buf_init(&im->token, MAX_ANSWER);
	if (endpoint(&im->base, cfg) < 0 ||
	    whole_setting(&timeout_s, cfg, "metadata_service_timeout",
			  "AWS_METADATA_SERVICE_TIMEOUT", DEFAULT_TIMEOUT_S) < 0 ||
	    whole_setting(&im->attempts, cfg, "metadata_service_num_attempts",
			  "AWS_METADATA_SERVICE_NUM_ATTEMPTS", DEFAULT_ATTEMPTS) < 0)
		return -1;
	/* botocore's timeout bounds the connection and each read. */
	struct dc_http_options opt = { .connect_timeout_ms = timeout_s * 1000,
				       .timeout_ms = 2 * timeout_s * 1000,
				       .stall_timeout_ms = timeout_s * 1000,
				       .ca_bundle = cfg->ca_bundle,
				       .max_response = MAX_ANSWER };
	im->http = dc_http_new(&opt);
	im->host = host_of(im->base);
	return 0;
}

static void wipe(struct dc_buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->cap);
	dc_buf_dispose(b);
}

static void imds_dispose(struct imds *im)
{
	dc_http_free(im->http);
	free(im->host);
	wipe(&im->token);
}

/* One request to base + path, the token sent when there is one. */
static int send_one(struct imds *im, const char *method, const char *path,
		    struct dc_http_response *res)
{
	const char *sep = im->base[0] && im->base[strlen(im->base) - 1] == '/' ? "" : "/";
	char *url = dc_xasprintf("%s%s%s", im->base, sep, path);
	struct dc_http_request req;
	dc_http_request_init(&req, method, url);
	if (!strcmp(method, "PUT"))
		dc_headers_add(&req.headers, "X-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL);
	else
		dc_headers_add(&req.headers, "X-aws-ec2-metadata-token", dc_buf_cstr(&im->token));
	int rc = dc_http_send(im->http, &req, res);
	explicit_bzero(req.headers.v[0].value, strlen(req.headers.v[0].value));
	dc_http_request_dispose(&req);
	free(url);
	return rc;
}

/* 1 with the token, 0 when there is none to be had: unreachable, timed
 * out, or refused (403, 404, 405: where botocore would fall back to
 * IMDSv1; 400: a bad request). */
static int get_token(struct imds *im)
{
	struct dc_http_response res;
	int rc = 0;
	dc_http_response_init(&res);
	for (long n = 0; n < im->attempts && rc == 0; n++) {
		if (send_one(im, "PUT", TOKEN_PATH, &res) < 0)
			continue;
		if (res.status == 200 && res.body.len && !strpbrk(dc_buf_cstr(&res.body), "\r\n"))
			rc = dc_buf_put(&im->token, res.body.ptr, res.body.len) < 0 ? -1 : 1;
		else if (res.status == 400 || res.status == 403 || res.status == 404 ||
			 res.status == 405)
			break;
	}
	wipe(&res.body);
	dc_http_response_dispose(&res);
	return rc < 0 ? 0 : rc;
}

static int imds_error(const char *host, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int imds_error(const char *host, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dc_error_set("EC2 instance metadata at '%s' %s (%s)", host, what, HINT);
}

/* GET path with botocore's retries: a failure, a non-200, an empty body
 * and (when json is not NULL) a body that is not a JSON object are tried
 * again. 0 with *res holding the answer (and *json its parse); DC_ENOTFOUND
 * for 404; -1 with a message. */
static int get(struct imds *im, const char *path, const char *what,
	       struct dc_http_response *res, json_t **json)
{
	int rc = -1;
	for (long n = 0; n < im->attempts && rc < 0; n++) {
		json_error_t jerr;
		if (send_one(im, "GET", path, res) < 0)
			rc = imds_error(im->host, "did not answer for %s: %s", what,
					dc_error_last()->message);
		else if (res->status == 404)
			return DC_ENOTFOUND;
		else if (res->status != 200)
			rc = imds_error(im->host, "answered HTTP %ld for %s", res->status, what);
		else if (!res->body.len)
			rc = imds_error(im->host, "sent an empty answer for %s", what);
		else
			rc = 0;
		if (rc < 0 || !json)
			continue;
		/* Not jerr.text: it quotes the answer, which holds the secret. */
		*json = json_loadb(dc_buf_cstr(&res->body), res->body.len, 0, &jerr);
		if (!json_is_object(*json)) {
			json_decref(*json);
			*json = NULL;
			rc = imds_error(im->host, "sent %s that are not a JSON object", what);
		}
	}
	return rc;
}

/* IAM role names are [A-Za-z0-9+=,.@_-]{1,64}; the name goes into a path. */
int dc_credentials_imds_parse_role(char **out, const char *host, const char *s)
{
	size_t n = strcspn(s, "\r\n");
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_-", s[i]))
			return imds_error(host, "gave a role name that is not one");
	if (n == 0 || n > 64)
		return imds_error(host, "gave a role name that is not one");
	*out = dc_xstrndup(s, n);
	return 0;
}

static const char *string_field(json_t *root, const char *name)
{
	const char *s = json_string_value(json_object_get(root, name));
	return s && *s ? s : NULL;
}

static int take_credentials(struct dc_credentials *out, const char *host, json_t *root,
			    const char *role)
{
	static const char *const names[] = { "AccessKeyId", "SecretAccessKey", "Token",
					     "Expiration" };
	const char *code = string_field(root, "Code");
	const char *v[4];
	time_t expiration;
	/* IMDS reports a role it cannot use (not trusted by EC2, say) as a
	 * 200 with a Code and a Message, which say nothing secret. */
	if (code && strcmp(code, "Success") != 0) {
		const char *msg = string_field(root, "Message");
		return imds_error(host, "gave no credentials for role '%s': %.64s%s%.300s", role,
				  code, msg ? ": " : "", msg ? msg : "");
	}
	for (size_t i = 0; i < 4; i++)
		if (!(v[i] = string_field(root, names[i])))
			return imds_error(host, "gave credentials for role '%s' without %s", role,
					  names[i]);
	if (dc_credentials_parse_time(&expiration, v[3]) < 0)
		return imds_error(host, "gave credentials for role '%s' with an Expiration that is "
				  "not a time", role);
	dc_credentials_set(out, v[0], v[1], v[2]);
	out->expiration = expiration;
	snprintf(out->source, sizeof(out->source), "EC2 instance metadata (role %s)", role);
	return 0;
}

/* get()'s JSON check, then take_credentials: what get_credentials does
 * with one answer. */
int dc_credentials_imds_parse(struct dc_credentials *out, const char *host, const char *role,
			      const char *body, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	int rc;
	if (!json_is_object(root))
		rc = imds_error(host, "sent the credentials of role '%s' that are not a JSON object",
				role);
	else
		rc = take_credentials(out, host, root, role);
	json_decref(root);
	return rc;
}

static int get_credentials(struct dc_credentials *out, struct imds *im, const char *role,
			   struct dc_http_response *res)
{
	char *path = dc_xasprintf("%s%s", ROLE_PATH, role);
	char *what = dc_xasprintf("the credentials of role '%s'", role);
	json_t *root = NULL;
	int rc = get(im, path, what, res, &root);
	if (rc == 0)
		rc = take_credentials(out, im->host, root, role);
	else if (rc == DC_ENOTFOUND)
		rc = imds_error(im->host, "has no credentials for role '%s'", role);
	json_decref(root);
	free(what);
	free(path);
	return rc;
}

static int fetch(struct dc_credentials *out, struct imds *im)
{
	struct dc_http_response res;
	char *role = NULL;
	dc_http_response_init(&res);
	int rc = get(im, ROLE_PATH, "the role name", &res, NULL);
	if (rc == 0)
		rc = dc_credentials_imds_parse_role(&role, im->host, dc_buf_cstr(&res.body));
	if (rc == 0)
		rc = get_credentials(out, im, role, &res);
	wipe(&res.body);
	dc_http_response_dispose(&res);
	free(role);
	/* 404 for the role name: the instance has no role attached. */
	return rc == DC_ENOTFOUND ? 0 : rc < 0 ? -1 : 1;
}

int dc_credentials_from_imds(struct dc_credentials *out, const struct dc_config *cfg,
			     struct dc_aws *aws)
{
	struct imds im;
	int rc = 0;
	if (!dc_credentials_imds_enabled())
		return 0;
	if (imds_init(&im, cfg) < 0)
		rc = -1;
	else if (get_token(&im) == 1)
		rc = fetch(out, &im);
	imds_dispose(&im);
	return rc;
}
