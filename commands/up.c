/* deployctl up: create a stack from a template, or bring an existing one up
 * to date, and print its URL. */
#include "commands/commands.h"
#include "commands/stack_print.h"
#include "stack/engine.h"
#include "util/error.h"

static const char *name_arg;
static struct dc_strlist param_args;
static int dry_run_flag;
static const char *parallel_arg;
static const char *target_arg;

const struct dc_opt up_opts[] = {
	{ DC_OPT_STRING, "name", 'n', &name_arg, "NAME", "stack name (default: the architecture's name)" },
	{ DC_OPT_LIST, "param", 'p', &param_args, "NAME=VALUE", "set a template param (repeatable)" },
	{ DC_OPT_FLAG, "dry-run", 0, &dry_run_flag, NULL, "print the plan; change nothing" },
	{ DC_OPT_STRING, "parallel", 0, &parallel_arg, "N", "resources worked on at once (default 4)" },
	{ DC_OPT_STRING, "target", 't', &target_arg, "aws|local", "where the stack runs: AWS (default) or this machine, no account needed" },
	DC_OPT_TABLE_END
};

static int parse_parallel(int *out)
{
	char *end;
	long n = parallel_arg ? strtol(parallel_arg, &end, 10) : DC_ENGINE_PARALLEL;
	if (parallel_arg && (*end || n < 1 || n > 64))
		return dc_cli_usage_error("--parallel must be a number from 1 to 64, not '%s'",
					  parallel_arg);
	*out = (int)n;
	return 0;
}

static int report(struct dc_cli *cli, const char *name, int rc, struct dc_engine_result *res)
{
	if (rc < 0) {
		int left = res->doc && json_object_size(json_object_get(res->doc, "resources"));
		return dc_cli_fail(left ? DC_EXIT_PARTIAL : DC_EXIT_FAILED);
	}
	if (cli->output == DC_OUTPUT_JSON) {
		dc_print_stack_json(res->doc, res->calls);
		return DC_EXIT_OK;
	}
	const char *url = json_string_value(json_object_get(json_object_get(res->doc, "outputs"),
							    "url"));
	printf("%s\n", url ? url : "");
	if (!cli->quiet)
		fprintf(stderr,
			"stack '%s' is up: %d created, %d updated, %d replaced, %d deleted, "
			"%d unchanged; %ld AWS calls%s\n",
			name, res->created, res->updated, res->replaced, res->deleted,
			res->unchanged, res->calls,
			json_object_get(res->doc, "local") ? " (to the local emulator)" : "");
	return DC_EXIT_OK;
}

static int run(struct dc_cli *cli, struct dc_template *t, const char *name, int parallel)
{
	if (dry_run_flag) {
		if (dc_engine_plan(stdout, cli->state, name, t) < 0)
			return dc_cli_fail(DC_EXIT_FAILED);
		return DC_EXIT_OK;
	}
	struct dc_state_lock *lock;
	if (dc_state_lock(&lock, cli->state, name) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	struct dc_engine_options opt;
	struct dc_engine_result res;
	dc_cli_engine_options(cli, &opt);
	opt.parallel = parallel;
	opt.target = target_arg;
	int rc = dc_engine_up(&res, cli->state, name, t, &opt);
	int code = report(cli, name, rc, &res);
	dc_engine_result_dispose(&res);
	dc_state_unlock(lock);
	return code;
}

int cmd_up(struct dc_cli *cli, const struct dc_strlist *args)
{
	struct dc_template *t;
	int parallel = DC_ENGINE_PARALLEL, code;
	if (args->n != 1)
		code = dc_cli_usage_error("up needs one ARCH; see 'deployctl list'");
	else if (target_arg && strcmp(target_arg, "aws") != 0 && strcmp(target_arg, "local") != 0)
		code = dc_cli_usage_error("--target must be 'aws' or 'local', not '%s'", target_arg);
	else if ((code = parse_parallel(&parallel)) != 0)
		;
	else if (dc_template_load(&t, dc_template_root(), args->v[0], &param_args) < 0)
		code = dc_cli_fail(DC_EXIT_USAGE);
	else {
		code = run(cli, t, name_arg ? name_arg : args->v[0], parallel);
		dc_template_free(t);
	}
	dc_strlist_dispose(&param_args);
	return code;
}
