/* deployctl history: the state repository's log, an audit of every change
 * deployctl made. */
#include <jansson.h>

#include "commands/commands.h"
#include "stack/state.h"
#include "util/error.h"

struct shown {
	struct dc_cli *cli;
	long n;
};

static int print_entry(const struct dc_state_entry *e, void *arg)
{
	struct shown *shown = arg;
	struct dc_cli *cli = shown->cli;
	shown->n++;
	struct tm tm;
	char when[32];
	gmtime_r(&e->when, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (cli->output == DC_OUTPUT_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "commit", e->commit, "time", when,
				      "message", e->message);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		printf("%s  %.7s  %s\n", when, e->commit, e->message);
	}
	return 0;
}

int cmd_history(struct dc_cli *cli, const struct dc_strlist *args)
{
	if (args->n > 1)
		return dc_cli_usage_error("history takes at most one stack NAME");
	struct shown shown = { cli, 0 };
	if (dc_state_history(cli->state, args->n ? args->v[0] : NULL, print_entry, &shown) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	/* A name that no commit touched is a typo, not an empty history. */
	if (args->n && shown.n == 0)
		return dc_cli_usage_error("no stack '%s' in the history; see 'deployctl list'",
					  args->v[0]);
	return DC_EXIT_OK;
}
