#include "aws/endpoints.h"

#include <ctype.h>
#include <strings.h>

#include "aws/config.h"
#include "aws/service.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* From botocore's data/partitions.json: a region belongs to a partition when
 * it matches ^(<one of prefixes>)-\w+-\d+$ (the partition's regionRegex). */
struct partition {
	const char *id;
	const char *prefixes; /* alternatives separated by '|' */
	const char *dns_suffix;
};

static const struct partition partitions[] = {
	{ "aws", "us|eu|ap|sa|ca|me|af|il|mx", "amazonaws.com" },
	{ "aws-cn", "cn", "amazonaws.com.cn" },
	{ "aws-eusc", "eusc-de", "amazonaws.eu" },
	{ "aws-iso", "us-iso", "c2s.ic.gov" },
	{ "aws-iso-b", "us-isob", "sc2s.sgov.gov" },
	{ "aws-iso-e", "eu-isoe", "cloud.adc-e.uk" },
	{ "aws-iso-f", "us-isof", "csp.hci.ic.gov" },
	{ "aws-us-gov", "us-gov", "amazonaws.com" },
	{ NULL, NULL, NULL },
};

/* Services that are not regionalised (botocore's data/endpoints.json:
 * "isRegionalized": false with a "partitionEndpoint"): one host per
 * partition, signed for one region whatever the client's. */
struct global_endpoint {
	const char *prefix;
	const char *partition;
	const char *host;
	const char *signing_region;
};

static const struct global_endpoint globals[] = {
	{ "iam", "aws", "iam.amazonaws.com", "us-east-1" },
	{ "iam", "aws-cn", "iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
	{ "iam", "aws-us-gov", "iam.us-gov.amazonaws.com", "us-gov-west-1" },
	{ "iam", "aws-iso", "iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1" },
	{ "iam", "aws-iso-b", "iam.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1" },
	{ "iam", "aws-iso-f", "iam.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1" },
	{ NULL, NULL, NULL, NULL },
};

void dc_endpoint_dispose(struct dc_endpoint *ep)
{
	free(ep->url);
	free(ep->signing_region);
	ep->url = NULL;
	ep->signing_region = NULL;
	ep->is_override = 0;
}

/* \w+-\d+ and nothing after. */
static int match_word_dash_digits(const char *s)
{
	const char *p = s;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == s || *p != '-')
		return 0;
	s = ++p;
	while (isdigit((unsigned char)*p))
		p++;
	return p != s && *p == '\0';
}

static int match_partition(const struct partition *part, const char *region)
{
	const char *alt = part->prefixes;
	while (*alt) {
		size_t n = strcspn(alt, "|");
		if (strncmp(region, alt, n) == 0 && region[n] == '-' &&
		    match_word_dash_digits(region + n + 1))
			return 1;
		alt += n;
		if (*alt == '|')
			alt++;
	}
	return 0;
}

/* botocore's validate_region_name: a host label that is not all digits. */
static int valid_region_label(const char *region)
{
	size_t n = strlen(region);
	int digits_only = 1;
	if (n == 0 || n > 63 || region[0] == '-' || region[n - 1] == '-')
		return 0;
	for (const char *p = region; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
		if (!isdigit((unsigned char)*p))
			digits_only = 0;
	}
	return !digits_only;
}

const char *dc_endpoint_partition(const char *region)
{
	if (!region || !valid_region_label(region))
		return NULL;
	for (const struct partition *p = partitions; p->id; p++)
		if (match_partition(p, region))
			return p->id;
	return NULL;
}

const char *dc_endpoint_dns_suffix(const char *partition)
{
	if (!partition)
		return NULL;
	for (const struct partition *p = partitions; p->id; p++)
		if (strcmp(p->id, partition) == 0)
			return p->dns_suffix;
	return NULL;
}

/* ---- overrides ---- */

static int set(const char *v)
{
	return v && *v;
}

static int ignored(const struct dc_endpoint_sources *src)
{
	/* botocore: the environment, when set at all (even to ""), decides. */
	const char *v = src->ignore_env ? src->ignore_env : src->ignore_profile;
	return v && strcasecmp(v, "true") == 0;
}

enum dc_endpoint_origin dc_endpoint_choose(const char **out,
					   const struct dc_endpoint_sources *src)
{
	const char *order[] = { src->flag, src->env_service, src->env_global, src->services,
				src->profile };
	int n = ignored(src) ? 1 : 5;
	for (int i = 0; i < n; i++) {
		/* An empty --endpoint-url is a mistake to report, not a default. */
		if (i == 0 ? order[i] != NULL : set(order[i])) {
			*out = order[i];
			return (enum dc_endpoint_origin)(DC_ENDPOINT_FLAG + i);
		}
	}
	*out = NULL;
	return DC_ENDPOINT_NONE;
}

char *dc_endpoint_env_var(const struct dc_service *svc)
{
	return dc_xasprintf("AWS_ENDPOINT_URL_%s", svc->env_name);
}

/* The endpoint_url of svc under the profile's "services" section, and
 * whether that section is named but missing. */
static const char *services_value(const struct dc_config *cfg, const struct dc_service *svc,
				  int *missing)
{
	const char *name = dc_config_get(cfg, "services");
	*missing = 0;
	if (!set(name))
		return NULL;
	char *section = dc_xasprintf("services %s", name);
	const char *v = NULL;
	if (cfg->config && dc_ini_has_section(cfg->config, section))
		v = dc_config_section_sub_get(cfg, section, svc->config_key, "endpoint_url");
	else
		*missing = 1;
	free(section);
	return v;
}

int dc_endpoint_override(const char **out, enum dc_endpoint_origin *origin,
			 const struct dc_config *cfg, const struct dc_service *svc)
{
	struct dc_endpoint_sources src = { 0 };
	char *env_var = dc_endpoint_env_var(svc);
	int missing;
	src.flag = cfg->endpoint_url;
	src.env_service = getenv(env_var);
	src.env_global = getenv("AWS_ENDPOINT_URL");
	src.services = services_value(cfg, svc, &missing);
	src.profile = dc_config_get(cfg, "endpoint_url");
	src.ignore_env = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	src.ignore_profile = dc_config_get(cfg, "ignore_configured_endpoint_urls");
	free(env_var);
	*origin = dc_endpoint_choose(out, &src);
	/* Like botocore, a dangling reference matters only once the lookup
	 * gets as far as the services section. */
	if (missing && *origin != DC_ENDPOINT_FLAG && *origin != DC_ENDPOINT_ENV_SERVICE &&
	    *origin != DC_ENDPOINT_ENV_GLOBAL && !ignored(&src)) {
		*out = NULL;
		return dc_error_set("profile '%s' names services section '%s', which does not exist",
				    cfg->profile ? cfg->profile : "default",
				    dc_config_get(cfg, "services"));
	}
	return 0;
}

/* ---- override URLs ---- */

static int valid_host(const char *h, size_t n)
{
	if (n && h[0] == '[') /* IPv6 literal */
		return n > 2 && h[n - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)h[i]) && h[i] != '-')
			return 0;
		if (label == 0 && h[i] == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && h[n - 1] != '-';
}

static int valid_port(const char *p, size_t n)
{
	if (n == 0 || n > 5 || strspn(p, "0123456789") < n)
		return 0;
	long v = strtol(p, NULL, 10);
	return v >= 1 && v <= 65535;
}

/* Split the authority into host and port and check both. */
static int valid_authority(const char *a, size_t n)
{
	size_t host_len = n;
	const char *close = memchr(a, ']', n);
	const char *colon = NULL;
	for (size_t i = close ? (size_t)(close - a) : 0; i < n; i++)
		if (a[i] == ':')
			colon = a + i;
	if (colon) {
		host_len = (size_t)(colon - a);
		if (!valid_port(colon + 1, n - host_len - 1))
			return 0;
	}
	return valid_host(a, host_len);
}

static size_t scheme_length(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return 8;
	if (strncasecmp(url, "http://", 7) == 0)
		return 7;
	return 0;
}

int dc_endpoint_check_url(char **out, const char *url, const char *origin_name)
{
	const char *from = origin_name ? " from " : "";
	const char *name = origin_name ? origin_name : "";
	*out = NULL;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return dc_error_set("endpoint url '%s'%s%s contains a space or control character",
					    url, from, name);
	size_t skip = scheme_length(url);
	if (!skip)
		return dc_error_set("endpoint url '%s'%s%s must start with http:// or https://", url,
				    from, name);
	const char *auth = url + skip;
	size_t auth_len = strcspn(auth, "/?#");
	/* Not echoed: user info may hold a password. */
	if (memchr(auth, '@', auth_len))
		return dc_error_set("endpoint url%s%s must not contain user info", from, name);
	if (auth_len == 0)
		return dc_error_set("endpoint url '%s'%s%s has no host", url, from, name);
	if (!valid_authority(auth, auth_len))
		return dc_error_set("endpoint url '%s'%s%s has an invalid host or port", url, from,
				    name);
	if (strpbrk(auth + auth_len, "?#"))
		return dc_error_set("endpoint url '%s'%s%s must not have a query or fragment", url,
				    from, name);
	size_t len = strlen(url);
	while (len > skip + auth_len && url[len - 1] == '/')
		len--;
	char *s = dc_xstrndup(url, len);
	for (size_t i = 0; i < skip; i++) /* the scheme, for the S3 style test */
		s[i] = (char)tolower((unsigned char)s[i]);
	*out = s;
	return 0;
}

/* ---- resolution ---- */

static char *standard_url(const struct dc_service *svc, const char *region,
			  const char *partition, const char **signing_region)
{
	for (const struct global_endpoint *g = globals; g->prefix; g++) {
		if (strcmp(g->prefix, svc->endpoint_prefix) == 0 &&
		    strcmp(g->partition, partition) == 0) {
			*signing_region = g->signing_region;
			return dc_xasprintf("https://%s", g->host);
		}
	}
	*signing_region = region;
	return dc_xasprintf("https://%s.%s.%s", svc->endpoint_prefix, region,
			    dc_endpoint_dns_suffix(partition));
}

int dc_endpoint_resolve_with(struct dc_endpoint *out, const struct dc_service *svc,
			     const char *region, const char *override, const char *origin_name)
{
	memset(out, 0, sizeof(*out));
	if (!region || !*region)
		return dc_error_set("no region is configured for '%s' (use --region, AWS_REGION "
				    "or the profile's region)", svc->id);
	if (!valid_region_label(region))
		return dc_error_set("region '%s' is not a valid region name", region);
	if (override) {
		if (dc_endpoint_check_url(&out->url, override, origin_name) < 0)
			return -1;
		out->signing_region = dc_xstrdup(region);
		out->is_override = 1;
		return 0;
	}
	const char *partition = dc_endpoint_partition(region);
	if (!partition)
		return dc_error_set("region '%s' is not in any known AWS partition", region);
	const char *signing;
	out->url = standard_url(svc, region, partition, &signing);
	out->signing_region = dc_xstrdup(signing);
	return 0;
}

static char *origin_name(const struct dc_config *cfg, const struct dc_service *svc,
			 enum dc_endpoint_origin origin)
{
	const char *profile = cfg->profile ? cfg->profile : "default";
	switch (origin) {
	case DC_ENDPOINT_FLAG:
		return dc_xstrdup("--endpoint-url");
	case DC_ENDPOINT_ENV_SERVICE:
		return dc_endpoint_env_var(svc);
	case DC_ENDPOINT_ENV_GLOBAL:
		return dc_xstrdup("AWS_ENDPOINT_URL");
	case DC_ENDPOINT_SERVICES:
		return dc_xasprintf("'%s' in services section '%s'", svc->config_key,
				    dc_config_get(cfg, "services"));
	case DC_ENDPOINT_PROFILE:
		return dc_xasprintf("endpoint_url of profile '%s'", profile);
	default:
		return NULL;
	}
}

int dc_endpoint_resolve(struct dc_endpoint *out, const struct dc_config *cfg,
			const struct dc_service *svc, const char *region)
{
	const char *override = NULL;
	enum dc_endpoint_origin origin = DC_ENDPOINT_NONE;
	memset(out, 0, sizeof(*out));
	if (cfg && dc_endpoint_override(&override, &origin, cfg, svc) < 0)
		return -1;
	char *name = cfg ? origin_name(cfg, svc, origin) : NULL;
	int rc = dc_endpoint_resolve_with(out, svc, region, override, name);
	free(name);
	return rc;
}

/* ---- S3 ---- */

/* Four dotted decimal groups: S3 would take it for an address. */
static int ipv4_like(const char *s)
{
	for (int group = 0; group < 4; group++) {
		size_t n = strspn(s, "0123456789");
		if (n < 1 || n > 3)
			return 0;
		s += n;
		if (group < 3 && *s++ != '.')
			return 0;
	}
	return *s == '\0';
}

/* botocore's aws.isVirtualHostableS3Bucket with sub-domains allowed. */
static int dns_compatible_bucket(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || ipv4_like(b))
		return 0;
	for (const char *p = b; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' &&
		    *p != '.')
			return 0;
	return valid_host(b, n);
}

/* RFC 3986 unreserved characters stay; so does '/' (key hierarchy). */
static int put_encoded(struct dc_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int r;
		if (isalnum(*p) || strchr("-._~/", *p))
			r = dc_buf_putc(b, (char)*p);
		else
			r = dc_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int virtual_hosted(const struct dc_endpoint *ep, const char *bucket, int force_path)
{
	if (force_path || ep->is_override || !dns_compatible_bucket(bucket))
		return 0;
	/* The wildcard certificate covers one label only. */
	return !strchr(bucket, '.') || strncmp(ep->url, "http://", 7) == 0;
}

static int put_virtual(struct dc_buf *b, const struct dc_endpoint *ep, const char *bucket,
		       const char *key)
{
	const char *rest = strstr(ep->url, "://");
	rest = rest ? rest + 3 : ep->url;
	if (dc_buf_put(b, ep->url, (size_t)(rest - ep->url)) < 0 ||
	    dc_buf_printf(b, "%s.%s/", bucket, rest) < 0)
		return -1;
	return key ? put_encoded(b, key) : 0;
}

static int put_path(struct dc_buf *b, const struct dc_endpoint *ep, const char *bucket,
		    const char *key)
{
	if (dc_buf_printf(b, "%s/", ep->url) < 0 || put_encoded(b, bucket) < 0)
		return -1;
	if (key && (dc_buf_putc(b, '/') < 0 || put_encoded(b, key) < 0))
		return -1;
	return 0;
}

char *dc_endpoint_s3_url(const struct dc_endpoint *ep, const char *bucket, const char *key,
			 int force_path_style)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	int rc;
	if (!bucket)
		rc = dc_buf_printf(&b, "%s/", ep->url);
	else if (virtual_hosted(ep, bucket, force_path_style))
		rc = put_virtual(&b, ep, bucket, key);
	else
		rc = put_path(&b, ep, bucket, key);
	if (rc < 0) {
		dc_buf_dispose(&b);
		return NULL;
	}
	return dc_buf_take(&b);
}
