/* What engine_up.c, engine_destroy.c and engine_plan.c share. */
#ifndef DC_ENGINE_INTERNAL_H
#define DC_ENGINE_INTERNAL_H

#include <pthread.h>

#include "aws/credentials.h"
#include "resources/resource.h"
#include "stack/engine.h"
#include "stack/sched.h"

struct engine {
	struct dc_state *st;
	const char *name;
	const struct dc_engine_options *opt;
	const struct dc_template *t; /* up; NULL for destroy */
	json_t *doc;                 /* the stack document; guarded by lock */
	pthread_mutex_t lock;
	struct dc_engine_result *res;
	/* The first failure of a worker thread: dc_error is per thread, so the
	 * message is copied here for the caller's thread. */
	char error[1024];
	const char *target;          /* the stack's: "aws" or "local" */
	/* Local target: the stack's running supervisor (NULL when it is not
	 * running at destroy), and the emulator's fixed credentials. */
	struct dc_local *local;
	struct dc_credentials local_creds;
};

struct worker {
	struct dc_aws *aws;
};

void engine_init(struct engine *e, struct dc_state *st, const char *name,
		 const struct dc_engine_options *opt, struct dc_engine_result *res);
void engine_dispose(struct engine *e);

/* Scheduler callbacks: one AWS client per worker thread. */
int engine_worker_init(void *arg, void **worker);
void engine_worker_dispose(void *arg, void *worker);

/* A resource context for logical id `id` of type `type` on worker w. */
void engine_ctx(struct engine *e, struct worker *w, const char *id, struct dc_res_ctx *ctx);

/* Under e->lock: write the document and commit it with the message. */
int engine_save_locked(struct engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same taking the lock. */
int engine_save(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One progress line for the user, if progress is on. */
void engine_say(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The state entry of a resource (borrowed; call with the lock held), or NULL. */
json_t *engine_entry(struct engine *e, const char *id);

/* A stack document for a new stack. */
json_t *engine_new_doc(const char *name, const char *arch, const char *target,
		       const char *region, const char *account, const json_t *params);

/* Delete one recorded resource (also one that a crash left "creating"
 * without attrs: then the type's find looks for it) and drop it from the
 * document. */
int engine_delete_entry(struct engine *e, struct worker *w, const char *id);

/* Remember the calling thread's error as the stack's first failure. */
void engine_fail(struct engine *e, const char *id);
/* After the workers: make the first failure this thread's error. */
int engine_report_failure(struct engine *e, const char *what);

/* Load the stack's document, or (create_missing) start a new one from the
 * caller's identity. Points opt's region at the stack's region: a stack's
 * resources stay where they were made. */
int engine_open_doc(struct engine *e, const char *arch, const json_t *params, int create_missing,
		    struct dc_engine_options *opt);

/* The type of a resource for the stack's target. */
const struct dc_resource_type *engine_type(const struct engine *e, const char *name);

/* engine_local.c: a local stack's supervisor found (for_up: started when
 * not running) and the clients pointed at its emulator; with for_up, what
 * state recorded in an emulator that has since started afresh is
 * forgotten. */
int engine_local_open(struct engine *e, struct dc_engine_options *opt, int for_up);
/* Record the supervisor's pid and ports in the document (lock held). */
void engine_local_record(struct engine *e);
/* destroy without a running supervisor: its resources went with it. */
int engine_local_forget(struct engine *e, const char *why);

/* Delete the recorded resources ids[0..n) in reverse dependency order. */
int engine_delete_all(struct engine *e, const char **ids, size_t n, int parallel);
/* The same for every recorded resource that `select` (NULL: all) picks. */
int engine_delete_recorded(struct engine *e, int (*select)(const void *arg, const char *id),
			   const void *arg, int parallel);

#endif
