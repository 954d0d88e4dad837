/* The AWS client: one request through endpoint resolution, signing, the
 * transport and the retry policy. */
#include <errno.h>
#include <unistd.h>

#include "aws/client.h"
#include "aws/endpoints.h"
#include "aws/protocol.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Refresh temporary credentials this long before they expire, so that a
 * request signed now is still valid when it arrives. */
#define CREDENTIALS_MARGIN_S 300

struct dc_aws {
	struct dc_config *cfg;
	struct dc_http *http;
	struct dc_credentials creds;
	int have_creds;
	struct dc_retry_quota quota;
	unsigned rand_state;
	long requests;
};

int dc_aws_new(struct dc_aws **out, const struct dc_aws_options *opt)
{
	struct dc_config *cfg;
	*out = NULL;
	if (dc_config_load(&cfg, &opt->config) < 0)
		return -1;
	if (opt->need_region && !cfg->region) {
		dc_config_free(cfg);
		return dc_error_set("no AWS region configured: pass --region, set AWS_REGION, "
				    "or add 'region = ...' to the profile in ~/.aws/config");
	}
	struct dc_aws *aws = dc_xcalloc(1, sizeof(*aws));
	struct dc_http_options hopt = { .ca_bundle = cfg->ca_bundle, .debug = opt->debug,
					.connect_timeout_ms = opt->connect_timeout_ms,
					.stall_timeout_ms = opt->read_timeout_ms };
	aws->cfg = cfg;
	aws->http = dc_http_new(&hopt);
	aws->quota = (struct dc_retry_quota)DC_RETRY_QUOTA_INIT;
	aws->rand_state = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (opt->credentials) {
		dc_credentials_copy(&aws->creds, opt->credentials);
		aws->creds.expiration = 0;
		aws->have_creds = 1;
	}
	*out = aws;
	return 0;
}

void dc_aws_free(struct dc_aws *aws)
{
	if (!aws)
		return;
	dc_credentials_dispose(&aws->creds);
	dc_http_free(aws->http);
	dc_config_free(aws->cfg);
	free(aws);
}

const struct dc_config *dc_aws_config(const struct dc_aws *aws)
{
	return aws->cfg;
}

const char *dc_aws_region(const struct dc_aws *aws)
{
	return aws->cfg->region;
}

long dc_aws_request_count(const struct dc_aws *aws)
{
	return aws->requests;
}

/* Fresh credentials that have already expired would only earn an
 * ExpiredToken from every call; botocore refuses them too. */
static int check_not_expired(const struct dc_credentials *c)
{
	if (!c->expiration || c->expiration > time(NULL))
		return 0;
	struct tm tm;
	char when[32];
	gmtime_r(&c->expiration, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return dc_error_set("the AWS credentials from %s expired at %s; refresh them", c->source,
			    when);
}

int dc_aws_credentials(struct dc_aws *aws, const struct dc_credentials **out)
{
	if (!aws->have_creds || dc_credentials_expiring(&aws->creds, time(NULL),
							 CREDENTIALS_MARGIN_S)) {
		struct dc_credentials fresh = { 0 };
		if (dc_credentials_resolve(&fresh, aws->cfg, aws) < 0)
			return -1;
		if (check_not_expired(&fresh) < 0) {
			dc_credentials_dispose(&fresh);
			return -1;
		}
		dc_credentials_dispose(&aws->creds);
		aws->creds = fresh;
		aws->have_creds = 1;
	}
	*out = &aws->creds;
	return 0;
}

int dc_aws_endpoint(struct dc_aws *aws, const struct dc_service *svc, struct dc_endpoint *out)
{
	if (!aws->cfg->region)
		return dc_error_set("no AWS region configured for '%s': pass --region or set "
				    "AWS_REGION", svc->id);
	return dc_endpoint_resolve(out, aws->cfg, svc, aws->cfg->region);
}

/* Headers a previous attempt's signature added, removed so that a retry is
 * signed afresh with a new date. */
static void strip_signature(struct dc_http_request *req)
{
	static const char *const names[] = { "Authorization", "X-Amz-Date",
					     "X-Amz-Security-Token", "x-amz-content-sha256", NULL };
	for (const char *const *n = names; *n; n++)
		dc_headers_remove(&req->headers, *n);
}

static int sign(struct dc_http_request *req, const struct dc_service *svc,
		const struct dc_credentials *creds, const char *region)
{
	strip_signature(req);
	if (!creds)
		return 0;
	struct dc_sigv4_params p = {
		.creds = creds,
		.region = region,
		.service = svc->signing_name,
		.now = time(NULL),
		.s3 = svc->protocol == DC_PROTO_REST_XML,
	};
	return dc_sigv4_sign(req, &p);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One attempt: 0 for a 2xx answer; otherwise the error is recorded and
 * *kind says whether another attempt may succeed. */
static int attempt(struct dc_aws *aws, const struct dc_service *svc,
		   const struct dc_credentials *creds, const char *region,
		   struct dc_http_request *req, struct dc_http_response *res,
		   enum dc_retry_kind *kind)
{
	char code[128] = "";
	dc_http_response_dispose(res);
	dc_http_response_init(res);
	if (sign(req, svc, creds, region) < 0) {
		*kind = DC_RETRY_NONE;
		return -1;
	}
	aws->requests++;
	int sent = dc_http_send(aws->http, req, res);
	if (sent < 0) {
		*kind = sent == DC_ENETWORK ? dc_retry_classify(sent, res, NULL) : DC_RETRY_NONE;
		return sent;
	}
	if (res->status >= 200 && res->status < 300)
		return 0;
	int rc = dc_protocol_error(svc, res, code, sizeof(code));
	*kind = dc_retry_classify(0, res, code);
	return rc;
}

static int send_with_retries(struct dc_aws *aws, const struct dc_service *svc,
			     const struct dc_credentials *creds, const char *region,
			     struct dc_http_request *req, struct dc_http_response *res)
{
	int taken = 0;
	for (int n = 1;; n++) {
		enum dc_retry_kind kind;
		int rc = attempt(aws, svc, creds, region, req, res, &kind);
		if (rc == 0) {
			dc_retry_quota_release(&aws->quota, taken);
			return 0;
		}
		if (kind == DC_RETRY_NONE || n >= aws->cfg->max_attempts ||
		    dc_retry_quota_acquire(&aws->quota, kind) < 0)
			return kind == DC_RETRY_THROTTLE ? DC_ETHROTTLED : rc;
		taken += dc_retry_cost(kind);
		double r = (double)rand_r(&aws->rand_state) / ((double)RAND_MAX + 1.0);
		sleep_ms(dc_retry_delay_ms(n, r, rc == DC_ENETWORK ? NULL : res));
	}
}

static void join_endpoint(struct dc_http_request *req, const struct dc_endpoint *ep)
{
	if (req->url[0] != '/')
		return;
	char *full = dc_xasprintf("%s%s", ep->url, req->url);
	free(req->url);
	req->url = full;
}

int dc_aws_send_as(struct dc_aws *aws, const struct dc_service *svc,
		   const struct dc_credentials *creds, struct dc_http_request *req,
		   struct dc_http_response *res)
{
	struct dc_endpoint ep = { 0 };
	if (dc_aws_endpoint(aws, svc, &ep) < 0)
		return -1;
	join_endpoint(req, &ep);
	int rc = send_with_retries(aws, svc, creds, ep.signing_region, req, res);
	dc_endpoint_dispose(&ep);
	return rc;
}

int dc_aws_sign(struct dc_aws *aws, const struct dc_service *svc, struct dc_http_request *req)
{
	const struct dc_credentials *creds;
	struct dc_endpoint ep = { 0 };
	if (dc_aws_credentials(aws, &creds) < 0 || dc_aws_endpoint(aws, svc, &ep) < 0)
		return -1;
	join_endpoint(req, &ep);
	int rc = sign(req, svc, creds, ep.signing_region);
	dc_endpoint_dispose(&ep);
	return rc;
}

int dc_aws_send(struct dc_aws *aws, const struct dc_service *svc, struct dc_http_request *req,
		struct dc_http_response *res)
{
	const struct dc_credentials *creds;
	if (dc_aws_credentials(aws, &creds) < 0)
		return -1;
	return dc_aws_send_as(aws, svc, creds, req, res);
}
