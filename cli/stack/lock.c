/* Locks of the state directory, all flock(2) on files under locks/ (which
 * the repository ignores):
 *
 * - locks/<stack>.lock: one per stack, held by a run for as long as it
 *   works on that stack; taken without waiting, so a second run fails at
 *   once with the holder's pid, which the holder writes into the file.
 * - locks/.repo.lock: held only around staging and committing, so runs
 *   working on different stacks never commit at the same time.
 *
 * A flock belongs to the open file and the kernel drops it when the last
 * descriptor closes, including when its process is killed. So a crashed or
 * killed run never leaves a stale lock: the next run simply takes it, and a
 * file still naming a dead pid is only a leftover text, overwritten by the
 * next holder. Lock files are never deleted, because deleting a file that
 * another process has open and is about to flock would let two processes
 * each "hold" the lock of a different file. Descriptors are close-on-exec,
 * so no child program can keep a lock alive. */
#include "stack/state_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/xalloc.h"

struct dc_state_lock {
	int fd;
};

int dc_state_name_valid(const char *stack)
{
	if (!stack ||
	    !((stack[0] >= 'a' && stack[0] <= 'z') || (stack[0] >= '0' && stack[0] <= '9')))
		return 0;
	size_t n = 1;
	for (; stack[n]; n++) {
		char c = stack[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return n <= 40;
}

int dc_state_name_check(const char *stack)
{
	if (dc_state_name_valid(stack))
		return 0;
	return dc_error_set("invalid stack name '%.80s': use 1 to 40 lowercase letters, digits and "
			    "hyphens, starting with a letter or digit",
			    stack ? stack : "");
}

/* Open (creating) <dir>/locks/<file>. */
static int open_lock_file(int *out, const struct dc_state *st, const char *file)
{
	char *locks = dc_xasprintf("%s/locks", st->dir);
	char *path = dc_xasprintf("%s/%s", locks, file);
	int rc = 0;
	if (mkdir(locks, 0777) < 0 && errno != EEXIST)
		rc = dc_error_set("cannot create '%s': %s", locks, strerror(errno));
	if (rc == 0) {
		*out = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (*out < 0)
			rc = dc_error_set("cannot open lock file '%s': %s", path, strerror(errno));
	}
	free(locks);
	free(path);
	return rc;
}

/* The holder takes the flock and then writes its pid, so the file may
 * still be empty for a moment: look a few times before giving up. */
static long holder_pid(int fd)
{
	for (int tries = 0; tries < 20; tries++) {
		char text[32];
		ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
		if (n > 0) {
			text[n] = '\0';
			char *end;
			long pid = strtol(text, &end, 10);
			if (pid > 0 && end != text)
				return pid;
		}
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	return 0;
}

static int held_error(int fd, const char *stack)
{
	long pid = holder_pid(fd);
	if (pid > 0)
		return dc_error_set(
		    "stack '%s' is locked by another deployctl run (pid %ld); wait for "
		    "it to finish",
		    stack, pid);
	return dc_error_set("stack '%s' is locked by another deployctl run; wait for it to finish",
			    stack);
}

/* The pid is only there for the message a second run prints; failing to
 * write it (disk full) must not give up a lock that is held. */
static void write_pid(int fd)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) != n)
		(void)ftruncate(fd, 0);
}

int dc_state_lock(struct dc_state_lock **out, struct dc_state *st, const char *stack)
{
	*out = NULL;
	if (dc_state_name_check(stack) < 0)
		return -1;
	char *file = dc_xasprintf("%s.lock", stack);
	int fd = -1;
	int rc = open_lock_file(&fd, st, file);
	free(file);
	if (rc < 0)
		return rc;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			rc = held_error(fd, stack);
		else
			rc = dc_error_set("cannot lock stack '%s': %s", stack, strerror(errno));
		close(fd);
		return rc;
	}
	write_pid(fd);
	*out = dc_xmalloc(sizeof(**out));
	(*out)->fd = fd;
	return 0;
}

void dc_state_unlock(struct dc_state_lock *lock)
{
	if (!lock)
		return;
	close(lock->fd); /* releases the flock */
	free(lock);
}

int dc_state_repo_lock(int *out, const struct dc_state *st)
{
	*out = -1;
	int fd;
	if (open_lock_file(&fd, st, ".repo.lock") < 0)
		return -1;
	/* Held for milliseconds by whoever has it, so waiting is right. */
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int rc = dc_error_set("cannot lock the state repository in '%s': %s",
					      st->dir, strerror(errno));
			close(fd);
			return rc;
		}
	}
	*out = fd;
	return 0;
}

void dc_state_repo_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
