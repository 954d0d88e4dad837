#include <pthread.h>

#include "stack/sched.h"
#include "util/xalloc.h"

struct sched {
	struct dc_sched_node *nodes;
	size_t n;
	const struct dc_sched_ops *ops;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	size_t running;
};

/* A pending node whose deps all succeeded, marking on the way the nodes a
 * failure made impossible. Called with the lock held. */
static int next_ready(struct sched *s, size_t *out)
{
	for (size_t i = 0; i < s->n; i++) {
		struct dc_sched_node *node = &s->nodes[i];
		if (node->state != DC_NODE_PENDING)
			continue;
		int ready = 1;
		for (size_t d = 0; d < node->ndeps; d++) {
			enum dc_node_state ds = s->nodes[node->deps[d]].state;
			if (ds == DC_NODE_FAILED || ds == DC_NODE_SKIPPED) {
				node->state = DC_NODE_SKIPPED;
				return next_ready(s, out); /* a skip may unblock nothing, rescan */
			}
			if (ds != DC_NODE_DONE)
				ready = 0;
		}
		if (ready) {
			*out = i;
			return 1;
		}
	}
	return 0;
}

static void *worker_main(void *p)
{
	struct sched *s = p;
	void *worker = NULL;
	int ok = !s->ops->worker_init || s->ops->worker_init(s->arg, &worker) == 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		size_t i;
		if (!ok || !next_ready(s, &i)) {
			if (!ok || s->running == 0)
				break;
			pthread_cond_wait(&s->changed, &s->lock);
			continue;
		}
		s->nodes[i].state = DC_NODE_RUNNING;
		s->running++;
		pthread_mutex_unlock(&s->lock);
		int rc = s->ops->run(s->arg, worker, i);
		pthread_mutex_lock(&s->lock);
		s->nodes[i].state = rc == 0 ? DC_NODE_DONE : DC_NODE_FAILED;
		s->running--;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	if (s->ops->worker_dispose && worker)
		s->ops->worker_dispose(s->arg, worker);
	return NULL;
}

int dc_sched_run(struct dc_sched_node *nodes, size_t n, int parallel,
		 const struct dc_sched_ops *ops, void *arg)
{
	struct sched s = { .nodes = nodes, .n = n, .ops = ops, .arg = arg };
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.changed, NULL);
	size_t nworkers = parallel < 1 ? 1 : (size_t)parallel;
	if (nworkers > n)
		nworkers = n ? n : 1;
	pthread_t *threads = dc_xcalloc(nworkers, sizeof(*threads));
	for (size_t w = 0; w < nworkers; w++)
		pthread_create(&threads[w], NULL, worker_main, &s);
	for (size_t w = 0; w < nworkers; w++)
		pthread_join(threads[w], NULL);
	free(threads);
	pthread_cond_destroy(&s.changed);
	pthread_mutex_destroy(&s.lock);

	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		/* A node never reached (every worker failed to start) counts as skipped. */
		if (nodes[i].state == DC_NODE_PENDING)
			nodes[i].state = DC_NODE_SKIPPED;
		if (nodes[i].state != DC_NODE_DONE)
			rc = -1;
	}
	return rc;
}
