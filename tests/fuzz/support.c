/* Shared by the fuzz targets. */
#include "fuzz.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local/server.h"
#include "local/supervisor.h"
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

/* ---- the local target's supervisor ---- */

struct sv_fn *fuzz_sv_function(void)
{
	static struct sv_fn fn;
	if (fn.name)
		return &fn;
	pthread_mutex_init(&sv.mu, NULL);
	pthread_cond_init(&sv.cond, NULL);
	fn.name = dc_xstrdup("fn");
	fn.arn = dc_xstrdup("arn:aws:lambda:local:000000000000:function:fn");
	fn.timeout_ms = 60000;
	fn.memory_mb = 128;
	sv.fns = &fn;
	return &fn;
}

int fuzz_sv_queued(struct sv_fn *fn)
{
	pthread_mutex_lock(&sv.mu);
	int queued = fn->queue != NULL;
	pthread_mutex_unlock(&sv.mu);
	return queued;
}

int fuzz_runtime_call(struct sv_fn *fn, const char *method, const char *target,
		      const void *body, size_t n, char *id)
{
	struct dc_server_request req = { .method = method, .target = target,
					 .version = "HTTP/1.1", .headers = DC_HEADERS_INIT,
					 .body = DC_BUF_INIT(DC_SERVER_MAX_BODY), .fd = -1,
					 .peer = "127.0.0.1" };
	struct dc_server_response res = { 200, DC_HEADERS_INIT, DC_BUF_INIT(DC_SERVER_MAX_BODY) };
	const char *q = strchr(target, '?');
	char *path = dc_xstrndup(target, q ? (size_t)(q - target) : strlen(target));
	req.path = path;
	req.query = q ? q + 1 : "";
	dc_buf_put(&req.body, body, n);
	sv_runtime_handler(fn, &req, &res);
	const char *got = dc_headers_get(&res.headers, "Lambda-Runtime-Aws-Request-Id");
	if (got && id)
		snprintf(id, 64, "%s", got);
	int status = res.status;
	dc_headers_dispose(&req.headers);
	dc_buf_dispose(&req.body);
	dc_headers_dispose(&res.headers);
	dc_buf_dispose(&res.body);
	free(path);
	return status;
}
