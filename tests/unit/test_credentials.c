#include <time.h>

#include "aws/config.h"
#include "aws/credentials.h"
#include "aws/credentials_provider.h"
#include "harness.h"
#include "support_env.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Every secret in these tests contains this, so no message may. */
#define SECRET_MARK "wJalrXUtnFEMI"
#define SECRET SECRET_MARK "/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN "FwoGZXIvYXdzEXAMPLE" SECRET_MARK "token"

static void check_no_secret(void)
{
	const char *msg = dc_error_last()->message;
	check(strstr(msg, SECRET_MARK) == NULL);
	check(strstr(msg, "FwoGZX") == NULL);
}

/* Load the config with --profile (or not) and resolve; the config is freed. */
static int resolve(struct dc_credentials *out, const char *profile)
{
	struct dc_config_options opt = { profile, NULL, NULL };
	struct dc_config *cfg = NULL;
	if (dc_config_load(&cfg, &opt) < 0) {
		dc_test_fail(__FILE__, __LINE__, "dc_config_load: %s", dc_error_last()->message);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	int rc = dc_credentials_resolve(out, cfg, NULL);
	dc_config_free(cfg);
	return rc;
}

static void write_config(const char *text)
{
	free(dc_test_write_file(".aws/config", text, 0600));
}

static void write_credentials(const char *text)
{
	free(dc_test_write_file(".aws/credentials", text, 0600));
}

/* A credential_process script in the tmpdir; returns its path. */
static char *write_script(const char *name, const char *body)
{
	char *text = dc_xasprintf("#!/bin/sh\n%s\n", body);
	char *path = dc_test_write_file(name, text, 0700);
	free(text);
	return path;
}

static const char reply_json[] = "{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", "
				 "\"SecretAccessKey\": \"" SECRET "\", "
				 "\"SessionToken\": \"" TOKEN "\", "
				 "\"Expiration\": \"2024-05-01T12:00:00Z\"}";

void test_credentials__environment(void)
{
	dc_test_env_begin();
	write_credentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = x\n");
	dc_test_env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
	dc_test_env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	struct dc_credentials c;
	check_int(resolve(&c, NULL), 0);
	check_str(c.access_key_id, "AKIDENV");
	check_str(c.secret_access_key, SECRET);
	check(c.session_token == NULL);
	check_int(c.expiration, 0);
	check_str(c.source, "environment");
	dc_credentials_dispose(&c);
	dc_test_env_set("AWS_SESSION_TOKEN", TOKEN);
	dc_test_env_set("AWS_CREDENTIAL_EXPIRATION", "2024-05-01T12:00:00Z");
	check_int(resolve(&c, NULL), 0);
	check_str(c.session_token, TOKEN);
	check_int(c.expiration, 1714564800);
	dc_credentials_dispose(&c);
	/* botocore reads the legacy AWS_SECURITY_TOKEN first. */
	dc_test_env_set("AWS_SECURITY_TOKEN", "legacy-token");
	check_int(resolve(&c, NULL), 0);
	check_str(c.session_token, "legacy-token");
	dc_credentials_dispose(&c);
	dc_test_env_end();
}

void test_credentials__environment_key_without_secret(void)
{
	dc_test_env_begin();
	dc_test_env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
	struct dc_credentials c;
	check_int(resolve(&c, NULL), -1);
	check_str(dc_error_last()->message,
		  "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or unset "
		  "AWS_ACCESS_KEY_ID to use profile 'default'");
	check(c.access_key_id == NULL);
	/* A secret alone is ignored, as botocore ignores it. */
	dc_test_env_set("AWS_ACCESS_KEY_ID", NULL);
	dc_test_env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	write_credentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
	check_int(resolve(&c, NULL), 0);
	check_str(c.access_key_id, "AKIDFILE");
	dc_credentials_dispose(&c);
	dc_test_env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
	dc_test_env_set("AWS_CREDENTIAL_EXPIRATION", "soon");
	check_int(resolve(&c, NULL), -1);
	check_str(dc_error_last()->message,
		  "AWS_CREDENTIAL_EXPIRATION 'soon' is not a time like '2024-05-01T12:00:00Z'");
	check_no_secret();
	dc_test_env_end();
}

void test_credentials__shared_credentials_file(void)
{
	dc_test_env_begin();
	write_credentials("[default]\n"
			  "aws_access_key_id = AKIDFILE\n"
			  "aws_secret_access_key = " SECRET "\n"
			  "aws_session_token = " TOKEN "\n"
			  "[dev]\n"
			  "AWS_ACCESS_KEY_ID = AKIDDEV\n"
			  "aws_secret_access_key = devsecret\n");
	struct dc_credentials c;
	check_int(resolve(&c, NULL), 0);
	check_str(c.access_key_id, "AKIDFILE");
	check_str(c.secret_access_key, SECRET);
	check_str(c.session_token, TOKEN);
	check_str(c.source, "shared credentials file (profile default)");
	dc_credentials_dispose(&c);
	check_int(resolve(&c, "dev"), 0);
	check_str(c.access_key_id, "AKIDDEV");
	check(c.session_token == NULL);
	check_str(c.source, "shared credentials file (profile dev)");
	dc_credentials_dispose(&c);
	dc_test_env_end();
}

void test_credentials__config_file_and_file_order(void)
{
	dc_test_env_begin();
	write_config("[profile dev]\n"
		     "aws_access_key_id = AKIDCONFIG\n"
		     "aws_secret_access_key = configsecret\n");
	struct dc_credentials c;
	check_int(resolve(&c, "dev"), 0);
	check_str(c.access_key_id, "AKIDCONFIG");
	check_str(c.source, "shared config file (profile dev)");
	dc_credentials_dispose(&c);
	/* The credentials file comes first in botocore's chain. */
	write_credentials("[dev]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = s\n");
	check_int(resolve(&c, "dev"), 0);
	check_str(c.access_key_id, "AKIDCREDS");
	check_str(c.source, "shared credentials file (profile dev)");
	dc_credentials_dispose(&c);
	dc_test_env_end();
}

void test_credentials__partial_profile_keys(void)
{
	dc_test_env_begin();
	write_credentials("[dev]\naws_access_key_id = AKIDDEV\n");
	struct dc_credentials c;
	check_int(resolve(&c, "dev"), -1);
	check_str(dc_error_last()->message, "profile 'dev' in '~/.aws/credentials' has "
					    "aws_access_key_id but no aws_secret_access_key");
	write_credentials("[dev]\naws_access_key_id =\naws_secret_access_key = " SECRET "\n");
	check_int(resolve(&c, "dev"), -1);
	check_str(dc_error_last()->message,
		  "profile 'dev' in '~/.aws/credentials' has an empty aws_access_key_id");
	check_no_secret();
	dc_test_env_end();
}

void test_credentials__profile_option_skips_environment(void)
{
	dc_test_env_begin();
	write_credentials("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n");
	dc_test_env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
	dc_test_env_set("AWS_SECRET_ACCESS_KEY", SECRET);
	struct dc_credentials c;
	/* --profile dev: the AWS CLI ignores the environment's keys ... */
	check_int(resolve(&c, "dev"), 0);
	check_str(c.access_key_id, "AKIDDEV");
	dc_credentials_dispose(&c);
	/* ... but AWS_PROFILE=dev does not. */
	dc_test_env_set("AWS_PROFILE", "dev");
	check_int(resolve(&c, NULL), 0);
	check_str(c.access_key_id, "AKIDENV");
	dc_credentials_dispose(&c);
	dc_test_env_end();
}

void test_credentials__process(void)
{
	dc_test_env_begin();
	char *body = dc_xasprintf("cat <<'EOF'\n%s\nEOF", reply_json);
	char *script = write_script("creds.sh", body);
	char *cfg = dc_xasprintf("[profile dev]\ncredential_process = %s\n"
				 "aws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\n",
				 script);
	write_config(cfg);
	struct dc_credentials c;
	/* credential_process comes before the config file's keys. */
	check_int(resolve(&c, "dev"), 0);
	check_str(c.access_key_id, "ASIAPROCESS");
	check_str(c.secret_access_key, SECRET);
	check_str(c.session_token, TOKEN);
	check_int(c.expiration, 1714564800);
	check_str(c.source, "credential_process (profile dev)");
	dc_credentials_dispose(&c);
	/* ... and after the credentials file's. */
	write_credentials("[dev]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = s\n");
	check_int(resolve(&c, "dev"), 0);
	check_str(c.access_key_id, "AKIDCREDS");
	dc_credentials_dispose(&c);
	free(cfg);
	free(script);
	free(body);
	dc_test_env_end();
}

void test_credentials__process_command_is_split_like_shlex(void)
{
	dc_test_env_begin();
	char *script = write_script("dir with space/creds.sh",
				    "printf '{\"Version\":1,\"AccessKeyId\":\"%s|%s|%s\","
				    "\"SecretAccessKey\":\"s\"}' \"$1\" \"$2\" \"$#\"");
	char *cfg = dc_xasprintf("[default]\ncredential_process = \"%s\" 'one arg' two\\ args\n",
				 script);
	write_config(cfg);
	struct dc_credentials c;
	check_int(resolve(&c, NULL), 0);
	check_str(c.access_key_id, "one arg|two args|2");
	check(c.session_token == NULL);
	check_int(c.expiration, 0);
	dc_credentials_dispose(&c);
	free(cfg);
	free(script);
	dc_test_env_end();
}

static void check_process_error(const char *script_body, const char *want)
{
	char *script = write_script("p.sh", script_body);
	struct dc_credentials c = { 0 };
	check_int(dc_credentials_process_run(&c, script, "dev", 5000), -1);
	char *expected = dc_xasprintf(want, script);
	check_str(dc_error_last()->message, expected);
	check_no_secret();
	check(c.access_key_id == NULL && c.secret_access_key == NULL);
	free(expected);
	free(script);
}

void test_credentials__process_failures(void)
{
	char *json = dc_xasprintf("echo '%s'", reply_json);
	char *fail = dc_xasprintf("%s\necho 'token expired: run login' >&2\nexit 3", json);
	check_process_error(fail, "credential_process '%s' of profile 'dev' failed with exit "
				  "status 3: token expired: run login");
	check_process_error("kill -9 $$", "credential_process '%s' of profile 'dev' was killed by "
					  "signal 9");
	check_process_error("echo 'here is " SECRET ", not JSON'",
			    "credential_process '%s' of profile 'dev' printed invalid JSON (line 1, "
			    "column 4)");
	check_process_error("printf '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": "
			    "\"" SECRET "'",
			    "credential_process '%s' of profile 'dev' printed invalid JSON (line 1, "
			    "column 95)");
	check_process_error("echo '[\"" SECRET "\"]'",
			    "credential_process '%s' of profile 'dev' printed JSON that is not an object");
	check_process_error("echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": "
			    "\"" SECRET "\"}'",
			    "credential_process '%s' of profile 'dev' printed Version 2, and only "
			    "Version 1 is supported");
	check_process_error("echo '{\"Version\": \"1\", \"AccessKeyId\": \"A\", "
			    "\"SecretAccessKey\": \"" SECRET "\"}'",
			    "credential_process '%s' of profile 'dev' printed no Version 1");
	check_process_error("echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'",
			    "credential_process '%s' of profile 'dev' printed no SecretAccessKey");
	check_process_error("echo '{\"Version\": 1, \"SecretAccessKey\": \"" SECRET "\"}'",
			    "credential_process '%s' of profile 'dev' printed no AccessKeyId");
	check_process_error("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": "
			    "\"" SECRET "\", \"Expiration\": \"tomorrow\"}'",
			    "credential_process '%s' of profile 'dev' printed an Expiration that is "
			    "not a time like '2024-05-01T12:00:00Z'");
	check_process_error("head -c 100000 /dev/zero | tr '\\0' a",
			    "credential_process '%s' of profile 'dev' printed more than 65536 bytes");
	free(fail);
	free(json);
}

void test_credentials__process_that_hangs_is_stopped(void)
{
	char *script = write_script("slow.sh", "exec sleep 30");
	struct dc_credentials c = { 0 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_int(dc_credentials_process_run(&c, script, "dev", 300), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	char *want = dc_xasprintf("credential_process '%s' of profile 'dev' did not finish "
				  "within 300 ms and was stopped",
				  script);
	check_str(dc_error_last()->message, want);
	check(t1.tv_sec - t0.tv_sec < 5);
	free(want);
	free(script);
	/* One that closes its output but keeps running is stopped too. */
	script = write_script("detached.sh", "exec >&- 2>&-\nexec sleep 30");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_int(dc_credentials_process_run(&c, script, "dev", 300), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	check(strstr(dc_error_last()->message, "did not finish within 300 ms") != NULL);
	check(t1.tv_sec - t0.tv_sec < 5);
	free(script);
}

void test_credentials__process_cannot_run(void)
{
	struct dc_credentials c = { 0 };
	check_int(dc_credentials_process_run(&c, "/nonexistent/creds --token " SECRET, "dev", 1000),
		  -1);
	check_str(dc_error_last()->message, "cannot run credential_process '/nonexistent/creds' of "
					    "profile 'dev': No such file or directory");
	check_no_secret();
	check_int(dc_credentials_process_run(&c, "no-such-credential-helper-x9 --flag", "dev", 1000),
		  -1);
	check_str(dc_error_last()->message, "cannot run credential_process "
					    "'no-such-credential-helper-x9' of profile 'dev': No such "
					    "file or directory");
	/* Found on PATH, as execvp finds it. */
	char *script = write_script("bin/my-helper", "echo '{\"Version\": 1, \"AccessKeyId\": "
						     "\"AKIDPATH\", \"SecretAccessKey\": \"s\"}'");
	char *path = dc_xasprintf("/nonexistent:%s/bin:/usr/bin:/bin", dc_test_tmpdir());
	char *old_path = dc_xstrdup(getenv("PATH"));
	dc_test_env_set("PATH", path);
	check_int(dc_credentials_process_run(&c, "my-helper", "dev", 5000), 0);
	check_str(c.access_key_id, "AKIDPATH");
	dc_credentials_dispose(&c);
	dc_test_env_set("PATH", old_path);
	free(old_path);
	free(path);
	free(script);
	check_int(dc_credentials_process_run(&c, "creds 'unclosed", "dev", 1000), -1);
	check_str(dc_error_last()->message, "credential_process of profile 'dev' has an unclosed "
					    "quote or a trailing backslash");
	check_int(dc_credentials_process_run(&c, "  ", "dev", 1000), -1);
	check_str(dc_error_last()->message, "credential_process of profile 'dev' is empty");
}

void test_credentials__process_error_stops_the_chain(void)
{
	dc_test_env_begin();
	char *script = write_script("fail.sh", "exit 1");
	char *cfg = dc_xasprintf("[default]\ncredential_process = %s\n"
				 "aws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\n",
				 script);
	write_config(cfg);
	struct dc_credentials c;
	check_int(resolve(&c, NULL), -1);
	char *want = dc_xasprintf("credential_process '%s' of profile 'default' failed with exit "
				  "status 1",
				  script);
	check_str(dc_error_last()->message, want);
	free(want);
	free(cfg);
	free(script);
	dc_test_env_end();
}

void test_credentials__nothing_found(void)
{
	dc_test_env_begin();
	struct dc_credentials c;
	check_int(resolve(&c, NULL), -1);
	check_str(dc_error_last()->message,
		  "no AWS credentials found for profile 'default' (tried environment variables, "
		  "'~/.aws/credentials', credential_process, '~/.aws/config'): set "
		  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws configure'");
	write_config("[profile dev]\nregion = eu-west-1\n");
	check_int(resolve(&c, "dev"), -1);
	check_str(dc_error_last()->message,
		  "no AWS credentials found for profile 'dev' (tried '~/.aws/credentials', "
		  "credential_process, '~/.aws/config'): run 'aws configure --profile dev'");
	dc_test_env_set("AWS_PROFILE", "dev");
	check_int(resolve(&c, NULL), -1);
	check_str(dc_error_last()->message,
		  "no AWS credentials found for profile 'dev' (tried environment variables, "
		  "'~/.aws/credentials', credential_process, '~/.aws/config'): set "
		  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws configure --profile "
		  "dev'");
	dc_test_env_end();
}

void test_credentials__configured_providers_are_not_skipped_silently(void)
{
	dc_test_env_begin();
	write_config("[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
		     "[profile sso]\nsso_session = corp\n"
		     "aws_access_key_id = AKIDSSO\naws_secret_access_key = s\n");
	struct dc_credentials c;
	check_int(resolve(&c, "sso"), -1);
	check_str(dc_error_last()->message,
		  "profile 'sso' uses IAM Identity Center (sso_session or sso_start_url), which "
		  "deployctl does not support yet: put the keys from 'aws configure "
		  "export-credentials --profile sso --format env' in the environment instead");
	/* A web identity token without a role is an error, not a fall-through. */
	dc_test_env_set("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
	check_int(resolve(&c, "base"), 0); /* --profile: the environment is not looked at */
	dc_credentials_dispose(&c);
	dc_test_env_set("AWS_PROFILE", "base");
	check_int(resolve(&c, NULL), -1);
	check_str(dc_error_last()->message,
		  "a web identity token file ('/var/run/token') is configured but no role: set "
		  "AWS_ROLE_ARN, or role_arn in profile 'base'");
	dc_test_env_end();
}

/* Our source, as botocore names its providers. */
static const char *method_of(const char *source)
{
	static const char *const map[][2] = {
		{ "environment", "env" },
		{ "shared credentials file", "shared-credentials-file" },
		{ "credential_process", "custom-process" },
		{ "shared config file", "config-file" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strncmp(source, map[i][0], strlen(map[i][0])))
			return map[i][1];
	return source;
}

static void compare_chain(const char *profile, const char *want)
{
	struct dc_credentials c;
	char *ours = NULL;
	if (resolve(&c, profile) == 0)
		ours = dc_xasprintf("%s %s", c.access_key_id, method_of(c.source));
	dc_credentials_dispose(&c);
	char *code = dc_xasprintf("import botocore.session\n"
				  "c = botocore.session.Session(profile=%s%s%s).get_credentials()\n"
				  "print(c.access_key, c.method)\n",
				  profile ? "'" : "", profile ? profile : "None", profile ? "'" : "");
	char *theirs = dc_test_python(code);
	check_str(ours, want);
	check_str(theirs, want);
	free(code);
	free(ours);
	free(theirs);
}

void test_credentials__chain_order_agrees_with_botocore(void)
{
	dc_test_env_begin();
	char *script = write_script("creds.sh", "echo '{\"Version\": 1, \"AccessKeyId\": "
						"\"ASIAPROC\", \"SecretAccessKey\": \"s\"}'");
	char *cfg = dc_xasprintf("[default]\nregion = us-east-1\n"
				 "[profile dev]\naws_access_key_id = AKIDDEVCONFIG\n"
				 "aws_secret_access_key = s\n"
				 "[profile proc]\ncredential_process = %s\n"
				 "aws_access_key_id = AKIDPROCCONFIG\naws_secret_access_key = s\n"
				 "[profile both]\ncredential_process = %s\n",
				 script, script);
	write_config(cfg);
	write_credentials("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n"
			  "[both]\naws_access_key_id = AKIDBOTHCREDS\naws_secret_access_key = s\n");
	compare_chain(NULL, "AKIDDEFAULT shared-credentials-file");
	compare_chain("dev", "AKIDDEVCONFIG config-file");
	compare_chain("proc", "ASIAPROC custom-process");
	compare_chain("both", "AKIDBOTHCREDS shared-credentials-file");
	dc_test_env_set("AWS_ACCESS_KEY_ID", "AKIDENV");
	dc_test_env_set("AWS_SECRET_ACCESS_KEY", "s");
	compare_chain(NULL, "AKIDENV env");
	compare_chain("dev", "AKIDDEVCONFIG config-file");
	dc_test_env_set("AWS_PROFILE", "dev");
	compare_chain(NULL, "AKIDENV env");
	free(cfg);
	free(script);
	dc_test_env_end();
}

void test_credentials__parse_time_agrees_with_python(void)
{
	static const char *const good[] = {
		"2024-05-01T12:00:00Z",	     "2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00+02:00",
		"2024-05-01T12:00:00-05:30", "1999-12-31T23:59:59Z",	   "2038-01-19T03:14:08Z",
		"2024-02-29T00:00:00+00:00",
	};
	struct dc_buf ours = DC_BUF_INIT(DC_MAX_SMALL);
	struct dc_buf list = DC_BUF_INIT(DC_MAX_SMALL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		time_t t = 0;
		check_int(dc_credentials_parse_time(&t, good[i]), 0);
		dc_buf_printf(&ours, "%s%lld", i ? "\n" : "", (long long)t);
		dc_buf_printf(&list, "%s'%s'", i ? ", " : "", good[i]);
	}
	char *code = dc_xasprintf("from datetime import datetime\nS = [%s]\n"
				  "for s in S: print(int(datetime.fromisoformat(s.replace('Z', "
				  "'+00:00')).timestamp()))\n",
				  dc_buf_cstr(&list));
	char *theirs = dc_test_python(code);
	check_str(dc_buf_cstr(&ours), theirs);
	free(theirs);
	free(code);
	dc_buf_dispose(&ours);
	dc_buf_dispose(&list);

	static const char *const bad[] = { "tomorrow", "2024-13-01T00:00:00Z", "2024-05-01",
					   "2024-05-01T12:00Z", "2024-05-01T12:00:00Zjunk",
					   "2024-05-01T12:00:00+2", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t;
		if (dc_credentials_parse_time(&t, bad[i]) != -1)
			dc_test_fail(__FILE__, __LINE__, "'%s' parsed", bad[i]);
	}
}

void test_credentials__copy_dispose_expiring(void)
{
	struct dc_credentials a = { 0 }, b;
	dc_credentials_set(&a, "AKID", SECRET, TOKEN);
	a.expiration = 1000;
	snprintf(a.source, sizeof(a.source), "environment");
	dc_credentials_copy(&b, &a);
	check_str(b.access_key_id, "AKID");
	check_str(b.secret_access_key, SECRET);
	check_str(b.session_token, TOKEN);
	check(b.secret_access_key != a.secret_access_key);
	check_int(b.expiration, 1000);
	check_str(b.source, "environment");
	dc_credentials_dispose(&a);
	check(a.access_key_id == NULL && a.secret_access_key == NULL && a.session_token == NULL);
	check_str(b.secret_access_key, SECRET);
	check(dc_credentials_expiring(&b, 700, 300));
	check(!dc_credentials_expiring(&b, 699, 300));
	check(dc_credentials_expiring(&b, 2000, 300));
	b.expiration = 0;
	check(!dc_credentials_expiring(&b, 2000000000, 300));
	dc_credentials_dispose(&b);
	dc_credentials_dispose(&b);
}
