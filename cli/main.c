/* deployctl's entry point: global options, the command table, and the setup
 * and checks every command shares (git's run_builtin). */
#include <errno.h>
#include <sys/stat.h>

#include "aws/client.h"
#include "commands/commands.h"
#include "stack/state.h"
#include "util/error.h"

static int cmd_help(struct dc_cli *cli, const struct dc_strlist *args);
static int cmd_version(struct dc_cli *cli, const struct dc_strlist *args);

static const struct dc_command commands[] = {
	{ "api", cmd_api, DC_CMD_NEEDS_AWS | DC_CMD_NEEDS_REGION, api_opts,
	  "api SERVICE METHOD PATH [-H 'Name: value']... [-d DATA|@FILE] [-i] [--dry-run]",
	  "send a signed request to any AWS API and print the answer" },
	{ "bench", cmd_bench, 0, bench_opts,
	  "bench [NAME...] [--url URL] [-n N] [-c N] [--duration S] [--cold N] [--report FILE.html]",
	  "measure the latency of deployed stacks (or a URL), with their cost" },
	{ "cost", cmd_cost, 0, cost_opts,
	  "cost [ARCH...] [--calls-per-month N] [--prices FILE|NAME|live] [--explain]",
	  "what each architecture costs a month and per million calls" },
	{ "destroy", cmd_destroy, DC_CMD_NEEDS_STATE, destroy_opts,
	  "destroy NAME... | --all [--sweep]",
	  "delete every resource of stacks, and their state" },
	{ "help", cmd_help, 0, NULL, "help [COMMAND]", "show help for deployctl or a command" },
	{ "history", cmd_history, DC_CMD_NEEDS_STATE, NULL, "history [NAME]",
	  "show what deployctl did, newest first (the state's git log)" },
	{ "list", cmd_list, DC_CMD_NEEDS_STATE, NULL, "list",
	  "list the architectures and the deployed stacks" },
	{ "local-supervise", cmd_local_supervise, DC_CMD_HIDDEN, local_supervise_opts,
	  "local-supervise --stack NAME [--state-dir DIR]",
	  "run a local stack's supervisor (started by 'up --target local')" },
	{ "status", cmd_status, DC_CMD_NEEDS_STATE, NULL, "status [NAME]",
	  "show stacks and the state of each of their resources" },
	{ "up", cmd_up, DC_CMD_NEEDS_STATE, up_opts,
	  "up ARCH [--name NAME] [--param NAME=VALUE]... [--target aws|local] [--dry-run] "
	  "[--parallel N]",
	  "create a stack of an architecture, or bring it up to date; print its URL" },
	{ "version", cmd_version, 0, NULL, "version", "print deployctl's version" },
	{ "whoami", cmd_whoami, DC_CMD_NEEDS_AWS | DC_CMD_NEEDS_REGION, whoami_opts, "whoami",
	  "show the AWS account, identity and region in use" },
};

static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

static struct dc_cli cli;
static const char *output_arg;
static const char *connect_timeout_arg;
static const char *read_timeout_arg;
static int help_flag;
static int version_flag;

static const struct dc_opt global_opts[] = {
	{ DC_OPT_STRING, "region", 0, &cli.region, "REGION", "AWS region (else AWS_REGION, the profile)" },
	{ DC_OPT_STRING, "profile", 0, &cli.profile, "NAME", "profile of ~/.aws/config to use" },
	{ DC_OPT_STRING, "endpoint-url", 0, &cli.endpoint_url, "URL", "send every request to URL" },
	{ DC_OPT_STRING, "state-dir", 0, &cli.state_dir, "DIR", "state directory (else DEPLOYCTL_STATE_DIR, .deployctl)" },
	{ DC_OPT_STRING, "output", 'o', &output_arg, "text|json|csv", "output format (default text; csv: bench and cost)" },
	{ DC_OPT_STRING, "cli-connect-timeout", 0, &connect_timeout_arg, "SECONDS", "wait this long for a connection (default 10)" },
	{ DC_OPT_STRING, "cli-read-timeout", 0, &read_timeout_arg, "SECONDS", "give up when an answer stalls this long (default 60)" },
	{ DC_OPT_FLAG, "debug", 0, &cli.debug, NULL, "log requests and answers on stderr, secrets redacted" },
	{ DC_OPT_FLAG, "quiet", 'q', &cli.quiet, NULL, "print results only, no progress" },
	{ DC_OPT_FLAG, "help", 'h', &help_flag, NULL, "show help" },
	{ DC_OPT_FLAG, "version", 0, &version_flag, NULL, "print the version" },
	DC_OPT_TABLE_END
};

static const struct dc_command *find_command(const char *name)
{
	for (size_t i = 0; i < ncommands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void print_main_help(FILE *out)
{
	fputs("usage: deployctl [global options] COMMAND [options] [args]\n\n"
	      "Create, benchmark and destroy small web services on AWS, calling the AWS APIs\n"
	      "directly.\n\ncommands:\n",
	      out);
	for (size_t i = 0; i < ncommands; i++)
		if (!(commands[i].flags & DC_CMD_HIDDEN))
			fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nglobal options:\n", out);
	dc_opt_print_help(out, global_opts);
	fputs("\nRun 'deployctl help COMMAND' for a command's options; 'man deployctl' for more.\n",
	      out);
}

static void print_command_help(FILE *out, const struct dc_command *c)
{
	fprintf(out, "usage: deployctl %s\n\n%s\n", c->usage, c->summary);
	if (c->opts && c->opts[0].kind != DC_OPT_END) {
		fputs("\noptions:\n", out);
		dc_opt_print_help(out, c->opts);
	}
	fputs("\nglobal options:\n", out);
	dc_opt_print_help(out, global_opts);
}

static int cmd_help(struct dc_cli *c, const struct dc_strlist *args)
{
	if (args->n == 0) {
		print_main_help(stdout);
		return DC_EXIT_OK;
	}
	const struct dc_command *cmd = find_command(args->v[0]);
	if (!cmd)
		return dc_cli_usage_error("no command '%s'; see 'deployctl --help'", args->v[0]);
	print_command_help(stdout, cmd);
	return DC_EXIT_OK;
}

static int cmd_version(struct dc_cli *c, const struct dc_strlist *args)
{
	printf("deployctl %s\n", DC_VERSION);
	return DC_EXIT_OK;
}

static int parse_output(void)
{
	if (!output_arg || strcmp(output_arg, "text") == 0)
		cli.output = DC_OUTPUT_TEXT;
	else if (strcmp(output_arg, "json") == 0)
		cli.output = DC_OUTPUT_JSON;
	else if (strcmp(output_arg, "csv") == 0)
		cli.output = DC_OUTPUT_CSV;
	else
		return dc_cli_usage_error("--output must be 'text', 'json' or 'csv', not '%s'",
					  output_arg);
	return 0;
}

/* A timeout in whole seconds, as the AWS CLI's --cli-read-timeout takes it. */
static int parse_seconds(long *out, const char *arg, const char *name)
{
	char *end;
	long n = arg ? strtol(arg, &end, 10) : 0;
	if (arg && (end == arg || *end || n < 1 || n > 3600))
		return dc_cli_usage_error("--%s must be a whole number of seconds from 1 to 3600, "
					  "not '%s'", name, arg);
	*out = n * 1000;
	return 0;
}

/* Central setup for a command's flags, so no command repeats it. */
static int setup(const struct dc_command *cmd)
{
	if ((cmd->flags & DC_CMD_NEEDS_STATE) && dc_state_open(&cli.state, cli.state_dir) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	if (!(cmd->flags & DC_CMD_NEEDS_AWS))
		return DC_EXIT_OK;
	struct dc_aws_options opt = {
		.config = { cli.profile, cli.region, cli.endpoint_url },
		.debug = cli.debug ? stderr : NULL,
		.need_region = (cmd->flags & DC_CMD_NEEDS_REGION) != 0,
		.connect_timeout_ms = cli.connect_timeout_ms,
		.read_timeout_ms = cli.read_timeout_ms,
	};
	if (dc_aws_new(&cli.aws, &opt) < 0)
		return dc_cli_fail(DC_EXIT_FAILED);
	return DC_EXIT_OK;
}

/* A result that did not reach stdout (full disk, closed pipe) is a failure. */
static int finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "deployctl: cannot write the output: %s\n", strerror(errno));
		return code ? code : DC_EXIT_FAILED;
	}
	return code;
}

static int run(const struct dc_command *cmd, int argc, char **argv)
{
	struct dc_strlist args = { 0 };
	int code;
	if (dc_opt_parse(cmd->opts, global_opts, argc, argv, &args) < 0) {
		code = dc_cli_usage_error("%s; see 'deployctl help %s'", dc_error_last()->message,
					  cmd->name);
		goto done;
	}
	if (help_flag) {
		print_command_help(stdout, cmd);
		code = DC_EXIT_OK;
		goto done;
	}
	if ((code = parse_output()) != 0 ||
	    (code = parse_seconds(&cli.connect_timeout_ms, connect_timeout_arg,
				  "cli-connect-timeout")) != 0 ||
	    (code = parse_seconds(&cli.read_timeout_ms, read_timeout_arg, "cli-read-timeout")) != 0 ||
	    (code = setup(cmd)) != 0)
		goto done;
	code = cmd->fn(&cli, &args);
done:
	dc_aws_free(cli.aws);
	cli.aws = NULL;
	dc_state_free(cli.state);
	cli.state = NULL;
	dc_strlist_dispose(&args);
	return finish_stdout(code);
}

/* The command is the first argument that is neither a global option nor the
 * value of one, so "deployctl --region x whoami" works as the AWS CLI does. */
static int find_command_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return i;
		if (strchr(a, '='))
			continue;
		for (const struct dc_opt *o = global_opts; o->kind != DC_OPT_END; o++) {
			int is_long = a[1] == '-' && strcmp(a + 2, o->long_name) == 0;
			int is_short = a[1] != '-' && o->short_name && a[1] == o->short_name && !a[2];
			if ((is_long || is_short) && o->kind != DC_OPT_FLAG)
				i++;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	/* State, its git objects, logs and reports describe the user's account:
	 * whatever deployctl creates is for the user alone (0600/0700). */
	umask(077);
	int at = find_command_index(argc, argv);
	if (at < 0) {
		struct dc_strlist args = { 0 };
		int rc = dc_opt_parse(NULL, global_opts, argc - 1, argv + 1, &args);
		dc_strlist_dispose(&args);
		if (rc < 0)
			return dc_cli_usage_error("%s; see 'deployctl --help'", dc_error_last()->message);
		if (version_flag)
			return finish_stdout(cmd_version(&cli, NULL));
		print_main_help(help_flag ? stdout : stderr);
		return finish_stdout(help_flag ? DC_EXIT_OK : DC_EXIT_USAGE);
	}
	const struct dc_command *cmd = find_command(argv[at]);
	if (!cmd)
		return dc_cli_usage_error("'%s' is not a deployctl command; see 'deployctl --help'",
					  argv[at]);
	/* Global options may stand before the command: hand them over too. */
	for (int i = at; i > 1; i--)
		argv[i] = argv[i - 1];
	return run(cmd, argc - 2, argv + 2);
}
