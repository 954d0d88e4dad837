#include "harness.h"
#include "aws/redact.h"

/* Check a redaction and that the secret is gone from it. */
static void check_redacted(char *got, const char *want, const char *secret)
{
	check_str(got, want);
	check(strstr(got, secret) == NULL);
	free(got);
}

void test_redact__authorization_keeps_only_the_scheme(void)
{
	const char *v = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
			"SignedHeaders=content-type;host;x-amz-date, "
			"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
	check_redacted(dc_redact_header_value("Authorization", v), "AWS4-HMAC-SHA256 [redacted]",
		       "5d672d79");
	check_redacted(dc_redact_header_value("authorization", "Bearer abc.def"),
		       "Bearer [redacted]", "abc.def");
	check_redacted(dc_redact_header_value("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
		       "Basic [redacted]", "dXNlcjpwYXNz");
	check_redacted(dc_redact_header_value("Authorization", "opaque"), "[redacted]", "opaque");
}

void test_redact__token_headers_are_hidden_others_kept(void)
{
	check_redacted(dc_redact_header_value("X-Amz-Security-Token", "FwoGZXIvYXdzEBYaDSECRET"),
		       "[redacted]", "FwoGZXIvYXdz");
	check_redacted(dc_redact_header_value("x-aws-ec2-metadata-token", "AQAEAIMDStoken=="),
		       "[redacted]", "AQAEAIMDS");
	check_redacted(dc_redact_header_value(
			       "x-amz-server-side-encryption-customer-key", "c2VjcmV0a2V5"),
		       "[redacted]", "c2VjcmV0a2V5");
	char *kept = dc_redact_header_value("X-Amz-Date", "20150830T123600Z");
	check_str(kept, "20150830T123600Z");
	free(kept);
	kept = dc_redact_header_value("Content-Type", "application/x-amz-json-1.1");
	check_str(kept, "application/x-amz-json-1.1");
	free(kept);
}

void test_redact__presigned_url_query(void)
{
	const char *url = "https://bucket.s3.amazonaws.com/key%20a?X-Amz-Algorithm=AWS4-HMAC-SHA256"
			  "&X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
			  "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
			  "&X-Amz-Security-Token=IQoJb3JpZ2luSECRETTOKEN"
			  "&X-Amz-SignedHeaders=host"
			  "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
			  "#frag";
	char *got = dc_redact_url(url);
	check_str(got, "https://bucket.s3.amazonaws.com/key%20a?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		       "&X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		       "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
		       "&X-Amz-Security-Token=[redacted]&X-Amz-SignedHeaders=host"
		       "&X-Amz-Signature=[redacted]#frag");
	check(strstr(got, "SECRETTOKEN") == NULL);
	check(strstr(got, "aeeed9bb") == NULL);
	free(got);
}

void test_redact__url_userinfo_and_plain_urls(void)
{
	check_redacted(dc_redact_url("http://user:hunter2@proxy:3128/x?a=1"),
		       "http://user:[redacted]@proxy:3128/x?a=1", "hunter2");
	char *got = dc_redact_url("/2015-03-31/functions?Marker=abc&MaxItems=5");
	check_str(got, "/2015-03-31/functions?Marker=abc&MaxItems=5");
	free(got);
	/* A request target (no scheme) with a signature in it. */
	check_redacted(dc_redact_url("/k?X-Amz-Signature=deadbeef&x-amz-security-token=tok"),
		       "/k?X-Amz-Signature=[redacted]&x-amz-security-token=[redacted]", "deadbeef");
}

void test_redact__json_body(void)
{
	/* The shape of an ECS/IMDS credentials reply and of STS via JSON. */
	const char *body = "{\n  \"Code\" : \"Success\",\n  \"AccessKeyId\" : \"ASIAEXAMPLE\",\n"
			   "  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG\\\"/bPxRfiCY\",\n"
			   "  \"Token\" : \"IQoJb3JpZ2luX2VjSECRET\",\n"
			   "  \"Expiration\" : \"2024-01-01T00:00:00Z\",\n"
			   "  \"Nested\": {\"SessionToken\":\"FwoSECRET\", \"NextToken\": \"page2\"},\n"
			   "  \"Note\": \"SecretAccessKey\", \"MasterUserPassword\": \"p4ss\"\n}";
	char *got = dc_redact_body(body, strlen(body));
	check_str(got, "{\n  \"Code\" : \"Success\",\n  \"AccessKeyId\" : \"ASIAEXAMPLE\",\n"
		       "  \"SecretAccessKey\" : \"[redacted]\",\n"
		       "  \"Token\" : \"[redacted]\",\n"
		       "  \"Expiration\" : \"2024-01-01T00:00:00Z\",\n"
		       "  \"Nested\": {\"SessionToken\":\"[redacted]\", \"NextToken\": \"page2\"},\n"
		       "  \"Note\": \"SecretAccessKey\", \"MasterUserPassword\": \"[redacted]\"\n}");
	check(strstr(got, "wJalr") == NULL && strstr(got, "bPxRfiCY") == NULL);
	check(strstr(got, "SECRET") == NULL && strstr(got, "p4ss") == NULL);
	free(got);
}

void test_redact__xml_body(void)
{
	/* STS AssumeRole's reply, abridged. */
	const char *body =
		"<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
		"<AssumeRoleResult><Credentials>\n"
		"<AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
		"<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCY</SecretAccessKey>\n"
		"<SessionToken><![CDATA[FwoGZXIvSECRET]]></SessionToken>\n"
		"<sts:Password attr=\"1\">hunter2</sts:Password><Token/>\n"
		"</Credentials></AssumeRoleResult></AssumeRoleResponse>";
	char *got = dc_redact_body(body, strlen(body));
	check_str(got, "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
		       "<AssumeRoleResult><Credentials>\n"
		       "<AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
		       "<SecretAccessKey>[redacted]</SecretAccessKey>\n"
		       "<SessionToken>[redacted]</SessionToken>\n"
		       "<sts:Password attr=\"1\">[redacted]</sts:Password><Token/>\n"
		       "</Credentials></AssumeRoleResult></AssumeRoleResponse>");
	check(strstr(got, "wJalr") == NULL && strstr(got, "SECRET") == NULL);
	check(strstr(got, "hunter2") == NULL);
	free(got);
}

void test_redact__form_body(void)
{
	const char *body = "Action=CreateLoginProfile&UserName=bob&Password=Hunter2%21"
			   "&Version=2010-05-08&NewPassword=x&ClientToken=abc";
	check_redacted(dc_redact_body(body, strlen(body)),
		       "Action=CreateLoginProfile&UserName=bob&Password=[redacted]"
		       "&Version=2010-05-08&NewPassword=[redacted]&ClientToken=abc",
		       "Hunter2");
	char *plain = dc_redact_body("just text, no fields", 20);
	check_str(plain, "just text, no fields");
	free(plain);
}

void test_redact__cut_bodies_leak_nothing(void)
{
	/* The wire log redacts only the first 2 KiB: a secret cut at the end
	 * must still be hidden, whatever the format. */
	const char *json = "{\"SecretAccessKey\": \"wJalrXUtnFEMI";
	const char *xml = "<SecretAccessKey>wJalrXUtnFEMI";
	const char *form = "a=b&SecretAccessKey=wJalrXUtnFEMI";
	for (size_t cut = 1; cut <= strlen(json); cut++) {
		char *got = dc_redact_body(json, cut);
		check(strstr(got, "wJ") == NULL);
		free(got);
	}
	for (size_t cut = 1; cut <= strlen(xml); cut++) {
		char *got = dc_redact_body(xml, cut);
		check(strstr(got, "wJ") == NULL);
		free(got);
	}
	char *got = dc_redact_body(form, strlen(form));
	check_str(got, "a=b&SecretAccessKey=[redacted]");
	free(got);
}

void test_redact__secret_names(void)
{
	static const char *const secret[] = {
		"SecretAccessKey", "secret_access_key", "SessionToken", "Token", "Password",
		"X-Amz-Security-Token", "X-Amz-Signature", "accessToken", "PrivateKey",
		"KeyMaterial", "SecretString", "Cookie",
	};
	static const char *const public_[] = {
		"AccessKeyId", "NextToken", "ClientToken", "ContinuationToken", "Expiration",
		"X-Amz-Credential", "Host", "UserName", "KeyName",
	};
	for (size_t i = 0; i < sizeof(secret) / sizeof(*secret); i++)
		if (!dc_redact_name_is_secret(secret[i], strlen(secret[i])))
			dc_test_fail(__FILE__, __LINE__, "'%s' should look secret", secret[i]);
	for (size_t i = 0; i < sizeof(public_) / sizeof(*public_); i++)
		if (dc_redact_name_is_secret(public_[i], strlen(public_[i])))
			dc_test_fail(__FILE__, __LINE__, "'%s' should not look secret", public_[i]);
}

void test_redact__ssm_secure_string_values(void)
{
	/* PutParameter and GetParameter WithDecryption of a SecureString: its
	 * "Value" is the secret, whatever the member's name says. */
	const char *put = "{\"Name\":\"/deployctl/s/token\",\"Value\":\"c0ffee42\","
			  "\"Type\":\"SecureString\",\"Overwrite\":false,"
			  "\"Tags\":[{\"Key\":\"deployctl:stack\",\"Value\":\"s\"}]}";
	char *got = dc_redact_body(put, strlen(put));
	check(strstr(got, "c0ffee42") == NULL);
	check(strstr(got, "\"Name\":\"/deployctl/s/token\"") != NULL);
	free(got);
	const char *reply = "{\"Parameter\": {\"Name\": \"/p\", \"Type\": \"SecureString\", "
			    "\"Value\": \"s3cr3t\\\"x\", \"Version\": 1}}";
	got = dc_redact_body(reply, strlen(reply));
	check_str(got, "{\"Parameter\": {\"Name\": \"/p\", \"Type\": \"SecureString\", "
		       "\"Value\": \"[redacted]\", \"Version\": 1}}");
	free(got);
	/* Other bodies keep their values: tags, plain parameters. */
	const char *plain = "{\"Parameter\": {\"Type\": \"String\", \"Value\": \"ami-1\"}}";
	got = dc_redact_body(plain, strlen(plain));
	check_str(got, plain);
	free(got);
}
