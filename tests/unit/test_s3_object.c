/* s3.object's prepare hook: the content's sha256 goes into the props (so a
 * changed file is a changed resource), and a source must stay inside the
 * templates tree. Hashes are the FIPS 180-2 "abc" vector and hashlib's. */
#include <sys/stat.h>

#include "harness.h"
#include "resources/resource.h"
#include "util/error.h"
#include "util/xalloc.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ABCD "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	check(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* <tmp>/templates/arch/site/page.html and <tmp>/templates/common/c.txt. */
static char *make_tree(void)
{
	const char *tmp = dc_test_tmpdir();
	const char *dirs[] = { "templates", "templates/arch", "templates/arch/site",
			       "templates/common" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *d = dc_xasprintf("%s/%s", tmp, dirs[i]);
		mkdir(d, 0700);
		free(d);
	}
	char *p = dc_xasprintf("%s/templates/arch/site/page.html", tmp);
	write_file(p, "abc");
	free(p);
	p = dc_xasprintf("%s/templates/common/c.txt", tmp);
	write_file(p, "abcd");
	free(p);
	p = dc_xasprintf("%s/secret.txt", tmp);
	write_file(p, "secret");
	free(p);
	return dc_xasprintf("%s/templates/arch", tmp);
}

static int prepare(const char *dir, const char *props_text, json_t **out)
{
	const struct dc_resource_type *t = dc_resource_type_find("s3.object");
	struct dc_res_ctx ctx = { .stack = "s", .arch = "arch", .logical_id = "obj",
				  .template_dir = dir };
	json_t *props = json_loads(props_text, 0, NULL);
	check(t && t->prepare && props);
	*out = NULL;
	int rc = t && t->prepare ? t->prepare(&ctx, props, out) : -1;
	json_decref(props);
	return rc;
}

static const char *sha_of(const json_t *props)
{
	return json_string_value(json_object_get(props, "sha256"));
}

void test_s3_object__prepare_adds_content_hash(void)
{
	json_t *out;
	check_int(prepare(".", "{\"bucket\":\"b\",\"key\":\"k\",\"content\":\"abc\"}", &out), 0);
	check_str(sha_of(out), SHA_ABC);
	check_str(json_string_value(json_object_get(out, "content")), "abc");
	check_str(json_string_value(json_object_get(out, "bucket")), "b");
	json_decref(out);
}

void test_s3_object__prepare_hashes_source_file(void)
{
	char *dir = make_tree();
	json_t *out;
	check_int(prepare(dir, "{\"bucket\":\"b\",\"key\":\"k\",\"source\":\"site/page.html\"}",
			  &out), 0);
	check_str(sha_of(out), SHA_ABC);
	json_decref(out);
	char *page = dc_xasprintf("%s/site/page.html", dir);
	write_file(page, "abcd");
	check_int(prepare(dir, "{\"bucket\":\"b\",\"key\":\"k\",\"source\":\"site/page.html\"}",
			  &out), 0);
	check_str(sha_of(out), SHA_ABCD);
	json_decref(out);
	check_int(prepare(dir, "{\"bucket\":\"b\",\"key\":\"k\",\"source\":\"../common/c.txt\"}",
			  &out), 0);
	check_str(sha_of(out), SHA_ABCD);
	json_decref(out);
	free(page);
	free(dir);
}

void test_s3_object__prepare_refuses_sources_outside_templates(void)
{
	static const char *const bad[] = { "/etc/hostname", "../../secret.txt",
					   "site/../../../secret.txt", "", "missing.html" };
	char *dir = make_tree();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *props = dc_xasprintf("{\"bucket\":\"b\",\"key\":\"k\",\"source\":\"%s\"}",
					   bad[i]);
		json_t *out;
		check(prepare(dir, props, &out) < 0);
		check(out == NULL);
		check(strstr(dc_error_last()->message, "source") != NULL);
		free(props);
	}
	free(dir);
}

void test_s3_object__prepare_needs_one_of_source_and_content(void)
{
	json_t *out;
	check(prepare(".", "{\"bucket\":\"b\",\"key\":\"k\"}", &out) < 0);
	check(prepare(".", "{\"bucket\":\"b\",\"key\":\"k\",\"content\":\"x\",\"source\":\"y\"}",
		      &out) < 0);
	check(prepare(".", "{\"key\":\"k\",\"content\":\"x\"}", &out) < 0);
}
