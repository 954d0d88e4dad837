#include "harness.h"
#include "opt.h"
#include "util/error.h"

static const char *region;
static int flag;
static struct dc_strlist headers;

static const struct dc_opt cmd[] = {
	{ DC_OPT_LIST, "header", 'H', &headers, "H", "" },
	{ DC_OPT_FLAG, "include", 'i', &flag, NULL, "" },
	DC_OPT_TABLE_END
};
static const struct dc_opt global[] = {
	{ DC_OPT_STRING, "region", 0, &region, "R", "" },
	DC_OPT_TABLE_END
};

static int parse(int argc, char **argv, struct dc_strlist *args)
{
	region = NULL;
	flag = 0;
	dc_strlist_dispose(&headers);
	return dc_opt_parse(cmd, global, argc, argv, args);
}

void test_opt__mixed_positionals_and_options(void)
{
	char *argv[] = { "s3", "-H", "A: 1", "--region=eu-west-2", "GET", "-HB: 2", "-i",
			 "--", "-not-an-option" };
	struct dc_strlist args = { 0 };
	check_int(parse(9, argv, &args), 0);
	check_int(args.n, 3);
	check_str(args.v[0], "s3");
	check_str(args.v[1], "GET");
	check_str(args.v[2], "-not-an-option");
	check_str(region, "eu-west-2");
	check_int(flag, 1);
	check_int(headers.n, 2);
	check_str(headers.v[1], "B: 2");
	dc_strlist_dispose(&args);
	dc_strlist_dispose(&headers);
}

void test_opt__errors_name_the_option(void)
{
	struct dc_strlist args = { 0 };
	char *a1[] = { "--nope" };
	check_int(parse(1, a1, &args), -1);
	check_str(dc_error_last()->message, "unknown option '--nope'");
	char *a2[] = { "--region" };
	check_int(parse(1, a2, &args), -1);
	check_str(dc_error_last()->message, "option '--region' needs a value (R)");
	char *a3[] = { "--include=yes" };
	check_int(parse(1, a3, &args), -1);
	check_str(dc_error_last()->message, "option '--include=yes' takes no value");
	dc_strlist_dispose(&args);
	dc_strlist_dispose(&headers);
}
