/* deployctl status: what state knows of each stack and its resources. */
#include <jansson.h>

#include "commands/commands.h"
#include "commands/stack_print.h"
#include "local/local.h"
#include "stack/state.h"
#include "util/error.h"

/* A local stack's supervisor and its processes, as they are now. */
static void print_local(const json_t *st)
{
	if (!json_is_true(json_object_get(st, "running"))) {
		printf("  local supervisor not running: 'deployctl up' starts it again\n");
		return;
	}
	printf("  local supervisor pid %d, logs in %s\n",
	       (int)json_integer_value(json_object_get(st, "pid")),
	       json_string_value(json_object_get(st, "logs")));
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(st, "processes"), i, p)
		printf("    %-30s pid %-7d %-5s restarts %d\n",
		       json_string_value(json_object_get(p, "name")),
		       (int)json_integer_value(json_object_get(p, "pid")),
		       json_is_true(json_object_get(p, "alive")) ? "up" : "down",
		       (int)json_integer_value(json_object_get(p, "restarts")));
}

static int is_local(const json_t *doc)
{
	const char *target = json_string_value(json_object_get(doc, "target"));
	return target && strcmp(target, DC_LOCAL_TARGET) == 0;
}

static int show(struct dc_cli *cli, const char *name, json_t *all)
{
	json_t *doc;
	int rc = dc_state_load(&doc, cli->state, name);
	if (rc == DC_ENOTFOUND)
		return dc_cli_usage_error("no stack '%s'; see 'deployctl list'", name);
	if (rc < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	json_t *local = is_local(doc) ? dc_local_status(dc_state_dir(cli->state), name) : NULL;
	if (cli->output == DC_OUTPUT_JSON) {
		json_t *summary = dc_stack_summary(doc);
		if (local)
			json_object_set(summary, "local", local);
		json_array_append_new(all, summary);
	} else {
		dc_print_stack_text(doc);
		if (local)
			print_local(local);
	}
	json_decref(local);
	json_decref(doc);
	return DC_EXIT_OK;
}

static void free_names(struct dc_strlist *names)
{
	for (size_t i = 0; i < names->n; i++)
		free((void *)names->v[i]);
	dc_strlist_dispose(names);
}

int cmd_status(struct dc_cli *cli, const struct dc_strlist *args)
{
	struct dc_strlist names = { 0 };
	if (args->n > 1)
		return dc_cli_usage_error("status takes at most one stack NAME");
	if (args->n == 0 && dc_state_list(cli->state, &names) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	json_t *all = json_array();
	int code = DC_EXIT_OK;
	if (args->n == 1)
		code = show(cli, args->v[0], all);
	for (size_t i = 0; code == DC_EXIT_OK && i < names.n; i++)
		code = show(cli, names.v[i], all);
	if (code == DC_EXIT_OK && cli->output == DC_OUTPUT_JSON) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (code == DC_EXIT_OK && args->n == 0 && names.n == 0) {
		printf("no stacks; create one with 'deployctl up ARCH'\n");
	}
	json_decref(all);
	free_names(&names);
	return code;
}
