#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local so that concurrent resource operations keep their own. */
static _Thread_local struct dc_error last;

static void set_message(const char *fmt, va_list ap)
{
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	/* One line: a newline from a nested message would break the output. */
	for (char *p = last.message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int dc_error_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	last.code[0] = '\0';
	last.request_id[0] = '\0';
	last.http_status = 0;
	set_message(fmt, ap);
	va_end(ap);
	return -1;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int dc_error_set_aws(long http_status, const char *code, const char *request_id,
		     const char *message)
{
	copy_field(last.code, sizeof(last.code), code);
	copy_field(last.request_id, sizeof(last.request_id), request_id);
	last.http_status = http_status;

	char detail[256];
	if (request_id && *request_id)
		snprintf(detail, sizeof(detail), "HTTP %ld, request id %s", http_status, request_id);
	else
		snprintf(detail, sizeof(detail), "HTTP %ld", http_status);

	const char *c = code && *code ? code : "UnknownError";
	if (message && *message)
		snprintf(last.message, sizeof(last.message), "%s: %s (%s)", c, message, detail);
	else
		snprintf(last.message, sizeof(last.message), "%s (%s)", c, detail);
	for (char *p = last.message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

void dc_error_prefix(const char *fmt, ...)
{
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);

	char joined[sizeof(last.message)];
	snprintf(joined, sizeof(joined), "%s: %s", prefix, last.message);
	memcpy(last.message, joined, sizeof(joined));
}

const struct dc_error *dc_error_last(void)
{
	return &last;
}

void dc_error_clear(void)
{
	memset(&last, 0, sizeof(last));
}
