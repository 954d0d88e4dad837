#include "commands/stack_print.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

json_t *dc_stack_summary(const json_t *doc)
{
	json_t *list = json_array();
	const char *id;
	json_t *r;
	json_object_foreach(json_object_get(doc, "resources"), id, r) {
		json_t *pid = json_object_get(json_object_get(r, "attrs"), "id");
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:O}", "id", id, "type",
						      str(r, "type"), "status", str(r, "status"),
						      "physical_id", pid ? pid : json_null()));
	}
	json_t *url = json_object_get(json_object_get(doc, "outputs"), "url");
	const char *target = str(doc, "target");
	return json_pack("{s:s, s:s, s:s, s:s, s:O, s:o}", "name", str(doc, "name"), "arch",
			 str(doc, "arch"), "target", *target ? target : "aws", "region",
			 str(doc, "region"), "url", url ? url : json_null(), "resources", list);
}

void dc_print_stack_json(const json_t *doc, long calls)
{
	json_t *o = dc_stack_summary(doc);
	if (calls >= 0)
		json_object_set_new(o, "aws_calls", json_integer(calls));
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
}

void dc_print_stack_text(const json_t *doc)
{
	const char *url = json_string_value(json_object_get(json_object_get(doc, "outputs"), "url"));
	printf("%s  %s  %s  %s\n", str(doc, "name"), str(doc, "arch"), str(doc, "region"),
	       url ? url : "(no url yet)");
	const char *id;
	json_t *r;
	json_object_foreach(json_object_get(doc, "resources"), id, r) {
		json_t *pid = json_object_get(json_object_get(r, "attrs"), "id");
		printf("  %-22s %-26s %-9s %s\n", id, str(r, "type"), str(r, "status"),
		       json_is_string(pid) ? json_string_value(pid) : "-");
	}
}
