/* The supervisor's main thread: it starts the emulator and the control
 * channel, then forks, reaps and restarts children until SIGTERM, and keeps
 * supervisor.json (pid, ports, token, children) up to date. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local/local.h"
#include "local/proc.h"
#include "local/supervisor.h"
#include "util/error.h"
#include "util/xalloc.h"

extern char **environ;

struct sv sv;

/* A child that crashes is restarted after 0.1 s, doubling up to 10 s; one
 * that ran this long is healthy again and its backoff starts over. */
#define BACKOFF_MIN_S 0.1
#define BACKOFF_MAX_S 10.0
#define HEALTHY_S 10.0
/* After SIGTERM a child has this long before SIGKILL. */
#define TERM_GRACE_S 3.0
#define SHUTDOWN_LIMIT_S 8.0

double sv_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sv_wake(void)
{
	kill(getpid(), SIGUSR1);
}

void sv_log(const char *fmt, ...)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "%s supervisor: ", when);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

void sv_random_hex(char *out, size_t n)
{
	unsigned char raw[32];
	if (n > sizeof(raw))
		n = sizeof(raw);
	if (dc_local_random(raw, n) < 0) {
		/* Never expected; a weak id is still unique enough for a name. */
		for (size_t i = 0; i < n; i++)
			raw[i] = (unsigned char)(rand() ^ (int)sv.seq++);
	}
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void sv_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int env_overridden(const char *entry, const json_t *extra)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
	if (strncmp(entry, "AWS_", 4) == 0 || strncmp(entry, DC_LOCAL_MARKER "=", n + 1) == 0)
		return 1;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)extra, k, v)
		if (strlen(k) == n && strncmp(k, entry, n) == 0)
			return 1;
	return 0;
}

char **sv_env(const json_t *extra)
{
	size_t n = 0, cap = 0;
	char **out = NULL;
	for (char **e = environ; *e; e++) {
		if (env_overridden(*e, extra))
			continue;
		dc_xgrow((void **)&out, &cap, n + 2, sizeof(*out));
		out[n++] = dc_xstrdup(*e);
	}
	dc_xgrow((void **)&out, &cap, n + 2, sizeof(*out));
	out[n++] = dc_xasprintf("%s=%s", DC_LOCAL_MARKER, sv.dir);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)extra, k, v) {
		dc_xgrow((void **)&out, &cap, n + 2, sizeof(*out));
		out[n++] = dc_xasprintf("%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
	}
	out[n] = NULL;
	return out;
}

char *sv_log_path(const char *name)
{
	char *safe = dc_xstrdup(name);
	for (char *p = safe; *p; p++)
		if (*p == ':' || *p == '/' || *p == ' ')
			*p = '-';
	char *path = dc_xasprintf("%s/%s.log", sv.dir, safe);
	free(safe);
	return path;
}

struct sv_child *sv_child_add(const char *name, char **argv, char **envp, const char *cwd)
{
	/* Callers refuse to start anything once sv.stopping is set. */
	struct sv_child *c = dc_xcalloc(1, sizeof(*c));
	c->name = dc_xstrdup(name);
	c->argv = argv;
	c->envp = envp;
	c->cwd = dc_xstrdup(cwd ? cwd : sv.dir);
	c->log = sv_log_path(name);
	c->wanted = 1;
	c->backoff = BACKOFF_MIN_S;
	c->listen_fd = -1;
	c->next = sv.children;
	sv.children = c;
	sv.dirty = 1;
	sv_wake();
	return c;
}

static int child_listed(const struct sv_child *c)
{
	for (struct sv_child *p = sv.children; p; p = p->next)
		if (p == c)
			return 1;
	return 0;
}

void sv_child_remove(struct sv_child *c)
{
	c->wanted = 0;
	c->on_exit = NULL;
	sv_wake();
	while (child_listed(c))
		pthread_cond_wait(&sv.cond, &sv.mu);
}

static void child_free(struct sv_child *c)
{
	free(c->name);
	sv_strv_free(c->argv);
	sv_strv_free(c->envp);
	free(c->cwd);
	free(c->log);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	free(c);
}

/* ---- listening sockets ---- */

struct sv_socket *sv_socket_find(const char *name)
{
	for (struct sv_socket *s = sv.sockets; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static int bind_loopback(int *fd_out, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	int one = 1;
	/* As any server: the port is free again once closed, whatever its
	 * connections left in TIME_WAIT. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return dc_error_set("cannot listen on a loopback port: %s", strerror(e));
	}
	*fd_out = fd;
	*port = ntohs(a.sin_port);
	return 0;
}

int sv_socket_put(const char *name, int *port, char **why)
{
	struct sv_socket *s = sv_socket_find(name);
	if (!s) {
		int fd = -1, p = 0;
		if (bind_loopback(&fd, &p) < 0) {
			*why = dc_xstrdup(dc_error_last()->message);
			return -1;
		}
		s = dc_xcalloc(1, sizeof(*s));
		s->name = dc_xstrdup(name);
		s->fd = fd;
		s->port = p;
		s->next = sv.sockets;
		sv.sockets = s;
		sv.dirty = 1;
		sv_log("listening for '%s' on 127.0.0.1:%d", name, p);
	}
	*port = s->port;
	return 0;
}

void sv_socket_delete(const char *name)
{
	for (struct sv_socket **p = &sv.sockets; *p; p = &(*p)->next) {
		struct sv_socket *s = *p;
		if (strcmp(s->name, name) != 0)
			continue;
		*p = s->next;
		close(s->fd);
		free(s->name);
		free(s);
		sv.dirty = 1;
		return;
	}
}

/* In the child between fork and exec: async-signal-safe calls only. */
static void exec_child(const struct sv_child *c, int logfd, pid_t parent)
{
	static const char msg[] = "supervisor: cannot start this process\n";
	setpgid(0, 0);
	/* Dies with the supervisor's main thread, even by SIGKILL. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null = open("/dev/null", O_RDONLY);
	dup2(null, 0);
	dup2(logfd, 1);
	dup2(logfd, 2);
	/* dup2 onto itself would keep close-on-exec. */
	if (c->listen_fd == 3)
		fcntl(3, F_SETFD, 0);
	else if (c->listen_fd >= 0)
		dup2(c->listen_fd, 3);
	dc_local_close_from(c->listen_fd >= 0 ? 4 : 3);
	if (chdir(c->cwd) < 0 || execve(c->argv[0], c->argv, c->envp) < 0) {
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		(void)w;
	}
	_exit(127);
}

static void spawn(struct sv_child *c)
{
	int logfd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	pid_t parent = getpid();
	pid_t pid = logfd < 0 ? -1 : fork();
	if (pid == 0)
		exec_child(c, logfd, parent);
	if (logfd >= 0)
		close(logfd);
	if (pid < 0) {
		sv_log("cannot start %s: %s", c->name, strerror(errno));
		c->next_start = sv_now() + c->backoff;
		return;
	}
	/* Both sides set the group, so a kill right after fork finds it. */
	setpgid(pid, pid);
	c->pid = pid;
	c->started = sv_now();
	c->term_sent = 0;
	sv.dirty = 1;
	sv_log("started %s (pid %d)", c->name, (int)pid);
}

static void describe_exit(char *out, size_t n, int status)
{
	if (WIFSIGNALED(status))
		snprintf(out, n, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, n, "exit status %d", WEXITSTATUS(status));
}

static void exited(struct sv_child *c, int status)
{
	char how[64];
	describe_exit(how, sizeof(how), status);
	double lived = sv_now() - c->started;
	c->pid = 0;
	c->last_status = status;
	sv.dirty = 1;
	if (c->on_exit)
		c->on_exit(c);
	if (!c->wanted) {
		sv_log("stopped %s (%s)", c->name, how);
		return;
	}
	if (lived >= HEALTHY_S)
		c->backoff = BACKOFF_MIN_S;
	c->restarts++;
	c->next_start = sv_now() + c->backoff;
	sv_log("%s ended (%s) after %.1f s; restarting in %.1f s", c->name, how, lived,
	       c->backoff);
	c->backoff = c->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : c->backoff * 2;
}

static void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct sv_child *c = sv.children; c; c = c->next)
			if (c->pid == pid) {
				exited(c, status);
				break;
			}
	}
}

static void signal_child(struct sv_child *c, int sig)
{
	if (c->pid > 0)
		kill(-c->pid, sig);
}

static struct sv_child *emulator;

/* No pointer to a freed child may remain. */
static void forget(const struct sv_child *c)
{
	for (struct sv_fn *f = sv.fns; f; f = f->next)
		if (f->proc == c)
			f->proc = NULL;
	if (emulator == c)
		emulator = NULL;
}

/* Start what should run, stop what should not, drop what has stopped. */
static void tend(double now)
{
	struct sv_child **p = &sv.children;
	while (*p) {
		struct sv_child *c = *p;
		if (!c->wanted && c->pid == 0) {
			*p = c->next;
			forget(c);
			child_free(c);
			sv.dirty = 1;
			pthread_cond_broadcast(&sv.cond);
			continue;
		}
		if (c->wanted && c->pid == 0 && now >= c->next_start && !sv.stopping)
			spawn(c);
		else if (c->wanted && c->kill_now) {
			signal_child(c, SIGKILL);
			c->kill_now = 0;
		} else if (!c->wanted && c->term_sent == 0) {
			signal_child(c, SIGTERM);
			c->term_sent = now;
		} else if (!c->wanted && now - c->term_sent > TERM_GRACE_S) {
			signal_child(c, SIGKILL);
		}
		p = &c->next;
	}
}

static json_t *child_json(const struct sv_child *c)
{
	return json_pack("{s:s, s:i, s:i, s:s}", "name", c->name, "pid", (int)c->pid, "restarts",
			 c->restarts, "log", c->log);
}

json_t *sv_runtime_doc(void)
{
	json_t *children = json_array(), *fns = json_array(), *apis = json_array();
	json_t *sockets = json_array();
	for (struct sv_child *c = sv.children; c; c = c->next)
		json_array_append_new(children, child_json(c));
	for (struct sv_fn *f = sv.fns; f; f = f->next)
		json_array_append_new(fns, sv_fn_describe(f));
	for (struct sv_api *a = sv.apis; a; a = a->next)
		json_array_append_new(apis, json_pack("{s:s, s:i}", "id", a->id, "port",
						      dc_server_port(a->http)));
	for (struct sv_socket *s = sv.sockets; s; s = s->next)
		json_array_append_new(sockets, json_pack("{s:s, s:i}", "name", s->name, "port",
							 s->port));
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", sv.emulator_port);
	return json_pack("{s:i, s:s, s:s, s:i, s:b, s:{s:s, s:i, s:s}, s:o, s:o, s:o, s:o}", "pid",
			 (int)getpid(), "stack", sv.stack, "token", sv.token, "control_port",
			 sv.control ? dc_server_port(sv.control) : 0, "ready", sv.emulator_ready,
			 "emulator", "url", url, "port", sv.emulator_port, "epoch", sv.epoch,
			 "processes", children, "functions", fns, "apis", apis, "sockets", sockets);
}

static void write_runtime(void)
{
	json_t *doc = sv_runtime_doc();
	char *path = dc_xasprintf("%s/supervisor.json", sv.dir);
	if (dc_local_write_json(path, doc) < 0)
		sv_log("cannot write %s: %s", path, dc_error_last()->message);
	free(path);
	json_decref(doc);
	sv.dirty = 0;
}

static int port_answers(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The emulator starts empty every time: a new epoch tells `up` that what
 * state recorded in it is gone. */
static void emulator_exited(struct sv_child *c)
{
	sv.emulator_ready = 0;
}

static void check_emulator(void)
{
	if (!emulator || emulator->pid == 0 || sv.emulator_ready)
		return;
	pthread_mutex_unlock(&sv.mu);
	int ok = port_answers(sv.emulator_port);
	pthread_mutex_lock(&sv.mu);
	if (ok && emulator->pid > 0) {
		sv.emulator_ready = 1;
		sv_random_hex(sv.epoch, 8);
		sv.dirty = 1;
		sv_log("emulator ready on 127.0.0.1:%d", sv.emulator_port);
	}
}

static int start_emulator(void)
{
	char *moto = dc_local_which("moto_server");
	if (!moto)
		return dc_error_set("the local target needs moto: pip install 'moto[server]'");
	if (dc_local_free_port(&sv.emulator_port) < 0) {
		free(moto);
		return -1;
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", sv.emulator_port);
	char **argv = dc_xcalloc(6, sizeof(*argv));
	argv[0] = moto;
	argv[1] = dc_xstrdup("-H");
	argv[2] = dc_xstrdup("127.0.0.1");
	argv[3] = dc_xstrdup("-p");
	argv[4] = dc_xstrdup(port);
	json_t *env = json_pack("{s:s}", "MOTO_ACCOUNT_ID", DC_LOCAL_ACCOUNT);
	pthread_mutex_lock(&sv.mu);
	emulator = sv_child_add("emulator", argv, sv_env(env), sv.dir);
	emulator->on_exit = emulator_exited;
	pthread_mutex_unlock(&sv.mu);
	json_decref(env);
	return 0;
}

static void stop_servers(void)
{
	pthread_mutex_lock(&sv.mu);
	struct sv_fn *fns = sv.fns;
	struct sv_api *apis = sv.apis;
	pthread_mutex_unlock(&sv.mu);
	for (struct sv_fn *f = fns; f; f = f->next)
		dc_server_stop(f->runtime), f->runtime = NULL;
	for (struct sv_api *a = apis; a; a = a->next)
		dc_server_stop(a->http), a->http = NULL;
}

/* SIGTERM: every child asked to stop, killed if it will not (the main loop
 * is here, so control calls waiting for a child to go are served), then no
 * more control calls, then the servers whose waiters have been woken. */
static void shut_down(void)
{
	pthread_mutex_lock(&sv.mu);
	sv.stopping = 1;
	for (struct sv_fn *f = sv.fns; f; f = f->next)
		f->deleting = 1;
	for (struct sv_child *c = sv.children; c; c = c->next)
		c->wanted = 0;
	pthread_cond_broadcast(&sv.cond);
	double until = sv_now() + SHUTDOWN_LIMIT_S;
	while (sv.children && sv_now() < until) {
		tend(sv_now());
		pthread_mutex_unlock(&sv.mu);
		usleep(20000);
		pthread_mutex_lock(&sv.mu);
		reap();
	}
	tend(sv_now());
	struct dc_server *control = sv.control;
	pthread_mutex_unlock(&sv.mu);
	dc_server_stop(control);
	pthread_mutex_lock(&sv.mu);
	sv.control = NULL;
	pthread_mutex_unlock(&sv.mu);
	stop_servers();
	sv_log("stopped");
}

static int main_loop(const sigset_t *mask)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	for (;;) {
		siginfo_t si;
		int sig = sigtimedwait(mask, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
			return 0;
		pthread_mutex_lock(&sv.mu);
		reap();
		check_emulator();
		tend(sv_now());
		if (sv.dirty)
			write_runtime();
		pthread_mutex_unlock(&sv.mu);
	}
}

static int setup(const char *state_dir, const char *stack)
{
	char *abs = realpath(state_dir, NULL);
	if (!abs)
		return dc_error_set("cannot find the state directory '%s': %s", state_dir,
				    strerror(errno));
	sv.dir = dc_xasprintf("%s/local/%s", abs, stack);
	free(abs);
	sv.stack = dc_xstrdup(stack);
	/* Hold no directory of the user's busy for as long as the stack runs. */
	if (dc_local_mkdirs(sv.dir) < 0)
		return -1;
	if (chdir(sv.dir) < 0)
		return dc_error_set("cannot use '%s': %s", sv.dir, strerror(errno));
	char *log = dc_xasprintf("%s/supervisor.log", sv.dir);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(log);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	sv_random_hex(sv.token, 32);
	return 0;
}

static void teardown(void)
{
	for (struct sv_fn *f = sv.fns, *next; f; f = next) {
		next = f->next;
		free(f->name);
		free(f->arn);
		free(f->init_error);
		free(f);
	}
	for (struct sv_api *a = sv.apis, *next; a; a = next) {
		next = a->next;
		free(a->id);
		json_decref(a->integrations);
		json_decref(a->routes);
		free(a);
	}
	for (struct sv_child *c = sv.children, *next; c; c = next) {
		next = c->next;
		child_free(c);
	}
	while (sv.sockets)
		sv_socket_delete(sv.sockets->name);
	free(sv.dir);
	free(sv.stack);
	pthread_mutex_destroy(&sv.mu);
	pthread_cond_destroy(&sv.cond);
}

int dc_local_supervise(const char *state_dir, const char *stack)
{
	sigset_t mask;
	sigemptyset(&mask);
	for (int s = 0, sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGPIPE }; s < 6; s++)
		sigaddset(&mask, sigs[s]);
	/* Blocked before any thread starts, so every thread inherits it and
	 * only sigtimedwait in this one sees them. */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	pthread_mutex_init(&sv.mu, NULL);
	pthread_cond_init(&sv.cond, NULL);
	sv.main_thread = pthread_self();
	int rc = setup(state_dir, stack);
	if (rc == 0)
		rc = start_emulator();
	if (rc == 0)
		rc = dc_server_start(&sv.control, 0, sv_control, NULL);
	if (rc < 0) {
		sv_log("%s", dc_error_last()->message);
		json_t *doc = json_pack("{s:i, s:s}", "pid", (int)getpid(), "error",
					dc_error_last()->message);
		char *path = sv.dir ? dc_xasprintf("%s/supervisor.json", sv.dir) : NULL;
		if (path)
			dc_local_write_json(path, doc);
		free(path);
		json_decref(doc);
		teardown();
		return 1;
	}
	sv_log("supervising stack '%s' (pid %d, control port %d)", stack, (int)getpid(),
	       dc_server_port(sv.control));
	pthread_mutex_lock(&sv.mu);
	write_runtime();
	pthread_mutex_unlock(&sv.mu);
	main_loop(&mask);
	shut_down();
	teardown();
	return 0;
}
