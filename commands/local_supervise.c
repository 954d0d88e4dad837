/* deployctl local-supervise (hidden): the supervisor of one local stack,
 * started in the background by `up --target local` and stopped by
 * `destroy` (cli/local/local.h). */
#include "commands/commands.h"
#include "local/local.h"

static const char *stack_arg;

const struct dc_opt local_supervise_opts[] = {
	{ DC_OPT_STRING, "stack", 0, &stack_arg, "NAME", "the local stack to supervise" },
	DC_OPT_TABLE_END
};

int cmd_local_supervise(struct dc_cli *cli, const struct dc_strlist *args)
{
	if (!stack_arg || args->n)
		return dc_cli_usage_error("local-supervise needs --stack NAME and no arguments");
	const char *dir = cli->state_dir ? cli->state_dir : getenv("DEPLOYCTL_STATE_DIR");
	return dc_local_supervise(dir && *dir ? dir : ".deployctl", stack_arg);
}
