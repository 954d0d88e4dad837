/* The credential chain: botocore's create_credential_resolver order
 * (botocore 1.43, credentials.py), one row per provider. */
#include "aws/credentials.h"

#include <ctype.h>

#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

enum { NO_FILE, CREDENTIALS_FILE, CONFIG_FILE };
/* Like the AWS CLI: --profile makes it ignore credentials in the environment. */
#define SKIP_WITH_PROFILE_OPTION 1
/* A provider of the named profile alone (botocore's ProfileProviderBuilder). */
#define PROFILE_CHAIN 2
/* Listed as tried only when instance metadata is enabled. */
#define IMDS_ROW 4

struct provider {
	const char *tried; /* for the "tried ..." list; "%s" is the file's name; NULL: not listed */
	dc_credentials_provider_fn fn;
	int file;
	int flags;
};

static int pending_sso(struct dc_credentials *out, const struct dc_config *cfg,
		       struct dc_aws *aws);

/* pending_sso stands for IAM Identity Center, which is not planned: it
 * finds nothing unless the profile configures it, and then stops the chain
 * with an error, because going on would quietly pick another identity than
 * the one the AWS CLI would use. The PROFILE_CHAIN rows are the ones a
 * source_profile resolves through (dc_credentials_from_profile_chain). */
static const struct provider chain[] = {
	{ "environment variables", dc_credentials_from_env, NO_FILE, SKIP_WITH_PROFILE_OPTION },
	{ NULL, dc_credentials_from_assume_role, NO_FILE, 0 },
	{ NULL, dc_credentials_from_web_identity, NO_FILE, PROFILE_CHAIN },
	{ NULL, pending_sso, NO_FILE, PROFILE_CHAIN },
	{ "'%s'", dc_credentials_from_credentials_file, CREDENTIALS_FILE, PROFILE_CHAIN },
	{ "credential_process", dc_credentials_from_process, NO_FILE, PROFILE_CHAIN },
	{ "'%s'", dc_credentials_from_config_file, CONFIG_FILE, PROFILE_CHAIN },
	/* Configured by the environment only, so either it answers or it fails:
	 * it never lands in the "tried" list. */
	{ NULL, dc_credentials_from_container, NO_FILE, 0 },
	{ "EC2 instance metadata", dc_credentials_from_imds, NO_FILE, IMDS_ROW },
};

static int unsupported(const struct dc_config *cfg, const char *what)
{
	return dc_error_set("profile '%s' uses %s, which deployctl does not support yet: "
			    "put the keys from 'aws configure export-credentials --profile %s "
			    "--format env' in the environment instead",
			    cfg->profile, what, cfg->profile);
}

static int pending_sso(struct dc_credentials *out, const struct dc_config *cfg,
		       struct dc_aws *aws)
{
	if (!dc_config_get(cfg, "sso_session") && !dc_config_get(cfg, "sso_start_url"))
		return 0;
	return unsupported(cfg, "IAM Identity Center (sso_session or sso_start_url)");
}

static void note_tried(struct dc_buf *tried, const struct provider *p,
		       const struct dc_config *cfg)
{
	const char *file = p->file == CREDENTIALS_FILE ? cfg->credentials_name
			   : p->file == CONFIG_FILE     ? cfg->config_name
							: "";
	if (!p->tried || ((p->flags & IMDS_ROW) && !dc_credentials_imds_enabled()))
		return;
	if (tried->len)
		dc_buf_puts(tried, ", ");
	dc_buf_printf(tried, p->tried, file);
}

static int nothing_found(const struct dc_config *cfg, const struct dc_buf *tried)
{
	char fix[256];
	if (!strcmp(cfg->profile, "default"))
		snprintf(fix, sizeof(fix), "run 'aws configure'");
	else
		snprintf(fix, sizeof(fix), "run 'aws configure --profile %s'", cfg->profile);
	return dc_error_set("no AWS credentials found for profile '%s' (tried %s): %s%s",
			    cfg->profile, dc_buf_cstr(tried),
			    cfg->profile_option ? "" : "set AWS_ACCESS_KEY_ID and "
						       "AWS_SECRET_ACCESS_KEY, or ",
			    fix);
}

int dc_credentials_resolve(struct dc_credentials *out, const struct dc_config *cfg,
			   struct dc_aws *aws)
{
	struct dc_buf tried = DC_BUF_INIT(DC_MAX_SMALL);
	int rc = 0;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]) && rc == 0; i++) {
		const struct provider *p = &chain[i];
		if ((p->flags & SKIP_WITH_PROFILE_OPTION) && cfg->profile_option)
			continue;
		rc = p->fn(out, cfg, aws);
		if (rc == 0)
			note_tried(&tried, p, cfg);
	}
	if (rc == 0)
		rc = nothing_found(cfg, &tried);
	if (rc < 0)
		dc_credentials_dispose(out);
	dc_buf_dispose(&tried);
	return rc < 0 ? rc : 0;
}

int dc_credentials_from_profile_chain(struct dc_credentials *out, const struct dc_config *cfg,
				      struct dc_aws *aws)
{
	int rc = 0;
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]) && rc == 0; i++)
		if (chain[i].flags & PROFILE_CHAIN)
			rc = chain[i].fn(out, cfg, aws);
	return rc;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void dc_credentials_dispose(struct dc_credentials *c)
{
	free(c->access_key_id);
	free_secret(c->secret_access_key);
	free_secret(c->session_token);
	memset(c, 0, sizeof(*c));
}

void dc_credentials_set(struct dc_credentials *out, const char *access_key_id,
			const char *secret_access_key, const char *session_token)
{
	out->access_key_id = dc_xstrdup(access_key_id);
	out->secret_access_key = dc_xstrdup(secret_access_key);
	out->session_token = session_token ? dc_xstrdup(session_token) : NULL;
}

void dc_credentials_copy(struct dc_credentials *dst, const struct dc_credentials *src)
{
	*dst = *src;
	dst->access_key_id = src->access_key_id ? dc_xstrdup(src->access_key_id) : NULL;
	dst->secret_access_key = src->secret_access_key ? dc_xstrdup(src->secret_access_key)
							: NULL;
	dst->session_token = src->session_token ? dc_xstrdup(src->session_token) : NULL;
}

int dc_credentials_expiring(const struct dc_credentials *c, time_t now, long margin)
{
	return c->expiration != 0 && (long long)c->expiration - (long long)now <= margin;
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
	}
	*out = v;
	return 0;
}

static int parse_offset(const char *p, long *off)
{
	int sign = *p == '-' ? -1 : 1, h, m;
	*off = 0;
	if (*p == 'Z' || *p == 'z')
		return p[1] ? -1 : 0;
	if (!*p)
		return 0; /* no zone: AWS means UTC */
	if (*p != '+' && *p != '-')
		return -1;
	p++;
	if (digits(&p, 2, &h) < 0)
		return -1;
	if (*p == ':')
		p++;
	if (digits(&p, 2, &m) < 0 || *p)
		return -1;
	*off = sign * (h * 3600L + m * 60L);
	return 0;
}

int dc_credentials_parse_time(time_t *out, const char *s)
{
	struct tm tm = { 0 };
	const char *p = s;
	long off;
	if (digits(&p, 4, &tm.tm_year) || *p++ != '-' || digits(&p, 2, &tm.tm_mon) ||
	    *p++ != '-' || digits(&p, 2, &tm.tm_mday) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &tm.tm_hour) || *p++ != ':' || digits(&p, 2, &tm.tm_min) ||
	    *p++ != ':' || digits(&p, 2, &tm.tm_sec))
		return -1;
	if (*p == '.' && isdigit((unsigned char)p[1]))
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (parse_offset(p, &off) < 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm) - off;
	return 0;
}
