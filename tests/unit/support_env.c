#include "support_env.h"

#include <errno.h>
#include <sys/stat.h>

#include "harness.h"
#include "util/buf.h"
#include "util/xalloc.h"

extern char **environ;

static char **saved;
static size_t nsaved;

static int ours(const char *entry)
{
	return !strncmp(entry, "AWS_", 4) || !strncmp(entry, "HOME=", 5);
}

/* Names first, then unset: unsetenv changes environ under our feet. */
static void unset_ours(void)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	for (char **e = environ; *e; e++) {
		if (!ours(*e))
			continue;
		dc_xgrow((void **)&names, &cap, n + 1, sizeof(*names));
		names[n++] = dc_xstrndup(*e, strcspn(*e, "="));
	}
	for (size_t i = 0; i < n; i++) {
		unsetenv(names[i]);
		free(names[i]);
	}
	free(names);
}

void dc_test_env_begin(void)
{
	size_t cap = 0;
	for (char **e = environ; *e; e++) {
		if (!ours(*e))
			continue;
		dc_xgrow((void **)&saved, &cap, nsaved + 1, sizeof(*saved));
		saved[nsaved++] = dc_xstrdup(*e);
	}
	unset_ours();
	setenv("HOME", dc_test_tmpdir(), 1);
	/* botocore, as an oracle, must not wait for an instance metadata service. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

void dc_test_env_end(void)
{
	unset_ours();
	for (size_t i = 0; i < nsaved; i++) {
		char *eq = strchr(saved[i], '=');
		*eq = '\0';
		setenv(saved[i], eq + 1, 1);
		free(saved[i]);
	}
	free(saved);
	saved = NULL;
	nsaved = 0;
}

void dc_test_env_set(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

char *dc_test_write_file(const char *relpath, const char *text, int mode)
{
	char *path = dc_xasprintf("%s/%s", dc_test_tmpdir(), relpath);
	for (char *slash = strchr(path + strlen(dc_test_tmpdir()) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			dc_test_fail(__FILE__, __LINE__, "mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		dc_test_fail(__FILE__, __LINE__, "cannot write %s: %s", path, strerror(errno));
		return path;
	}
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

char *dc_test_python(const char *code)
{
	char *script = dc_test_write_file("oracle.py", code, 0600);
	char *cmd = dc_xasprintf("python3 '%s'", script);
	FILE *p = popen(cmd, "r");
	struct dc_buf out = DC_BUF_INIT(DC_MAX_SMALL);
	char chunk[1024];
	size_t n;
	while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		dc_buf_put(&out, chunk, n);
	int status = p ? pclose(p) : -1;
	free(cmd);
	free(script);
	if (status != 0) {
		dc_test_fail(__FILE__, __LINE__, "python3 oracle failed (status %d): %s", status,
			     dc_buf_cstr(&out));
		dc_buf_dispose(&out);
		return NULL;
	}
	if (out.len && out.ptr[out.len - 1] == '\n')
		dc_buf_truncate(&out, out.len - 1);
	return dc_buf_take(&out);
}
