#include "harness.h"
#include "util/buf.h"
#include "util/error.h"

void test_buf__append_and_take(void)
{
	struct dc_buf b = DC_BUF_INIT(64);
	check_str(dc_buf_cstr(&b), "");
	check_int(dc_buf_puts(&b, "abc"), 0);
	check_int(dc_buf_printf(&b, "-%d-", 42), 0);
	check_int(dc_buf_putc(&b, 'z'), 0);
	check_str(dc_buf_cstr(&b), "abc-42-z");
	char *s = dc_buf_take(&b);
	check_str(s, "abc-42-z");
	check_int(b.len, 0);
	free(s);
}

void test_buf__cap_refuses_and_keeps_content(void)
{
	struct dc_buf b = DC_BUF_INIT(8);
	check_int(dc_buf_puts(&b, "12345678"), 0);
	check_int(dc_buf_putc(&b, '9'), -1);
	check(strstr(dc_error_last()->message, "8-byte limit") != NULL);
	check_str(dc_buf_cstr(&b), "12345678");
	dc_buf_dispose(&b);
}

void test_buf__read_missing_file_names_it(void)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	check_int(dc_buf_read_file(&b, "/nonexistent/x.json"), -1);
	check(strstr(dc_error_last()->message, "'/nonexistent/x.json'") != NULL);
	dc_buf_dispose(&b);
}
