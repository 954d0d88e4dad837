#include <sys/stat.h>

#include "harness.h"
#include "stack/template.h"
#include "util/error.h"

static void write_template(const char *arch, const char *json)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dc_test_tmpdir(), arch);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/stack.json", dc_test_tmpdir(), arch);
	FILE *f = fopen(path, "w");
	fputs(json, f);
	fclose(f);
}

static int load(struct dc_template **t, const char *json, const char *override)
{
	struct dc_strlist o = { 0 };
	if (override)
		dc_strlist_push(&o, override);
	write_template("a", json);
	int rc = dc_template_load(t, dc_test_tmpdir(), "a", &o);
	dc_strlist_dispose(&o);
	return rc;
}

#define GOOD                                                                                 \
	"{\"arch\": \"a\", \"params\": {\"memory_mb\": 128, \"runtime\": \"python3.12\"},"      \
	" \"resources\": {"                                                                   \
	"  \"role\": {\"type\": \"iam.role\", \"props\": {\"allow\": [{\"resource\": "        \
	"\"${table.arn}\"}]}},"                                                               \
	"  \"table\": {\"type\": \"dynamodb.table\", \"props\": {\"hash_key\": \"id\"}}},"    \
	" \"outputs\": {\"url\": \"${table.name}\"}}"

void test_template__orders_dependencies_first_and_applies_params(void)
{
	struct dc_template *t;
	check_int(load(&t, GOOD, "memory_mb=256"), 0);
	if (!t)
		return;
	check_int(t->nres, 2);
	check_str(t->res[0].id, "table");
	check_str(t->res[1].id, "role");
	check_int(t->res[1].ndeps, 1);
	check_int(t->res[1].deps[0], 0);
	check_int(json_integer_value(json_object_get(t->params, "memory_mb")), 256);
	dc_template_free(t);
}

void test_template__errors_name_template_resource_and_field(void)
{
	struct dc_template *t;
	check_int(load(&t, GOOD, "memory_mb=lots"), -1);
	check_str(dc_error_last()->message, "param 'memory_mb' must be a number, not 'lots'");
	check_int(load(&t, GOOD, "nope=1"), -1);
	check_str(dc_error_last()->message, "'a' has no param 'nope'");

	check_int(load(&t, "{\"arch\": \"a\", \"resources\": {\"x\": {\"type\": \"dynamodb.table\","
			   " \"props\": {\"k\": \"${y.arn}\"}}}}", NULL), -1);
	check(strstr(dc_error_last()->message, "x.props.k references unknown resource 'y'") != NULL);

	check_int(load(&t, "{\"arch\": \"a\", \"resources\": {\"x\": {\"type\": \"no.such\"}}}",
		       NULL), -1);
	check(strstr(dc_error_last()->message, "resource 'x' has unknown type 'no.such'") != NULL);

	check_int(load(&t, "{\"arch\": \"a\", \"resources\": {"
			   "\"x\": {\"type\": \"dynamodb.table\", \"props\": {\"k\": \"${y.arn}\"}},"
			   "\"y\": {\"type\": \"dynamodb.table\", \"props\": {\"k\": \"${x.arn}\"}}}}",
		       NULL), -1);
	check(strstr(dc_error_last()->message, "resources 'x', 'y' reference each other in a cycle") !=
	      NULL);

	check_int(load(&t, "{\"arch\": \"a\", \"resources\": {\"x\": {\"type\": \"dynamodb.table\","
			   " \"props\": {\"k\": \"${nothing}\"}}}}", NULL), -1);
	check(strstr(dc_error_last()->message, "x.props.k names unknown param 'nothing'") != NULL);

	check_int(load(&t, "{\"arch\": \"a\", \"resources\": {", NULL), -1);
	check(strstr(dc_error_last()->message, "line 1") != NULL);
	check(strstr(dc_error_last()->message, "/a/stack.json") != NULL);
}

void test_template__unknown_arch_and_bad_names(void)
{
	struct dc_template *t;
	check_int(dc_template_load(&t, dc_test_tmpdir(), "nosuch", NULL), -1);
	check(strstr(dc_error_last()->message, "no architecture 'nosuch'") != NULL);
	check_int(dc_template_load(&t, dc_test_tmpdir(), "../etc", NULL), -1);
	check_str(dc_error_last()->message, "'../etc' is not an architecture name");
}

void test_template__list_finds_folders_with_stack_json(void)
{
	struct dc_strlist l = { 0 };
	write_template("b-arch", "{}");
	write_template("a-arch", "{}");
	char path[512];
	snprintf(path, sizeof(path), "%s/common", dc_test_tmpdir());
	mkdir(path, 0755);
	check_int(dc_template_list(&l, dc_test_tmpdir()), 0);
	check_int(l.n, 2);
	if (l.n == 2) {
		check_str(l.v[0], "a-arch");
		check_str(l.v[1], "b-arch");
	}
	for (size_t i = 0; i < l.n; i++)
		free((void *)l.v[i]);
	dc_strlist_dispose(&l);
}
