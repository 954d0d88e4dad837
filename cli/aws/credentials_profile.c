/* Static keys of the selected profile, as botocore's SharedCredentialProvider
 * (credentials file) and ConfigProvider (config file) read them. */
#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "util/error.h"

typedef const char *(*getter)(const struct dc_config *cfg, const char *profile,
			      const char *key);

static int static_keys(struct dc_credentials *out, const struct dc_config *cfg, getter get,
		       const char *file, const char *what)
{
	const char *id = get(cfg, cfg->profile, "aws_access_key_id");
	if (!id)
		return 0;
	const char *secret = get(cfg, cfg->profile, "aws_secret_access_key");
	if (!*id)
		return dc_error_set("profile '%s' in '%s' has an empty aws_access_key_id",
				    cfg->profile, file);
	if (!secret || !*secret)
		return dc_error_set("profile '%s' in '%s' has aws_access_key_id but no "
				    "aws_secret_access_key",
				    cfg->profile, file);
	/* botocore's order: the legacy name first; an empty token is none. */
	const char *token = get(cfg, cfg->profile, "aws_security_token");
	if (!token)
		token = get(cfg, cfg->profile, "aws_session_token");
	dc_credentials_set(out, id, secret, token && *token ? token : NULL);
	snprintf(out->source, sizeof(out->source), "%s (profile %s)", what, cfg->profile);
	return 1;
}

int dc_credentials_from_credentials_file(struct dc_credentials *out,
					 const struct dc_config *cfg, struct dc_aws *aws)
{
	return static_keys(out, cfg, dc_config_credentials_get, cfg->credentials_name,
			   "shared credentials file");
}

int dc_credentials_from_config_file(struct dc_credentials *out, const struct dc_config *cfg,
				    struct dc_aws *aws)
{
	return static_keys(out, cfg, dc_config_profile_get, cfg->config_name,
			   "shared config file");
}
