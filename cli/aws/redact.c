#include "aws/redact.h"

#include <ctype.h>
#include <stdint.h>
#include <strings.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define REDACTED "[redacted]"

/* The output is at most a little longer than the input, which was itself
 * capped, so no cap is needed here. */
#define NO_CAP (SIZE_MAX / 2)

static const char *const secret_words[] = {
	"secret", "password", "passwd", "token", "authorization", "signature",
	"privatekey", "keymaterial", "customerkey", "cookie",
};

/* Tokens that only page through results or make a call idempotent: useful
 * when reading a log, and worth nothing to an attacker. */
static const char *const public_names[] = {
	"nexttoken", "clienttoken", "continuationtoken", "nextcontinuationtoken",
};

int dc_redact_name_is_secret(const char *name, size_t n)
{
	/* Fold case and drop separators so that "x-amz-security-token",
	 * "SessionToken" and "session_token" all compare alike. */
	char *norm = dc_xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isalnum((unsigned char)name[i]))
			norm[k++] = (char)tolower((unsigned char)name[i]);
	norm[k] = '\0';
	int secret = 0;
	for (size_t i = 0; i < sizeof(secret_words) / sizeof(*secret_words); i++)
		if (strstr(norm, secret_words[i]))
			secret = 1;
	for (size_t i = 0; i < sizeof(public_names) / sizeof(*public_names); i++)
		if (strcmp(norm, public_names[i]) == 0)
			secret = 0;
	free(norm);
	return secret;
}

char *dc_redact_header_value(const char *name, const char *value)
{
	if (strcasecmp(name, "Authorization") == 0 ||
	    strcasecmp(name, "Proxy-Authorization") == 0) {
		/* Keep the scheme ("AWS4-HMAC-SHA256", "Bearer"): it tells the
		 * reader what kind of signing happened, and nothing more. */
		const char *sp = strchr(value, ' ');
		if (sp)
			return dc_xasprintf("%.*s " REDACTED, (int)(sp - value), value);
		return dc_xstrdup(REDACTED);
	}
	if (dc_redact_name_is_secret(name, strlen(name)))
		return dc_xstrdup(REDACTED);
	return dc_xstrdup(value);
}

/* name=value pairs separated by '&', as in a query string or a form body. */
static void redact_pairs(struct dc_buf *out, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		const char *eq = memchr(s + i, '=', end - i);
		if (eq && dc_redact_name_is_secret(s + i, (size_t)(eq - (s + i)))) {
			dc_buf_put(out, s + i, (size_t)(eq - (s + i)) + 1);
			dc_buf_puts(out, REDACTED);
		} else {
			dc_buf_put(out, s + i, end - i);
		}
		if (end < len)
			dc_buf_putc(out, '&');
		i = end + 1;
	}
}

/* userinfo "user:password@" in the authority of url, if any. */
static void redact_authority(struct dc_buf *out, const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	const char *colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
	if (!colon) {
		dc_buf_put(out, s, len);
		return;
	}
	dc_buf_put(out, s, (size_t)(colon - s) + 1);
	dc_buf_puts(out, REDACTED);
	dc_buf_put(out, at, len - (size_t)(at - s));
}

char *dc_redact_url(const char *url)
{
	struct dc_buf out = DC_BUF_INIT(NO_CAP);
	const char *p = url;
	const char *scheme = strstr(url, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		size_t alen = strcspn(auth, "/?#");
		dc_buf_put(&out, url, (size_t)(auth - url));
		redact_authority(&out, auth, alen);
		p = auth + alen;
	}
	size_t path_len = strcspn(p, "?#");
	dc_buf_put(&out, p, path_len);
	p += path_len;
	if (*p == '?') {
		size_t qlen = strcspn(p + 1, "#");
		dc_buf_putc(&out, '?');
		redact_pairs(&out, p + 1, qlen);
		p += 1 + qlen;
	}
	dc_buf_puts(&out, p);
	return dc_buf_take(&out);
}

/* Index just past the JSON string that starts at s[i] == '"'. */
static size_t json_string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

static size_t skip_space(const char *s, size_t len, size_t i)
{
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i;
}

static int is_value_member(const char *name, size_t n)
{
	return n == 5 && memcmp(name, "Value", 5) == 0;
}

/* Every string is read whole, so a quote inside a value never confuses the
 * scan; a string followed by ':' is a member name. `secure`: the body
 * carries an SSM SecureString, whose "Value" members are secrets. */
static void redact_json(struct dc_buf *out, const char *s, size_t len, int secure)
{
	size_t i = 0;
	while (i < len) {
		if (s[i] != '"') {
			dc_buf_putc(out, s[i++]);
			continue;
		}
		size_t end = json_string_end(s, len, i);
		dc_buf_put(out, s + i, end - i);
		size_t colon = skip_space(s, len, end);
		size_t value = skip_space(s, len, colon + 1);
		int secret = colon < len && s[colon] == ':' && value < len && s[value] == '"' &&
			     (dc_redact_name_is_secret(s + i + 1, end - i - 2) ||
			      (secure && is_value_member(s + i + 1, end - i - 2)));
		i = end;
		if (!secret)
			continue;
		dc_buf_put(out, s + end, value - end);
		dc_buf_puts(out, "\"" REDACTED "\"");
		i = json_string_end(s, len, value);
	}
}

static size_t xml_name_end(const char *s, size_t len, size_t i)
{
	while (i < len && !isspace((unsigned char)s[i]) && s[i] != '>' && s[i] != '/')
		i++;
	return i;
}

/* The text of a secret-looking element, up to the next end tag, becomes
 * "[redacted]"; CDATA inside it goes too, as it sits before that tag. */
static void redact_xml(struct dc_buf *out, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (s[i] != '<' || i + 1 >= len || strchr("/!?", s[i + 1])) {
			dc_buf_putc(out, s[i++]);
			continue;
		}
		size_t name_end = xml_name_end(s, len, i + 1);
		const char *gt = memchr(s + name_end, '>', len - name_end);
		if (!gt) {
			dc_buf_put(out, s + i, len - i);
			return;
		}
		size_t open_end = (size_t)(gt - s) + 1;
		const char *name = s + i + 1;
		const char *local = memchr(name, ':', name_end - (i + 1));
		local = local ? local + 1 : name;
		int secret = gt[-1] != '/' &&
			     dc_redact_name_is_secret(local, (size_t)(s + name_end - local));
		dc_buf_put(out, s + i, open_end - i);
		i = open_end;
		if (!secret)
			continue;
		dc_buf_puts(out, REDACTED);
		while (i < len && !(s[i] == '<' && i + 1 < len && s[i + 1] == '/'))
			i++;
	}
}

static int contains(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, word, n) == 0)
			return 1;
	return 0;
}

char *dc_redact_body(const char *body, size_t len)
{
	struct dc_buf out = DC_BUF_INIT(NO_CAP);
	size_t first = skip_space(body, len, 0);
	char c = first < len ? body[first] : '\0';
	if (c == '{' || c == '[')
		redact_json(&out, body, len, contains(body, len, "\"SecureString\""));
	else if (c == '<')
		redact_xml(&out, body, len);
	else if (memchr(body, '=', len))
		redact_pairs(&out, body, len);
	else
		dc_buf_put(&out, body, len);
	return dc_buf_take(&out);
}
