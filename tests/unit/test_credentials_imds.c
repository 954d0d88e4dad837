/* EC2 instance metadata credentials (IMDSv2) against a real local HTTP
 * server, with botocore's InstanceMetadataProvider asking the same server
 * as the oracle. */
#include <time.h>

#include "aws/client.h"
#include "aws/config.h"
#include "aws/credentials.h"
#include "aws/credentials_provider.h"
#include "harness.h"
#include "support_env.h"
#include "support_httpd.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SECRET_MARK "wJalrXUtnFEMI"
#define SECRET SECRET_MARK "/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLE" SECRET_MARK "token"
#define IMDS_TOKEN "AQAEAImdsSessionToken" SECRET_MARK "=="
#define EXPIRATION "2030-01-01T00:00:00Z"
#define EXPIRATION_T 1893456000
#define ROLE_PATH "/latest/meta-data/iam/security-credentials/"

static const char answer[] = "{\"Code\": \"Success\", \"LastUpdated\": \"2024-05-01T11:00:00Z\", "
			     "\"Type\": \"AWS-HMAC\", \"AccessKeyId\": \"ASIAIMDS\", "
			     "\"SecretAccessKey\": \"" SECRET "\", "
			     "\"Token\": \"" TOKEN "\", "
			     "\"Expiration\": \"" EXPIRATION "\"}";

static void check_no_secret(void)
{
	const char *msg = dc_error_last()->message;
	if (strstr(msg, SECRET_MARK))
		dc_test_fail(__FILE__, __LINE__, "secret in message: %s", msg);
}

static int resolve(struct dc_credentials *out)
{
	struct dc_config_options opt = { 0 };
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

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A clean environment with instance metadata enabled and pointed at d. */
static struct dc_httpd *begin(void)
{
	dc_test_env_begin();
	dc_test_env_set("AWS_EC2_METADATA_DISABLED", NULL);
	struct dc_httpd *d = dc_httpd_start();
	char *url = dc_httpd_url(d, "");
	dc_test_env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT", url);
	free(url);
	return d;
}

static void end(struct dc_httpd *d)
{
	dc_httpd_stop(d);
	dc_test_env_end();
}

/* The three answers of a working instance. */
static void script_ok(struct dc_httpd *d, const char *creds)
{
	dc_httpd_respond(d, 200, "Content-Type: text/plain\r\n", IMDS_TOKEN);
	dc_httpd_respond(d, 200, "Content-Type: text/plain\r\n", "web-server");
	dc_httpd_respond(d, 200, "Content-Type: text/plain\r\n", creds);
}

static void check_request(struct dc_httpd *d, size_t i, const char *method, const char *path)
{
	const struct dc_httpd_request *r = dc_httpd_request(d, i);
	if (!r) {
		dc_test_fail(__FILE__, __LINE__, "request %zu missing", i);
		return;
	}
	check_str(r->method, method);
	check_str(r->path, path);
	if (!strcmp(method, "PUT")) {
		check_str(dc_headers_get(&r->headers, "X-aws-ec2-metadata-token-ttl-seconds"),
			  "21600");
		check(dc_headers_get(&r->headers, "X-aws-ec2-metadata-token") == NULL);
	} else {
		check_str(dc_headers_get(&r->headers, "X-aws-ec2-metadata-token"), IMDS_TOKEN);
	}
}

void test_credentials_imds__token_then_role_then_credentials(void)
{
	struct dc_httpd *d = begin();
	script_ok(d, answer);
	struct dc_credentials c;
	check_int(resolve(&c), 0);
	check_str(c.access_key_id, "ASIAIMDS");
	check_str(c.secret_access_key, SECRET);
	check_str(c.session_token, TOKEN);
	check_int(c.expiration, EXPIRATION_T);
	check_str(c.source, "EC2 instance metadata (role web-server)");
	dc_credentials_dispose(&c);
	check_int(dc_httpd_requests(d), 3);
	check_request(d, 0, "PUT", "/latest/api/token");
	check_request(d, 1, "GET", ROLE_PATH);
	check_request(d, 2, "GET", ROLE_PATH "web-server");
	end(d);
}

void test_credentials_imds__agrees_with_botocore(void)
{
	struct dc_httpd *d = begin();
	script_ok(d, answer);
	script_ok(d, answer);
	struct dc_credentials c;
	char *ours = NULL;
	if (resolve(&c) == 0)
		ours = dc_xasprintf("iam-role %s %s %s %lld", c.access_key_id, c.secret_access_key,
				    c.session_token, (long long)c.expiration);
	dc_credentials_dispose(&c);
	char *theirs = dc_test_python(
		"import botocore.session\n"
		"c = botocore.session.Session().get_credentials()\n"
		"f = c.get_frozen_credentials()\n"
		"print(c.method, f.access_key, f.secret_key, f.token, int(c._expiry_time.timestamp()))\n");
	check_str(ours, theirs);
	check_int(dc_httpd_requests(d), 6);
	for (size_t i = 0; i < 3 && dc_httpd_requests(d) == 6; i++) {
		const struct dc_httpd_request *a = dc_httpd_request(d, i);
		const struct dc_httpd_request *b = dc_httpd_request(d, i + 3);
		check_str(a->method, b->method);
		check_str(a->path, b->path);
		const char *names[] = { "X-aws-ec2-metadata-token-ttl-seconds",
					"X-aws-ec2-metadata-token" };
		for (size_t k = 0; k < 2; k++) {
			const char *x = dc_headers_get(&a->headers, names[k]);
			const char *y = dc_headers_get(&b->headers, names[k]);
			check_str(x ? x : "(none)", y ? y : "(none)");
		}
	}
	free(ours);
	free(theirs);
	end(d);
}

void test_credentials_imds__disabled(void)
{
	struct dc_httpd *d = begin();
	static const char *const values[] = { "true", "TRUE", "True" };
	for (size_t i = 0; i < 3; i++) {
		dc_test_env_set("AWS_EC2_METADATA_DISABLED", values[i]);
		struct dc_credentials c;
		check_int(resolve(&c), -1);
		check_str(dc_error_last()->message,
			  "no AWS credentials found for profile 'default' (tried environment "
			  "variables, '~/.aws/credentials', credential_process, '~/.aws/config'): "
			  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws configure'");
	}
	check_int(dc_httpd_requests(d), 0);
	end(d);
}

void test_credentials_imds__unreachable_finds_nothing_quickly(void)
{
	struct dc_httpd *d = begin();
	char *url = dc_httpd_url(d, "");
	dc_httpd_stop(d); /* nothing listens on that port now */
	struct dc_credentials c;
	long start = now_ms();
	check_int(resolve(&c), -1);
	check(now_ms() - start < 1000);
	check_str(dc_error_last()->message,
		  "no AWS credentials found for profile 'default' (tried environment variables, "
		  "'~/.aws/credentials', credential_process, '~/.aws/config', EC2 instance "
		  "metadata): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws "
		  "configure'");
	free(url);
	dc_test_env_end();
}

void test_credentials_imds__silent_endpoint_times_out_in_a_second(void)
{
	struct dc_httpd *d = begin();
	/* Accepts the connection and never answers, like a firewall that lets
	 * the SYN through. */
	dc_httpd_push(d, &(struct dc_httpd_action){ .kind = DC_HTTPD_CLOSE, .delay_ms = 5000 });
	struct dc_credentials c;
	long start = now_ms();
	check_int(resolve(&c), -1);
	long took = now_ms() - start;
	check(took >= 900 && took < 2500);
	check(strstr(dc_error_last()->message, "no AWS credentials found") != NULL);
	end(d);
}

void test_credentials_imds__no_imdsv1_fallback(void)
{
	/* botocore would go on with token-less GETs after these. */
	static const int refusals[] = { 403, 404, 405, 400 };
	struct dc_httpd *d = begin();
	for (size_t i = 0; i < 4; i++) {
		dc_httpd_respond(d, refusals[i], NULL, "");
		struct dc_credentials c;
		check_int(resolve(&c), -1);
		check(strstr(dc_error_last()->message, "no AWS credentials found") != NULL);
		check_int(dc_httpd_requests(d), i + 1);
		check_str(dc_httpd_request(d, i)->method, "PUT");
	}
	end(d);
}

void test_credentials_imds__instance_without_role_finds_nothing(void)
{
	struct dc_httpd *d = begin();
	dc_httpd_respond(d, 200, NULL, IMDS_TOKEN);
	dc_httpd_respond(d, 404, NULL, "Not Found");
	struct dc_credentials c;
	check_int(resolve(&c), -1);
	check(strstr(dc_error_last()->message, "no AWS credentials found") != NULL);
	check_int(dc_httpd_requests(d), 2);
	end(d);
}

void test_credentials_imds__bad_answers_are_clear_errors(void)
{
	struct dc_httpd *d = begin();
	struct dc_credentials c;
	script_ok(d, "{\"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": \"" SECRET "\", oops");
	check_int(resolve(&c), -1);
	char *want = dc_xasprintf("EC2 instance metadata at '%s' sent the credentials of role "
				  "'web-server' that are not a JSON object (set "
				  "AWS_EC2_METADATA_DISABLED=true if this is not an EC2 instance)",
				  dc_httpd_authority(d));
	check_str(dc_error_last()->message, want);
	free(want);
	check_no_secret();

	script_ok(d, "{\"Code\": \"AssumeRoleUnauthorizedAccess\", \"Message\": \"EC2 cannot "
		     "assume the role web-server.\", \"LastUpdated\": \"2024-05-01T11:00:00Z\"}");
	check_int(resolve(&c), -1);
	check(strstr(dc_error_last()->message,
		     "gave no credentials for role 'web-server': AssumeRoleUnauthorizedAccess: EC2 "
		     "cannot assume the role web-server.") != NULL);

	script_ok(d, "{\"Code\": \"Success\", \"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": "
		     "\"" SECRET "\", \"Expiration\": \"" EXPIRATION "\"}");
	check_int(resolve(&c), -1);
	check(strstr(dc_error_last()->message, "gave credentials for role 'web-server' without "
					       "Token") != NULL);
	check_no_secret();

	dc_httpd_respond(d, 200, NULL, IMDS_TOKEN);
	dc_httpd_respond(d, 200, NULL, "../../user-data");
	check_int(resolve(&c), -1);
	check(strstr(dc_error_last()->message, "gave a role name that is not one") != NULL);
	check_int(dc_httpd_requests(d), 11);
	end(d);
}

void test_credentials_imds__settings(void)
{
	struct dc_httpd *d = begin();
	struct dc_credentials c;
	/* Two attempts: a 500 is tried again. */
	dc_test_env_set("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2");
	dc_httpd_respond(d, 200, NULL, IMDS_TOKEN);
	dc_httpd_respond(d, 500, NULL, "");
	dc_httpd_respond(d, 200, NULL, "web-server");
	dc_httpd_respond(d, 200, NULL, answer);
	check_int(resolve(&c), 0);
	check_str(c.access_key_id, "ASIAIMDS");
	dc_credentials_dispose(&c);
	check_int(dc_httpd_requests(d), 4);

	dc_test_env_set("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "two");
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message,
		  "AWS_METADATA_SERVICE_NUM_ATTEMPTS 'two' is not a whole number from 1 to 3600");
	dc_test_env_set("AWS_METADATA_SERVICE_NUM_ATTEMPTS", NULL);

	/* The endpoint from the profile, when the variable is not set. */
	char *url = dc_httpd_url(d, "/");
	char *config = dc_xasprintf("[default]\nec2_metadata_service_endpoint = %s\n"
				    "metadata_service_timeout = 0\n", url);
	free(dc_test_write_file(".aws/config", config, 0600));
	dc_test_env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT", NULL);
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message,
		  "metadata_service_timeout '0' is not a whole number from 1 to 3600");
	free(config);
	config = dc_xasprintf("[default]\nec2_metadata_service_endpoint = %s\n", url);
	free(dc_test_write_file(".aws/config", config, 0600));
	script_ok(d, answer);
	check_int(resolve(&c), 0);
	dc_credentials_dispose(&c);
	check_int(dc_httpd_requests(d), 7);
	check_request(d, 4, "PUT", "/latest/api/token");

	dc_test_env_set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254");
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message, "AWS_EC2_METADATA_SERVICE_ENDPOINT '169.254.169.254' "
					    "is not an http:// or https:// URL");
	free(config);
	free(url);
	end(d);
}

static char *answer_expiring(const char *key, time_t when)
{
	struct tm tm;
	char exp[32];
	gmtime_r(&when, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return dc_xasprintf("{\"Code\": \"Success\", \"AccessKeyId\": \"%s\", \"SecretAccessKey\": "
			    "\"" SECRET "\", \"Token\": \"" TOKEN "\", \"Expiration\": \"%s\"}",
			    key, exp);
}

void test_credentials_imds__expiring_credentials_are_fetched_again(void)
{
	struct dc_httpd *d = begin();
	char *soon = answer_expiring("ASIASOON", time(NULL) + 120);
	char *later = answer_expiring("ASIALATER", time(NULL) + 6 * 3600);
	script_ok(d, soon);
	script_ok(d, later);
	struct dc_aws *aws = NULL;
	struct dc_aws_options opt = { 0 };
	const struct dc_credentials *c = NULL;
	check_int(dc_aws_new(&aws, &opt), 0);
	if (aws) {
		check_int(dc_aws_credentials(aws, &c), 0);
		check_str(c->access_key_id, "ASIASOON");
		check_int(dc_aws_credentials(aws, &c), 0);
		check_str(c->access_key_id, "ASIALATER");
		check_int(dc_aws_credentials(aws, &c), 0);
		check_str(c->access_key_id, "ASIALATER");
		dc_aws_free(aws);
	}
	check_int(dc_httpd_requests(d), 6);
	/* A fresh token for the second round, as botocore asks. */
	check_request(d, 3, "PUT", "/latest/api/token");
	free(soon);
	free(later);
	end(d);
}
