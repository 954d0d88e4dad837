/* Credentials from the environment, as botocore's EnvProvider reads them. */
#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "util/error.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int dc_credentials_from_env(struct dc_credentials *out, const struct dc_config *cfg,
			    struct dc_aws *aws)
{
	const char *id = env("AWS_ACCESS_KEY_ID");
	/* A secret without a key id is ignored, as botocore ignores it. */
	if (!id)
		return 0;
	const char *secret = env("AWS_SECRET_ACCESS_KEY");
	if (!secret)
		return dc_error_set("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: "
				    "set both, or unset AWS_ACCESS_KEY_ID to use profile '%s'",
				    cfg->profile);
	/* botocore's order: the legacy name first. */
	const char *token = env("AWS_SECURITY_TOKEN");
	if (!token)
		token = env("AWS_SESSION_TOKEN");
	time_t expiration = 0;
	const char *exp = env("AWS_CREDENTIAL_EXPIRATION");
	if (exp && dc_credentials_parse_time(&expiration, exp) < 0)
		return dc_error_set("AWS_CREDENTIAL_EXPIRATION '%.64s' is not a time like "
				    "'2024-05-01T12:00:00Z'",
				    exp);
	dc_credentials_set(out, id, secret, token);
	out->expiration = expiration;
	snprintf(out->source, sizeof(out->source), "environment");
	return 1;
}
