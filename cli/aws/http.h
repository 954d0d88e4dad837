/* Transport: one libcurl easy handle per struct dc_http, reused across calls
 * so that a run makes one TLS handshake per host. Knows HTTP, not AWS. */
#ifndef DC_HTTP_H
#define DC_HTTP_H

#include <stdio.h>

#include "aws/headers.h"
#include "util/buf.h"

enum {
	/* The request may not have reached the server, or its answer was lost:
	 * connection refused or reset, DNS failure, timeout, truncated body.
	 * Worth retrying. */
	DC_ENETWORK = -10
};

struct dc_http_request {
	char *method;             /* "GET", "POST", ... */
	char *url;                /* scheme://host[:port]/path[?query], encoded as it goes on the wire */
	struct dc_headers headers;
	struct dc_buf body;
};

struct dc_http_response {
	long status;
	struct dc_headers headers;
	struct dc_buf body;       /* capped at DC_MAX_RESPONSE or max_response */
	int timed_out;            /* dc_http_send gave DC_ENETWORK because a
				   * timeout expired (costs more retry quota) */
};

struct dc_http_options {
	long connect_timeout_ms;  /* 0: 10 s */
	long timeout_ms;          /* whole transfer; 0: 120 s */
	long stall_timeout_ms;    /* fail when no byte moves for this long
				   * (whole seconds; botocore's read timeout);
				   * 0: 60 s */
	const char *ca_bundle;    /* AWS_CA_BUNDLE or ca_bundle; NULL: system store */
	FILE *debug;              /* wire log (redacted) goes here when not NULL */
	size_t max_response;      /* body cap; 0: DC_MAX_RESPONSE */
};

struct dc_http;

/* Copies method and url; the body starts empty with a DC_MAX_RESPONSE cap. */
void dc_http_request_init(struct dc_http_request *req, const char *method, const char *url);
void dc_http_request_dispose(struct dc_http_request *req);
void dc_http_response_init(struct dc_http_response *res);
void dc_http_response_dispose(struct dc_http_response *res);

/* A new transport; never NULL (allocation aborts). Proxy variables
 * (https_proxy, no_proxy, ...) are honoured by libcurl itself. */
struct dc_http *dc_http_new(const struct dc_http_options *opt);
void dc_http_free(struct dc_http *http);

/* Send req and fill *res (initialised by the caller; emptied first, so one
 * response can serve every attempt). Returns 0 when an HTTP response
 * arrived, whatever its status; DC_ENETWORK for a transient transport
 * failure; -1 for any other failure (bad URL, header with a line break, TLS
 * verification failed, response over the cap). The message names the host,
 * never a secret. TLS verification is never turned off.
 *
 * Exactly req's headers go out, plus Host and, when there is a body or the
 * method is POST/PUT/PATCH, Content-Length: curl's own Expect, Accept and
 * form Content-Type are suppressed, and the URL's path is sent as given (no
 * normalising of "." or ".." segments, no re-encoding). A header with an
 * empty value is sent as "Name:". Response headers are kept in order, with
 * repeats; folded lines are joined with a space. */
int dc_http_send(struct dc_http *http, const struct dc_http_request *req,
		 struct dc_http_response *res);

#endif
