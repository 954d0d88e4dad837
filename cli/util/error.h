/* Error passing, after libgit2: a failing function records one line in a
 * thread-local struct dc_error and returns -1 (or a named negative code for a
 * failure the caller may expect). Callers pass the code up unchanged; only
 * the command layer prints the message. */
#ifndef DC_ERROR_H
#define DC_ERROR_H

enum {
	DC_OK = 0,
	DC_ERR = -1,       /* any failure; the message says what */
	DC_ENOTFOUND = -2, /* the thing asked for does not exist */
	DC_ETHROTTLED = -3 /* AWS asked us to slow down and retries ran out */
};

struct dc_error {
	char message[1024];   /* one line, lowercase, no final period */
	char code[128];       /* AWS error code ("AccessDenied"), or "" */
	char request_id[128]; /* AWS request id, or "" */
	long http_status;     /* HTTP status of the failed call, or 0 */
};

/* Record a failure and return -1. The message is formatted like printf. */
int dc_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Record an AWS API failure with its code, HTTP status and request id and
 * return -1. `message` is AWS's own text (may be NULL). */
int dc_error_set_aws(long http_status, const char *code, const char *request_id,
		     const char *message);

/* Put context in front of the recorded message ("reading 'x': ..."). */
void dc_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last recorded failure of this thread; never NULL. */
const struct dc_error *dc_error_last(void);
void dc_error_clear(void);

#endif
