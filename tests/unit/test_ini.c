#include "aws/config.h"
#include "harness.h"
#include "support_env.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Every corner of the format in one file; botocore must read it the same. */
static const char *const corner_file[] = {
	"# leading comment",
	"; another comment",
	"[default]",
	"region = us-west-2   ",
	"output:json",
	"Mixed_Case = Value Kept",
	"inline = value # not a comment for botocore",
	"semi = a ; b",
	"empty =",
	"url = http://example.com:8080/p?a=b",
	"   # an indented comment",
	"multi = first",
	"   second",
	"",
	"   third",
	"",
	"[profile dev]",
	"\tregion=eu-west-1",
	"s3 =",
	"  addressing_style = path",
	"  Signature_Version = s3v4",
	"",
	"  # a comment inside the block",
	"  max_concurrent_requests = 10",
	"  addressing_style = virtual",
	"[services dev]",
	"dynamodb =",
	"  endpoint_url = http://localhost:8000",
	"s3 =",
	"  endpoint_url=http://localhost:9000",
	"[ spaced name ]",
	"k = v",
	"[trailing] text after the bracket",
	"k = t",
	"[a]b]",
	"k = ab",
	"[DEFAULT]",
	"inherited = yes",
	NULL,
};

/* section, sub ("" for none), key */
static const char *const corner_queries[][3] = {
	{ "default", "", "region" },
	{ "default", "", "output" },
	{ "default", "", "mixed_case" },
	{ "default", "", "inline" },
	{ "default", "", "semi" },
	{ "default", "", "empty" },
	{ "default", "", "url" },
	{ "default", "", "multi" },
	{ "default", "", "missing" },
	{ "profile dev", "", "region" },
	{ "profile dev", "", "s3" },
	{ "profile dev", "s3", "addressing_style" },
	{ "profile dev", "s3", "Signature_Version" },
	{ "profile dev", "s3", "signature_version" },
	{ "profile dev", "s3", "max_concurrent_requests" },
	{ "services dev", "dynamodb", "endpoint_url" },
	{ "services dev", "s3", "endpoint_url" },
	{ " spaced name ", "", "k" },
	{ "spaced name", "", "k" },
	{ "trailing", "", "k" },
	{ "a]b", "", "k" },
	{ "default", "", "inherited" },
	{ "profile dev", "", "inherited" },
	{ "nosuch", "", "inherited" },
};

#define NQUERIES (sizeof(corner_queries) / sizeof(corner_queries[0]))

static char *join_lines(const char *const *lines, const char *eol)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	for (; *lines; lines++)
		dc_buf_printf(&b, "%s%s", *lines, eol);
	return dc_buf_take(&b);
}

static void put_value(struct dc_buf *out, const char *v)
{
	if (!v) {
		dc_buf_puts(out, "None\n");
		return;
	}
	for (; *v; v++)
		dc_buf_puts(out, *v == '\n' ? "\\n" : (char[]){ *v, 0 });
	dc_buf_putc(out, '\n');
}

static char *our_answers(const struct dc_ini *ini)
{
	struct dc_buf out = DC_BUF_INIT(DC_MAX_SMALL);
	for (size_t i = 0; i < NQUERIES; i++) {
		const char *const *q = corner_queries[i];
		put_value(&out, dc_ini_get(ini, q[0], q[1][0] ? q[1] : NULL, q[2]));
	}
	dc_buf_truncate(&out, out.len - 1);
	return dc_buf_take(&out);
}

static char *botocore_answers(const char *path)
{
	struct dc_buf py = DC_BUF_INIT(DC_MAX_SMALL);
	dc_buf_printf(&py, "from botocore.configloader import raw_config_parse\n"
			   "c = raw_config_parse('%s')\n"
			   "def q(sec, sub, key):\n"
			   "    v = c.get(sec, {}).get(sub or key)\n"
			   "    if sub:\n"
			   "        v = v.get(key) if isinstance(v, dict) else None\n"
			   "    elif isinstance(v, dict):\n"
			   "        v = ''\n"
			   "    print('None' if v is None else v.replace('\\n', '\\\\n'))\n",
		      path);
	for (size_t i = 0; i < NQUERIES; i++)
		dc_buf_printf(&py, "q('%s', '%s', '%s')\n", corner_queries[i][0],
			      corner_queries[i][1], corner_queries[i][2]);
	char *answer = dc_test_python(dc_buf_cstr(&py));
	dc_buf_dispose(&py);
	return answer;
}

static void compare_with_botocore(const char *eol)
{
	char *text = join_lines(corner_file, eol);
	char *path = dc_test_write_file("config", text, 0600);
	struct dc_ini *ini = NULL;
	check_int(dc_ini_parse(&ini, text, "config"), 0);
	char *ours = our_answers(ini);
	char *theirs = botocore_answers(path);
	check_str(ours, theirs);
	free(ours);
	free(theirs);
	free(path);
	free(text);
	dc_ini_free(ini);
}

void test_ini__corner_cases_read_as_botocore_reads_them(void)
{
	compare_with_botocore("\n");
}

void test_ini__crlf_and_cr_line_endings(void)
{
	compare_with_botocore("\r\n");
	compare_with_botocore("\r");
}

void test_ini__values_we_expect(void)
{
	/* The oracle agrees with us; these pin what a user sees. */
	char *text = join_lines(corner_file, "\n");
	struct dc_ini *ini = NULL;
	check_int(dc_ini_parse(&ini, text, "config"), 0);
	check_str(dc_ini_get(ini, "default", NULL, "region"), "us-west-2");
	check_str(dc_ini_get(ini, "default", NULL, "REGION"), "us-west-2");
	check_str(dc_ini_get(ini, "default", NULL, "output"), "json");
	check_str(dc_ini_get(ini, "default", NULL, "inline"), "value # not a comment for botocore");
	check_str(dc_ini_get(ini, "default", NULL, "empty"), "");
	check_str(dc_ini_get(ini, "default", NULL, "multi"), "first\nsecond\n\nthird");
	check_str(dc_ini_get(ini, "profile dev", "s3", "addressing_style"), "virtual");
	check(dc_ini_get(ini, "profile dev", "s3", "signature_version") == NULL);
	check_str(dc_ini_get(ini, "services dev", "dynamodb", "endpoint_url"),
		  "http://localhost:8000");
	check_str(dc_ini_get(ini, "profile dev", NULL, "inherited"), "yes");
	check(dc_ini_has_section(ini, "profile dev"));
	check(dc_ini_has_section(ini, " spaced name "));
	check(!dc_ini_has_section(ini, "Profile dev"));
	check(!dc_ini_has_section(ini, "DEFAULT"));
	check_int(dc_ini_section_count(ini), 7);
	check_str(dc_ini_section_name(ini, 0), "default");
	check(dc_ini_section_name(ini, 7) == NULL);
	dc_ini_free(ini);
	free(text);
}

void test_ini__empty_and_comment_only_text(void)
{
	struct dc_ini *ini = NULL;
	check_int(dc_ini_parse(&ini, "", "x"), 0);
	check_int(dc_ini_section_count(ini), 0);
	check(dc_ini_get(ini, "default", NULL, "region") == NULL);
	dc_ini_free(ini);
	check_int(dc_ini_parse(&ini, "# only\n; comments\n\n", "x"), 0);
	check_int(dc_ini_section_count(ini), 0);
	dc_ini_free(ini);
	check(dc_ini_get(NULL, "default", NULL, "region") == NULL);
}

struct bad_case {
	const char *text;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ "region = us-east-1\n[default]\n",
	  "'~/.aws/config' line 1: expected a section header such as '[default]' first" },
	{ "[default]\nregion = us-east-1\njunk\n", "'~/.aws/config' line 3: expected 'key = value'" },
	{ "[default]\n= value\n", "'~/.aws/config' line 2: expected 'key = value'" },
	{ "# c\n[default\nregion = x\n", "'~/.aws/config' line 2: section header is missing its ']'" },
	{ "[]\n", "'~/.aws/config' line 1: section header has no name" },
	{ "[a]\nx = 1\n\n[a]\n", "'~/.aws/config' line 4: section 'a' appears twice" },
	{ "[a]\nRegion = 1\nregion = 2\n",
	  "'~/.aws/config' line 3: key 'region' appears twice in section 'a'" },
	{ "[a]\ns3 =\n  addressing_style path\n",
	  "'~/.aws/config' line 3: expected 'key = value' in an indented block" },
};

void test_ini__malformed_files_name_file_and_line(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct dc_ini *ini = (struct dc_ini *)&ini;
		check_int(dc_ini_parse(&ini, bad_cases[i].text, "~/.aws/config"), -1);
		check(ini == NULL);
		check_str(dc_error_last()->message, bad_cases[i].message);
	}
}

void test_ini__malformed_files_are_errors_for_botocore_too(void)
{
	struct dc_buf py = DC_BUF_INIT(DC_MAX_SMALL);
	dc_buf_puts(&py, "from botocore.configloader import raw_config_parse\n"
			 "import sys\n"
			 "for p in sys.argv[1:] or PATHS:\n"
			 "    try:\n"
			 "        raw_config_parse(p); print('ok')\n"
			 "    except Exception as e:\n"
			 "        print(type(e).__name__)\n");
	struct dc_buf paths = DC_BUF_INIT(DC_MAX_SMALL);
	struct dc_buf want = DC_BUF_INIT(DC_MAX_SMALL);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "bad%zu", i);
		char *path = dc_test_write_file(name, bad_cases[i].text, 0600);
		dc_buf_printf(&paths, "%s'%s'", i ? ", " : "", path);
		dc_buf_printf(&want, "%sConfigParseError", i ? "\n" : "");
		free(path);
	}
	char *code = dc_xasprintf("PATHS = [%s]\n%s", dc_buf_cstr(&paths), dc_buf_cstr(&py));
	char *got = dc_test_python(code);
	check_str(got, dc_buf_cstr(&want));
	free(got);
	free(code);
	dc_buf_dispose(&py);
	dc_buf_dispose(&paths);
	dc_buf_dispose(&want);
}

static const char *const split_cases[] = {
	"/usr/bin/tool --profile dev",
	"  leading   and trailing  ",
	"'single quoted words' \"double quoted\"",
	"a'b'\"c\" d\\ e",
	"\"esc \\\" quote\" \"back\\\\slash\" \"keep \\n\"",
	"'no \\escape in single'",
	"'' \"\" empty",
	"tab\tseparated\nnewline",
	"x=1 --opt=\"a b\"",
};

static char *our_split(const char *s)
{
	char **w;
	int n = dc_ini_split_words(&w, s);
	if (n < 0)
		return dc_xstrdup("ERR");
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	for (int i = 0; i < n; i++)
		dc_buf_printf(&b, "%s<%s>", i ? " " : "", w[i]);
	dc_ini_words_free(w);
	return dc_buf_take(&b);
}

void test_ini__split_words_like_shlex(void)
{
	struct dc_buf py = DC_BUF_INIT(DC_MAX_SMALL);
	struct dc_buf want = DC_BUF_INIT(DC_MAX_SMALL);
	dc_buf_puts(&py, "import shlex, sys\nfor s in sys.stdin.read().split('\\0')[:-1]:\n"
			 "    try: print(' '.join('<%s>' % w for w in shlex.split(s)))\n"
			 "    except ValueError: print('ERR')\n");
	const char *extra[] = { "unterminated 'quote", "trailing\\", "\"open" };
	char *input_path;
	struct dc_buf input = DC_BUF_INIT(DC_MAX_SMALL);
	size_t n = sizeof(split_cases) / sizeof(split_cases[0]);
	for (size_t i = 0; i < n + 3; i++) {
		const char *s = i < n ? split_cases[i] : extra[i - n];
		dc_buf_put(&input, s, strlen(s) + 1);
		char *ours = our_split(s);
		dc_buf_printf(&want, "%s%s", i ? "\n" : "", ours);
		free(ours);
	}
	input_path = dc_test_write_file("split-input", "", 0600);
	FILE *f = fopen(input_path, "wb");
	fwrite(input.ptr, 1, input.len, f);
	fclose(f);
	char *code = dc_xasprintf("import sys\nsys.stdin = open('%s')\n%s", input_path,
				  dc_buf_cstr(&py));
	char *got = dc_test_python(code);
	check_str(dc_buf_cstr(&want), got);
	free(got);
	free(code);
	free(input_path);
	dc_buf_dispose(&input);
	dc_buf_dispose(&py);
	dc_buf_dispose(&want);
}

void test_ini__split_words_results(void)
{
	char *s = our_split("\"/opt/my tools/creds\" --role 'a b' c\\ d");
	check_str(s, "</opt/my tools/creds> <--role> <a b> <c d>");
	free(s);
	s = our_split("'open");
	check_str(s, "ERR");
	free(s);
	s = our_split("   ");
	check_str(s, "");
	free(s);
}
