/* Shared by the fuzz targets. */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

char *fuzz_strndup(const uint8_t *data, size_t n)
{
	char *s = dc_xmalloc(n + 1);
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

int fuzz_part(struct fuzz_in *in, int sep, const uint8_t **part, size_t *n)
{
	if (in->done)
		return 0;
	const uint8_t *end = in->n ? memchr(in->p, sep, in->n) : NULL;
	*part = in->p;
	*n = end ? (size_t)(end - in->p) : in->n;
	in->p += *n + (end != NULL);
	in->n -= *n + (end != NULL);
	in->done = end == NULL;
	return 1;
}

static char tmpdir[256];

static void remove_tmpdir(void)
{
	char cmd[300];
	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", tmpdir);
}

const char *fuzz_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/deployctl-fuzz-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(remove_tmpdir);
	return tmpdir;
}

void fuzz_write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n) || close(fd) < 0) {
		perror(path);
		abort();
	}
}
