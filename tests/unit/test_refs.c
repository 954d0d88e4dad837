#include "harness.h"
#include "stack/refs.h"
#include "util/error.h"

static int lookup(void *arg, const char *id, const char *name, json_t **out)
{
	json_t *env = arg;
	char key[256];
	snprintf(key, sizeof(key), "%s%s%s", id ? id : "", id ? "." : "", name);
	*out = json_object_get(env, key);
	return *out ? 0 : DC_ENOTFOUND;
}

static char *resolve_text(const char *tmpl_json, json_t *env, int *rc)
{
	json_t *in = json_loads(tmpl_json, JSON_DECODE_ANY, NULL), *out = NULL;
	*rc = dc_refs_resolve(&out, in, lookup, env);
	char *s = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	json_decref(in);
	json_decref(out);
	return s;
}

void test_refs__whole_reference_keeps_type_and_text_interpolates(void)
{
	json_t *env = json_pack("{s:i, s:s, s:s}", "memory_mb", 128, "table.arn",
				"arn:aws:dynamodb:x:1:table/t", "stack", "demo");
	int rc;
	char *s = resolve_text("{\"m\": \"${memory_mb}\", \"r\": \"${table.arn}/index\", "
			       "\"l\": [\"/aws/lambda/${stack}-fn\", \"${memory_mb} MB\"], \"n\": 3}",
			       env, &rc);
	check_int(rc, 0);
	check_str(s, "{\"l\":[\"/aws/lambda/demo-fn\",\"128 MB\"],\"m\":128,"
		     "\"n\":3,\"r\":\"arn:aws:dynamodb:x:1:table/t/index\"}");
	free(s);
	json_decref(env);
}

void test_refs__unknown_and_malformed_references_are_named(void)
{
	json_t *env = json_object();
	int rc;
	free(resolve_text("\"${fn.arn}\"", env, &rc));
	check_int(rc, -1);
	check_str(dc_error_last()->message, "'fn' has no attribute 'arn'");
	free(resolve_text("\"x ${nope}\"", env, &rc));
	check_str(dc_error_last()->message, "unknown param 'nope'");
	free(resolve_text("\"${a.b.c}\"", env, &rc));
	check(strstr(dc_error_last()->message, "bad reference '${a.b.c}'") != NULL);
	free(resolve_text("\"${unterminated\"", env, &rc));
	check(strstr(dc_error_last()->message, "unterminated reference") != NULL);
	json_decref(env);
}

static int count_visit(void *arg, const char *id, const char *name, const char *where)
{
	json_t *seen = arg;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s:%s@%s", id ? id : "-", name, where);
	json_array_append_new(seen, json_string(buf));
	return 0;
}

void test_refs__visit_names_where(void)
{
	json_t *v = json_loads("{\"env\": {\"T\": \"${table.name}\"}, \"a\": [\"${region}\"]}",
			       0, NULL);
	json_t *seen = json_array();
	check_int(dc_refs_visit(v, "fn.props", count_visit, seen), 0);
	char *s = json_dumps(seen, JSON_COMPACT);
	check_str(s, "[\"table:name@fn.props.env.T\",\"-:region@fn.props.a[0]\"]");
	free(s);
	json_decref(seen);
	json_decref(v);
}
