/* Percent-encoding with the RFC 3986 unreserved set, as every AWS protocol
 * and SigV4 want it. */
#ifndef DC_URI_H
#define DC_URI_H

#include <stddef.h>

#include "util/buf.h"

/* Append s[0..len) to out, encoding every byte outside A-Z a-z 0-9 - . _ ~
 * (and '/' too unless keep_slash). */
int dc_uri_encode(struct dc_buf *out, const char *s, size_t len, int keep_slash);

/* Append the decoding of s[0..len) to out ("%2F" -> "/"; '+' stays '+').
 * A malformed escape is kept as it is. */
int dc_uri_decode(struct dc_buf *out, const char *s, size_t len);

/* The value of one hex digit, or -1. */
int dc_uri_hex_value(char c);

/* Append "&key=value" ("key=value" when out is empty), both encoded. */
int dc_form_add(struct dc_buf *form, const char *key, const char *value);

#endif
