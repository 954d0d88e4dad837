/* The subcommands. Each lives in commands/<name>.c, declares its options as
 * a table and is listed once in cli/main.c's commands[]. A command reads its
 * options, calls the layers below and prints; it returns an exit code. */
#ifndef DC_COMMANDS_H
#define DC_COMMANDS_H

#include "opt.h"

struct dc_aws;
struct dc_state;
struct dc_engine_options;

enum dc_exit {
	DC_EXIT_OK = 0,
	DC_EXIT_FAILED = 1,
	DC_EXIT_USAGE = 2,
	DC_EXIT_PARTIAL = 3 /* a stack was left partly in place */
};

/* Setup the command needs before it runs, done centrally in main.c. */
enum dc_cmd_flags {
	DC_CMD_NEEDS_AWS = 1 << 0,   /* an AWS client (config loaded) */
	DC_CMD_NEEDS_REGION = 1 << 1, /* ... with a region configured */
	DC_CMD_NEEDS_STATE = 1 << 2,  /* the state directory, opened (created if absent) */
	DC_CMD_HIDDEN = 1 << 3        /* internal: not in the command list */
};

enum dc_output { DC_OUTPUT_TEXT, DC_OUTPUT_JSON, DC_OUTPUT_CSV /* bench, cost */ };

/* What every command gets: the global options and the shared setup. */
struct dc_cli {
	const char *region;
	const char *profile;
	const char *endpoint_url;
	enum dc_output output;
	int debug;
	int quiet;
	const char *state_dir;
	long connect_timeout_ms; /* --cli-connect-timeout; 0: the default */
	long read_timeout_ms;    /* --cli-read-timeout; 0: the default */
	struct dc_aws *aws;     /* set when the command has DC_CMD_NEEDS_AWS */
	struct dc_state *state; /* set when the command has DC_CMD_NEEDS_STATE */
};

struct dc_command {
	const char *name;
	int (*fn)(struct dc_cli *cli, const struct dc_strlist *args);
	unsigned flags;
	const struct dc_opt *opts;
	const char *usage;   /* "whoami [--output json]" */
	const char *summary; /* one line for the command list */
};

/* Print "deployctl: <message>" for the last error and return `code`. */
int dc_cli_fail(int code);
/* Print "deployctl: <formatted>" and return DC_EXIT_USAGE. */
int dc_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Engine options from the global options: progress on stderr when it is a
 * terminal and --quiet is not given. */
void dc_cli_engine_options(const struct dc_cli *cli, struct dc_engine_options *out);

int cmd_up(struct dc_cli *cli, const struct dc_strlist *args);
extern const struct dc_opt up_opts[];
int cmd_destroy(struct dc_cli *cli, const struct dc_strlist *args);
extern const struct dc_opt destroy_opts[];
int cmd_status(struct dc_cli *cli, const struct dc_strlist *args);
int cmd_list(struct dc_cli *cli, const struct dc_strlist *args);
int cmd_history(struct dc_cli *cli, const struct dc_strlist *args);
int cmd_whoami(struct dc_cli *cli, const struct dc_strlist *args);
extern const struct dc_opt whoami_opts[];
int cmd_local_supervise(struct dc_cli *cli, const struct dc_strlist *args);
extern const struct dc_opt local_supervise_opts[];
int cmd_api(struct dc_cli *cli, const struct dc_strlist *args);
extern const struct dc_opt api_opts[];
int cmd_bench(struct dc_cli *cli, const struct dc_strlist *args);
extern const struct dc_opt bench_opts[];
int cmd_cost(struct dc_cli *cli, const struct dc_strlist *args);
extern const struct dc_opt cost_opts[];

#endif
