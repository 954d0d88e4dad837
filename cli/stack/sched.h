/* Run a dependency graph on a few worker threads: a node starts when every
 * node it depends on has succeeded; when one fails, what depends on it is
 * skipped and everything independent goes on. */
#ifndef DC_SCHED_H
#define DC_SCHED_H

#include <stddef.h>

enum dc_node_state { DC_NODE_PENDING, DC_NODE_RUNNING, DC_NODE_DONE, DC_NODE_FAILED,
		     DC_NODE_SKIPPED };

struct dc_sched_node {
	const size_t *deps; /* indexes of nodes that must succeed first */
	size_t ndeps;
	enum dc_node_state state;
};

/* Called on a worker thread for node i; `worker` is what worker_init gave
 * that thread. Returns 0 on success. */
typedef int (*dc_sched_fn)(void *arg, void *worker, size_t i);

struct dc_sched_ops {
	/* Set up and tear down a worker's own data (e.g. its AWS client).
	 * worker_init returns -1 when the worker cannot start. */
	int (*worker_init)(void *arg, void **worker);
	void (*worker_dispose)(void *arg, void *worker);
	dc_sched_fn run;
};

/* Run every node; `parallel` workers at most (1: one at a time, in index
 * order). Returns 0 when all succeeded, -1 when any failed or was skipped;
 * each node's final state is in nodes[i].state. */
int dc_sched_run(struct dc_sched_node *nodes, size_t n, int parallel,
		 const struct dc_sched_ops *ops, void *arg);

#endif
