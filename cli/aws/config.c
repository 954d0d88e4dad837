/* Settings from the command line, the environment and the shared files,
 * resolved as the AWS CLI resolves them. Where botocore 1.x and the AWS CLI
 * v2 differ, we follow the CLI v2 and the other SDKs: AWS_PROFILE wins over
 * AWS_DEFAULT_PROFILE, and AWS_REGION over AWS_DEFAULT_REGION. */
#include "aws/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/retry.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* An environment variable, or NULL when unset or empty: an empty
 * AWS_REGION= in a script means "not set", not "the region ''". */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static char *expand_home(const char *path)
{
	if (path[0] != '~' || (path[1] && path[1] != '/'))
		return dc_xstrdup(path);
	const char *home = env("HOME");
	if (!home) {
		/* Python's expanduser falls back to the password database too. */
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "";
	}
	return dc_xasprintf("%s%s", home, path + 1);
}

/* A missing file is an empty one (botocore's ConfigNotFound is ignored);
 * anything else that stops us reading it is an error. */
static int load_file(struct dc_ini **out, const char *path, const char *name)
{
	struct stat st;
	if (stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
		return dc_ini_parse(out, "", name);
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	int rc = dc_buf_read_file(&b, path);
	if (rc == 0 && memchr(b.ptr ? b.ptr : "", '\0', b.len))
		rc = dc_error_set("'%s' is not a text file: it contains a NUL byte", name);
	if (rc == 0)
		rc = dc_ini_parse(out, dc_buf_cstr(&b), name);
	dc_buf_dispose(&b);
	return rc;
}

static int load_files(struct dc_config *cfg)
{
	const char *name = env("AWS_CONFIG_FILE");
	cfg->config_name = dc_xstrdup(name ? name : "~/.aws/config");
	cfg->config_path = expand_home(cfg->config_name);
	name = env("AWS_SHARED_CREDENTIALS_FILE");
	cfg->credentials_name = dc_xstrdup(name ? name : "~/.aws/credentials");
	cfg->credentials_path = expand_home(cfg->credentials_name);
	if (load_file(&cfg->config, cfg->config_path, cfg->config_name) < 0)
		return -1;
	return load_file(&cfg->credentials, cfg->credentials_path, cfg->credentials_name);
}

/* Exactly two words as shlex.split finds them? botocore ignores a section
 * name that does not split. */
static int two_words(const char *s, char **first, char **second)
{
	char **w;
	int n = dc_ini_split_words(&w, s);
	if (n == 2) {
		*first = dc_xstrdup(w[0]);
		*second = dc_xstrdup(w[1]);
	}
	dc_ini_words_free(w);
	return n == 2;
}

/* botocore's build_profile_map: a section that starts with `kind` and
 * splits into two words names (kind, word 2); "[default]" is a profile
 * too; when two sections give the same name, the later one wins. */
static const char *mapped_section(const struct dc_ini *ini, const char *kind, const char *name)
{
	const char *found = NULL;
	for (size_t i = 0; i < dc_ini_section_count(ini); i++) {
		const char *sec = dc_ini_section_name(ini, i);
		char *w1 = NULL, *w2 = NULL;
		if (!strcmp(kind, "profile") && !strcmp(sec, "default")) {
			if (!strcmp(name, "default"))
				found = sec;
		} else if (!strncmp(sec, kind, strlen(kind)) && two_words(sec, &w1, &w2)) {
			if (!strcmp(w2, name))
				found = sec;
		}
		free(w1);
		free(w2);
	}
	return found;
}

const char *dc_config_profile_get(const struct dc_config *cfg, const char *profile,
				  const char *key)
{
	const char *sec = mapped_section(cfg->config, "profile", profile);
	return sec ? dc_ini_get(cfg->config, sec, NULL, key) : NULL;
}

const char *dc_config_credentials_get(const struct dc_config *cfg, const char *profile,
				      const char *key)
{
	return dc_ini_get(cfg->credentials, profile, NULL, key);
}

const char *dc_config_get(const struct dc_config *cfg, const char *key)
{
	const char *v = dc_config_credentials_get(cfg, cfg->profile, key);
	return v ? v : dc_config_profile_get(cfg, cfg->profile, key);
}

const char *dc_config_section_sub_get(const struct dc_config *cfg, const char *section,
				      const char *sub, const char *key)
{
	char *kind = NULL, *name = NULL;
	const char *sec = section;
	if (two_words(section, &kind, &name))
		sec = mapped_section(cfg->config, kind, name);
	else if (!strcmp(section, "default"))
		sec = mapped_section(cfg->config, "profile", "default");
	free(kind);
	free(name);
	return sec ? dc_ini_get(cfg->config, sec, sub, key) : NULL;
}

static int select_profile(struct dc_config *cfg, const struct dc_config_options *opt)
{
	const char *name = NULL, *from = NULL;
	if (opt && opt->profile && *opt->profile) {
		name = opt->profile;
		from = "--profile";
		cfg->profile_option = 1;
	} else if ((name = env("AWS_PROFILE"))) {
		from = "AWS_PROFILE";
	} else if ((name = env("AWS_DEFAULT_PROFILE"))) {
		from = "AWS_DEFAULT_PROFILE";
	}
	cfg->profile = dc_xstrdup(name ? name : "default");
	cfg->profile_explicit = name != NULL;
	if (!name || mapped_section(cfg->config, "profile", name) ||
	    dc_ini_has_section(cfg->credentials, name))
		return 0;
	return dc_error_set("profile '%s' (from %s) is not in '%s' or '%s'", name, from,
			    cfg->config_name, cfg->credentials_name);
}

/* botocore's validate_region_name: a DNS label, not all digits. */
static int valid_region(const char *r)
{
	size_t n = strlen(r), digits = 0;
	if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-')
		return 0;
	for (const char *c = r; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '-')
			return 0;
		digits += isdigit((unsigned char)*c) != 0;
	}
	return digits < n;
}

static int resolve_region(struct dc_config *cfg, const struct dc_config_options *opt)
{
	const char *r = NULL, *from = NULL;
	if (opt && opt->region && *opt->region) {
		r = opt->region;
		from = "--region";
	} else if ((r = env("AWS_REGION"))) {
		from = "AWS_REGION";
	} else if ((r = env("AWS_DEFAULT_REGION"))) {
		from = "AWS_DEFAULT_REGION";
	} else if ((r = dc_config_get(cfg, "region")) && *r) {
		from = "the profile";
	} else {
		return 0;
	}
	if (!valid_region(r))
		return dc_error_set("region '%s' (from %s) is not a valid region name: "
				    "expected letters, digits and hyphens, like 'us-east-1'",
				    r, from);
	cfg->region = dc_xstrdup(r);
	return 0;
}

static int resolve_attempts(struct dc_config *cfg)
{
	const char *v = env("AWS_MAX_ATTEMPTS"), *from = "AWS_MAX_ATTEMPTS";
	if (!v) {
		v = dc_config_get(cfg, "max_attempts");
		from = "the profile";
	}
	if (!v) {
		cfg->max_attempts = DC_RETRY_DEFAULT_ATTEMPTS;
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (end == v || *end || errno || n < 1 || n > INT_MAX)
		return dc_error_set("max_attempts '%s' (from %s) is not a whole number of at least 1",
				    v, from);
	cfg->max_attempts = (int)n;
	return 0;
}

int dc_config_load(struct dc_config **out, const struct dc_config_options *opt)
{
	struct dc_config *cfg = dc_xcalloc(1, sizeof(*cfg));
	*out = NULL;
	if (load_files(cfg) < 0 || select_profile(cfg, opt) < 0 || resolve_region(cfg, opt) < 0 ||
	    resolve_attempts(cfg) < 0) {
		dc_config_free(cfg);
		return -1;
	}
	const char *ca = env("AWS_CA_BUNDLE");
	if (!ca)
		ca = dc_config_get(cfg, "ca_bundle");
	if (ca && *ca)
		cfg->ca_bundle = dc_xstrdup(ca);
	if (opt && opt->endpoint_url && *opt->endpoint_url)
		cfg->endpoint_url = dc_xstrdup(opt->endpoint_url);
	*out = cfg;
	return 0;
}

void dc_config_free(struct dc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->profile);
	free(cfg->region);
	free(cfg->endpoint_url);
	free(cfg->ca_bundle);
	dc_ini_free(cfg->config);
	dc_ini_free(cfg->credentials);
	free(cfg->config_path);
	free(cfg->credentials_path);
	free(cfg->config_name);
	free(cfg->credentials_name);
	free(cfg);
}
