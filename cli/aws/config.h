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
	int profile_option;       /* named by --profile: the AWS CLI then skips
				   * credentials in the environment */
	char *region;             /* resolved region, or NULL when none is configured */
	char *endpoint_url;       /* --endpoint-url, or NULL */
	int max_attempts;         /* AWS_MAX_ATTEMPTS / max_attempts; default 10 */
	char *ca_bundle;          /* AWS_CA_BUNDLE / ca_bundle, or NULL */
	struct dc_ini *config;    /* parsed config file (may be empty) */
	struct dc_ini *credentials; /* parsed credentials file (may be empty) */
	char *config_path;        /* the files as opened ("~" expanded) ... */
	char *credentials_path;
	char *config_name;        /* ... and as the user knows them, for messages */
	char *credentials_name;   /* ("~/.aws/credentials", or $AWS_SHARED_CREDENTIALS_FILE) */
};

/* Load files and resolve settings. A missing file is empty; an unreadable
 * or malformed one is an error naming the file and line. A profile named on
 * the command line or in AWS_PROFILE that exists in neither file is an error. */
int dc_config_load(struct dc_config **out, const struct dc_config_options *opt);
void dc_config_free(struct dc_config *cfg);

/* A key of the selected profile, or NULL. As in botocore's merged profile
 * map, the credentials file's "[NAME]" wins over the config file's
 * "[profile NAME]" (so a region there counts too). */
const char *dc_config_get(const struct dc_config *cfg, const char *key);
/* A key of a named profile in the config file: "[profile NAME]", or for
 * "default" "[default]" as well; section names are split like botocore's
 * (shlex), and when a profile appears twice the later section wins. */
const char *dc_config_profile_get(const struct dc_config *cfg, const char *profile,
				  const char *key);
/* A key of a named profile in the credentials file ("[NAME]"). */
const char *dc_config_credentials_get(const struct dc_config *cfg, const char *profile,
				      const char *key);
/* A key nested under a sub-section: in "[services dev]" the lines
 *   dynamodb =
 *     endpoint_url = http://...
 * are section "services dev", sub "dynamodb", key "endpoint_url". With sub
 * NULL, a plain key of the section. Two-word sections ("profile NAME",
 * "services NAME", "sso-session NAME") are matched as botocore maps them;
 * "default" also finds "[profile default]". Config file only. */
const char *dc_config_section_sub_get(const struct dc_config *cfg, const char *section,
				      const char *sub, const char *key);

/* Parse INI text the way botocore does (Python's RawConfigParser): "#"
 * and ";" full-line comments (a " # ..." after a value is part of the
 * value, as in botocore), "=" or ":" between key and value, keys
 * case-insensitive (stored lowercased), section names case-sensitive,
 * deeper-indented lines continue a value, and under a key with an empty
 * value they are "k = v" sub-keys (case-sensitive). A repeated section or
 * key is an error, as configparser's strict mode makes it. Errors name the
 * file and line: "'~/.aws/config' line 3: expected 'key = value'". `name`
 * is for error messages. */
int dc_ini_parse(struct dc_ini **out, const char *text, const char *name);
void dc_ini_free(struct dc_ini *ini);
/* Value of key in section, or of section/sub/key when sub is not NULL;
 * NULL when absent. A key that holds sub-keys has the value "". Keys of a
 * "[DEFAULT]" section are inherited by every section, as in configparser. */
const char *dc_ini_get(const struct dc_ini *ini, const char *section, const char *sub,
		       const char *key);
int dc_ini_has_section(const struct dc_ini *ini, const char *section);
/* Sections in file order (NULL past the end). */
size_t dc_ini_section_count(const struct dc_ini *ini);
const char *dc_ini_section_name(const struct dc_ini *ini, size_t i);

/* Split s into words like Python's shlex.split (botocore uses it for
 * section names and credential_process). *out is a NULL-terminated array
 * to free with dc_ini_words_free. Returns the word count, or -1 for an
 * unterminated quote or a trailing backslash; no dc_error is recorded then,
 * so that the caller can name the context (and lookups in error paths keep
 * the message they are reporting). */
int dc_ini_split_words(char ***out, const char *s);
void dc_ini_words_free(char **words);

#endif
