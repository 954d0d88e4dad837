/* Process and file helpers of the local target, shared by the supervisor
 * and the deployctl runs that start, query and stop it. */
#ifndef DC_LOCAL_PROC_H
#define DC_LOCAL_PROC_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* n random bytes from the kernel. */
int dc_local_random(void *out, size_t n);

/* Close every descriptor from `first` up (async-signal-safe: for a child
 * between fork and exec). */
void dc_local_close_from(int first);

/* The absolute path of an executable found on PATH (or `name` itself when
 * it holds a '/' and is executable), malloc'ed; NULL when there is none. */
char *dc_local_which(const char *name);

/* A loopback port nobody listens on now. */
int dc_local_free_port(int *out);

/* Write JSON to path atomically (temp file, rename), mode 0600. */
int dc_local_write_json(const char *path, const json_t *doc);

/* mkdir -p, mode 0700 for what it makes. */
int dc_local_mkdirs(const char *path);
/* rm -rf; a missing path is success. */
int dc_local_rmtree(const char *path);

/* 1 when pid runs (and is no zombie) and every one of the NULL-terminated
 * words is one of its command line's arguments, else 0. */
int dc_local_pid_matches(pid_t pid, const char *const *words);

/* SIGKILL every process of this user whose environment carries
 * DC_LOCAL_MARKER=dir (what a dead supervisor left behind). Returns how
 * many were killed. */
int dc_local_kill_marked(const char *dir);

/* Wait up to limit_ms for pid to be gone; 1 when gone. */
int dc_local_wait_gone(pid_t pid, int limit_ms);

#endif
