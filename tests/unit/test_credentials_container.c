/* Container credentials against a real local HTTP server, with botocore's
 * ContainerProvider fetching from the same server as the oracle. */
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
#define AUTH "Bearer-auth-" SECRET_MARK
#define JSON_TYPE "Content-Type: application/json\r\n"
#define EXPIRATION "2030-01-01T00:00:00Z"
#define EXPIRATION_T 1893456000

static const char answer[] = "{\"RoleArn\": \"arn:aws:iam::123456789012:role/task\", "
			     "\"AccessKeyId\": \"ASIACONTAINER\", "
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

/* Point AWS_CONTAINER_CREDENTIALS_FULL_URI at d's path. */
static void use_server(struct dc_httpd *d, const char *path)
{
	char *url = dc_httpd_url(d, path);
	dc_test_env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
	free(url);
}

void test_credentials_container__full_uri(void)
{
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	use_server(d, "/v2/credentials/abc?x=1");
	dc_httpd_respond(d, 200, JSON_TYPE, answer);
	struct dc_credentials c;
	check_int(resolve(&c), 0);
	check_str(c.access_key_id, "ASIACONTAINER");
	check_str(c.secret_access_key, SECRET);
	check_str(c.session_token, TOKEN);
	check_int(c.expiration, EXPIRATION_T);
	char *want_source = dc_xasprintf("container credentials (%s)", "127.0.0.1");
	check_str(c.source, want_source);
	free(want_source);
	dc_credentials_dispose(&c);
	check_int(dc_httpd_requests(d), 1);
	const struct dc_httpd_request *r = dc_httpd_request(d, 0);
	check_str(r->method, "GET");
	check_str(r->path, "/v2/credentials/abc?x=1");
	check_str(dc_headers_get(&r->headers, "Accept"), "application/json");
	check(dc_headers_get(&r->headers, "Authorization") == NULL);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_container__files_come_first(void)
{
	/* Container credentials are after the config file in the chain. */
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	use_server(d, "/creds");
	free(dc_test_write_file(".aws/config", "[default]\naws_access_key_id = AKIDCONFIG\n"
					       "aws_secret_access_key = s\n", 0600));
	struct dc_credentials c;
	check_int(resolve(&c), 0);
	check_str(c.access_key_id, "AKIDCONFIG");
	dc_credentials_dispose(&c);
	check_int(dc_httpd_requests(d), 0);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_container__authorization_token(void)
{
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	use_server(d, "/creds");
	dc_test_env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH);
	for (int i = 0; i < 3; i++)
		dc_httpd_respond(d, 200, JSON_TYPE, answer);
	struct dc_credentials c;
	check_int(resolve(&c), 0);
	dc_credentials_dispose(&c);
	check_str(dc_headers_get(&dc_httpd_request(d, 0)->headers, "Authorization"), AUTH);

	/* The file wins over the variable, and is read again on every call. */
	char *file = dc_test_write_file("token", "from-file-1", 0600);
	dc_test_env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file);
	check_int(resolve(&c), 0);
	dc_credentials_dispose(&c);
	free(dc_test_write_file("token", "from-file-2", 0600));
	check_int(resolve(&c), 0);
	dc_credentials_dispose(&c);
	check_int(dc_httpd_requests(d), 3);
	check_str(dc_headers_get(&dc_httpd_request(d, 1)->headers, "Authorization"), "from-file-1");
	check_str(dc_headers_get(&dc_httpd_request(d, 2)->headers, "Authorization"), "from-file-2");

	/* botocore refuses a token with a line break, before any request. */
	free(dc_test_write_file("token", AUTH "\r\nX-Injected: 1", 0600));
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message,
		  "the container authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
		  "is not a valid header value: it holds a line break or a NUL byte");
	check_no_secret();
	dc_test_env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/token");
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message, "container authorization token: cannot read "
					    "'/nonexistent/token': No such file or directory");
	check_int(dc_httpd_requests(d), 3);
	free(file);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_container__allowed_hosts_agree_with_botocore(void)
{
	static const char *const urls[] = {
		"http://127.0.0.1:8080/creds", "http://127.9.8.7/x",	  "http://[::1]:80/creds",
		"http://localhost/creds",      "http://LOCALHOST:9/x",	  "http://169.254.170.2/v2",
		"http://169.254.170.23/v1",    "http://[fd00:ec2::23]/v1", "http://169.254.169.254/x",
		"http://example.com/creds",    "https://example.com/creds", "http://user@127.0.0.1/x",
		"http://10.0.0.1/creds",       "http://127.0.0.1.nip.io/x", "http://[fd00:ec2::24]/v1",
		"http://0.0.0.0/x",	       "http://128.0.0.1/x",	  "HTTPS://example.com/x",
	};
	struct dc_buf ours = DC_BUF_INIT(DC_MAX_SMALL), list = DC_BUF_INIT(DC_MAX_SMALL);
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		dc_buf_printf(&ours, "%s%d", i ? " " : "",
			      dc_credentials_container_url_allowed(urls[i]));
		dc_buf_printf(&list, "%s'%s'", i ? ", " : "", urls[i]);
	}
	char *code = dc_xasprintf("from botocore.utils import ContainerMetadataFetcher\n"
				  "f = ContainerMetadataFetcher()\nr = []\n"
				  "for u in [%s]:\n"
				  "    try:\n        f._validate_allowed_url(u); r.append('1')\n"
				  "    except ValueError:\n        r.append('0')\n"
				  "print(' '.join(r))\n",
				  dc_buf_cstr(&list));
	char *theirs = dc_test_python(code);
	check_str(dc_buf_cstr(&ours), theirs);
	free(theirs);
	free(code);
	dc_buf_dispose(&ours);
	dc_buf_dispose(&list);
}

void test_credentials_container__host_not_allowed(void)
{
	dc_test_env_begin();
	dc_test_env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://user:pw@example.com:80/creds");
	struct dc_credentials c;
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message,
		  "AWS_CONTAINER_CREDENTIALS_FULL_URI names host 'example.com': only https, or "
		  "http to a loopback address, 169.254.170.2, 169.254.170.23, fd00:ec2::23 or "
		  "localhost, is allowed");
	dc_test_env_end();
}

void test_credentials_container__agrees_with_botocore(void)
{
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	use_server(d, "/creds");
	dc_test_env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH);
	dc_httpd_respond(d, 200, JSON_TYPE, answer);
	dc_httpd_respond(d, 200, JSON_TYPE, answer);
	struct dc_credentials c;
	char *ours = NULL;
	if (resolve(&c) == 0)
		ours = dc_xasprintf("%s %s %s %lld", c.access_key_id, c.secret_access_key,
				    c.session_token, (long long)c.expiration);
	dc_credentials_dispose(&c);
	char *theirs = dc_test_python(
		"import botocore.session\n"
		"c = botocore.session.Session().get_credentials()\n"
		"f = c.get_frozen_credentials()\n"
		"print(c.method, f.access_key, f.secret_key, f.token, int(c._expiry_time.timestamp()))\n");
	char *want = dc_xasprintf("container-role %s", ours ? ours : "(failed)");
	check_str(theirs, want);
	check_int(dc_httpd_requests(d), 2);
	/* The same request, header for header (but User-Agent and the like). */
	const struct dc_httpd_request *a = dc_httpd_request(d, 0), *b = dc_httpd_request(d, 1);
	if (a && b) {
		check_str(a->method, b->method);
		check_str(a->path, b->path);
		check_str(dc_headers_get(&a->headers, "Authorization"),
			  dc_headers_get(&b->headers, "Authorization"));
		check_str(dc_headers_get(&a->headers, "Accept"), dc_headers_get(&b->headers, "Accept"));
	}
	free(want);
	free(theirs);
	free(ours);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_container__garbage_is_a_clear_error(void)
{
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	use_server(d, "/creds");
	/* botocore tries three times, a second apart. */
	for (int i = 0; i < 3; i++)
		dc_httpd_respond(d, 200, JSON_TYPE, "{\"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": "
						    "\"" SECRET "\", oops");
	struct dc_credentials c;
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message,
		  "container credentials from '127.0.0.1' are not JSON (line 1, column 91)");
	check_no_secret();
	check_int(dc_httpd_requests(d), 3);
	check(c.access_key_id == NULL);

	/* JSON without the credentials is not tried again. */
	dc_httpd_respond(d, 200, JSON_TYPE, "{\"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": "
					    "\"" SECRET "\", \"Expiration\": \"" EXPIRATION "\"}");
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message, "container credentials from '127.0.0.1' have no Token");
	check_no_secret();
	check_int(dc_httpd_requests(d), 4);

	for (int i = 0; i < 3; i++)
		dc_httpd_respond(d, 500, NULL, "{\"SecretAccessKey\": \"" SECRET "\"}");
	check_int(resolve(&c), -1);
	check_str(dc_error_last()->message,
		  "container credentials endpoint '127.0.0.1' answered HTTP 500");
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_container__retries_then_succeeds(void)
{
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	use_server(d, "/creds");
	dc_httpd_push(d, &(struct dc_httpd_action){ .kind = DC_HTTPD_RESET });
	dc_httpd_respond(d, 503, NULL, "busy");
	dc_httpd_respond(d, 200, JSON_TYPE, answer);
	struct dc_credentials c;
	check_int(resolve(&c), 0);
	check_str(c.access_key_id, "ASIACONTAINER");
	dc_credentials_dispose(&c);
	check_int(dc_httpd_requests(d), 3);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_container__unreachable_is_an_error(void)
{
	/* Unlike IMDS, a container endpoint is configured on purpose. */
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	char *url = dc_httpd_url(d, "/creds");
	dc_httpd_stop(d); /* nothing listens on that port now */
	dc_test_env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
	struct dc_credentials c;
	long start = now_ms();
	check_int(resolve(&c), -1);
	long took = now_ms() - start;
	check(strstr(dc_error_last()->message, "cannot connect to '127.0.0.1:") != NULL);
	/* Three tries a second apart, no more. */
	check(took >= 1900 && took < 5000);
	free(url);
	dc_test_env_end();
}

static char *iso_time(time_t t)
{
	struct tm tm;
	char s[32];
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return dc_xstrdup(s);
}

static char *answer_expiring(const char *key, time_t when)
{
	char *exp = iso_time(when);
	char *s = dc_xasprintf("{\"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"" SECRET "\", "
			       "\"Token\": \"" TOKEN "\", \"Expiration\": \"%s\"}",
			       key, exp);
	free(exp);
	return s;
}

void test_credentials_container__expiring_credentials_are_fetched_again(void)
{
	dc_test_env_begin();
	struct dc_httpd *d = dc_httpd_start();
	use_server(d, "/creds");
	char *soon = answer_expiring("ASIASOON", time(NULL) + 60);
	char *later = answer_expiring("ASIALATER", time(NULL) + 3600);
	dc_httpd_respond(d, 200, JSON_TYPE, soon);
	dc_httpd_respond(d, 200, JSON_TYPE, later);
	struct dc_aws *aws = NULL;
	struct dc_aws_options opt = { 0 };
	const struct dc_credentials *c = NULL;
	check_int(dc_aws_new(&aws, &opt), 0);
	if (aws) {
		check_int(dc_aws_credentials(aws, &c), 0);
		check_str(c->access_key_id, "ASIASOON");
		/* Within the client's 5-minute margin: asked again. */
		check_int(dc_aws_credentials(aws, &c), 0);
		check_str(c->access_key_id, "ASIALATER");
		check_int(dc_aws_credentials(aws, &c), 0);
		check_str(c->access_key_id, "ASIALATER");
		dc_aws_free(aws);
	}
	check_int(dc_httpd_requests(d), 2);
	free(soon);
	free(later);
	dc_httpd_stop(d);
	dc_test_env_end();
}
