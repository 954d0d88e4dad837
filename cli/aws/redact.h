/* Redaction for the wire log (--debug): secrets must never reach it. Each
 * function returns a new string that the caller frees; none can fail.
 *
 * A name "looks secret" when it contains, ignoring case, one of "secret",
 * "password", "token", "authorization", "signature", "privatekey",
 * "keymaterial", "customer-key", "cookie";
 * pagination and idempotency tokens (NextToken, ClientToken,
 * ContinuationToken, NextContinuationToken) are not secret and stay. */
#ifndef DC_REDACT_H
#define DC_REDACT_H

#include <stddef.h>

/* 1 when a header, query parameter or body field called `name` (n bytes)
 * holds a secret. */
int dc_redact_name_is_secret(const char *name, size_t n);

/* The value of header `name` as it may be logged: "Authorization:
 * AWS4-HMAC-SHA256 Credential=..., Signature=..." becomes
 * "AWS4-HMAC-SHA256 [redacted]"; a secret-looking header's whole value
 * becomes "[redacted]"; anything else is copied. */
char *dc_redact_header_value(const char *name, const char *value);

/* url with the value of every secret-looking query parameter
 * (X-Amz-Signature, X-Amz-Security-Token, ...) and any userinfo password
 * replaced by "[redacted]". */
char *dc_redact_url(const char *url);

/* The first len bytes of body with the value of every secret-looking field
 * replaced by "[redacted]": JSON members ("SecretAccessKey": "..."), XML
 * elements (<SessionToken>...</SessionToken>) and, when the body is not JSON
 * or XML, form fields (Password=...&). A JSON body that names an SSM
 * "SecureString" has every "Value" member redacted too (PutParameter,
 * GetParameter WithDecryption). */
char *dc_redact_body(const char *body, size_t len);

#endif
