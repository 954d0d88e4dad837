/* deployctl destroy: delete every resource of the named stacks (or all),
 * and with --sweep what their tags or names give away that state lost. */
#include "commands/commands.h"
#include "stack/engine.h"
#include "util/error.h"
#include "util/xalloc.h"

static int all_flag;
static int sweep_flag;
static const char *parallel_arg;

const struct dc_opt destroy_opts[] = {
	{ DC_OPT_FLAG, "all", 'a', &all_flag, NULL, "destroy every stack in state" },
	{ DC_OPT_FLAG, "sweep", 0, &sweep_flag, NULL, "also delete leftovers found by tag or name" },
	{ DC_OPT_STRING, "parallel", 0, &parallel_arg, "N", "resources worked on at once (default 4)" },
	DC_OPT_TABLE_END
};

static void print_left(const json_t *doc)
{
	const char *id;
	json_t *r;
	json_object_foreach(json_object_get(doc, "resources"), id, r) {
		json_t *pid = json_object_get(json_object_get(r, "attrs"), "id");
		const char *type = json_string_value(json_object_get(r, "type"));
		fprintf(stderr, "  left: %s (%s %s)\n", id, type ? type : "unknown type",
			json_is_string(pid) ? json_string_value(pid) : "not recorded");
	}
}

static int destroy_one(struct dc_cli *cli, const char *name)
{
	struct dc_state_lock *lock;
	struct dc_engine_options opt;
	struct dc_engine_result res;
	if (dc_state_lock(&lock, cli->state, name) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	dc_cli_engine_options(cli, &opt);
	opt.parallel = parallel_arg ? (int)strtol(parallel_arg, NULL, 10) : 0;
	int rc = dc_engine_destroy(&res, cli->state, name, sweep_flag, &opt);
	int code = DC_EXIT_OK;
	if (rc < 0) {
		int left = res.doc && json_object_size(json_object_get(res.doc, "resources"));
		code = dc_cli_fail(left ? DC_EXIT_PARTIAL : DC_EXIT_FAILED);
		if (left)
			print_left(res.doc);
	} else if (!cli->quiet) {
		fprintf(stderr, "destroyed stack '%s': %d resources deleted; %ld AWS calls\n", name,
			res.deleted, res.calls);
	}
	dc_engine_result_dispose(&res);
	dc_state_unlock(lock);
	return code;
}

int cmd_destroy(struct dc_cli *cli, const struct dc_strlist *args)
{
	struct dc_strlist names = { 0 };
	if (all_flag == (args->n > 0))
		return dc_cli_usage_error("destroy needs stack names or --all, not both");
	if (all_flag && dc_state_list(cli->state, &names) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	const struct dc_strlist *list = all_flag ? &names : args;
	int code = DC_EXIT_OK;
	for (size_t i = 0; i < list->n; i++) {
		int c = destroy_one(cli, list->v[i]);
		if (c > code)
			code = c;
	}
	if (all_flag) {
		for (size_t i = 0; i < names.n; i++)
			free((void *)names.v[i]);
		dc_strlist_dispose(&names);
	}
	return code;
}
