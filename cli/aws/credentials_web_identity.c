/* Web identity (EKS IRSA, GitHub Actions OIDC), as botocore's
 * AssumeRoleWithWebIdentityProvider: a token file and a role, each setting
 * from the environment first (unless --profile was given) and then from the
 * profile; STS AssumeRoleWithWebIdentity, unsigned. The file is read on every
 * call because its owner rotates it. The token is a bearer secret: it goes
 * into the request body and nowhere else. */
#include <strings.h>

#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "aws/uri.h"
#include "util/buf.h"
#include "util/error.h"

/* A projected service account token is about 1 KiB; OIDC tokens a few. */
#define MAX_TOKEN ((size_t)64 << 10)
/* Shorter tokens are not searched for in messages: too many false alarms. */
#define MIN_TOKEN_SEARCH 8

/* botocore's _get_config: the variable, else the profile's key. */
static const char *setting(const struct dc_config *cfg, const char *key, const char *var)
{
	const char *v = cfg->profile_option ? NULL : getenv(var);
	return v && *v ? v : dc_config_get(cfg, key);
}

static void wipe(struct dc_buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->cap);
	dc_buf_dispose(b);
}

/* The token as sent. botocore sends the file as it is; a trailing newline
 * (an editor's) is dropped here, since no JWT contains whitespace. */
static int read_token(struct dc_buf *tok, const char *file)
{
	if (dc_buf_read_file(tok, file) < 0) {
		dc_error_prefix("web identity token file");
		return -1;
	}
	size_t n = tok->len;
	while (n && strchr(" \t\r\n", tok->ptr[n - 1]))
		n--;
	dc_buf_truncate(tok, n);
	if (!n)
		return dc_error_set("web identity token file '%s' is empty", file);
	return 0;
}

/* An error answer should never quote the token; if one does, the message
 * is replaced rather than passed up. */
static void keep_token_out(const struct dc_buf *tok)
{
	if (tok->len >= MIN_TOKEN_SEARCH &&
	    strstr(dc_error_last()->message, dc_buf_cstr(tok)) != NULL)
		dc_error_set("STS AssumeRoleWithWebIdentity failed, and its message quoted "
			     "the web identity token, so it is not shown");
}

static int call_sts(struct dc_credentials *out, struct dc_aws *aws, const char *arn,
		    const char *name, const struct dc_buf *tok)
{
	struct dc_buf form = DC_BUF_INIT(MAX_TOKEN * 3 + DC_MAX_SMALL);
	char session[64];
	snprintf(session, sizeof(session), "deployctl-session-%lld", (long long)time(NULL));
	int rc = dc_form_add(&form, "RoleArn", arn);
	if (rc == 0)
		rc = dc_form_add(&form, "RoleSessionName", name ? name : session);
	if (rc == 0)
		rc = dc_form_add(&form, "WebIdentityToken", dc_buf_cstr(tok));
	if (rc == 0)
		rc = dc_credentials_sts(out, aws, NULL, "AssumeRoleWithWebIdentity",
					dc_buf_cstr(&form));
	if (rc < 0) {
		keep_token_out(tok);
		dc_error_prefix("assuming role '%s' with a web identity", arn);
	}
	wipe(&form);
	return rc;
}

int dc_credentials_from_web_identity(struct dc_credentials *out, const struct dc_config *cfg,
				     struct dc_aws *aws)
{
	const char *file = setting(cfg, "web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE");
	if (!file)
		return 0;
	const char *arn = setting(cfg, "role_arn", "AWS_ROLE_ARN");
	if (!arn)
		return dc_error_set("a web identity token file ('%s') is configured but no role: "
				    "set AWS_ROLE_ARN, or role_arn in profile '%s'",
				    file, cfg->profile);
	const char *name = setting(cfg, "role_session_name", "AWS_ROLE_SESSION_NAME");
	struct dc_buf tok = DC_BUF_INIT(MAX_TOKEN);
	int rc = read_token(&tok, file);
	if (rc == 0)
		rc = call_sts(out, aws, arn, name, &tok);
	if (rc == 0)
		snprintf(out->source, sizeof(out->source), "web identity %s", arn);
	wipe(&tok);
	return rc < 0 ? -1 : 1;
}
