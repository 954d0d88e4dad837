/* The shared config and credentials files (~/.aws/config,
 * ~/.aws/credentials) and the settings resolved from them, the environment
 * and the command line, with the precedence the AWS CLI uses:
 * command line > environment > profile > default. */
#ifndef DC_CONFIG_H
#define DC_CONFIG_H

struct dc_ini;

struct dc_config_options {
	const char *profile;      /* --profile, or NULL */
	const char *region;       /* --region, or NULL */
	const char *endpoint_url; /* --endpoint-url, or NULL */
};

struct dc_config {
	char *profile;            /* selected profile: --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default" */
	int profile_explicit;     /* named by the user, so it must exist */
	char *region;             /* resolved region, or NULL when none is configured */
	char *endpoint_url;       /* --endpoint-url, or NULL */
	int max_attempts;         /* AWS_MAX_ATTEMPTS / max_attempts; default 10 */
	char *ca_bundle;          /* AWS_CA_BUNDLE / ca_bundle, or NULL */
	struct dc_ini *config;    /* parsed config file (may be empty) */
	struct dc_ini *credentials; /* parsed credentials file (may be empty) */
};

/* Load files and resolve settings. A missing file is empty; an unreadable
 * or malformed one is an error naming the file and line. A profile named on
 * the command line or in AWS_PROFILE that exists in neither file is an error. */
int dc_config_load(struct dc_config **out, const struct dc_config_options *opt);
void dc_config_free(struct dc_config *cfg);

/* A key of the selected profile in the config file, or NULL. */
const char *dc_config_get(const struct dc_config *cfg, const char *key);
/* A key of a named profile: config file ("[profile NAME]", or "[default]"). */
const char *dc_config_profile_get(const struct dc_config *cfg, const char *profile,
				  const char *key);
/* A key of a named profile in the credentials file ("[NAME]"). */
const char *dc_config_credentials_get(const struct dc_config *cfg, const char *profile,
				      const char *key);
/* A key nested under a sub-section: in "[services dev]" the lines
 *   dynamodb =
 *     endpoint_url = http://...
 * are section "services dev", sub "dynamodb", key "endpoint_url". */
const char *dc_config_section_sub_get(const struct dc_config *cfg, const char *section,
				      const char *sub, const char *key);

/* Parse INI text (AWS flavour: "#" and ";" comments, indented sub-keys).
 * `name` is for error messages. */
int dc_ini_parse(struct dc_ini **out, const char *text, const char *name);
void dc_ini_free(struct dc_ini *ini);
/* Value of key in section, or of section/sub/key when sub is not NULL. */
const char *dc_ini_get(const struct dc_ini *ini, const char *section, const char *sub,
		       const char *key);
int dc_ini_has_section(const struct dc_ini *ini, const char *section);

#endif
