#include "aws/uri.h"
#include "harness.h"

void test_uri__encode_unreserved_and_slash(void)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	const char *s = "a b/c~d+é";
	dc_uri_encode(&b, s, strlen(s), 1);
	check_str(dc_buf_cstr(&b), "a%20b/c~d%2B%C3%A9");
	dc_buf_reset(&b);
	dc_uri_encode(&b, s, strlen(s), 0);
	check_str(dc_buf_cstr(&b), "a%20b%2Fc~d%2B%C3%A9");
	dc_buf_dispose(&b);
}

void test_uri__decode_keeps_malformed_escapes(void)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	const char *s = "%41%2f+%zz%4";
	dc_uri_decode(&b, s, strlen(s));
	check_str(dc_buf_cstr(&b), "A/+%zz%4");
	dc_buf_dispose(&b);
}

void test_uri__form(void)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	dc_form_add(&b, "Action", "ListRoles");
	dc_form_add(&b, "Path Prefix", "/a&b=c");
	check_str(dc_buf_cstr(&b), "Action=ListRoles&Path%20Prefix=%2Fa%26b%3Dc");
	dc_buf_dispose(&b);
}
