#include <sys/stat.h>
#include <unistd.h>

#include "aws/config.h"
#include "aws/retry.h"
#include "harness.h"
#include "support_env.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

static const char config_text[] = "[default]\n"
				  "region = us-east-1\n"
				  "max_attempts = 4\n"
				  "\n"
				  "[profile dev]\n"
				  "region = eu-west-1\n"
				  "endpoint_url = http://localhost:4566\n"
				  "services = local\n"
				  "ignore_configured_endpoint_urls = false\n"
				  "ca_bundle = /etc/dev-ca.pem\n"
				  "s3 =\n"
				  "  addressing_style = path\n"
				  "\n"
				  "[profile ops]\n"
				  "output = json\n"
				  "\n"
				  "[profile   spaced]\n"
				  "region = ap-south-1\n"
				  "\n"
				  "[profile \"my dev\"]\n"
				  "region = eu-central-1\n"
				  "\n"
				  "[services local]\n"
				  "dynamodb =\n"
				  "  endpoint_url = http://localhost:8000\n"
				  "\n"
				  "[profile bad-region]\n"
				  "region = us east 1\n";

static const char credentials_text[] = "[default]\n"
				       "aws_access_key_id = AKIDDEFAULT\n"
				       "aws_secret_access_key = secret-default\n"
				       "\n"
				       "[ci]\n"
				       "region = sa-east-1\n"
				       "\n"
				       "[dev]\n"
				       "region = us-west-1\n";

static void write_home_files(void)
{
	free(dc_test_write_file(".aws/config", config_text, 0600));
	free(dc_test_write_file(".aws/credentials", credentials_text, 0600));
}

static struct dc_config *load(const char *profile, const char *region)
{
	struct dc_config_options opt = { profile, region, NULL };
	struct dc_config *cfg = NULL;
	if (dc_config_load(&cfg, &opt) < 0)
		dc_test_fail(__FILE__, __LINE__, "dc_config_load: %s", dc_error_last()->message);
	return cfg;
}

/* "profile region" as we resolve it, or the error message. */
static char *our_answer(const char *profile, const char *region)
{
	struct dc_config_options opt = { profile, region, NULL };
	struct dc_config *cfg = NULL;
	if (dc_config_load(&cfg, &opt) < 0)
		return strstr(dc_error_last()->message, "is not in")
			       ? dc_xstrdup("ProfileNotFound")
			       : dc_xstrdup(dc_error_last()->message);
	char *s = dc_xasprintf("%s %s", cfg->profile, cfg->region ? cfg->region : "None");
	dc_config_free(cfg);
	return s;
}

/* The same question put to botocore, as the AWS CLI v1 asks it. */
static char *botocore_answer(const char *profile, const char *region)
{
	char *code = dc_xasprintf(
		"import botocore.session\n"
		"s = botocore.session.Session(profile=%s%s%s)\n"
		"r = %s%s%s\n"
		"if r: s.set_config_variable('region', r)\n"
		"try:\n"
		"    s.get_scoped_config()\n"
		"    print(s.get_config_variable('profile') or 'default', s.get_config_variable('region') or None)\n"
		"except Exception as e:\n"
		"    print(type(e).__name__)\n",
		profile ? "'" : "", profile ? profile : "None", profile ? "'" : "",
		region ? "'" : "", region ? region : "None", region ? "'" : "");
	char *answer = dc_test_python(code);
	free(code);
	return answer;
}

struct scenario {
	const char *env[4]; /* "NAME=value" */
	const char *profile, *region;
	const char *want;
};

/* Only cases where botocore 1.x and the AWS CLI v2 agree: AWS_REGION and
 * AWS_PROFILE together with AWS_DEFAULT_PROFILE are tested separately. */
static const struct scenario scenarios[] = {
	{ { NULL }, NULL, NULL, "default us-east-1" },
	{ { "AWS_PROFILE=dev" }, NULL, NULL, "dev us-west-1" },
	{ { "AWS_DEFAULT_PROFILE=ops" }, NULL, NULL, "ops None" },
	{ { "AWS_PROFILE=dev" }, "ci", NULL, "ci sa-east-1" },
	{ { "AWS_PROFILE=dev", "AWS_DEFAULT_REGION=eu-north-1" }, NULL, NULL, "dev eu-north-1" },
	{ { "AWS_DEFAULT_REGION=eu-north-1" }, NULL, "ca-central-1", "default ca-central-1" },
	{ { "AWS_PROFILE=nosuch" }, NULL, NULL, "ProfileNotFound" },
	{ { NULL }, "nosuch", NULL, "ProfileNotFound" },
	{ { NULL }, "spaced", NULL, "spaced ap-south-1" },
	{ { NULL }, "my dev", NULL, "my dev eu-central-1" },
	{ { NULL }, "default", NULL, "default us-east-1" },
	{ { "AWS_PROFILE=ops", "AWS_DEFAULT_REGION=" }, NULL, NULL, "ops None" },
};

static void set_env_list(const char *const *env, int set)
{
	for (int i = 0; i < 4 && env[i]; i++) {
		char *name = dc_xstrndup(env[i], strcspn(env[i], "="));
		dc_test_env_set(name, set ? strchr(env[i], '=') + 1 : NULL);
		free(name);
	}
}

void test_config__profile_and_region_agree_with_botocore(void)
{
	dc_test_env_begin();
	write_home_files();
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		set_env_list(s->env, 1);
		char *ours = our_answer(s->profile, s->region);
		char *theirs = botocore_answer(s->profile, s->region);
		check_str(ours, s->want);
		check_str(theirs, s->want);
		free(ours);
		free(theirs);
		set_env_list(s->env, 0);
	}
	dc_test_env_end();
}

void test_config__default_and_profile_default_later_wins_like_botocore(void)
{
	dc_test_env_begin();
	free(dc_test_write_file(".aws/config",
				"[profile default]\nregion = eu-west-3\n[default]\nregion = eu-west-2\n",
				0600));
	char *ours = our_answer(NULL, NULL), *theirs = botocore_answer(NULL, NULL);
	check_str(ours, "default eu-west-2");
	check_str(theirs, "default eu-west-2");
	free(ours);
	free(theirs);
	free(dc_test_write_file(".aws/config",
				"[default]\nregion = eu-west-2\n[profile default]\nregion = eu-west-3\n",
				0600));
	ours = our_answer(NULL, NULL);
	theirs = botocore_answer(NULL, NULL);
	check_str(ours, "default eu-west-3");
	check_str(theirs, "default eu-west-3");
	free(ours);
	free(theirs);
	dc_test_env_end();
}

void test_config__no_files_is_an_empty_default_profile(void)
{
	dc_test_env_begin();
	struct dc_config *cfg = load(NULL, NULL);
	check_str(cfg->profile, "default");
	check_int(cfg->profile_explicit, 0);
	check(cfg->region == NULL);
	check_int(cfg->max_attempts, DC_RETRY_DEFAULT_ATTEMPTS);
	check(cfg->ca_bundle == NULL);
	check(cfg->endpoint_url == NULL);
	check(dc_config_get(cfg, "region") == NULL);
	check_str(cfg->config_name, "~/.aws/config");
	char *want = dc_xasprintf("%s/.aws/credentials", dc_test_tmpdir());
	check_str(cfg->credentials_path, want);
	free(want);
	dc_config_free(cfg);
	dc_test_env_end();
}

void test_config__profile_precedence(void)
{
	dc_test_env_begin();
	write_home_files();
	dc_test_env_set("AWS_DEFAULT_PROFILE", "ops");
	struct dc_config *cfg = load(NULL, NULL);
	check_str(cfg->profile, "ops");
	check_int(cfg->profile_explicit, 1);
	check_int(cfg->profile_option, 0);
	dc_config_free(cfg);
	/* AWS_PROFILE wins, as in the AWS CLI v2 and the SDKs (botocore 1.x
	 * alone prefers AWS_DEFAULT_PROFILE). */
	dc_test_env_set("AWS_PROFILE", "dev");
	cfg = load(NULL, NULL);
	check_str(cfg->profile, "dev");
	dc_config_free(cfg);
	cfg = load("ci", NULL);
	check_str(cfg->profile, "ci");
	check_int(cfg->profile_option, 1);
	dc_config_free(cfg);
	/* An empty variable is no choice at all. */
	dc_test_env_set("AWS_PROFILE", "");
	dc_test_env_set("AWS_DEFAULT_PROFILE", "");
	cfg = load(NULL, NULL);
	check_str(cfg->profile, "default");
	check_int(cfg->profile_explicit, 0);
	dc_config_free(cfg);
	dc_test_env_end();
}

void test_config__explicit_missing_profile_is_an_error(void)
{
	dc_test_env_begin();
	write_home_files();
	struct dc_config *cfg = (struct dc_config *)&cfg;
	struct dc_config_options opt = { "x", NULL, NULL };
	check_int(dc_config_load(&cfg, &opt), -1);
	check(cfg == NULL);
	check_str(dc_error_last()->message,
		  "profile 'x' (from --profile) is not in '~/.aws/config' or '~/.aws/credentials'");
	dc_test_env_set("AWS_PROFILE", "y");
	check_int(dc_config_load(&cfg, NULL), -1);
	check_str(dc_error_last()->message,
		  "profile 'y' (from AWS_PROFILE) is not in '~/.aws/config' or '~/.aws/credentials'");
	/* The names in the message are the ones the user set. */
	char *path = dc_test_write_file("elsewhere/cfg", "[profile z]\n", 0600);
	dc_test_env_set("AWS_CONFIG_FILE", path);
	dc_test_env_set("AWS_SHARED_CREDENTIALS_FILE", "~/nowhere");
	check_int(dc_config_load(&cfg, NULL), -1);
	char *want = dc_xasprintf("profile 'y' (from AWS_PROFILE) is not in '%s' or '~/nowhere'",
				  path);
	check_str(dc_error_last()->message, want);
	free(want);
	/* ... and that file is read: profile z is there. */
	dc_test_env_set("AWS_PROFILE", "z");
	check_int(dc_config_load(&cfg, NULL), 0);
	dc_config_free(cfg);
	free(path);
	/* An explicit "default" must exist too, as in botocore. */
	dc_test_env_set("AWS_CONFIG_FILE", NULL);
	dc_test_env_set("AWS_SHARED_CREDENTIALS_FILE", NULL);
	dc_test_env_set("AWS_PROFILE", "default");
	char *home_config = dc_xasprintf("%s/.aws/config", dc_test_tmpdir());
	char *home_credentials = dc_xasprintf("%s/.aws/credentials", dc_test_tmpdir());
	unlink(home_config);
	unlink(home_credentials);
	check_int(dc_config_load(&cfg, NULL), -1);
	check_str(dc_error_last()->message, "profile 'default' (from AWS_PROFILE) is not in "
					    "'~/.aws/config' or '~/.aws/credentials'");
	char *theirs = botocore_answer(NULL, NULL);
	check_str(theirs, "ProfileNotFound");
	free(theirs);
	free(home_config);
	free(home_credentials);
	dc_test_env_end();
}

void test_config__profile_only_in_credentials_file_exists(void)
{
	dc_test_env_begin();
	write_home_files();
	struct dc_config *cfg = load("ci", NULL);
	check_str(cfg->region, "sa-east-1");
	check(dc_config_profile_get(cfg, "ci", "region") == NULL);
	check_str(dc_config_credentials_get(cfg, "ci", "region"), "sa-east-1");
	dc_config_free(cfg);
	dc_test_env_end();
}

void test_config__region_precedence(void)
{
	dc_test_env_begin();
	write_home_files();
	struct dc_config *cfg = load("ops", NULL);
	check(cfg->region == NULL);
	dc_config_free(cfg);
	cfg = load(NULL, NULL);
	check_str(cfg->region, "us-east-1");
	dc_config_free(cfg);
	dc_test_env_set("AWS_DEFAULT_REGION", "eu-north-1");
	cfg = load(NULL, NULL);
	check_str(cfg->region, "eu-north-1");
	dc_config_free(cfg);
	/* AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS CLI v2 and the SDKs. */
	dc_test_env_set("AWS_REGION", "ap-northeast-1");
	cfg = load(NULL, NULL);
	check_str(cfg->region, "ap-northeast-1");
	dc_config_free(cfg);
	cfg = load(NULL, "me-south-1");
	check_str(cfg->region, "me-south-1");
	dc_config_free(cfg);
	/* Only the region in use is checked: a bad profile region under --region is fine. */
	cfg = load("bad-region", "us-gov-west-1");
	check_str(cfg->region, "us-gov-west-1");
	dc_config_free(cfg);
	dc_test_env_end();
}

static void check_region_error(const char *profile, const char *region, const char *want)
{
	struct dc_config_options opt = { profile, region, NULL };
	struct dc_config *cfg = NULL;
	check_int(dc_config_load(&cfg, &opt), -1);
	check_str(dc_error_last()->message, want);
}

void test_config__invalid_region_names_it(void)
{
	dc_test_env_begin();
	write_home_files();
	check_region_error("bad-region", NULL,
			   "region 'us east 1' (from the profile) is not a valid region name: "
			   "expected letters, digits and hyphens, like 'us-east-1'");
	check_region_error(NULL, "us-east-1/",
			   "region 'us-east-1/' (from --region) is not a valid region name: "
			   "expected letters, digits and hyphens, like 'us-east-1'");
	check_region_error(NULL, "-us-east-1",
			   "region '-us-east-1' (from --region) is not a valid region name: "
			   "expected letters, digits and hyphens, like 'us-east-1'");
	check_region_error(NULL, "12345",
			   "region '12345' (from --region) is not a valid region name: "
			   "expected letters, digits and hyphens, like 'us-east-1'");
	dc_test_env_set("AWS_REGION", "eu_west_1");
	check_region_error(NULL, NULL,
			   "region 'eu_west_1' (from AWS_REGION) is not a valid region name: "
			   "expected letters, digits and hyphens, like 'us-east-1'");
	dc_test_env_end();
}

void test_config__region_validation_matches_botocore(void)
{
	static const char *const names[] = { "us-east-1", "us east 1", "-a", "a-", "123",
					     "a1",        "eu_west_1", "x.y", "cn-north-1",
					     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	dc_test_env_begin();
	struct dc_buf py = DC_BUF_INIT(DC_MAX_SMALL), ours = DC_BUF_INIT(DC_MAX_SMALL);
	dc_buf_puts(&py, "from botocore.utils import validate_region_name\n"
			 "def v(r):\n"
			 "    try: validate_region_name(r); print('ok')\n"
			 "    except Exception: print('bad')\n");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		dc_buf_printf(&py, "v('%s')\n", names[i]);
		struct dc_config_options opt = { NULL, names[i], NULL };
		struct dc_config *cfg = NULL;
		int rc = dc_config_load(&cfg, &opt);
		dc_buf_printf(&ours, "%s%s", i ? "\n" : "", rc == 0 ? "ok" : "bad");
		dc_config_free(cfg);
	}
	char *theirs = dc_test_python(dc_buf_cstr(&py));
	check_str(dc_buf_cstr(&ours), theirs);
	free(theirs);
	dc_buf_dispose(&py);
	dc_buf_dispose(&ours);
	dc_test_env_end();
}

void test_config__max_attempts(void)
{
	dc_test_env_begin();
	write_home_files();
	struct dc_config *cfg = load(NULL, NULL);
	check_int(cfg->max_attempts, 4);
	dc_config_free(cfg);
	cfg = load("dev", NULL);
	check_int(cfg->max_attempts, DC_RETRY_DEFAULT_ATTEMPTS);
	dc_config_free(cfg);
	dc_test_env_set("AWS_MAX_ATTEMPTS", "7");
	cfg = load(NULL, NULL);
	check_int(cfg->max_attempts, 7);
	dc_config_free(cfg);
	static const char *const bad[] = { "abc", "0", "-2", "3x", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dc_test_env_set("AWS_MAX_ATTEMPTS", bad[i]);
		check_int(dc_config_load(&cfg, NULL), -1);
		char *want = dc_xasprintf("max_attempts '%s' (from AWS_MAX_ATTEMPTS) is not a whole "
					  "number of at least 1",
					  bad[i]);
		check_str(dc_error_last()->message, want);
		free(want);
	}
	dc_test_env_set("AWS_MAX_ATTEMPTS", NULL);
	free(dc_test_write_file(".aws/config", "[default]\nmax_attempts = ten\n", 0600));
	check_int(dc_config_load(&cfg, NULL), -1);
	check_str(dc_error_last()->message,
		  "max_attempts 'ten' (from the profile) is not a whole number of at least 1");
	dc_test_env_end();
}

void test_config__ca_bundle_and_endpoint_url(void)
{
	dc_test_env_begin();
	write_home_files();
	struct dc_config *cfg = load("dev", NULL);
	check_str(cfg->ca_bundle, "/etc/dev-ca.pem");
	/* The profile's endpoint_url is for the endpoint resolver, not this field. */
	check(cfg->endpoint_url == NULL);
	check_str(dc_config_get(cfg, "endpoint_url"), "http://localhost:4566");
	dc_config_free(cfg);
	dc_test_env_set("AWS_CA_BUNDLE", "/tmp/ca.pem");
	struct dc_config_options opt = { "dev", NULL, "http://127.0.0.1:5000" };
	check_int(dc_config_load(&cfg, &opt), 0);
	check_str(cfg->ca_bundle, "/tmp/ca.pem");
	check_str(cfg->endpoint_url, "http://127.0.0.1:5000");
	dc_config_free(cfg);
	dc_test_env_end();
}

void test_config__endpoint_settings_reachable(void)
{
	dc_test_env_begin();
	write_home_files();
	struct dc_config *cfg = load("dev", NULL);
	check_str(dc_config_get(cfg, "services"), "local");
	check_str(dc_config_get(cfg, "ignore_configured_endpoint_urls"), "false");
	check_str(dc_config_section_sub_get(cfg, "services local", "dynamodb", "endpoint_url"),
		  "http://localhost:8000");
	check(dc_config_section_sub_get(cfg, "services local", "s3", "endpoint_url") == NULL);
	check_str(dc_config_section_sub_get(cfg, "profile dev", "s3", "addressing_style"), "path");
	check_str(dc_config_section_sub_get(cfg, "profile dev", NULL, "region"), "eu-west-1");
	check_str(dc_config_section_sub_get(cfg, "profile spaced", NULL, "region"), "ap-south-1");
	check_str(dc_config_section_sub_get(cfg, "default", NULL, "region"), "us-east-1");
	check(dc_config_section_sub_get(cfg, "services nosuch", "dynamodb", "endpoint_url") ==
	      NULL);
	check_str(dc_config_profile_get(cfg, "my dev", "region"), "eu-central-1");
	dc_config_free(cfg);
	dc_test_env_end();
}

void test_config__malformed_file_names_it(void)
{
	dc_test_env_begin();
	free(dc_test_write_file(".aws/config", "[default]\nregion = x\noops\n", 0600));
	struct dc_config *cfg = NULL;
	check_int(dc_config_load(&cfg, NULL), -1);
	check_str(dc_error_last()->message, "'~/.aws/config' line 3: expected 'key = value'");
	char *path = dc_test_write_file("creds", "aws_access_key_id = x\n", 0600);
	dc_test_env_set("AWS_SHARED_CREDENTIALS_FILE", path);
	free(dc_test_write_file(".aws/config", "[default]\n", 0600));
	check_int(dc_config_load(&cfg, NULL), -1);
	char *want = dc_xasprintf("'%s' line 1: expected a section header such as '[default]' "
				  "first",
				  path);
	check_str(dc_error_last()->message, want);
	free(want);
	free(path);
	dc_test_env_end();
}

void test_config__oversized_or_unreadable_file(void)
{
	dc_test_env_begin();
	char *path = dc_test_write_file(".aws/config", "", 0600);
	check_int(truncate(path, (off_t)DC_MAX_FILE + 1), 0);
	struct dc_config *cfg = NULL;
	check_int(dc_config_load(&cfg, NULL), -1);
	check(strstr(dc_error_last()->message, "limit") != NULL);
	check(strstr(dc_error_last()->message, ".aws/config'") != NULL);
	unlink(path);
	check(mkdir(path, 0700) == 0);
	check_int(dc_config_load(&cfg, NULL), -1);
	check(strstr(dc_error_last()->message, "cannot read") != NULL);
	rmdir(path);
	free(path);
	dc_test_env_end();
}
