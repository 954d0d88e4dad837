/* How a command tells the user it failed: one line on stderr, prefixed with
 * the program's name, and an exit code (libgit2's cli/error.h). */
#include <stdarg.h>

#include "commands/commands.h"
#include "util/error.h"

int dc_cli_fail(int code)
{
	fprintf(stderr, "deployctl: %s\n", dc_error_last()->message);
	return code;
}

int dc_cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("deployctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DC_EXIT_USAGE;
}
