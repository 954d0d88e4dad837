#include "harness.h"
#include "support_botocore.h"
#include "aws/endpoints.h"
#include "aws/service.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define N(a) (sizeof(a) / sizeof(*(a)))

static int message_has(const char *needle)
{
	return strstr(dc_error_last()->message, needle) != NULL;
}

/* ---- partitions ---- */

/* Strings that are not regions of any partition, or not region names. */
static const char *const odd_regions[] = {
	"us-east1", "useast-1", "US-EAST-1", "us-east-1-", "-us-east-1", "123", "us-east-1.evil.com",
	"us-east-1/x", "us_east-1", "cn-north", "local", "aws-global", "us-gov-west", "xx-east-1",
	"us-iso-east-1x", "eusc-fr-east-1", "a-b-c-1",
};

/* Every region botocore's partitions.json lists, and odd strings, land in
 * the partition (and DNS suffix) that its regionRegex gives. */
void test_endpoints__partitions_match_botocore(void)
{
	char *listed = dc_test_botocore("regions", "");
	if (!listed)
		return;
	struct dc_buf in = DC_BUF_INIT(DC_MAX_FILE);
	char *cursor = listed;
	const char *f[2];
	int regions = 0;
	while (dc_test_next_row(&cursor, f, 2) == 2 && ++regions)
		dc_buf_printf(&in, "%s\n", f[0]);
	for (size_t i = 0; i < N(odd_regions); i++)
		dc_buf_printf(&in, "%s\n", odd_regions[i]);
	char *text = dc_test_botocore("partitions", dc_buf_cstr(&in));
	cursor = text;
	const char *g[3];
	int seen = 0;
	while (text && dc_test_next_row(&cursor, g, 3) == 3 && ++seen) {
		const char *part = dc_endpoint_partition(g[0]);
		if (!check_str(part, g[1]))
			fprintf(stderr, "      region: %s\n", g[0]);
		check_str(dc_endpoint_dns_suffix(part), g[2]);
	}
	check(regions > 30);
	check_int(seen, regions + (int)N(odd_regions));
	free(text);
	free(listed);
	dc_buf_dispose(&in);
}

void test_endpoints__partition_examples(void)
{
	check_str(dc_endpoint_partition("eu-west-2"), "aws");
	check_str(dc_endpoint_partition("cn-northwest-1"), "aws-cn");
	check_str(dc_endpoint_partition("us-gov-east-1"), "aws-us-gov");
	check_str(dc_endpoint_partition("us-iso-west-1"), "aws-iso");
	check_str(dc_endpoint_partition("us-isob-east-1"), "aws-iso-b");
	check_str(dc_endpoint_dns_suffix("aws-cn"), "amazonaws.com.cn");
	check(dc_endpoint_partition(NULL) == NULL);
	check(dc_endpoint_partition("") == NULL);
	check(dc_endpoint_dns_suffix("aws-mars") == NULL);
	check(dc_endpoint_dns_suffix(NULL) == NULL);
}

/* ---- standard endpoints ---- */

/* Every service in a region of each of the four main partitions... */
static const char *const regions[] = { "us-east-1", "eu-west-2", "cn-north-1", "us-gov-west-1" };
/* ...and the services with special cases everywhere. */
static const char *const special_services[] = { "iam", "sts", "s3", "ecr" };
static const char *const more_regions[] = {
	"cn-northwest-1", "us-gov-east-1",   "us-iso-east-1",  "us-isob-east-1",
	"us-isof-south-1", "eu-isoe-west-1", "eusc-de-east-1", "ap-southeast-2",
};

static int put_cases(struct dc_buf *in)
{
	int cases = 0;
	for (const struct dc_service *s = dc_services; s->id; s++)
		for (size_t r = 0; r < N(regions); r++, cases++)
			dc_buf_printf(in, "%s\t%s\n", s->model, regions[r]);
	for (size_t i = 0; i < N(special_services); i++)
		for (size_t r = 0; r < N(more_regions); r++, cases++)
			dc_buf_printf(in, "%s\t%s\n", dc_service_find(special_services[i])->model,
				      more_regions[r]);
	return cases;
}

static void check_standard(const char *model, const char *region, const char *url,
			   const char *signing)
{
	const struct dc_service *svc = dc_service_find(model);
	struct dc_endpoint ep;
	if (!svc || dc_endpoint_resolve(&ep, NULL, svc, region) < 0) {
		dc_test_fail(__FILE__, __LINE__, "%s in %s: %s", model, region,
			     dc_error_last()->message);
		return;
	}
	int ok = check_str(ep.url, url);
	ok &= check_str(ep.signing_region, signing);
	if (!ok)
		fprintf(stderr, "      service %s, region %s\n", model, region);
	check_int(ep.is_override, 0);
	dc_endpoint_dispose(&ep);
}

/* URL and signing region against the request botocore signs. */
void test_endpoints__standard_urls_match_botocore(void)
{
	struct dc_buf in = DC_BUF_INIT(DC_MAX_FILE);
	int cases = put_cases(&in);
	char *text = dc_test_botocore("endpoints", dc_buf_cstr(&in));
	dc_buf_dispose(&in);
	char *cursor = text;
	const char *f[4];
	int seen = 0;
	while (text && dc_test_next_row(&cursor, f, 4) == 4 && ++seen)
		check_standard(f[0], f[1], f[2], f[3]);
	check_int(seen, cases);
	free(text);
}

static void expect_standard(const char *id, const char *region, const char *url,
			    const char *signing)
{
	struct dc_endpoint ep;
	check_int(dc_endpoint_resolve(&ep, NULL, dc_service_find(id), region), 0);
	check_str(ep.url, url);
	check_str(ep.signing_region, signing);
	dc_endpoint_dispose(&ep);
}

/* The cases a reader would look for first. */
void test_endpoints__global_and_regional_examples(void)
{
	expect_standard("iam", "eu-west-2", "https://iam.amazonaws.com", "us-east-1");
	expect_standard("iam", "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn",
			"cn-north-1");
	expect_standard("iam", "us-gov-east-1", "https://iam.us-gov.amazonaws.com",
			"us-gov-west-1");
	expect_standard("sts", "us-east-1", "https://sts.us-east-1.amazonaws.com", "us-east-1");
	expect_standard("s3", "us-east-1", "https://s3.us-east-1.amazonaws.com", "us-east-1");
	expect_standard("ecr", "eu-west-2", "https://api.ecr.eu-west-2.amazonaws.com", "eu-west-2");
}

void test_endpoints__bad_region_is_named(void)
{
	struct dc_endpoint ep;
	const struct dc_service *svc = dc_service_find("sts");
	check_int(dc_endpoint_resolve(&ep, NULL, svc, "us-east1"), -1);
	check(message_has("'us-east1'"));
	check(ep.url == NULL);
	check_int(dc_endpoint_resolve(&ep, NULL, svc, "us-east-1/../x"), -1);
	check(message_has("'us-east-1/../x'"));
	check_int(dc_endpoint_resolve(&ep, NULL, svc, "evil.com#"), -1);
	check(message_has("'evil.com#'"));
	check_int(dc_endpoint_resolve(&ep, NULL, svc, NULL), -1);
	check(message_has("no region"));
	check_int(dc_endpoint_resolve(&ep, NULL, svc, ""), -1);
	check(message_has("no region"));
	/* With an override any region label will do (local emulators). */
	check_int(dc_endpoint_resolve_with(&ep, svc, "local", "http://127.0.0.1:5000", NULL), 0);
	check_str(ep.signing_region, "local");
	dc_endpoint_dispose(&ep);
	check_int(dc_endpoint_resolve_with(&ep, svc, "a b", "http://127.0.0.1:5000", NULL), -1);
	check(message_has("'a b'"));
}

/* ---- overrides ---- */

void test_endpoints__override_is_used_as_given(void)
{
	struct dc_endpoint ep;
	const struct dc_service *iam = dc_service_find("iam");
	check_int(dc_endpoint_resolve_with(&ep, iam, "eu-west-2", "http://127.0.0.1:5000/", NULL),
		  0);
	check_str(ep.url, "http://127.0.0.1:5000");
	/* botocore signs for the client's region once the endpoint is custom. */
	check_str(ep.signing_region, "eu-west-2");
	check_int(ep.is_override, 1);
	dc_endpoint_dispose(&ep);
	check(ep.url == NULL && ep.signing_region == NULL);
}

static const char *const sources_values[] = { "http://flag.test", "http://env-service.test",
					      "http://env-global.test", "http://services.test",
					      "http://profile.test" };

/* ignore_env, ignore_profile */
static const char *const ignore_cases[][2] = {
	{ NULL, NULL }, { "true", NULL },    { NULL, "true" },  { "TRUE", NULL }, { NULL, "True" },
	{ "", "true" }, { "false", "true" }, { "1", NULL },     { "yes", NULL }, { NULL, "false" },
};

static void sources_of(struct dc_endpoint_sources *src, unsigned mask, size_t ig)
{
	const char **slot[] = { &src->flag, &src->env_service, &src->env_global, &src->services,
				&src->profile };
	memset(src, 0, sizeof(*src));
	for (int i = 0; i < 5; i++)
		*slot[i] = (mask & (1u << i)) ? sources_values[i] : NULL;
	src->ignore_env = ignore_cases[ig][0];
	src->ignore_profile = ignore_cases[ig][1];
}

static const char *oracle_field(const char *v)
{
	return !v ? "-" : *v ? v : "<empty>";
}

static void put_case(struct dc_buf *in, const struct dc_endpoint_sources *s)
{
	dc_buf_printf(in, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oracle_field(s->flag),
		      oracle_field(s->env_service), oracle_field(s->env_global),
		      oracle_field(s->services), oracle_field(s->profile),
		      oracle_field(s->ignore_env), oracle_field(s->ignore_profile));
}

/* Every combination of set sources under every ignore setting picks what
 * botocore picks. */
void test_endpoints__precedence_matches_botocore(void)
{
	struct dc_buf in = DC_BUF_INIT(DC_MAX_FILE);
	struct dc_endpoint_sources src;
	unsigned masks[32 * N(ignore_cases)];
	size_t ignores[N(masks)], cases = 0;
	/* All combinations under the first three ignore settings; the flag with
	 * everything, and everything but the flag, under the other ones. */
	for (size_t ig = 0; ig < N(ignore_cases); ig++) {
		for (unsigned mask = 0; mask < 32; mask++) {
			if (ig >= 3 && mask != 31 && mask != 30)
				continue;
			masks[cases] = mask;
			ignores[cases++] = ig;
			sources_of(&src, mask, ig);
			put_case(&in, &src);
		}
	}
	char *text = dc_test_botocore("precedence", dc_buf_cstr(&in));
	dc_buf_dispose(&in);
	char *cursor = text;
	const char *f[1];
	size_t seen = 0;
	for (; text && seen < cases && dc_test_next_row(&cursor, f, 1) == 1; seen++) {
		sources_of(&src, masks[seen], ignores[seen]);
		const char *got;
		enum dc_endpoint_origin o = dc_endpoint_choose(&got, &src);
		if (!check_str(got, f[0]))
			fprintf(stderr, "      sources %#x, ignore case %zu\n", masks[seen],
				ignores[seen]);
		if (got)
			check_str(got, sources_values[o - DC_ENDPOINT_FLAG]);
		else
			check_int(o, DC_ENDPOINT_NONE);
	}
	check_int(seen, cases);
	check(cases > 100);
	free(text);
}

/* An empty value counts as unset, as in botocore. */
void test_endpoints__empty_values_are_skipped(void)
{
	struct dc_endpoint_sources src = { .env_service = "", .env_global = "",
					   .services = "", .profile = "http://profile.test" };
	struct dc_buf in = DC_BUF_INIT(DC_MAX_SMALL);
	put_case(&in, &src);
	src.profile = "";
	put_case(&in, &src);
	src.profile = "http://profile.test";
	char *text = dc_test_botocore("precedence", dc_buf_cstr(&in));
	dc_buf_dispose(&in);
	char *cursor = text;
	const char *f[1];
	const char *got;
	if (text && dc_test_next_row(&cursor, f, 1) == 1) {
		check_int(dc_endpoint_choose(&got, &src), DC_ENDPOINT_PROFILE);
		check_str(got, f[0]);
	}
	src.profile = "";
	if (text && dc_test_next_row(&cursor, f, 1) == 1) {
		check_int(dc_endpoint_choose(&got, &src), DC_ENDPOINT_NONE);
		check_str(got, f[0]);
	}
	free(text);
}

/* botocore rejects an empty endpoint_url argument; so do we. */
void test_endpoints__empty_flag_is_an_error(void)
{
	struct dc_endpoint_sources src = { .flag = "", .env_global = "http://env.test" };
	const char *got;
	struct dc_endpoint ep;
	check_int(dc_endpoint_choose(&got, &src), DC_ENDPOINT_FLAG);
	check_str(got, "");
	check_int(dc_endpoint_resolve_with(&ep, dc_service_find("sts"), "eu-west-2", got,
					   "--endpoint-url"),
		  -1);
	check(message_has("endpoint url '' from --endpoint-url"));
}

void test_endpoints__flag_is_never_ignored(void)
{
	struct dc_endpoint_sources src = { .flag = "http://flag.test",
					   .env_service = "http://env.test",
					   .ignore_env = "true", .ignore_profile = "true" };
	const char *got;
	check_int(dc_endpoint_choose(&got, &src), DC_ENDPOINT_FLAG);
	check_str(got, "http://flag.test");
	src.flag = NULL;
	check_int(dc_endpoint_choose(&got, &src), DC_ENDPOINT_NONE);
	check(got == NULL);
}

void test_endpoints__env_var_names(void)
{
	static const char *const pairs[][2] = {
		{ "dynamodb", "AWS_ENDPOINT_URL_DYNAMODB" },
		{ "logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS" },
		{ "tagging", "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API" },
		{ "apigatewayv2", "AWS_ENDPOINT_URL_APIGATEWAYV2" },
		{ "elbv2", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2" },
	};
	for (size_t i = 0; i < N(pairs); i++) {
		char *name = dc_endpoint_env_var(dc_service_find(pairs[i][0]));
		check_str(name, pairs[i][1]);
		free(name);
	}
	/* The rest of the table: test_service checks env_name against botocore. */
	for (const struct dc_service *s = dc_services; s->id; s++) {
		char *name = dc_endpoint_env_var(s);
		check(strncmp(name, "AWS_ENDPOINT_URL_", 17) == 0);
		check_str(name + 17, s->env_name);
		free(name);
	}
}

/* ---- override URLs ---- */

static void expect_url(const char *url, const char *want)
{
	char *got = NULL;
	if (dc_endpoint_check_url(&got, url, "--endpoint-url") < 0)
		dc_test_fail(__FILE__, __LINE__, "%s: %s", url, dc_error_last()->message);
	check_str(got, want);
	free(got);
}

void test_endpoints__good_override_urls(void)
{
	expect_url("http://127.0.0.1:5000", "http://127.0.0.1:5000");
	expect_url("http://127.0.0.1:5000/", "http://127.0.0.1:5000");
	expect_url("HTTPS://Example.COM", "https://Example.COM");
	expect_url("http://localhost:4566/base/path//", "http://localhost:4566/base/path");
	expect_url("https://s3.example.com/", "https://s3.example.com");
	expect_url("http://[::1]:8000/", "http://[::1]:8000");
	expect_url("http://my-host.internal:65535", "http://my-host.internal:65535");
}

static void expect_bad_url(const char *url, const char *why)
{
	char *got = (char *)"untouched";
	check_int(dc_endpoint_check_url(&got, url, "AWS_ENDPOINT_URL_S3"), -1);
	check(got == NULL);
	const char *msg = dc_error_last()->message;
	if (!strstr(msg, why) || !strstr(msg, "AWS_ENDPOINT_URL_S3"))
		dc_test_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", url, msg, why);
}

void test_endpoints__bad_override_urls_are_named(void)
{
	expect_bad_url("ftp://example.com", "'ftp://example.com'");
	expect_bad_url("127.0.0.1:5000", "'127.0.0.1:5000'");
	expect_bad_url("localhost", "must start with http:// or https://");
	expect_bad_url("http://", "has no host");
	expect_bad_url("http:///path", "'http:///path' from AWS_ENDPOINT_URL_S3 has no host");
	expect_bad_url("http://host:0", "'http://host:0'");
	expect_bad_url("http://host:99999", "invalid host or port");
	expect_bad_url("http://host:", "invalid host or port");
	expect_bad_url("http://host:80a", "invalid host or port");
	expect_bad_url("http://-bad.example", "invalid host");
	expect_bad_url("http://a..b", "invalid host");
	expect_bad_url("http://under_score.example", "invalid host");
	expect_bad_url("http://ho st", "space or control");
	expect_bad_url("http://host/\n", "space or control");
	expect_bad_url("http://host/?a=b", "query or fragment");
	expect_bad_url("http://host#frag", "query or fragment");
	expect_bad_url("http://user:hunter2@host", "user info");
	check(!message_has("hunter2"));
}

void test_endpoints__bad_override_fails_resolve(void)
{
	struct dc_endpoint ep;
	check_int(dc_endpoint_resolve_with(&ep, dc_service_find("s3"), "eu-west-2", "s3.local",
					   "AWS_ENDPOINT_URL_S3"),
		  -1);
	check(message_has("'s3.local' from AWS_ENDPOINT_URL_S3"));
	check(ep.url == NULL && ep.signing_region == NULL);
}

/* ---- S3 URLs ---- */

struct s3_case {
	const char *endpoint; /* region, or override URL */
	const char *bucket;
	const char *key;
	int force_path;
};

static const char *const long_bucket =
	"abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh"; /* 63 */
static const char *const too_long_bucket =
	"abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghi"; /* 64 */

static const struct s3_case s3_cases[] = {
	{ "eu-west-2", NULL, NULL, 0 },
	{ "eu-west-2", "my-bucket", NULL, 0 },
	{ "eu-west-2", "my-bucket", "a b/c+d/\xc3\xa9\xe2\x82\xac~x", 0 },
	{ "us-east-1", "my-bucket", "photos/2024/caf\xc3\xa9 + tea.jpg", 0 },
	{ "cn-north-1", "my-bucket", "k", 0 },
	{ "eu-west-2", "my.dotted.bucket", "key", 0 },
	{ "eu-west-2", "My_Bucket", "key", 0 },
	{ "eu-west-2", "ab", "key", 0 },
	{ "eu-west-2", "192.168.1.1", "key", 0 },
	{ "eu-west-2", "-bucket", "key", 0 },
	{ "eu-west-2", "bucket-", "key", 0 },
	{ "eu-west-2", "a..b", "key", 0 },
	{ "eu-west-2", "9bucket", "key", 0 },
	{ "eu-west-2", "my-bucket", "100%/q?x#y&z=1;@:,$!'()*[]", 0 },
	{ "eu-west-2", "my-bucket", "/lead//double/", 0 },
	{ "eu-west-2", "my-bucket", "key", 1 },
	{ "eu-west-2", "my-bucket", NULL, 1 },
	{ "http://127.0.0.1:5000", NULL, NULL, 0 },
	{ "http://127.0.0.1:5000", "my-bucket", NULL, 0 },
	{ "http://127.0.0.1:5000", "my-bucket", "dir/a b+c", 0 },
	{ "http://localhost:4566/base/", "my-bucket", "\xe6\x97\xa5\xe6\x9c\xac/x", 0 },
	{ "https://s3.example.com", "my.bucket", "k", 0 },
};

static int s3_endpoint(struct dc_endpoint *ep, const char *where)
{
	const struct dc_service *s3 = dc_service_find("s3");
	if (strstr(where, "://"))
		return dc_endpoint_resolve_with(ep, s3, "eu-west-2", where, NULL);
	return dc_endpoint_resolve_with(ep, s3, where, NULL, NULL);
}

/* Virtual-hosted and path-style URLs, with keys holding spaces, "+",
 * reserved characters and UTF-8, as botocore sends them. */
void test_endpoints__s3_urls_match_botocore(void)
{
	struct dc_buf in = DC_BUF_INIT(DC_MAX_FILE);
	for (size_t i = 0; i < N(s3_cases); i++)
		dc_buf_printf(&in, "%s\t%s\t%s\t%d\n", s3_cases[i].endpoint,
			      oracle_field(s3_cases[i].bucket), oracle_field(s3_cases[i].key),
			      s3_cases[i].force_path);
	char *text = dc_test_botocore("s3url", dc_buf_cstr(&in));
	dc_buf_dispose(&in);
	char *cursor = text;
	const char *f[1];
	size_t seen = 0;
	for (; text && seen < N(s3_cases) && dc_test_next_row(&cursor, f, 1) == 1; seen++) {
		const struct s3_case *c = &s3_cases[seen];
		struct dc_endpoint ep;
		check_int(s3_endpoint(&ep, c->endpoint), 0);
		char *url = dc_endpoint_s3_url(&ep, c->bucket, c->key, c->force_path);
		if (!check_str(url, f[0]))
			fprintf(stderr, "      case %zu\n", seen);
		free(url);
		dc_endpoint_dispose(&ep);
	}
	check_int(seen, N(s3_cases));
	free(text);
}

/* Bucket-name length limits, and the readable examples. */
void test_endpoints__s3_url_examples(void)
{
	struct dc_endpoint ep;
	check_int(s3_endpoint(&ep, "eu-west-2"), 0);
	char *u = dc_endpoint_s3_url(&ep, "my-bucket", "a b+c", 0);
	check_str(u, "https://my-bucket.s3.eu-west-2.amazonaws.com/a%20b%2Bc");
	free(u);
	u = dc_endpoint_s3_url(&ep, long_bucket, "k", 0);
	char *want = dc_xasprintf("https://%s.s3.eu-west-2.amazonaws.com/k", long_bucket);
	check_str(u, want);
	free(want);
	free(u);
	u = dc_endpoint_s3_url(&ep, too_long_bucket, "k", 0);
	want = dc_xasprintf("https://s3.eu-west-2.amazonaws.com/%s/k", too_long_bucket);
	check_str(u, want);
	free(want);
	free(u);
	dc_endpoint_dispose(&ep);
	check_int(s3_endpoint(&ep, "http://127.0.0.1:5000/"), 0);
	u = dc_endpoint_s3_url(&ep, "my-bucket", "x/y z", 0);
	check_str(u, "http://127.0.0.1:5000/my-bucket/x/y%20z");
	free(u);
	dc_endpoint_dispose(&ep);
}

/* Under plain http a dotted bucket may be a host name, but an IP-like one
 * may not (the http endpoint is built by hand: a resolved one never is). */
void test_endpoints__s3_http_virtual_hosting(void)
{
	char url[] = "http://s3.example.test";
	struct dc_endpoint ep = { .url = url, .signing_region = NULL, .is_override = 0 };
	char *u = dc_endpoint_s3_url(&ep, "my.bucket", "k", 0);
	check_str(u, "http://my.bucket.s3.example.test/k");
	free(u);
	u = dc_endpoint_s3_url(&ep, "192.168.1.1", "k", 0);
	check_str(u, "http://s3.example.test/192.168.1.1/k");
	free(u);
	u = dc_endpoint_s3_url(&ep, "1.2.3.4a", NULL, 0);
	check_str(u, "http://1.2.3.4a.s3.example.test/");
	free(u);
}
