/* The stack document: its shape, and the refusal to store secrets. */
#include "stack/state_internal.h"

#include <ctype.h>

#include "aws/redact.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

int dc_state_doc_check(const json_t *doc, const char *stack, char *why, size_t n)
{
	if (!json_is_object(doc)) {
		snprintf(why, n, "not a JSON object");
		return DC_DOC_CORRUPT;
	}
	const json_t *v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		snprintf(why, n, "no valid \"version\"");
		return DC_DOC_CORRUPT;
	}
	if (json_integer_value(v) > DC_STATE_VERSION) {
		snprintf(why, n, "version %lld", (long long)json_integer_value(v));
		return DC_DOC_NEWER;
	}
	const char *name = json_string_value(json_object_get(doc, "name"));
	if (!name) {
		snprintf(why, n, "no \"name\"");
		return DC_DOC_CORRUPT;
	}
	if (strcmp(name, stack) != 0) {
		snprintf(why, n, "\"name\" is '%.64s', not '%s'", name, stack);
		return DC_DOC_CORRUPT;
	}
	if (!json_is_object(json_object_get(doc, "resources"))) {
		snprintf(why, n, "no \"resources\" object");
		return DC_DOC_CORRUPT;
	}
	return DC_DOC_OK;
}

/* Secret-looking names that hold no secret: idempotency tokens, and names
 * of secrets rather than secrets ("SecretArn", "AuthorizationType",
 * "CookieBehavior"). Compared folded to lowercase letters and digits. */
static const char *const public_names[] = {
    "creationtoken",
    "idempotencytoken",
    "clientrequesttoken",
};
static const char *const public_suffixes[] = {
    "arn",     "id",	 "ids",		  "name",   "names", "type", "behavior",
    "version", "config", "configuration", "policy", "uri",   "url",  "enabled",
};

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

static int name_is_secret(const char *name)
{
	size_t len = strlen(name);
	if (!dc_redact_name_is_secret(name, len))
		return 0;
	char *norm = dc_xmalloc(len + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (isalnum((unsigned char)name[i]))
			norm[k++] = (char)tolower((unsigned char)name[i]);
	norm[k] = '\0';
	int secret = 1;
	for (size_t i = 0; i < sizeof(public_names) / sizeof(*public_names); i++)
		if (strcmp(norm, public_names[i]) == 0)
			secret = 0;
	for (size_t i = 0; i < sizeof(public_suffixes) / sizeof(*public_suffixes); i++)
		if (ends_with(norm, k, public_suffixes[i]))
			secret = 0;
	free(norm);
	return secret;
}

/* An AWS secret access key: 40 characters of base64's alphabet, with upper
 * and lower case letters and digits (a hex digest has no upper case). */
static int looks_like_secret_key(const char *s)
{
	int upper = 0, lower = 0, digit = 0;
	size_t n = 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (!isalnum(c) && c != '+' && c != '/')
			return 0;
		upper |= isupper(c) != 0;
		lower |= islower(c) != 0;
		digit |= isdigit(c) != 0;
	}
	return n == 40 && upper && lower && digit;
}

/* STS session tokens are long base64 strings with a few known openings. */
static int looks_like_session_token(const char *s)
{
	static const char *const openings[] = {"IQoJb3JpZ2lu", "FwoGZXIvYXdz", "FQoGZXIvYXdz"};
	if (strlen(s) < 100)
		return 0;
	for (size_t i = 0; i < sizeof(openings) / sizeof(*openings); i++)
		if (strncmp(s, openings[i], strlen(openings[i])) == 0)
			return 1;
	return 0;
}

static int string_is_secret(const char *member, const char *value)
{
	if (!value[0] || strncmp(value, "arn:", 4) == 0)
		return 0;
	if (member && name_is_secret(member))
		return 1;
	return looks_like_secret_key(value) || looks_like_session_token(value);
}

static int scan(const json_t *v, const char *member, struct dc_buf *path, const char *stack);

static int scan_child(const json_t *child, const char *member, size_t index, struct dc_buf *path,
		      const char *stack)
{
	size_t len = path->len;
	if (member)
		dc_buf_printf(path, "%s%s", len ? "." : "", member);
	else
		dc_buf_printf(path, "[%zu]", index);
	int rc = scan(child, member, path, stack);
	dc_buf_truncate(path, len);
	return rc;
}

static int scan(const json_t *v, const char *member, struct dc_buf *path, const char *stack)
{
	if (json_is_string(v) && string_is_secret(member, json_string_value(v)))
		return dc_error_set("refusing to save stack '%s': '%s' looks like a secret, and "
				    "secrets are never stored in state",
				    stack, dc_buf_cstr(path));
	const char *key;
	const json_t *child;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child) if (scan_child(child, key, 0, path,
									    stack) < 0) return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) if (scan_child(child, NULL, i, path, stack) <
						    0) return -1;
	}
	return 0;
}

int dc_state_doc_secrets(const json_t *doc, const char *stack)
{
	/* The path only grows with nesting; no cap is needed beyond sanity. */
	struct dc_buf path = DC_BUF_INIT(DC_MAX_FILE);
	int rc = scan(doc, NULL, &path, stack);
	dc_buf_dispose(&path);
	return rc;
}
