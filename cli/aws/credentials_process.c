/* credential_process, as botocore's ProcessProvider runs it: the command
 * line split like shlex.split, run without a shell, stdout parsed as
 * {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
 * "Expiration"}, stderr reported when it fails. Unlike botocore we stop it
 * after a timeout and cap what it may print. No message ever quotes its
 * stdout: that is where the secret is. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/config.h"
#include "aws/credentials_provider.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

extern char **environ;

#define STDERR_KEEP ((size_t)4096)

enum { RUN_OK = 0, RUN_TIMEOUT = -2, RUN_TOO_BIG = -3 };

struct child {
	const char *cmd;     /* argv[0], for messages: the rest may hold tokens */
	const char *profile;
	pid_t pid;
	long long deadline;  /* CLOCK_MONOTONIC milliseconds */
	long timeout_ms;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* errno for a program that cannot run, looked up as execvp would. Checked
 * before spawning because posix_spawnp cannot always report it (under
 * valgrind the child just exits 127, like a command that failed). */
static int runnable(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? 0 : errno;
	const char *dir = getenv("PATH");
	int err = ENOENT;
	for (dir = dir ? dir : "/usr/bin:/bin";; dir++) {
		size_t len = strcspn(dir, ":");
		/* An empty entry is the current directory. */
		char *full = len ? dc_xasprintf("%.*s/%s", (int)len, dir, name) : dc_xstrdup(name);
		int ok = access(full, X_OK) == 0;
		if (!ok && errno == EACCES)
			err = EACCES;
		free(full);
		if (ok)
			return 0;
		dir += len;
		if (!*dir)
			return err;
	}
}

static int spawn(struct child *c, char **argv, int *out_fd, int *err_fd)
{
	int o[2], e[2];
	int err = runnable(argv[0]);
	if (err)
		return dc_error_set("cannot run credential_process '%s' of profile '%s': %s",
				    c->cmd, c->profile, strerror(err));
	if (pipe(o) < 0)
		return dc_error_set("cannot create a pipe: %s", strerror(errno));
	if (pipe(e) < 0) {
		close(o[0]);
		close(o[1]);
		return dc_error_set("cannot create a pipe: %s", strerror(errno));
	}
	/* Our ends must not leak into the child (dup2 clears the flag on 1 and 2). */
	for (int i = 0; i < 2; i++) {
		fcntl(o[i], F_SETFD, FD_CLOEXEC);
		fcntl(e[i], F_SETFD, FD_CLOEXEC);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	int rc = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(o[1]);
	close(e[1]);
	*out_fd = o[0];
	*err_fd = e[0];
	if (rc == 0)
		return 0;
	close(o[0]);
	close(e[0]);
	return dc_error_set("cannot run credential_process '%s' of profile '%s': %s", c->cmd,
			    c->profile, strerror(rc));
}

/* Append what fd has to b. 1 at end of file, 0 for more to come, or
 * RUN_TOO_BIG. stderr is only for the message: cut, not refused. */
static int drain(int fd, struct dc_buf *b, int is_stdout)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	if (is_stdout)
		return dc_buf_put(b, chunk, (size_t)n) < 0 ? RUN_TOO_BIG : 0;
	size_t room = b->max - b->len;
	dc_buf_put(b, chunk, (size_t)n < room ? (size_t)n : room);
	return 0;
}

static int collect(const struct child *c, int out_fd, int err_fd, struct dc_buf *so,
		   struct dc_buf *se)
{
	struct pollfd fds[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	struct dc_buf *bufs[2] = { so, se };
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		long long left = c->deadline - now_ms();
		if (left <= 0)
			return RUN_TIMEOUT;
		if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
			return RUN_TIMEOUT;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			int r = drain(fds[i].fd, bufs[i], i == 0);
			if (r < 0)
				return r;
			if (r == 1)
				fds[i].fd = -1;
		}
	}
	return RUN_OK;
}

/* Wait for the exit, but not past the deadline: a command may close its
 * output and go on running. */
static int reap(const struct child *c, int killed, int *status)
{
	for (;;) {
		pid_t r = waitpid(c->pid, status, killed ? 0 : WNOHANG);
		if (r == c->pid)
			return killed ? -1 : 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (!killed && now_ms() >= c->deadline) {
			kill(c->pid, SIGKILL);
			killed = 1;
		} else if (!killed && r == 0) {
			struct timespec ts = { 0, 10 * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
}

static int failed(const struct child *c, int status, const struct dc_buf *se)
{
	char why[64];
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "failed with exit status %d", WEXITSTATUS(status));
	/* Its own first line of stderr says why, as botocore reports it. */
	const char *err = dc_buf_cstr(se);
	while (*err == '\n' || *err == '\r' || *err == ' ')
		err++;
	int len = (int)strcspn(err, "\r\n");
	return dc_error_set("credential_process '%s' of profile '%s' %s%s%.*s", c->cmd,
			    c->profile, why, len ? ": " : "", len > 200 ? 200 : len, err);
}

static int run(struct child *c, char **argv, struct dc_buf *so, struct dc_buf *se)
{
	int out_fd = -1, err_fd = -1, status = 0;
	c->deadline = now_ms() + c->timeout_ms;
	if (spawn(c, argv, &out_fd, &err_fd) < 0)
		return -1;
	int rc = collect(c, out_fd, err_fd, so, se);
	close(out_fd);
	close(err_fd);
	if (rc != RUN_OK)
		kill(c->pid, SIGKILL);
	if (reap(c, rc != RUN_OK, &status) < 0 && rc == RUN_OK)
		rc = RUN_TIMEOUT;
	if (rc == RUN_TIMEOUT)
		return dc_error_set("credential_process '%s' of profile '%s' did not finish "
				    "within %ld ms and was stopped",
				    c->cmd, c->profile, c->timeout_ms);
	if (rc == RUN_TOO_BIG)
		return dc_error_set("credential_process '%s' of profile '%s' printed more "
				    "than %zu bytes",
				    c->cmd, c->profile, so->max);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return failed(c, status, se);
	return 0;
}

static const char *string_field(json_t *root, const char *name)
{
	const char *s = json_string_value(json_object_get(root, name));
	return s && *s ? s : NULL;
}

static int check_version(const struct child *c, json_t *root)
{
	json_t *v = json_object_get(root, "Version");
	if (json_is_number(v) && json_number_value(v) == 1)
		return 0;
	if (json_is_integer(v))
		return dc_error_set("credential_process '%s' of profile '%s' printed Version "
				    "%lld, and only Version 1 is supported",
				    c->cmd, c->profile, (long long)json_integer_value(v));
	return dc_error_set("credential_process '%s' of profile '%s' printed no Version 1",
			    c->cmd, c->profile);
}

static int take_reply(struct dc_credentials *out, const struct child *c, json_t *root)
{
	const char *id = string_field(root, "AccessKeyId");
	const char *secret = string_field(root, "SecretAccessKey");
	const char *token = string_field(root, "SessionToken");
	json_t *exp = json_object_get(root, "Expiration");
	time_t expiration = 0;
	if (!id || !secret)
		return dc_error_set("credential_process '%s' of profile '%s' printed no %s",
				    c->cmd, c->profile, id ? "SecretAccessKey" : "AccessKeyId");
	if (exp && !json_is_null(exp) &&
	    (!json_is_string(exp) ||
	     dc_credentials_parse_time(&expiration, json_string_value(exp)) < 0))
		return dc_error_set("credential_process '%s' of profile '%s' printed an "
				    "Expiration that is not a time like '2024-05-01T12:00:00Z'",
				    c->cmd, c->profile);
	dc_credentials_set(out, id, secret, token);
	out->expiration = expiration;
	snprintf(out->source, sizeof(out->source), "credential_process (profile %s)",
		 c->profile);
	return 0;
}

static int parse_reply(struct dc_credentials *out, const struct child *c, const char *text,
		       size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	int rc;
	/* jerr.text quotes the text near the error, which may be the secret. */
	if (!root)
		rc = dc_error_set("credential_process '%s' of profile '%s' printed invalid JSON "
				  "(line %d, column %d)",
				  c->cmd, c->profile, jerr.line, jerr.column);
	else if (!json_is_object(root))
		rc = dc_error_set("credential_process '%s' of profile '%s' printed JSON that is "
				  "not an object",
				  c->cmd, c->profile);
	else
		rc = check_version(c, root) < 0 ? -1 : take_reply(out, c, root);
	json_decref(root);
	return rc;
}

int dc_credentials_process_run(struct dc_credentials *out, const char *command,
			       const char *profile, long timeout_ms)
{
	struct dc_buf so = DC_BUF_INIT(DC_CREDENTIAL_PROCESS_MAX_OUTPUT);
	struct dc_buf se = DC_BUF_INIT(STDERR_KEEP);
	char **argv = NULL;
	int rc = -1;
	int n = dc_ini_split_words(&argv, command);
	struct child c = { .cmd = n > 0 ? argv[0] : "", .profile = profile,
			   .timeout_ms = timeout_ms };
	if (n <= 0) {
		dc_error_set("credential_process of profile '%s' %s", profile,
			     n < 0 ? "has an unclosed quote or a trailing backslash" : "is empty");
		goto done;
	}
	if (run(&c, argv, &so, &se) < 0)
		goto done;
	rc = parse_reply(out, &c, dc_buf_cstr(&so), so.len);
done:
	if (so.ptr)
		explicit_bzero(so.ptr, so.cap);
	dc_buf_dispose(&so);
	dc_buf_dispose(&se);
	dc_ini_words_free(argv);
	return rc;
}

int dc_credentials_process_parse(struct dc_credentials *out, const char *text, size_t len,
				  const char *cmd, const char *profile)
{
	struct child c = { .cmd = cmd, .profile = profile };
	return parse_reply(out, &c, text, len);
}

int dc_credentials_from_process(struct dc_credentials *out, const struct dc_config *cfg,
				struct dc_aws *aws)
{
	/* The merged profile, as botocore's: the credentials file may set it too. */
	const char *command = dc_config_get(cfg, "credential_process");
	if (!command)
		return 0;
	if (dc_credentials_process_run(out, command, cfg->profile,
				       DC_CREDENTIAL_PROCESS_TIMEOUT_MS) < 0)
		return -1;
	return 1;
}
