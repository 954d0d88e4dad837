/* Process and file helpers of the local target. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "local/local.h"
#include "local/proc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

int dc_local_random(void *out, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dc_error_set("cannot open /dev/urandom: %s", strerror(errno));
	ssize_t r = read(fd, out, n);
	close(fd);
	if (r != (ssize_t)n)
		return dc_error_set("cannot read /dev/urandom");
	return 0;
}

void dc_local_close_from(int first)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = first; fd < max; fd++)
		close(fd);
}

char *dc_local_which(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? dc_xstrdup(name) : NULL;
	const char *path = getenv("PATH");
	char *copy = dc_xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save, *found = NULL;
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *p = dc_xasprintf("%s/%s", *d ? d : ".", name);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

int dc_local_free_port(int *out)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		 getsockname(fd, (struct sockaddr *)&a, &len) == 0;
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (!ok)
		return dc_error_set("cannot find a free loopback port: %s", strerror(e));
	*out = ntohs(a.sin_port);
	return 0;
}

int dc_local_write_json(const char *path, const json_t *doc)
{
	char *tmp = dc_xasprintf("%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = fd < 0 ? -1 : 0;
	if (rc == 0) {
		char *text = json_dumps(doc, JSON_INDENT(2));
		size_t n = strlen(text);
		rc = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 ? 0 : -1;
		free(text);
		rc |= close(fd);
	}
	if (rc == 0)
		rc = rename(tmp, path);
	if (rc < 0) {
		int e = errno;
		unlink(tmp);
		dc_error_set("cannot write '%s': %s", path, strerror(e));
	}
	free(tmp);
	return rc;
}

int dc_local_mkdirs(const char *path)
{
	char *p = dc_xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = dc_error_set("cannot make '%s': %s", p, strerror(errno));
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int rm_entry(int dirfd, const char *name);

static int rm_dir_contents(int fd)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc |= rm_entry(dirfd(d), e->d_name);
	}
	closedir(d);
	return rc;
}

static int rm_entry(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || rm_dir_contents(fd) < 0)
			return -1;
		return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
	}
	return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
}

int dc_local_rmtree(const char *path)
{
	if (rm_entry(AT_FDCWD, path) < 0)
		return dc_error_set("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

/* /proc/<pid>/<file> into b (NUL separators kept). */
static int read_proc(struct dc_buf *b, pid_t pid, const char *file)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char chunk[4096];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		if (dc_buf_put(b, chunk, (size_t)r) < 0)
			break;
	close(fd);
	return 0;
}

static int is_zombie(pid_t pid)
{
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	int z = 1;
	if (read_proc(&b, pid, "stat") == 0) {
		const char *paren = strrchr(dc_buf_cstr(&b), ')');
		z = !paren || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X';
	}
	dc_buf_dispose(&b);
	return z;
}

/* Is `entry` exactly one of the NUL-separated strings in b? */
static int has_entry(const struct dc_buf *b, const char *entry)
{
	for (size_t at = 0; at < b->len; at += strlen(b->ptr + at) + 1)
		if (strcmp(b->ptr + at, entry) == 0)
			return 1;
	return 0;
}

int dc_local_pid_matches(pid_t pid, const char *const *words)
{
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH) || is_zombie(pid))
		return 0;
	struct dc_buf b = DC_BUF_INIT(DC_MAX_SMALL);
	int ok = read_proc(&b, pid, "cmdline") == 0;
	for (size_t i = 0; ok && words[i]; i++)
		ok = has_entry(&b, words[i]);
	dc_buf_dispose(&b);
	return ok;
}

int dc_local_kill_marked(const char *dir)
{
	char *entry = dc_xasprintf("%s=%s", DC_LOCAL_MARKER, dir);
	DIR *d = opendir("/proc");
	int killed = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == getpid())
			continue;
		struct dc_buf b = DC_BUF_INIT(DC_MAX_FILE);
		if (read_proc(&b, (pid_t)pid, "environ") == 0 && has_entry(&b, entry) &&
		    kill((pid_t)pid, SIGKILL) == 0)
			killed++;
		dc_buf_dispose(&b);
	}
	if (d)
		closedir(d);
	free(entry);
	return killed;
}

int dc_local_wait_gone(pid_t pid, int limit_ms)
{
	for (int waited = 0; waited <= limit_ms; waited += 20) {
		if ((kill(pid, 0) < 0 && errno == ESRCH) || is_zombie(pid))
			return 1;
		usleep(20000);
	}
	return 0;
}
