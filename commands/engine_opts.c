/* Engine options from the global options, shared by up and destroy. */
#include <unistd.h>

#include "commands/commands.h"
#include "stack/engine.h"

void dc_cli_engine_options(const struct dc_cli *cli, struct dc_engine_options *out)
{
	memset(out, 0, sizeof(*out));
	out->aws.config.profile = cli->profile;
	out->aws.config.region = cli->region;
	out->aws.config.endpoint_url = cli->endpoint_url;
	out->aws.debug = cli->debug ? stderr : NULL;
	out->aws.connect_timeout_ms = cli->connect_timeout_ms;
	out->aws.read_timeout_ms = cli->read_timeout_ms;
	out->aws.need_region = 1;
	/* Progress is for a person watching; scripts and logs get results only. */
	if (!cli->quiet && (isatty(STDERR_FILENO) || getenv("DEPLOYCTL_PROGRESS")))
		out->progress = stderr;
}
