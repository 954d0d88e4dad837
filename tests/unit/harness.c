#include "harness.h"

#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"

static int current_failed;
static char tmpdir[256];

void dc_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	current_failed = 1;
}

int dc_test_str_eq(const char *file, int line, const char *expr, const char *got,
		   const char *want)
{
	if (got == want || (got && want && strcmp(got, want) == 0))
		return 1;
	dc_test_fail(file, line, "%s:\n      got:  \"%s\"\n      want: \"%s\"", expr,
		     got ? got : "(null)", want ? want : "(null)");
	return 0;
}

int dc_test_mem_eq(const char *file, int line, const char *expr, const void *got,
		   size_t got_len, const void *want, size_t want_len)
{
	if (got_len == want_len && memcmp(got, want, got_len) == 0)
		return 1;
	dc_test_fail(file, line, "%s: %zu bytes differ from the %zu expected", expr, got_len,
		     want_len);
	return 0;
}

const char *dc_test_shared_dir(void)
{
	const char *dir = getenv("DC_SHARED_DIR");
	return dir ? dir : "../shared";
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char child[1024];
			snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
			remove_tree(child);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

const char *dc_test_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/deployctl-test-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			abort();
		}
	}
	return tmpdir;
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	for (const struct dc_test_case *t = dc_test_cases; t->name; t++) {
		if (!selected(t->name, argc, argv))
			continue;
		current_failed = 0;
		t->fn();
		if (tmpdir[0]) {
			remove_tree(tmpdir);
			tmpdir[0] = '\0';
		}
		if (current_failed) {
			fprintf(stderr, "FAIL %s\n", t->name);
			failed++;
		} else {
			passed++;
		}
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
