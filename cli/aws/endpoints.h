/* Where a request for a service goes: the standard endpoint of its region
 * and partition, or the override the user configured. */
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
 * Returns NULL for a string that is not a region name. */
const char *dc_endpoint_partition(const char *region);
/* DNS suffix of a partition: "amazonaws.com", "amazonaws.com.cn", ... */
const char *dc_endpoint_dns_suffix(const char *partition);

/* The configured override for svc, or NULL: --endpoint-url, then
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's services
 * section, the profile's endpoint_url; the env and config ones are ignored
 * under AWS_IGNORE_CONFIGURED_ENDPOINT_URLS / ignore_configured_endpoint_urls. */
const char *dc_endpoint_override(const struct dc_config *cfg, const struct dc_service *svc);

/* Resolve the endpoint of svc in region (cfg may be NULL: no overrides). */
int dc_endpoint_resolve(struct dc_endpoint *out, const struct dc_config *cfg,
			const struct dc_service *svc, const char *region);

/* S3: the URL of an object, virtual-hosted style ("https://bucket.s3.region
 * .amazonaws.com/key") unless the bucket name is not DNS-compatible, contains
 * a dot under https, or the endpoint is an override or force_path_style is
 * set, then path style ("<endpoint>/bucket/key"). key is raw; it is
 * percent-encoded here (slashes kept). bucket may be NULL (service-level),
 * key may be NULL (bucket-level). The result is malloc'ed. */
char *dc_endpoint_s3_url(const struct dc_endpoint *ep, const char *bucket, const char *key,
			 int force_path_style);

#endif
