/* The local target from a deployctl run: start the stack's supervisor (a
 * detached `deployctl local-supervise`), find it again, talk to it, stop it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local/local.h"
#include "local/proc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TOKEN_HEADER "X-Deployctl-Token"
/* moto_server takes a second or two to import; a loaded machine more. */
#define START_LIMIT_MS 60000
#define STOP_LIMIT_MS 12000
/* A control call may wait for a function's first poll (30 s there). */
#define CALL_TIMEOUT_S 90

static char *stack_dir(const char *state_dir, const char *stack)
{
	char *abs = realpath(state_dir, NULL);
	if (!abs) {
		dc_error_set("cannot find the state directory '%s': %s", state_dir,
			     strerror(errno));
		return NULL;
	}
	char *dir = dc_xasprintf("%s/local/%s", abs, stack);
	free(abs);
	return dir;
}

/* supervisor.json, or NULL when there is none (or it is half-written). */
static json_t *read_runtime(const char *dir)
{
	char *path = dc_xasprintf("%s/supervisor.json", dir);
	json_t *doc = json_load_file(path, 0, NULL);
	free(path);
	return doc;
}

/* The state dir is the parent of local/<stack>. */
static char *state_of(const char *dir)
{
	char *s = dc_xstrdup(dir);
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(s, '/');
		if (slash)
			*slash = '\0';
	}
	return s;
}

static int is_supervisor(pid_t pid, const char *dir, const char *stack)
{
	char *state = state_of(dir);
	const char *words[] = { "local-supervise", stack, state, NULL };
	int ok = dc_local_pid_matches(pid, words);
	free(state);
	return ok;
}

static pid_t runtime_pid(const json_t *rt)
{
	return (pid_t)json_integer_value(json_object_get(rt, "pid"));
}

static char *str_dup(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return dc_xstrdup(s ? s : "");
}

static void fill(struct dc_local *l, const json_t *rt)
{
	json_t *emu = json_object_get(rt, "emulator");
	l->pid = runtime_pid(rt);
	l->control_port = (int)json_integer_value(json_object_get(rt, "control_port"));
	free(l->token);
	free(l->emulator_url);
	free(l->epoch);
	l->token = str_dup(rt, "token");
	l->emulator_url = str_dup(emu, "url");
	l->epoch = str_dup(emu, "epoch");
}

static int supervisor_failed(const char *dir, const json_t *rt)
{
	const char *error = json_string_value(json_object_get(rt, "error"));
	if (error)
		return dc_error_set("%s", error);
	return dc_error_set("the local supervisor stopped while starting; see %s/supervisor.log",
			    dir);
}

/* Until supervisor.json says the emulator answers. */
static int wait_ready(struct dc_local *l)
{
	for (int waited = 0; waited < START_LIMIT_MS; waited += 50) {
		json_t *rt = read_runtime(l->dir);
		pid_t pid = runtime_pid(rt);
		int alive = pid > 0 && is_supervisor(pid, l->dir, l->stack);
		if (rt && (json_object_get(rt, "error") || (pid > 0 && !alive))) {
			int rc = supervisor_failed(l->dir, rt);
			json_decref(rt);
			return rc;
		}
		if (alive && json_is_true(json_object_get(rt, "ready"))) {
			fill(l, rt);
			json_decref(rt);
			return 0;
		}
		json_decref(rt);
		usleep(50000);
	}
	return dc_error_set("the local supervisor was not ready within %d s; see "
			    "%s/supervisor.log", START_LIMIT_MS / 1000, l->dir);
}

/* Detached: its own session, stdio on /dev/null (the supervisor opens its
 * log), no descriptor of ours (the state lock above all), and reparented
 * away from us by a double fork. */
static int spawn_supervisor(const char *state, const char *stack)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return dc_error_set("cannot find deployctl's own executable: %s", strerror(errno));
	exe[n] = '\0';
	char *argv[] = { exe, "local-supervise", "--stack", (char *)stack, "--state-dir",
			 (char *)state, NULL };
	pid_t pid = fork();
	if (pid < 0)
		return dc_error_set("cannot start the local supervisor: %s", strerror(errno));
	if (pid == 0) {
		setsid();
		pid_t again = fork();
		if (again != 0)
			_exit(again < 0);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		dc_local_close_from(3);
		execv(exe, argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return dc_error_set("cannot start the local supervisor");
	return 0;
}

static int start(struct dc_local *l)
{
	char *moto = dc_local_which("moto_server");
	if (!moto)
		return dc_error_set("the local target needs moto: pip install 'moto[server]'");
	free(moto);
	/* Whatever a dead supervisor left is gone with its emulator. */
	dc_local_kill_marked(l->dir);
	if (dc_local_rmtree(l->dir) < 0 || dc_local_mkdirs(l->dir) < 0)
		return -1;
	char *state = state_of(l->dir);
	int rc = spawn_supervisor(state, l->stack);
	free(state);
	if (rc == 0)
		rc = wait_ready(l);
	l->started = rc == 0;
	return rc;
}

int dc_local_open(struct dc_local **out, const char *state_dir, const char *stack, int want_start)
{
	*out = NULL;
	char *dir = stack_dir(state_dir, stack);
	if (!dir)
		return -1;
	struct dc_local *l = dc_xcalloc(1, sizeof(*l));
	l->dir = dir;
	l->stack = dc_xstrdup(stack);
	json_t *rt = read_runtime(dir);
	pid_t pid = runtime_pid(rt);
	json_decref(rt);
	int rc;
	if (pid > 0 && is_supervisor(pid, dir, stack))
		rc = wait_ready(l);
	else if (want_start)
		rc = start(l);
	else
		rc = DC_ENOTFOUND;
	if (rc < 0) {
		dc_local_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void dc_local_free(struct dc_local *l)
{
	if (!l)
		return;
	free(l->dir);
	free(l->stack);
	free(l->template_root);
	free(l->token);
	free(l->emulator_url);
	free(l->epoch);
	free(l);
}

/* ---- the control channel: one request per connection ---- */

static int connect_loopback(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { CALL_TIMEOUT_S, 0 };
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return dc_error_set("cannot reach the local supervisor on port %d: %s", port,
				    strerror(e));
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The answer's status and body; the server closes after it ("Connection:
 * close"), so the body is whatever follows the head. */
static int read_answer(int fd, long *status, struct dc_buf *body)
{
	struct dc_buf in = DC_BUF_INIT(DC_MAX_RESPONSE);
	char chunk[16384];
	ssize_t r;
	while ((r = recv(fd, chunk, sizeof(chunk), 0)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && dc_buf_put(&in, chunk, (size_t)r) < 0)
			break;
	const char *eoh = strstr(dc_buf_cstr(&in), "\r\n\r\n");
	int rc = 0;
	if (!eoh || sscanf(in.ptr, "HTTP/1.%*d %ld", status) != 1)
		rc = dc_error_set("the local supervisor gave no answer");
	else
		dc_buf_put(body, eoh + 4, in.len - (size_t)(eoh + 4 - in.ptr));
	dc_buf_dispose(&in);
	return rc;
}

static int exchange(const struct dc_local *l, const char *method, const char *path,
		    const char *payload, long *status, struct dc_buf *body)
{
	int fd = connect_loopback(l->control_port);
	if (fd < 0)
		return -1;
	size_t n = payload ? strlen(payload) : 0;
	char *head = dc_xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" TOKEN_HEADER ": %s\r\n"
				  "Content-Type: application/json\r\nContent-Length: %zu\r\n"
				  "Connection: close\r\n\r\n",
				  method, path, l->token, n);
	int rc = send_all(fd, head, strlen(head)) < 0 || send_all(fd, payload ? payload : "", n) < 0
			 ? dc_error_set("cannot send to the local supervisor: %s", strerror(errno))
			 : read_answer(fd, status, body);
	free(head);
	close(fd);
	return rc;
}

int dc_local_call(struct dc_local *l, const char *method, const char *path, const json_t *body,
		  json_t **out)
{
	char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct dc_buf answer = DC_BUF_INIT(DC_MAX_RESPONSE);
	long status = 0;
	if (out)
		*out = NULL;
	int rc = exchange(l, method, path, payload, &status, &answer);
	json_t *doc = rc == 0 ? json_loads(dc_buf_cstr(&answer), 0, NULL) : NULL;
	if (rc == 0 && (status < 200 || status > 299)) {
		const char *msg = json_string_value(json_object_get(doc, "message"));
		rc = dc_error_set("%s", msg ? msg : "the local supervisor refused the request");
		if (status == 404)
			rc = DC_ENOTFOUND;
	}
	if (rc == 0 && out)
		*out = json_incref(doc);
	json_decref(doc);
	dc_buf_dispose(&answer);
	free(payload);
	return rc;
}

/* ---- stop and status ---- */

int dc_local_stop(const char *state_dir, const char *stack)
{
	char *dir = stack_dir(state_dir, stack);
	if (!dir)
		return -1;
	json_t *rt = read_runtime(dir);
	pid_t pid = runtime_pid(rt);
	json_decref(rt);
	if (pid > 0 && is_supervisor(pid, dir, stack)) {
		kill(pid, SIGTERM);
		if (!dc_local_wait_gone(pid, STOP_LIMIT_MS)) {
			kill(pid, SIGKILL);
			dc_local_wait_gone(pid, 2000);
		}
	}
	/* Children die with the supervisor (PR_SET_PDEATHSIG); this catches
	 * any grandchild that outlived it. */
	dc_local_kill_marked(dir);
	int rc = dc_local_rmtree(dir);
	char *parent = dc_xstrdup(dir);
	*strrchr(parent, '/') = '\0';
	rmdir(parent); /* only when no other local stack is left */
	free(parent);
	free(dir);
	return rc;
}

static json_t *processes(const json_t *rt)
{
	json_t *out = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(rt, "processes"), i, p) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
		json_t *copy = json_deep_copy(p);
		json_object_set_new(copy, "alive", json_boolean(pid > 0 && kill(pid, 0) == 0));
		json_array_append_new(out, copy);
	}
	return out;
}

json_t *dc_local_status(const char *state_dir, const char *stack)
{
	char *dir = stack_dir(state_dir, stack);
	json_t *rt = dir ? read_runtime(dir) : NULL;
	pid_t pid = runtime_pid(rt);
	int running = pid > 0 && is_supervisor(pid, dir, stack);
	json_t *out = json_pack("{s:b, s:i}", "running", running, "pid", running ? (int)pid : 0);
	if (running) {
		json_object_set(out, "emulator", json_object_get(rt, "emulator"));
		json_object_set(out, "control_port", json_object_get(rt, "control_port"));
		json_object_set(out, "apis", json_object_get(rt, "apis"));
		json_object_set(out, "functions", json_object_get(rt, "functions"));
		json_object_set(out, "sockets", json_object_get(rt, "sockets"));
		json_object_set_new(out, "processes", processes(rt));
		json_object_set_new(out, "logs", json_string(dir));
	}
	json_decref(rt);
	free(dir);
	return out;
}
