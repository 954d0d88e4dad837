/* Option tables: each command describes its options as data, with the help
 * text beside each one, and one parser reads them (git's parse-options,
 * libgit2's cli_opt). Global options are a second table accepted anywhere
 * on the command line, as the AWS CLI accepts its own. */
#ifndef DC_OPT_H
#define DC_OPT_H

#include <stdio.h>

enum dc_opt_kind {
	DC_OPT_FLAG,   /* int, set to 1 */
	DC_OPT_STRING, /* const char *, points into argv */
	DC_OPT_LIST,   /* struct dc_strlist, each occurrence appended */
	DC_OPT_END
};

struct dc_strlist {
	const char **v;
	size_t n;
	size_t cap;
};

void dc_strlist_push(struct dc_strlist *l, const char *s);
void dc_strlist_dispose(struct dc_strlist *l);

struct dc_opt {
	enum dc_opt_kind kind;
	const char *long_name; /* without "--" */
	char short_name;       /* 0: none */
	void *dest;
	const char *arg_name;  /* shown in help: "NAME" */
	const char *help;
};

#define DC_OPT_TABLE_END { DC_OPT_END, NULL, 0, NULL, NULL, NULL }

/* Parse argv[0..argc) against the command's table and the global table
 * (either may be NULL). Positional arguments are collected into *args, in
 * order; "--" ends option parsing. On a bad option, -1 with a message. */
int dc_opt_parse(const struct dc_opt *cmd, const struct dc_opt *global, int argc, char **argv,
		 struct dc_strlist *args);

/* Print the options of a table as help lines. */
void dc_opt_print_help(FILE *out, const struct dc_opt *opts);

#endif
