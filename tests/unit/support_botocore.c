#include "support_botocore.h"

#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The unit tests run from tests/ (make unit); allow the repository root too. */
static const char *oracle_path(void)
{
	static const char *const candidates[] = { "tools/botocore_oracle.py",
						  "tests/tools/botocore_oracle.py" };
	for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates); i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	return NULL;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int read_all(struct dc_buf *b, FILE *f)
{
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (dc_buf_put(b, chunk, n) < 0)
			return -1;
	return ferror(f) ? -1 : 0;
}

char *dc_test_botocore(const char *command, const char *input)
{
	const char *script = oracle_path();
	if (!script) {
		dc_test_fail(__FILE__, __LINE__, "botocore_oracle.py not found (run from tests/)");
		return NULL;
	}
	char *in = dc_xasprintf("%s/oracle-%s.txt", dc_test_tmpdir(), command);
	char *cmd = dc_xasprintf("python3 %s %s < %s", script, command, in);
	struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
	char *result = NULL;
	if (write_file(in, input) < 0) {
		dc_test_fail(__FILE__, __LINE__, "cannot write '%s'", in);
		goto done;
	}
	fflush(NULL);
	FILE *p = popen(cmd, "r");
	if (!p) {
		dc_test_fail(__FILE__, __LINE__, "cannot run '%s'", cmd);
		goto done;
	}
	int rd = read_all(&b, p);
	int status = pclose(p);
	if (rd < 0 || status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		dc_test_fail(__FILE__, __LINE__, "'%s' failed (status %d)", cmd, status);
		goto done;
	}
	result = dc_buf_take(&b);
done:
	dc_buf_dispose(&b);
	free(cmd);
	free(in);
	return result;
}

int dc_test_next_row(char **cursor, const char **fields, int max)
{
	char *line = *cursor;
	if (!line || !*line)
		return -1;
	char *nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = line + strlen(line);
	}
	int n = 0;
	char *save = NULL;
	for (char *f = line; n < max; f = save + 1) {
		save = strchr(f, '\t');
		if (save)
			*save = '\0';
		fields[n++] = strcmp(f, "-") == 0 ? NULL : f;
		if (!save)
			break;
	}
	return n;
}
