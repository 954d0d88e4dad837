/* AWS Signature Version 4. The signer is pure: region, service and time come
 * in, nothing is read from the clock or the environment. */
#ifndef DC_SIGV4_H
#define DC_SIGV4_H

#include <time.h>

#include "aws/http.h"
#include "util/buf.h"

struct dc_credentials;

#define DC_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct dc_sigv4_params {
	const struct dc_credentials *creds;
	const char *region;
	const char *service;       /* signing name */
	time_t now;
	int s3;                    /* S3 rules: path neither normalised nor double-encoded; x-amz-content-sha256 always sent */
	int no_normalize;          /* keep dot segments and double slashes in the path, still encoding it (aws-c-auth "normalize": false); implied by s3 */
	int sign_body;             /* send x-amz-content-sha256 for non-S3 too */
	int unsigned_payload;      /* x-amz-content-sha256: UNSIGNED-PAYLOAD */
	int omit_session_token;    /* add the token after signing (IoT style); normally 0 */
	long expires;              /* presigning: X-Amz-Expires in seconds, 1..604800; 0 means 3600 */
};

/* Sign req in place: adds X-Amz-Date, X-Amz-Security-Token (if any),
 * x-amz-content-sha256 (S3, sign_body or unsigned_payload) and Authorization,
 * replacing any earlier values of those (so a retry can be signed again).
 * Host is taken from the URL when not present in the headers; it is signed
 * but not added. Hop-by-hop headers, User-Agent and X-Amzn-Trace-Id are not
 * signed (botocore's list), since proxies and libcurl may change them.
 * -1 with a message (never naming the secret) for a malformed URL or
 * missing credentials, region or service. */
int dc_sigv4_sign(struct dc_http_request *req, const struct dc_sigv4_params *p);

/* Presign: *out (the caller frees it) is req's URL with X-Amz-Algorithm,
 * -Credential, -Date, -SignedHeaders, -Expires, -Security-Token (if any) and
 * -Signature appended to its query, which is otherwise left as it was (S3
 * GET links). Payload is UNSIGNED-PAYLOAD for S3, the body's hash otherwise.
 * -1 (and *out untouched) as for dc_sigv4_sign, or for an expiry outside
 * 1..604800 s. */
int dc_sigv4_presign(char **out, const struct dc_http_request *req,
		     const struct dc_sigv4_params *p);

/* The steps, exposed for tests. `presign` selects the query variant. The
 * canonical request is the one dc_sigv4_sign would sign: it includes the
 * headers that signing adds, without changing req. */
int dc_sigv4_canonical_request(struct dc_buf *out, const struct dc_http_request *req,
			       const struct dc_sigv4_params *p, int presign);
int dc_sigv4_string_to_sign(struct dc_buf *out, const char *canonical_request,
			    const struct dc_sigv4_params *p);
/* Hex signature of string_to_sign; signing key derived or taken from cache. */
int dc_sigv4_signature(char out[65], const char *string_to_sign, const struct dc_sigv4_params *p);

/* The signing key for (secret, date of p->now, region, service). Keys live
 * in a small process-wide cache (32 slots, thread-safe) found by a SHA-256
 * of those four: the secret itself is never copied there. Returns 1 when the
 * key was derived, 0 when it came from the cache, -1 on error. */
int dc_sigv4_signing_key(unsigned char out[32], const struct dc_sigv4_params *p);

/* SHA-256 of data as lower-case hex. */
void dc_sha256_hex(char out[65], const void *data, size_t len);

#endif
