#include "aws/uri.h"

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int dc_uri_encode(struct dc_buf *out, const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			if (dc_buf_putc(out, (char)c) < 0)
				return -1;
			continue;
		}
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
		if (dc_buf_put(out, esc, 3) < 0)
			return -1;
	}
	return 0;
}

int dc_uri_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dc_uri_decode(struct dc_buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < len && (hi = dc_uri_hex_value(s[i + 1])) >= 0 &&
		    (lo = dc_uri_hex_value(s[i + 2])) >= 0) {
			if (dc_buf_putc(out, (char)(hi << 4 | lo)) < 0)
				return -1;
			i += 2;
			continue;
		}
		if (dc_buf_putc(out, s[i]) < 0)
			return -1;
	}
	return 0;
}

int dc_form_add(struct dc_buf *form, const char *key, const char *value)
{
	if (form->len && dc_buf_putc(form, '&') < 0)
		return -1;
	if (dc_uri_encode(form, key, strlen(key), 0) < 0 || dc_buf_putc(form, '=') < 0)
		return -1;
	return dc_uri_encode(form, value, strlen(value), 0);
}
