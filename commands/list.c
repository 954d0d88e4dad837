/* deployctl list: the architectures there are, and the stacks deployed. */
#include <jansson.h>

#include "commands/commands.h"
#include "stack/state.h"
#include "stack/template.h"
#include "util/error.h"

static void free_names(struct dc_strlist *names)
{
	for (size_t i = 0; i < names->n; i++)
		free((void *)names->v[i]);
	dc_strlist_dispose(names);
}

static json_t *architectures(const struct dc_strlist *archs)
{
	json_t *list = json_array();
	for (size_t i = 0; i < archs->n; i++) {
		struct dc_template *t;
		const char *summary = "";
		int ok = dc_template_load(&t, dc_template_root(), archs->v[i], NULL) == 0;
		if (ok && t->summary)
			summary = t->summary;
		json_array_append_new(list, json_pack("{s:s, s:s}", "arch", archs->v[i], "summary",
						      ok ? summary : dc_error_last()->message));
		if (ok)
			dc_template_free(t);
	}
	return list;
}

static json_t *stacks(struct dc_cli *cli, const struct dc_strlist *names)
{
	json_t *list = json_array();
	for (size_t i = 0; i < names->n; i++) {
		json_t *doc;
		int ok = dc_state_load(&doc, cli->state, names->v[i]) == 0;
		json_array_append_new(list, json_pack("{s:s, s:s}", "name", names->v[i], "arch",
						      ok ? json_string_value(json_object_get(doc, "arch"))
							 : "(unreadable state)"));
		if (ok)
			json_decref(doc);
	}
	return list;
}

static void print_text(const json_t *archs, const json_t *deployed)
{
	size_t i;
	json_t *v;
	printf("architectures:\n");
	json_array_foreach(archs, i, v)
		printf("  %-24s %s\n", json_string_value(json_object_get(v, "arch")),
		       json_string_value(json_object_get(v, "summary")));
	printf("stacks:\n");
	if (json_array_size(deployed) == 0)
		printf("  (none)\n");
	json_array_foreach(deployed, i, v)
		printf("  %-24s %s\n", json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "arch")));
}

int cmd_list(struct dc_cli *cli, const struct dc_strlist *args)
{
	struct dc_strlist archs = { 0 }, names = { 0 };
	if (args->n)
		return dc_cli_usage_error("list takes no arguments");
	if (dc_template_list(&archs, dc_template_root()) < 0 ||
	    dc_state_list(cli->state, &names) < 0) {
		free_names(&archs);
		return dc_cli_fail(DC_EXIT_FAILED);
	}
	json_t *a = architectures(&archs), *s = stacks(cli, &names);
	if (cli->output == DC_OUTPUT_JSON) {
		json_t *o = json_pack("{s:o, s:o}", "architectures", a, "stacks", s);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		print_text(a, s);
		json_decref(a);
		json_decref(s);
	}
	free_names(&archs);
	free_names(&names);
	return DC_EXIT_OK;
}
