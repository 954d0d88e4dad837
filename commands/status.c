/* deployctl status: what state knows of each stack and its resources. */
#include <jansson.h>

#include "commands/commands.h"
#include "commands/stack_print.h"
#include "stack/state.h"
#include "util/error.h"

static int show(struct dc_cli *cli, const char *name, json_t *all)
{
	json_t *doc;
	int rc = dc_state_load(&doc, cli->state, name);
	if (rc == DC_ENOTFOUND)
		return dc_cli_usage_error("no stack '%s'; see 'deployctl list'", name);
	if (rc < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	if (cli->output == DC_OUTPUT_JSON)
		json_array_append_new(all, dc_stack_summary(doc));
	else
		dc_print_stack_text(doc);
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
