/* Assume-role and web identity: the profile rules checked against botocore,
 * the STS answer parsed as botocore parses it, and the STS requests as
 * they reach a real local HTTP server standing in for STS. */
#include <libxml/tree.h>
#include <time.h>

#include "aws/client.h"
#include "aws/config.h"
#include "aws/credentials.h"
#include "aws/credentials_provider.h"
#include "aws/protocol.h"
#include "harness.h"
#include "support_env.h"
#include "support_httpd.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SECRET_MARK "wJalrXUtnFEMI"
#define XML_TYPE "Content-Type: text/xml\r\n"
/* Only URL-safe characters, so that it reads the same in a form body. */
#define WEB_TOKEN "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QifQ.c2lnLXdlYi1pZGVudGl0eQ"

static void check_no_secret(void)
{
	const char *msg = dc_error_last()->message;
	if (strstr(msg, SECRET_MARK) || strstr(msg, "c2lnLXdlYi1pZGVudGl0eQ"))
		dc_test_fail(__FILE__, __LINE__, "secret in message: %s", msg);
}

/* An STS answer in the shape AWS documents for AssumeRole. */
static char *sts_answer(const char *action, const char *key, const char *expiration)
{
	return dc_xasprintf(
		"<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
		"  <%sResult>\n"
		"    <AssumedRoleUser>\n"
		"      <Arn>arn:aws:sts::123456789012:assumed-role/demo/s</Arn>\n"
		"      <AssumedRoleId>ARO123EXAMPLE123:s</AssumedRoleId>\n"
		"    </AssumedRoleUser>\n"
		"    <Credentials>\n"
		"      <AccessKeyId>%s</AccessKeyId>\n"
		"      <SecretAccessKey>" SECRET_MARK "/K7MDENG/%s</SecretAccessKey>\n"
		"      <SessionToken>FwoGZXIvYXdzE" SECRET_MARK "%s</SessionToken>\n"
		"      <Expiration>%s</Expiration>\n"
		"    </Credentials>\n"
		"    <PackedPolicySize>6</PackedPolicySize>\n"
		"  </%sResult>\n"
		"  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154</RequestId></ResponseMetadata>\n"
		"</%sResponse>\n",
		action, action, key, key, key, expiration, action, action);
}

static void write_config(const char *text)
{
	free(dc_test_write_file(".aws/config", text, 0600));
}

/* ---- the STS answer ---- */

void test_credentials_sts__answer_parses_as_botocore_parses_it(void)
{
	static const char *const actions[] = { "AssumeRole", "AssumeRoleWithWebIdentity" };
	static const char *const times[] = { "2019-11-09T13:34:41Z", "2030-02-03T04:05:06.789Z" };
	for (size_t i = 0; i < 2; i++) {
		char *xml = sts_answer(actions[i], "ASIAPARSED", times[i]);
		char *path = dc_test_write_file("answer.xml", xml, 0600);
		xmlDocPtr doc = NULL;
		struct dc_credentials c = { 0 };
		char *ours = NULL;
		check_int(dc_xml_parse(&doc, xml, strlen(xml)), 0);
		if (dc_credentials_parse_sts(&c, doc, actions[i]) == 0)
			ours = dc_xasprintf("%s %s %s %lld", c.access_key_id, c.secret_access_key,
					    c.session_token, (long long)c.expiration);
		char *code = dc_xasprintf(
			"import botocore.session, botocore.parsers\n"
			"m = botocore.session.get_session().get_service_model('sts')\n"
			"op = m.operation_model('%s')\n"
			"body = open('%s', 'rb').read()\n"
			"r = botocore.parsers.QueryParser().parse({'body': body, 'headers': {}, "
			"'status_code': 200}, op.output_shape)\n"
			"c = r['Credentials']\n"
			"print(c['AccessKeyId'], c['SecretAccessKey'], c['SessionToken'], "
			"int(c['Expiration'].timestamp()))\n",
			actions[i], path);
		char *theirs = dc_test_python(code);
		check_str(ours, theirs);
		free(theirs);
		free(code);
		free(ours);
		dc_credentials_dispose(&c);
		xmlFreeDoc(doc);
		free(path);
		free(xml);
	}
}

void test_credentials_sts__answer_without_a_field(void)
{
	static const char *const fields[] = { "AccessKeyId", "SecretAccessKey", "SessionToken",
					      "Expiration" };
	char *full = sts_answer("AssumeRole", "ASIAX", "2030-01-01T00:00:00Z");
	for (size_t i = 0; i < 4; i++) {
		/* Cut the element out. */
		char *open = dc_xasprintf("<%s>", fields[i]), *close = dc_xasprintf("</%s>", fields[i]);
		char *a = strstr(full, open), *b = strstr(full, close);
		char *xml = dc_xasprintf("%.*s%s", (int)(a - full), full, b + strlen(close));
		xmlDocPtr doc = NULL;
		struct dc_credentials c = { 0 };
		check_int(dc_xml_parse(&doc, xml, strlen(xml)), 0);
		check_int(dc_credentials_parse_sts(&c, doc, "AssumeRole"), -1);
		char *want = dc_xasprintf("STS AssumeRole answered without Credentials/%s", fields[i]);
		check_str(dc_error_last()->message, want);
		check(c.access_key_id == NULL);
		xmlFreeDoc(doc);
		free(want);
		free(xml);
		free(open);
		free(close);
	}
	free(full);
	char *xml = sts_answer("AssumeRole", "ASIAX", "next tuesday");
	xmlDocPtr doc = NULL;
	struct dc_credentials c = { 0 };
	check_int(dc_xml_parse(&doc, xml, strlen(xml)), 0);
	check_int(dc_credentials_parse_sts(&c, doc, "AssumeRole"), -1);
	check_str(dc_error_last()->message, "STS AssumeRole answered with an Expiration that is not "
					    "a time like '2024-05-01T12:00:00Z'");
	/* The wrong action's result is not taken. */
	check_int(dc_credentials_parse_sts(&c, doc, "AssumeRoleWithWebIdentity"), -1);
	xmlFreeDoc(doc);
	free(xml);
}

/* ---- profile rules, against botocore ---- */

/* "ok" when the configuration passed our checks (the STS call is then
 * refused for want of a client), else our message. */
static char *our_outcome(const char *profile)
{
	struct dc_config_options opt = { profile, NULL, NULL };
	struct dc_config *cfg = NULL;
	struct dc_credentials c = { 0 };
	if (dc_config_load(&cfg, &opt) < 0)
		return dc_xasprintf("config: %s", dc_error_last()->message);
	int rc = dc_credentials_resolve(&c, cfg, NULL);
	dc_credentials_dispose(&c);
	dc_config_free(cfg);
	if (rc == 0)
		return dc_xstrdup("resolved without STS?");
	if (strstr(dc_error_last()->message, "needs an AWS client, and none was given"))
		return dc_xstrdup("ok");
	return dc_xstrdup(dc_error_last()->message);
}

/* botocore's outcome for each profile, one line each: "ok" or the
 * exception's name. botocore resolves source credentials when it loads,
 * and calls STS only later: so it too fails at load exactly for a bad
 * configuration. Keys are in the environment for profile "from-env" only. */
static char *botocore_outcomes(const char *profiles)
{
	char *code = dc_xasprintf("import os, botocore.session\n"
				  "for p in [%s]:\n"
				  "    for k in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):\n"
				  "        os.environ.pop(k, None)\n"
				  "    if p == 'from-env':\n"
				  "        os.environ['AWS_ACCESS_KEY_ID'] = 'AKIDENV'\n"
				  "        os.environ['AWS_SECRET_ACCESS_KEY'] = 's'\n"
				  "    try:\n"
				  "        botocore.session.Session(profile=p).get_credentials()\n"
				  "        print('ok')\n"
				  "    except Exception as e:\n"
				  "        print(type(e).__name__)\n",
				  profiles);
	char *out = dc_test_python(code);
	free(code);
	return out;
}

void test_credentials_sts__profile_rules_agree_with_botocore(void)
{
	static const struct {
		const char *profile;
		const char *ours; /* "ok" or our message */
	} cases[] = {
		{ "dev", "ok" },
		{ "chained", "ok" },
		{ "self", "ok" },
		{ "from-env", "ok" },
		{ "web-and-role", "ok" },
		{ "bad-duration", "ok" },
		{ "both", "profile 'both' sets both source_profile and credential_source: keep one" },
		{ "neither", "profile 'neither' has role_arn but neither source_profile nor "
			     "credential_source" },
		{ "bad-source", "credential_source 'environment' of profile 'bad-source' is not one "
				"of Environment, Ec2InstanceMetadata, EcsContainer" },
		{ "missing", "source_profile 'nowhere' of profile 'missing' is not in "
			     "'~/.aws/config' or '~/.aws/credentials'" },
		{ "loop-a", "source_profile settings form a loop (loop-a -> loop-b -> loop-a): one "
			    "profile in it needs aws_access_key_id and aws_secret_access_key, or a "
			    "credential_source" },
		{ "self-no-keys", "source_profile settings form a loop (self-no-keys -> "
				  "self-no-keys): one profile in it needs aws_access_key_id and "
				  "aws_secret_access_key, or a credential_source" },
		{ "empty-source", "source_profile 'empty' of profile 'empty-source' has no "
				  "credentials" },
		{ "env-source-empty", "credential_source 'Environment' of profile "
				      "'env-source-empty' found no credentials" },
	};
	dc_test_env_begin();
	char *token = dc_test_write_file("token", WEB_TOKEN, 0600);
	char *config = dc_xasprintf(
		"[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
		"[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n"
		"[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/c\nsource_profile = dev\n"
		"[profile self]\nrole_arn = arn:aws:iam::123456789012:role/s\nsource_profile = self\n"
		"aws_access_key_id = AKIDSELF\naws_secret_access_key = s\n"
		"[profile from-env]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
		"credential_source = Environment\n"
		"[profile web-and-role]\nrole_arn = arn:aws:iam::123456789012:role/w\n"
		"web_identity_token_file = %s\nsource_profile = nowhere\n"
		"[profile bad-duration]\nrole_arn = arn:aws:iam::123456789012:role/d\n"
		"source_profile = base\nduration_seconds = an hour\n"
		"[profile both]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = base\n"
		"credential_source = Environment\n"
		"[profile neither]\nrole_arn = arn:aws:iam::123456789012:role/n\n"
		"[profile bad-source]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
		"credential_source = environment\n"
		"[profile missing]\nrole_arn = arn:aws:iam::123456789012:role/m\n"
		"source_profile = nowhere\n"
		"[profile loop-a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = loop-b\n"
		"[profile loop-b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = loop-a\n"
		"[profile self-no-keys]\nrole_arn = arn:aws:iam::123456789012:role/s\n"
		"source_profile = self-no-keys\n"
		"[profile empty]\nregion = eu-west-1\n"
		"[profile empty-source]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
		"source_profile = empty\n"
		"[profile env-source-empty]\nrole_arn = arn:aws:iam::123456789012:role/e\n"
		"credential_source = Environment\n",
		token);
	write_config(config);
	struct dc_buf list = DC_BUF_INIT(DC_MAX_SMALL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		dc_buf_printf(&list, "%s'%s'", i ? ", " : "", cases[i].profile);
	char *theirs = botocore_outcomes(dc_buf_cstr(&list));
	const char *line = theirs ? theirs : "";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].profile;
		dc_test_env_set("AWS_ACCESS_KEY_ID", strcmp(p, "from-env") ? NULL : "AKIDENV");
		dc_test_env_set("AWS_SECRET_ACCESS_KEY", strcmp(p, "from-env") ? NULL : "s");
		char *ours = our_outcome(p);
		size_t n = strcspn(line, "\n");
		int their_ok = n == 2 && !strncmp(line, "ok", 2);
		check_str(ours, cases[i].ours);
		if ((strcmp(ours, "ok") == 0) != their_ok)
			dc_test_fail(__FILE__, __LINE__, "profile '%s': ours '%s', botocore '%.*s'", p,
				     ours, (int)n, line);
		line += n + (line[n] == '\n');
		free(ours);
	}
	free(theirs);
	dc_buf_dispose(&list);
	free(config);
	free(token);
	dc_test_env_end();
}

void test_credentials_sts__mfa_is_refused(void)
{
	/* botocore would prompt on the terminal; we must not hang. */
	dc_test_env_begin();
	write_config("[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
		     "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/m\n"
		     "source_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n");
	char *got = our_outcome("mfa");
	check_str(got, "profile 'mfa' sets mfa_serial, and deployctl cannot ask for an MFA code: "
		       "put the keys from 'aws configure export-credentials --profile mfa --format "
		       "env' (which asks for it) in the environment");
	free(got);
	dc_test_env_end();
}

/* ---- STS requests, against a local server ---- */

/* A client whose every endpoint is d, with profile selected by --profile. */
static struct dc_aws *client_for(struct dc_httpd *d, const char *profile)
{
	struct dc_aws *aws = NULL;
	char *url = dc_httpd_url(d, "");
	struct dc_aws_options opt = { .config = { profile, "us-east-1", url } };
	if (dc_aws_new(&aws, &opt) < 0)
		dc_test_fail(__FILE__, __LINE__, "dc_aws_new: %s", dc_error_last()->message);
	free(url);
	return aws;
}

static int contains(const char *haystack, const char *needle)
{
	if (haystack && strstr(haystack, needle))
		return 1;
	dc_test_fail(__FILE__, __LINE__, "'%s' not found in '%s'", needle,
		     haystack ? haystack : "(null)");
	return 0;
}

static const char *body_of(struct dc_httpd *d, size_t i)
{
	const struct dc_httpd_request *r = dc_httpd_request(d, i);
	return r ? r->body : NULL;
}

static const char *header_of(struct dc_httpd *d, size_t i, const char *name)
{
	const struct dc_httpd_request *r = dc_httpd_request(d, i);
	return r ? dc_headers_get(&r->headers, name) : NULL;
}

void test_credentials_sts__assume_role_request(void)
{
	dc_test_env_begin();
	write_config("[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
		     "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\n"
		     "source_profile = base\nrole_session_name = me@example\n"
		     "external_id = ext-123\nduration_seconds = 900\n");
	/* Keys next to role_arn in the credentials file lose to the role, as in botocore. */
	free(dc_test_write_file(".aws/credentials",
				"[dev]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = s\n",
				0600));
	struct dc_httpd *d = dc_httpd_start();
	char *answer = sts_answer("AssumeRole", "ASIADEV", "2030-01-01T00:00:00Z");
	dc_httpd_respond(d, 200, XML_TYPE, answer);
	struct dc_aws *aws = client_for(d, "dev");
	const struct dc_credentials *c = NULL;
	if (aws && dc_aws_credentials(aws, &c) == 0) {
		check_str(c->access_key_id, "ASIADEV");
		check_str(c->secret_access_key, SECRET_MARK "/K7MDENG/ASIADEV");
		check_int(c->expiration, 1893456000);
		check_str(c->source, "assume-role arn:aws:iam::123456789012:role/dev (profile dev)");
	} else {
		dc_test_fail(__FILE__, __LINE__, "%s", dc_error_last()->message);
	}
	check_int(dc_httpd_requests(d), 1);
	const char *body = body_of(d, 0);
	contains(body, "Action=AssumeRole&");
	contains(body, "Version=2011-06-15");
	contains(body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdev");
	contains(body, "RoleSessionName=me%40example");
	contains(body, "ExternalId=ext-123");
	contains(body, "DurationSeconds=900");
	contains(header_of(d, 0, "Authorization"), "Credential=AKIDBASE/");
	dc_aws_free(aws);
	free(answer);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_sts__chained_roles_sign_with_the_previous_role(void)
{
	dc_test_env_begin();
	write_config("[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
		     "[profile hop]\nrole_arn = arn:aws:iam::123456789012:role/hop\n"
		     "source_profile = base\n"
		     "[profile final]\nrole_arn = arn:aws:iam::123456789012:role/final\n"
		     "source_profile = hop\n");
	struct dc_httpd *d = dc_httpd_start();
	char *a1 = sts_answer("AssumeRole", "ASIAHOP", "2030-01-01T00:00:00Z");
	char *a2 = sts_answer("AssumeRole", "ASIAFINAL", "2030-01-01T00:00:00Z");
	dc_httpd_respond(d, 200, XML_TYPE, a1);
	dc_httpd_respond(d, 200, XML_TYPE, a2);
	struct dc_aws *aws = client_for(d, "final");
	const struct dc_credentials *c = NULL;
	if (aws && dc_aws_credentials(aws, &c) == 0)
		check_str(c->access_key_id, "ASIAFINAL");
	else
		dc_test_fail(__FILE__, __LINE__, "%s", dc_error_last()->message);
	check_int(dc_httpd_requests(d), 2);
	contains(body_of(d, 0), "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fhop");
	contains(body_of(d, 0), "RoleSessionName=deployctl-session-");
	contains(header_of(d, 0, "Authorization"), "Credential=AKIDBASE/");
	check(header_of(d, 0, "X-Amz-Security-Token") == NULL);
	contains(body_of(d, 1), "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffinal");
	contains(header_of(d, 1, "Authorization"), "Credential=ASIAHOP/");
	contains(header_of(d, 1, "X-Amz-Security-Token"), "ASIAHOP");
	dc_aws_free(aws);
	free(a1);
	free(a2);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_sts__credential_source_container(void)
{
	dc_test_env_begin();
	write_config("[profile task]\nrole_arn = arn:aws:iam::123456789012:role/task\n"
		     "credential_source = EcsContainer\n");
	struct dc_httpd *d = dc_httpd_start();
	char *url = dc_httpd_url(d, "/container-creds");
	dc_test_env_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
	dc_httpd_respond(d, 200, "Content-Type: application/json\r\n",
			 "{\"AccessKeyId\": \"ASIACONTAINER\", \"SecretAccessKey\": \"s\", "
			 "\"Token\": \"t\", \"Expiration\": \"2030-01-01T00:00:00Z\"}");
	char *answer = sts_answer("AssumeRole", "ASIATASK", "2030-01-01T00:00:00Z");
	dc_httpd_respond(d, 200, XML_TYPE, answer);
	struct dc_aws *aws = client_for(d, "task");
	const struct dc_credentials *c = NULL;
	if (aws && dc_aws_credentials(aws, &c) == 0)
		check_str(c->access_key_id, "ASIATASK");
	else
		dc_test_fail(__FILE__, __LINE__, "%s", dc_error_last()->message);
	check_int(dc_httpd_requests(d), 2);
	contains(header_of(d, 1, "Authorization"), "Credential=ASIACONTAINER/");
	dc_aws_free(aws);
	free(answer);
	free(url);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_sts__sts_error_names_the_role(void)
{
	dc_test_env_begin();
	write_config("[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
		     "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\n"
		     "source_profile = base\n");
	struct dc_httpd *d = dc_httpd_start();
	dc_httpd_respond(d, 403, XML_TYPE,
			 "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
			 "<Message>not authorized to perform sts:AssumeRole</Message></Error>"
			 "<RequestId>req-1</RequestId></ErrorResponse>");
	struct dc_aws *aws = client_for(d, "dev");
	const struct dc_credentials *c = NULL;
	check_int(aws ? dc_aws_credentials(aws, &c) : -1, -1);
	check_str(dc_error_last()->message,
		  "assuming role 'arn:aws:iam::123456789012:role/dev' of profile 'dev': "
		  "AccessDenied: not authorized to perform sts:AssumeRole (HTTP 403, request id "
		  "req-1)");
	check_str(dc_error_last()->code, "AccessDenied");
	dc_aws_free(aws);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_sts__web_identity_request(void)
{
	dc_test_env_begin();
	char *file = dc_test_write_file("token", WEB_TOKEN "\n", 0600);
	dc_test_env_set("AWS_WEB_IDENTITY_TOKEN_FILE", file);
	dc_test_env_set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pod");
	dc_test_env_set("AWS_ROLE_SESSION_NAME", "pod-session");
	struct dc_httpd *d = dc_httpd_start();
	/* Valid for a minute: inside the refresh margin, so the next use asks
	 * again (credentials already expired when fetched are refused). */
	time_t soon = time(NULL) + 60;
	struct tm tm;
	char soon_text[32];
	gmtime_r(&soon, &tm);
	strftime(soon_text, sizeof(soon_text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char *a1 = sts_answer("AssumeRoleWithWebIdentity", "ASIAWEB1", soon_text);
	char *a2 = sts_answer("AssumeRoleWithWebIdentity", "ASIAWEB2", "2030-01-01T00:00:00Z");
	dc_httpd_respond(d, 200, XML_TYPE, a1);
	dc_httpd_respond(d, 200, XML_TYPE, a2);
	struct dc_aws *aws = client_for(d, NULL);
	const struct dc_credentials *c = NULL;
	if (aws && dc_aws_credentials(aws, &c) == 0) {
		check_str(c->access_key_id, "ASIAWEB1");
		check_str(c->source, "web identity arn:aws:iam::123456789012:role/pod");
		/* Expiring: the next use asks again, with the token read afresh. */
		free(dc_test_write_file("token", "rotated.token.value", 0600));
		check_int(dc_aws_credentials(aws, &c), 0);
		check_str(c->access_key_id, "ASIAWEB2");
	} else {
		dc_test_fail(__FILE__, __LINE__, "%s", dc_error_last()->message);
	}
	check_int(dc_httpd_requests(d), 2);
	const char *body = body_of(d, 0);
	contains(body, "Action=AssumeRoleWithWebIdentity&");
	contains(body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fpod");
	contains(body, "RoleSessionName=pod-session");
	/* As sent: the trailing newline of the file dropped. */
	contains(body, "WebIdentityToken=" WEB_TOKEN);
	check(body && !strstr(body, WEB_TOKEN "%0A"));
	contains(body_of(d, 1), "WebIdentityToken=rotated.token.value");
	/* Unsigned, as botocore sends it. */
	check(header_of(d, 0, "Authorization") == NULL);
	check(header_of(d, 0, "X-Amz-Security-Token") == NULL);
	dc_aws_free(aws);
	free(a1);
	free(a2);
	free(file);
	dc_httpd_stop(d);
	dc_test_env_end();
}

void test_credentials_sts__web_identity_token_never_in_messages(void)
{
	dc_test_env_begin();
	char *file = dc_test_write_file("token", WEB_TOKEN, 0600);
	write_config("[profile k8s]\nrole_arn = arn:aws:iam::123456789012:role/pod\n"
		     "web_identity_token_file = token-that-is-not-there\n");
	struct dc_httpd *d = dc_httpd_start();
	dc_httpd_respond(d, 400, XML_TYPE,
			 "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
			 "<Message>Token " WEB_TOKEN " is not valid</Message></Error>"
			 "<RequestId>req-2</RequestId></ErrorResponse>");
	dc_test_env_set("AWS_WEB_IDENTITY_TOKEN_FILE", file);
	dc_test_env_set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pod");
	struct dc_aws *aws = client_for(d, NULL);
	const struct dc_credentials *c = NULL;
	check_int(aws ? dc_aws_credentials(aws, &c) : -1, -1);
	check_str(dc_error_last()->message,
		  "assuming role 'arn:aws:iam::123456789012:role/pod' with a web identity: STS "
		  "AssumeRoleWithWebIdentity failed, and its message quoted the web identity "
		  "token, so it is not shown");
	check_no_secret();
	dc_aws_free(aws);

	/* With --profile the environment is not read: the profile's file is. */
	aws = client_for(d, "k8s");
	check_int(aws ? dc_aws_credentials(aws, &c) : -1, -1);
	check_str(dc_error_last()->message,
		  "web identity token file: cannot read 'token-that-is-not-there': No such file "
		  "or directory");
	check_int(dc_httpd_requests(d), 1);
	dc_aws_free(aws);
	free(file);
	dc_httpd_stop(d);
	dc_test_env_end();
}
