/* Inside the supervisor (supervisor.c, runtime_api.c, gateway.c,
 * control.c): one lock and one condition guard everything; the main thread
 * alone forks, kills and reaps children, so that PR_SET_PDEATHSIG (tied to
 * the forking thread) takes them down if the supervisor itself is killed. */
#ifndef DC_LOCAL_SUPERVISOR_H
#define DC_LOCAL_SUPERVISOR_H

#include <jansson.h>
#include <pthread.h>
#include <sys/types.h>

#include "local/server.h"

struct sv_child {
	char *name;        /* "emulator", "fn:<function>", "proc:<name>" */
	char **argv;       /* NULL-terminated, owned */
	char **envp;       /* NULL-terminated, owned */
	char *cwd;
	char *log;         /* stdout and stderr, appended */
	pid_t pid;         /* 0: not running */
	int wanted;        /* 0: stop it and do not restart */
	int restarts;
	int kill_now;      /* kill it (timeout): the main loop restarts it */
	double started;    /* monotonic seconds */
	double next_start; /* not before this */
	double backoff;
	double term_sent;  /* when SIGTERM went out, for the SIGKILL that follows */
	int last_status;   /* wait status of the last exit */
	/* Called (lock held) when the process has exited. */
	void (*on_exit)(struct sv_child *c);
	void *owner;
	int listen_fd;     /* -1, or a listening socket (its own copy) the
			    * process gets as descriptor 3, as systemd's
			    * socket activation hands one over */
	struct sv_child *next;
};

/* A listening socket the supervisor owns: it stands for a load balancer or
 * a server's address. Processes given it accept on it together, so the
 * kernel spreads connections over them, and a connection made while they
 * restart waits in its backlog instead of being refused. */
struct sv_socket {
	char *name;
	int fd;
	int port;
	struct sv_socket *next;
};

struct sv_inv;

struct sv_fn {
	char *name;
	char *arn;
	long timeout_ms;
	long memory_mb;
	struct dc_server *runtime; /* its own Lambda Runtime API */
	struct sv_child *proc;
	struct sv_inv *queue;     /* waiting for /next, oldest first */
	struct sv_inv *running;   /* handed out, awaiting /response or /error */
	int polled;               /* a /next came since the process (re)started */
	unsigned gen;             /* counts the process's exits */
	char *init_error;         /* from /init/error since then, or NULL */
	int deleting;
	struct sv_fn *next;
};

struct sv_api {
	char *id;
	struct dc_server *http;
	json_t *integrations; /* id -> {"uri": ...} */
	json_t *routes;       /* id -> {"route_key": ..., "target": ...} */
	struct sv_api *next;
};

struct sv {
	char *dir;        /* <state dir>/local/<stack> */
	char *stack;
	char token[65];
	pthread_mutex_t mu;
	pthread_cond_t cond; /* broadcast on any change others wait for */
	pthread_t main_thread;
	struct sv_child *children;
	struct sv_fn *fns;
	struct sv_api *apis;
	struct sv_socket *sockets;
	struct dc_server *control;
	int emulator_port;
	char epoch[33];
	int emulator_ready;
	int dirty;        /* supervisor.json needs writing */
	int stopping;
	unsigned long seq; /* for ids */
};

extern struct sv sv;

double sv_now(void);
/* Wake the main loop (a child to start or stop). */
void sv_wake(void);

/* With sv.mu held: a new child, started by the main loop. argv and envp
 * are taken over. */
struct sv_child *sv_child_add(const char *name, char **argv, char **envp, const char *cwd);
/* With sv.mu held: stop the child and wait until it has exited; it is
 * freed then. */
void sv_child_remove(struct sv_child *c);
/* With sv.mu held: the socket of that name, made (on a free loopback
 * port) when there is none; 0 and its port, or -1 with *why (malloc'ed). */
int sv_socket_put(const char *name, int *port, char **why);
struct sv_socket *sv_socket_find(const char *name);
/* Close it; processes holding it keep their copy until they stop. */
void sv_socket_delete(const char *name);
/* The log file path for a child named `name` (malloc'ed). */
char *sv_log_path(const char *name);
/* A NULL-terminated environment: the supervisor's own without AWS_*
 * settings, the marker, then `extra` (an object of strings) on top. */
char **sv_env(const json_t *extra);
void sv_strv_free(char **v);
/* A fresh random hex id of 2*n characters into out (n <= 32). */
void sv_random_hex(char *out, size_t n);

/* runtime_api.c, with sv.mu held unless said otherwise. */
struct sv_fn *sv_fn_find(const char *name);
/* Start (or replace) a function from a control request's JSON; waits,
 * unlocking, until its process has asked for its first event or failed.
 * 0, or an HTTP status with *why set (malloc'ed). */
int sv_fn_put(const char *name, const json_t *spec, char **why);
void sv_fn_delete(const char *name);
/* Invoke fn with the event (lock NOT held): 0 and *result (malloc'ed JSON
 * text) when the function answered, -1 when it failed or timed out (*why
 * says how; malloc'ed). */
int sv_fn_invoke(const char *name, const char *event, char **result, char **why);
json_t *sv_fn_describe(const struct sv_fn *f);
/* The Runtime API of one function (arg: its struct sv_fn). */
void sv_runtime_handler(void *arg, struct dc_server_request *req, struct dc_server_response *res);
/* A control request's "argv" with argv[0] found on PATH (NULL and *why
 * when it is not there), and its "env" with the emulator's settings and
 * `reserved` (may be NULL) on top, as a child's environment. */
char **sv_argv(const json_t *spec, char **why);
char **sv_child_env(const json_t *spec, const json_t *reserved);
/* What supervisor.json holds (new reference), with sv.mu held. */
json_t *sv_runtime_doc(void);

/* gateway.c, with sv.mu held. */
int sv_api_put(const char *id, int *port);
void sv_api_delete(const char *id);
struct sv_api *sv_api_find(const char *id);
/* The gateway of one HTTP API (arg: its struct sv_api), lock NOT held. */
void sv_gateway_handler(void *arg, struct dc_server_request *req, struct dc_server_response *res);

/* control.c */
void sv_control(void *arg, struct dc_server_request *req, struct dc_server_response *res);

/* The last non-empty line of a log file, for an error message (malloc'ed). */
char *sv_log_tail(const char *path);

/* Say one line in supervisor.log. */
void sv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
