/* The AWS client: settings, credentials, endpoints, signing, transport and
 * retries put together. Everything above it sends requests through
 * dc_aws_send or one of the protocol helpers in protocol.h. */
#ifndef DC_CLIENT_H
#define DC_CLIENT_H

#include <stdio.h>

#include "aws/config.h"
#include "aws/credentials.h"
#include "aws/endpoints.h"
#include "aws/http.h"
#include "aws/service.h"

struct dc_aws;

struct dc_aws_options {
	struct dc_config_options config;
	FILE *debug;        /* redacted wire log, or NULL */
	int need_region;    /* fail at creation when no region is configured */
	/* Fixed credentials (the local target's emulator), used instead of
	 * the provider chain; copied. NULL: the chain. */
	const struct dc_credentials *credentials;
	/* --cli-connect-timeout and --cli-read-timeout: how long to wait for a
	 * connection, and for the next byte of an answer; 0: 10 s and 60 s. */
	long connect_timeout_ms;
	long read_timeout_ms;
};

int dc_aws_new(struct dc_aws **out, const struct dc_aws_options *opt);
void dc_aws_free(struct dc_aws *aws);

const struct dc_config *dc_aws_config(const struct dc_aws *aws);
/* The region requests go to; NULL when none is configured. */
const char *dc_aws_region(const struct dc_aws *aws);

/* The credentials, resolved on first use and refreshed when they expire
 * within 5 minutes. The pointer stays valid until the next call. */
int dc_aws_credentials(struct dc_aws *aws, const struct dc_credentials **out);

/* Fill `out` with the endpoint of svc for the client's region. */
int dc_aws_endpoint(struct dc_aws *aws, const struct dc_service *svc, struct dc_endpoint *out);

/* Send req to svc, signed, with retries. A req->url that starts with "/" is
 * joined to the service's endpoint. Returns 0 for a 2xx answer. For any
 * other status, -1 (DC_ENOTFOUND for 404 and NotFound-like codes,
 * DC_ETHROTTLED when throttling outlasted the retries) with the AWS error
 * code, message, status and request id in dc_error; *res holds the last
 * answer either way. Transport failure after the retries: -1, *res empty. */
int dc_aws_send(struct dc_aws *aws, const struct dc_service *svc, struct dc_http_request *req,
		struct dc_http_response *res);

/* Join req->url to svc's endpoint and sign it, without sending (--dry-run). */
int dc_aws_sign(struct dc_aws *aws, const struct dc_service *svc, struct dc_http_request *req);

/* dc_aws_send signed with `creds` (NULL: not signed at all). */
int dc_aws_send_as(struct dc_aws *aws, const struct dc_service *svc,
		   const struct dc_credentials *creds, struct dc_http_request *req,
		   struct dc_http_response *res);

/* How many HTTP requests this client has sent (attempts, retries included). */
long dc_aws_request_count(const struct dc_aws *aws);

#endif
