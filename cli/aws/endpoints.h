/* Where a request for a service goes: the standard endpoint of its region
 * and partition, or the override the user configured. Partitions, DNS
 * suffixes and global endpoints come from botocore's data/partitions.json and
 * data/endpoints.json; test_endpoints.c compares the results with botocore. */
#ifndef DC_ENDPOINTS_H
#define DC_ENDPOINTS_H

struct dc_config;
struct dc_service;

struct dc_endpoint {
	char *url;            /* scheme://host[:port] with no trailing slash, plus a base path if the override had one */
	char *signing_region; /* region to sign for (IAM: us-east-1 in the aws partition) */
	int is_override;      /* came from --endpoint-url, AWS_ENDPOINT_URL*, or a profile */
};

void dc_endpoint_dispose(struct dc_endpoint *ep);

/* Partition of a region: "aws", "aws-cn", "aws-us-gov", "aws-iso", ...
 * Returns NULL for a string that is not a region name of a known partition. */
const char *dc_endpoint_partition(const char *region);
/* DNS suffix of a partition: "amazonaws.com", "amazonaws.com.cn", ...; NULL
 * for an unknown partition. */
const char *dc_endpoint_dns_suffix(const char *partition);

/* Where an override may come from, in precedence order. */
enum dc_endpoint_origin {
	DC_ENDPOINT_NONE,
	DC_ENDPOINT_FLAG,        /* --endpoint-url: never ignored */
	DC_ENDPOINT_ENV_SERVICE, /* AWS_ENDPOINT_URL_<env_name> */
	DC_ENDPOINT_ENV_GLOBAL,  /* AWS_ENDPOINT_URL */
	DC_ENDPOINT_SERVICES,    /* endpoint_url of <config_key> in the profile's [services NAME] */
	DC_ENDPOINT_PROFILE      /* the profile's endpoint_url */
};

/* The raw values the override is chosen from; NULL when not set. */
struct dc_endpoint_sources {
	const char *flag;
	const char *env_service;
	const char *env_global;
	const char *services;
	const char *profile;
	const char *ignore_env;     /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS */
	const char *ignore_profile; /* the profile's ignore_configured_endpoint_urls */
};

/* Pick the override as botocore does: the first non-empty value in the order
 * of enum dc_endpoint_origin (the flag even when empty, so that
 * dc_endpoint_check_url rejects it). All but the flag are skipped when the ignore
 * setting is "true" (any case); the environment's ignore setting, when set
 * at all, decides over the profile's. Returns the origin, with *out the
 * value (NULL for DC_ENDPOINT_NONE). */
enum dc_endpoint_origin dc_endpoint_choose(const char **out,
					   const struct dc_endpoint_sources *src);

/* "AWS_ENDPOINT_URL_DYNAMODB": the service's environment variable. Malloc'ed. */
char *dc_endpoint_env_var(const struct dc_service *svc);

/* The configured override for svc from cfg (--endpoint-url and the
 * profile) and the environment. *out is NULL when there is none; it points
 * into cfg or the environment. Fails when the profile names a services
 * section that the config file lacks. */
int dc_endpoint_override(const char **out, enum dc_endpoint_origin *origin,
			 const struct dc_config *cfg, const struct dc_service *svc);

/* Check an override URL and normalise it into *out (malloc'ed): scheme http
 * or https, a host, an optional port, an optional base path, no query,
 * fragment, user info or whitespace; trailing slashes removed. The error
 * names the URL and `origin_name` (may be NULL). */
int dc_endpoint_check_url(char **out, const char *url, const char *origin_name);

/* Resolve the endpoint of svc in region (cfg may be NULL: no overrides; the
 * environment is then not read either). Without an override the region must
 * belong to a known partition; with one it must merely be a valid region
 * label, which is signed for. Errors name the region or the URL. */
int dc_endpoint_resolve(struct dc_endpoint *out, const struct dc_config *cfg,
			const struct dc_service *svc, const char *region);
/* The same with the override already chosen (NULL for none); origin_name
 * is for error messages. */
int dc_endpoint_resolve_with(struct dc_endpoint *out, const struct dc_service *svc,
			     const char *region, const char *override,
			     const char *origin_name);

/* S3: the URL of an object, virtual-hosted style ("https://bucket.s3.region
 * .amazonaws.com/key") unless the bucket name is not DNS-compatible, contains
 * a dot under https, or the endpoint is an override or force_path_style is
 * set, then path style ("<endpoint>/bucket/key"). key is raw; it is
 * percent-encoded here (slashes kept). bucket may be NULL (service-level:
 * "<endpoint>/"), key may be NULL (bucket-level: "https://bucket.host/" or
 * "<endpoint>/bucket", as botocore sends them). The result is malloc'ed;
 * NULL with a dc_error if it would pass DC_MAX_SMALL (S3 keys are at most
 * 1024 bytes, so only a caller's mistake gets there). */
char *dc_endpoint_s3_url(const struct dc_endpoint *ep, const char *bucket, const char *key,
			 int force_path_style);

#endif
