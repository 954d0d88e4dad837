/* The shared config and credentials files (~/.aws/config and
 * ~/.aws/credentials) through dc_config_load, then what reads them: the
 * profile lookups, the static-key providers, credential_process's command
 * line split, endpoint overrides from [services] sections.
 * Input: one option byte, then config NUL credentials, written to files
 * in a tmpfs directory. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "aws/endpoints.h"
#include "aws/service.h"
#include "util/xalloc.h"

static char *config_path, *credentials_path;

static char *file(const char *name, const char *var)
{
	char *path = dc_xasprintf("%s/%s", fuzz_tmpdir(), name);
	setenv(var, path, 1);
	return path;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const unset[] = { "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
					     "AWS_DEFAULT_REGION", "AWS_MAX_ATTEMPTS",
					     "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL",
					     "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3",
					     "AWS_ENDPOINT_URL_LAMBDA",
					     "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", NULL };
	for (const char *const *v = unset; *v; v++)
		unsetenv(*v);
	config_path = file("config", "AWS_CONFIG_FILE");
	credentials_path = file("credentials", "AWS_SHARED_CREDENTIALS_FILE");
	return 0;
}

static void credentials(const struct dc_config *cfg)
{
	struct dc_credentials c = { 0 };
	if (dc_credentials_from_credentials_file(&c, cfg, NULL) == 0)
		dc_credentials_from_config_file(&c, cfg, NULL);
	dc_credentials_dispose(&c);
	const char *cmd = dc_config_get(cfg, "credential_process");
	char **words = NULL;
	if (cmd && dc_ini_split_words(&words, cmd) >= 0)
		dc_ini_words_free(words);
}

static void endpoints(const struct dc_config *cfg)
{
	static const char *const services[] = { "dynamodb", "s3", "lambda", "sts", "logs" };
	for (size_t i = 0; i < sizeof(services) / sizeof(*services); i++) {
		struct dc_endpoint ep = { 0 };
		const struct dc_service *svc = dc_service_find(services[i]);
		if (dc_endpoint_resolve(&ep, cfg, svc, cfg->region ? cfg->region : "eu-west-2") == 0)
			dc_endpoint_dispose(&ep);
	}
}

static void lookups(const struct dc_config *cfg)
{
	static const char *const keys[] = { "region", "role_arn", "source_profile", "sso_session",
					     "web_identity_token_file", "services", NULL };
	for (const char *const *k = keys; *k; k++)
		dc_config_get(cfg, *k);
	dc_config_section_sub_get(cfg, "services dev", "dynamodb", "endpoint_url");
	dc_config_section_sub_get(cfg, "default", NULL, "region");
	dc_config_section_sub_get(cfg, "sso-session my-sso", NULL, "sso_region");
	for (size_t i = 0; i < dc_ini_section_count(cfg->config); i++) {
		const char *name = dc_ini_section_name(cfg->config, i);
		dc_config_section_sub_get(cfg, name, "s3", "endpoint_url");
		dc_config_profile_get(cfg, name, "region");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = { NULL, "default", "dev", "prod" };
	if (size < 1)
		return 0;
	struct dc_config_options opt = { .profile = profiles[data[0] & 3] };
	struct fuzz_in in = FUZZ_IN(data + 1, size - 1);
	const uint8_t *config, *creds = NULL;
	size_t cn, rn = 0;
	fuzz_part(&in, '\0', &config, &cn);
	if (fuzz_part(&in, '\0', &creds, &rn) && !in.done)
		rn += 1 + in.n; /* a NUL inside the credentials file is kept */
	fuzz_write_file(config_path, config, cn);
	fuzz_write_file(credentials_path, creds, rn);
	struct dc_config *cfg;
	if (dc_config_load(&cfg, &opt) < 0)
		return 0;
	lookups(cfg);
	credentials(cfg);
	endpoints(cfg);
	dc_config_free(cfg);
	return 0;
}
